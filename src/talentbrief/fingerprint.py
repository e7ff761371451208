"""Which talentbrief code (and Python environment) a worker runs: the client and its workers must agree.

A worker imports its own copy of the rendering code (engine, render, templates) once, when it starts;
the notebooks' imports come from the project's src/ on every run. A worker that started before the
code changed, or in another installation, would build reports that differ from a local build, so
executors compare these fingerprints and refuse such a worker.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import talentbrief
from talentbrief.paths import files

PACKAGE = Path(talentbrief.__file__).resolve().parent


def code(modules: tuple[str, ...]) -> str:
    """Version and sha256 of `modules` (file names in the package) plus the report templates."""
    digest = hashlib.sha256()
    named = [(name, PACKAGE / name) for name in modules]
    named += [(f"templates/{name}", path) for name, path in files(PACKAGE / "templates")]
    for name, path in named:
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    return f"{talentbrief.__version__}+{digest.hexdigest()[:12]}"


def environment() -> str:
    """The interpreter and the installed distributions (name-version of every *.dist-info folder).

    Cheap (directory listings only), and it changes whenever pip installs or upgrades anything.
    """
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0".encode())
    for folder in sorted({p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}):
        for name in sorted(os.listdir(folder)):
            if name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")):
                digest.update(f"{folder}/{name}\0".encode())
    return digest.hexdigest()[:12]
