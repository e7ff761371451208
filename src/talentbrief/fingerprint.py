"""Which talentbrief code and Python environment a worker runs: a worker that started before the code
changed, or in another installation, would build reports unlike a local build, so executors refuse it."""

from __future__ import annotations

import ast
import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import talentbrief
from talentbrief.digests import canonical_json, sha256_bytes, sha256_file, tree_hash

PACKAGE = Path(talentbrief.__file__).resolve().parent


# What can change a report's output: the renderer a worker runs (render and all it imports) and what a
# notebook's kernel imports (briefing and all it imports, src/figures.py among them), plus the templates.
REPORT_ENTRIES = ("render.py", "briefing.py")


def closure(package: Path, entries: Iterable[str]) -> tuple[str, ...]:
    """`entries` and every talentbrief module they import, at any depth (src/figures.py: "../figures.py")."""
    todo, seen = list(entries), {"__init__.py"}
    while todo:
        name = todo.pop()
        if name in seen or not (package / name).is_file():
            continue
        seen.add(name)
        for node in ast.walk(ast.parse((package / name).read_bytes())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "talentbrief":
                parts = node.module.split(".")
                todo += [f"{parts[1]}.py"] if len(parts) > 1 else [f"{a.name}.py" for a in node.names]
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                todo += [f"{n.split('.')[1]}.py" for n in names if n.startswith("talentbrief.")]
                todo += ["../figures.py" for n in names if n == "figures"]
    return tuple(sorted(n for n in seen if (package / n).is_file()))


def code(modules: tuple[str, ...]) -> str:
    """Version and sha256 of `modules` (file names in the package) plus the report templates."""
    parts = [(name, sha256_file(PACKAGE / name) if (PACKAGE / name).is_file() else "(missing)")
             for name in modules]
    parts.append(("templates", tree_hash(PACKAGE / "templates")))
    return f"{talentbrief.__version__}+{sha256_bytes(canonical_json(parts))[:12]}"


def environment() -> str:
    """The interpreter and the installed distributions: cheap (listings only), and changed by any install."""
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0".encode())
    for folder in sorted({p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}):
        for name in sorted(os.listdir(folder)):
            if name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")):
                digest.update(f"{folder}/{name}\0".encode())
    return digest.hexdigest()[:12]
