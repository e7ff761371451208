"""What a report read: recorded in the kernel while its notebook runs, re-hashed by the build.

A report's output depends on every file its run read, and only the run knows which: a notebook may
call `load.load()` and look at any row, open a CSV or a lookup file beside it, import a helper module
from notebooks/. So the kernel records every read as it happens, with the sha256 of what it saw then,
and the build stores the list in the report's manifest entry. A later build hashes the same reads
from the current project (`current`); the report is up to date only if every digest is unchanged.
A read is one of:

- {"query": NAME, "args": {...}}: a query of the loader's tables (`load.query`, e.g. scope.select);
  its digest is that of its answer, so only the rows it returns count;
- {"table": NAME}: a whole table taken from `load.load()`'s result without such a query;
- {"file": PATH}: any other open of a file inside the project (an audit hook: `open`, pathlib,
  pandas, an imported module's source or its cached bytecode), its whole bytes; PATH is the path as
  opened (a symlink counts as itself and what it points to), relative to the root; a file that was
  not there has the digest "absent", so creating it changes the key;
- {"dir": PATH}: a listing or glob of a folder inside the project: every file under it;
- CONSERVATIVE: a read nobody can attribute (a subprocess, the network, ctypes, a listing of the
  project root): all of data/, notebooks/ and the root's own files (`digests.conservative_hash`).

Not recorded: src/ and the Python installation (in every key: hashing.report_code for src/,
requirements.lock), files outside the project, writes, and the import system's own listings of
sys.path (the module it loads is recorded when its file is opened).

Digests are taken when the read happens, so a report built from data edited during the build is
recorded under the data it saw, never under a hash taken before.

In the kernel: `install()` runs once per kernel process (the engine puts it in the kernel's start-up
lines) and adds the audit hook; `begin()` starts one run's record, in the file named by
$TALENTBRIEF_READS, whose first line says recording was on. The state lives in sys.modules[STATE],
which the warm kernel's reset keeps while it drops the project's modules (this one included).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from talentbrief import digests

STATE = "_talentbrief_reads"
ENV = "TALENTBRIEF_READS"
HEADER = {"recording": 1}
ABSENT = "absent"  # the digest of a file that is not there: creating it changes the key
# Reads nobody can attribute to files (another process, a C library, the network): the report is
# keyed on everything an analyst's code could plausibly read instead (digests.conservative_hash).
CONSERVATIVE = {"project": "data+notebooks"}
_OPENS = frozenset({"open", "sqlite3.connect"})
_LISTS = frozenset({"os.listdir", "os.scandir", "glob.glob", "glob.glob/2"})
_OPAQUE = frozenset({
    "subprocess.Popen", "os.system", "os.posix_spawn", "os.spawn", "os.exec", "os.fork", "os.forkpty",
    "pty.spawn", "socket.connect", "socket.sendto", "urllib.Request", "ctypes.dlopen",
})
_MAGIC = frozenset("*?[")


# --- in the kernel --------------------------------------------------------------------------------


def install() -> None:
    """Add the audit hook (once per process: hooks cannot be removed) and begin a run."""
    if STATE not in sys.modules:
        state = types.ModuleType(STATE)
        state.target = state.root = None
        state.roots, state.skip = (), ()
        state.seen, state.quiet = set(), set()
        state.begin = begin  # the warm kernel's reset calls it before each notebook
        sys.modules[STATE] = state
        sys.addaudithook(_hook(state))
    begin()


def begin() -> None:
    """Start the record of one run: $TALENTBRIEF_READS names its file, $TALENTBRIEF_ROOT the project."""
    state = sys.modules[STATE]
    target, root = os.environ.get(ENV), os.environ.get("TALENTBRIEF_ROOT")
    state.seen.clear()
    state.target = state.root = None
    if target and root:
        state.root = os.path.realpath(root)
        state.roots = tuple({state.root, os.path.abspath(root)})
        # inside the project but not a report's reads: the Python installation (a venv kept in the
        # project: the environment's fingerprint covers it) and src/ (hashed whole into every key)
        prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix}
        state.skip = tuple(
            os.path.join(r, sub) + os.sep
            for r in state.roots
            for sub in ("src", *(os.path.relpath(os.path.realpath(p), r) for p in prefixes))
        )
        with _quiet(state), open(target, "w", encoding="utf-8") as f:
            f.write(json.dumps(HEADER) + "\n")
        state.target = target


def _hook(state: types.ModuleType) -> Callable[[str, tuple], None]:
    def hook(event: str, args: tuple) -> None:
        if not state.target or threading.get_ident() in state.quiet:
            return
        if event in _OPENS or event in _LISTS:
            if args and not (event == "open" and _write_only(args)) and not _importer_listing(event):
                _seen(state, event, args)
        elif event in _OPAQUE:
            record(CONSERVATIVE)

    return hook


def _write_only(args: tuple) -> bool:
    """An open that cannot read (its flags say write-only): what a report writes is not an input."""
    flags = args[2] if len(args) > 2 else None
    return isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY


def _importer_listing(event: str) -> bool:
    """The import system lists every folder on sys.path to find modules: the module it then loads is
    recorded when its file is opened, so its listings are not reads of the folder."""
    if event != "os.listdir":
        return False
    caller = sys._getframe(2).f_code  # this <- hook <- the listing's caller
    return caller.co_name == "_fill_cache" and caller.co_filename.startswith("<frozen importlib")


def _seen(state: types.ModuleType, event: str, args: tuple) -> None:
    """A path was opened or listed: record it if it lies inside the project."""
    raw = args[0]
    if raw is None or isinstance(raw, int):
        return
    try:
        name = os.fsdecode(raw)
        if event == "glob.glob/2" and len(args) > 2 and args[2]:
            name = os.path.join(os.fsdecode(args[2]), name)
    except (TypeError, ValueError):
        return
    if event.startswith("glob"):
        name = _fixed_part(name)
    relative = _relative(state, name)
    if relative is None:
        return
    if event == "open" and relative.endswith(".pyc") and "__pycache__" in relative:
        relative = _source_of(relative)
        if relative is None:
            return
    if relative == ".":
        record(CONSERVATIVE)  # the project root listed: anything in it may count
    elif event in _LISTS or os.path.isdir(os.path.join(state.root, relative)):
        record({"dir": relative})
    else:
        record({"file": relative})


def _fixed_part(pattern: str) -> str:
    """The folder a glob pattern lists: its path up to the first part with a wildcard."""
    parts = []
    for part in pattern.split(os.sep):
        if _MAGIC & set(part):
            break
        parts.append(part)
    return os.sep.join(parts) or "."


def _relative(state: types.ModuleType, name: str) -> str | None:
    """`name` relative to the project (as opened: a symlink inside the project counts as itself, so
    re-pointing it changes the key), or None when it lies outside or where reads are not recorded."""
    candidates = (os.path.abspath(name), os.path.realpath(name))
    for path in candidates:
        for root in state.roots:
            if path == root or path.startswith(root + os.sep):
                if any((path + os.sep).startswith(s) for s in state.skip):
                    return None
                return Path(os.path.relpath(path, root)).as_posix()
    return None


def _source_of(relative: str) -> str | None:
    """The module a cached `__pycache__/*.pyc` was compiled from (its source is what the key needs)."""
    import importlib.util

    try:
        return Path(importlib.util.source_from_cache(relative)).as_posix()
    except ValueError:
        return None


@contextlib.contextmanager
def _quiet(state: types.ModuleType | None) -> Iterator[None]:
    tid = threading.get_ident()
    if state is None or tid in state.quiet:
        yield
        return
    state.quiet.add(tid)
    try:
        yield
    finally:
        state.quiet.discard(tid)


def quiet() -> contextlib.AbstractContextManager[None]:
    """Opens in this block are the loader's own: what it hands out is recorded instead."""
    return _quiet(sys.modules.get(STATE))


def record(read: dict[str, Any], digest: Callable[[], str | None] | None = None) -> None:
    """Note that this run read `read`, with the sha256 of what it saw (`digest()`, or the bytes now).

    Outside a recorded run (the build's own process, a plain Python session) this does nothing.
    """
    state = sys.modules.get(STATE)
    if state is None or not state.target:
        return
    key = json.dumps(read, sort_keys=True, default=str)
    if key in state.seen:
        return
    state.seen.add(key)
    with _quiet(state):
        sha = digest() if digest else current(read, Path(state.root), None)
        with open(state.target, "a", encoding="utf-8") as f:
            f.write(json.dumps({**read, "sha256": sha}, sort_keys=True, default=str) + "\n")


# --- in the worker, after the run -----------------------------------------------------------------


def collect(target: Path) -> list[dict[str, Any]] | None:
    """The reads recorded in `target`, distinct and sorted; None if recording was not on."""
    try:
        lines = Path(target).read_text(encoding="utf-8").splitlines()
        if not lines or json.loads(lines[0]) != HEADER:
            return None
        found = {digests.canonical_json(json.loads(line)): json.loads(line) for line in lines[1:] if line}
    except (OSError, ValueError):
        return None
    return [found[k] for k in sorted(found)]


# --- in the build: the same reads, hashed from the current data -----------------------------------


def current(read: dict[str, Any], root: Path, replay: Callable[[dict], str] | None) -> str | None:
    """sha256 of what `read` sees in the project at `root` now; None if it cannot be read now.

    `replay(read)` digests a query or whole-table read on the loader's current tables (the build's
    `hashing.read_digest`); without it such reads give None.
    """
    root = Path(root)
    try:
        if "file" in read or "dir" in read:
            path = _inside(root, read.get("file", read.get("dir")))
            if path is None:
                return None
            if "file" in read:
                return digests.sha256_file(path) if path.is_file() else None if path.exists() else ABSENT
            return digests.tree_hash(path) if path.is_dir() else ABSENT
        if read == CONSERVATIVE:
            return digests.conservative_hash(root)
        if replay is not None and ("table" in read or "query" in read):
            return replay(read)
    except Exception:  # noqa: BLE001 - a read that cannot be replayed now: the report must run again
        return None
    return None


def _inside(root: Path, relative: Any) -> Path | None:
    """root/relative if `relative` names a path inside the project (a manifest is never trusted further)."""
    if not isinstance(relative, str) or not relative or Path(relative).is_absolute():
        return None
    if ".." in Path(relative).parts:
        return None
    return root / relative
