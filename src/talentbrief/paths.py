"""The one place that knows where things live in a talentbrief project.

The root is found, in order: an explicit argument, $TALENTBRIEF_ROOT, the nearest folder at or
above the working directory that holds both `reports.yml` and `data/datapackage.json`, and
finally the checkout this package was installed from. Tests and benchmarks work on copies of
the project, so nothing may assume the checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_ROOT = "TALENTBRIEF_ROOT"
# Everything a build reads, relative to the root: a copy of these is a complete project
# (tests and benchmarks work on such copies; the dask executor ships them to workers).
INPUTS = ("data", "notebooks", "src", "reports.yml", "requirements.lock")


class ProjectNotFound(FileNotFoundError):
    """No talentbrief project where one was looked for (the CLI exits 2 with this message)."""


def _is_root(folder: Path) -> bool:
    return (folder / "reports.yml").is_file() and (folder / "data" / "datapackage.json").is_file()


def find_root(start: Path | str | None = None) -> Path:
    if start is None and os.environ.get(ENV_ROOT):
        return Path(os.environ[ENV_ROOT]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_root(folder):
            return folder
    if start is not None:
        raise ProjectNotFound(
            f"no talentbrief project (reports.yml + data/datapackage.json) at or above {here}"
        )
    checkout = Path(__file__).resolve().parents[2]
    if _is_root(checkout):
        return checkout
    raise ProjectNotFound(
        f"no talentbrief project found at or above {here}; run from the project folder or set {ENV_ROOT}"
    )


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def datapackage(self) -> Path:
        return self.data / "datapackage.json"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def catalogue(self) -> Path:
        return self.root / "reports.yml"

    @property
    def lockfile(self) -> Path:
        """The dependency lock: part of every report's input hash."""
        return self.root / "requirements.lock"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def manifest(self) -> Path:
        return self.reports / "manifest.json"

    @property
    def index(self) -> Path:
        return self.reports / "index.html"

    @property
    def failed(self) -> Path:
        return self.reports / "_failed"

    @property
    def executed(self) -> Path:
        return self.reports / "_executed"

    @property
    def build_lock(self) -> Path:
        return self.reports / ".build.lock"


def cache_dir() -> Path:
    """Per-user cache of content-addressed results (talentbrief.memo): $XDG_CACHE_HOME or ~/.cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "talentbrief"


def copy_inputs(source: Path, dest: Path) -> Path:
    """Copy a project's inputs (never reports/ or caches) into dest, ready to build."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns(
        "__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info", "kernel-ipc-*"
    )
    for item in INPUTS:
        src = source / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / item)
    (dest / "reports").mkdir(exist_ok=True)
    return dest


def get(root: Path | str | None = None) -> Paths:
    return Paths(find_root(root) if root is not None else find_root())
