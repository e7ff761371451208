"""The one place that knows where things live in a talentbrief project. The root: an explicit argument,
$TALENTBRIEF_ROOT, the nearest folder at or above the working directory with `reports.yml` and
`data/datapackage.json`, else the checkout (tests and benchmarks work on copies: assume nothing of it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talentbrief.errors import TalentbriefError

ENV_ROOT = "TALENTBRIEF_ROOT"
# Everything a build reads, relative to the root: a copy of these is a complete project
# (tests and benchmarks work on such copies; the dask executor ships them to workers).
INPUTS = ("data", "notebooks", "src", "reports.yml", "requirements.lock")
# Never an input, wherever it sits (caches, editor and OS droppings, the editable install's metadata,
# kernel sockets): the one list, which hashing, the dask bundle, copies and the preview's watcher skip.
SKIP_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints", ".DS_Store", ".git"})
SKIP_SUFFIXES = (".pyc", ".pyo", ".egg-info", ".swp", ".swx", "~", ".tmp")
SKIP_PREFIXES = (".#", "kernel-ipc-")


class ProjectNotFound(TalentbriefError, FileNotFoundError):
    """No talentbrief project where one was looked for (exit 2)."""


def _is_root(folder: Path) -> bool:
    return (folder / "reports.yml").is_file() and (folder / "data" / "datapackage.json").is_file()


def find_root(start: Path | str | None = None) -> Path:
    if start is None and os.environ.get(ENV_ROOT):
        return Path(os.environ[ENV_ROOT]).resolve()
    here = Path(start or Path.cwd()).resolve()
    checkout = () if start is not None else (Path(__file__).resolve().parents[2],)
    for folder in (here, *here.parents, *checkout):
        if _is_root(folder):
            return folder
    if start is not None:
        raise ProjectNotFound(
            f"no talentbrief project (reports.yml + data/datapackage.json) at or above {here}"
        )
    raise ProjectNotFound(
        f"no talentbrief project found at or above {here}; run from the project folder or set {ENV_ROOT}"
    )


def _under(base: str, name: str) -> property:
    """The path `name` inside the path attribute `base` of a Paths."""

    def path(self) -> Path:
        return getattr(self, base) / name

    return property(path)


@dataclass(frozen=True)
class Paths:
    """A project's inputs (`root`) and where its build writes (`out`: `talentbrief diff` spares reports/)."""

    root: Path
    out: Path | None = None

    data = _under("root", "data")
    datapackage = _under("data", "datapackage.json")
    checks = _under("data", "checks.yml")  # the consistency checks (talentbrief.definitions)
    derived = _under("data", "derived.yml")  # the derived figures (talentbrief.definitions)
    notebooks = _under("root", "notebooks")
    src = _under("root", "src")
    catalogue = _under("root", "reports.yml")
    lockfile = _under("root", "requirements.lock")  # part of every report's key

    @property
    def reports(self) -> Path:
        return self.out if self.out is not None else self.root / "reports"

    manifest = _under("reports", "manifest.json")
    index = _under("reports", "index.html")
    failed = _under("reports", "_failed")
    executed = _under("reports", "_executed")
    build_lock = _under("reports", ".build.lock")


def cache_dir() -> Path:
    """Per-user cache of content-addressed results (talentbrief.memo): $XDG_CACHE_HOME or ~/.cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "talentbrief"


def skipped(name: str) -> bool:
    """A file or folder name that is never a project input."""
    return name in SKIP_NAMES or name.endswith(SKIP_SUFFIXES) or name.startswith(SKIP_PREFIXES)


def files(folder: Path) -> list[tuple[str, Path]]:
    """(posix path relative to `folder`, path) of every file under it, sorted: the one walker of inputs."""
    folder = Path(folder)
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not skipped(d)]
        found += [(path.relative_to(folder).as_posix(), path) for name in filenames
                  if not skipped(name) and (path := Path(dirpath, name)).is_file()]
    return sorted(found)


def input_files(root: Path) -> list[tuple[str, Path]]:
    """(posix path relative to `root`, path) of every input of the project at `root` (INPUTS), sorted."""
    root = Path(root)
    found = [(item, root / item) for item in INPUTS if (root / item).is_file()]
    found += [(f"{item}/{name}", file) for item in INPUTS if (root / item).is_dir()
              for name, file in files(root / item)]
    return sorted(found)


def copy_inputs(source: Path, dest: Path) -> Path:
    """Copy a project's inputs (never reports/ or caches) into dest, ready to build."""
    for name, path in input_files(source):
        target = Path(dest) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    (Path(dest) / "reports").mkdir(parents=True, exist_ok=True)
    return Path(dest)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` all at once (temp file, fsync, os.replace): a kill leaves the old file or the new."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)  # the rename itself must reach the disk
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def get(root: Path | str | None = None) -> Paths:
    return Paths(find_root(root))
