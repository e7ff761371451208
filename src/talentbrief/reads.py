"""What a report read, recorded in its kernel with the sha256 of what it saw then, hashed again by the
build (`current`); the kinds of read: docs/architecture.md, "Recorded reads". The state lives in
sys.modules[STATE], which the warm kernel's reset keeps while it drops the project's modules."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
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
# a read no file can be named for (a subprocess, ctypes, the network): keyed on digests.conservative_hash
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
    """Start one run's record: $TALENTBRIEF_READS names its file, $TALENTBRIEF_ROOT the project."""
    state = sys.modules[STATE]
    target, root = os.environ.get(ENV), os.environ.get("TALENTBRIEF_ROOT")
    state.seen.clear()
    state.target = state.root = None
    if target and root:
        state.root = os.path.realpath(root)
        state.roots = tuple({state.root, os.path.abspath(root)})
        # not a report's reads: src/ (in every key whole) and a venv inside the project (the lock's)
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
    """A write-only open: what a report writes is not an input."""
    flags = args[2] if len(args) > 2 else None
    return isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY


def _importer_listing(event: str) -> bool:
    """The import system's listing of a sys.path folder (the module it loads is recorded when opened)."""
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
    if relative and event == "open" and relative.endswith(".pyc") and "__pycache__" in relative:
        try:  # the source it was compiled from is what the key needs
            relative = Path(importlib.util.source_from_cache(relative)).as_posix()
        except ValueError:
            return
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
    return os.sep.join(itertools.takewhile(lambda part: not _MAGIC & set(part), pattern.split(os.sep))) or "."


def _relative(state: types.ModuleType, name: str) -> str | None:
    """`name` relative to the project as opened (a symlink counts as itself: re-pointing it changes the
    key); None outside the project or where reads are not recorded."""
    for path in (os.path.abspath(name), os.path.realpath(name)):
        for root in state.roots:
            if path == root or path.startswith(root + os.sep):
                if any((path + os.sep).startswith(s) for s in state.skip):
                    return None
                return Path(os.path.relpath(path, root)).as_posix()
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
    """Note that this run read `read`, with the sha256 of what it saw (`digest()`, or the bytes now)."""
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
    """sha256 of what `read` sees at `root` now (`replay` digests table and query reads), or None."""
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
        return replay(read) if replay is not None and ("table" in read or "query" in read) else None
    except Exception:  # noqa: BLE001 - a read that cannot be replayed now: the report must run again
        return None


def _inside(root: Path, relative: Any) -> Path | None:
    """root/relative if `relative` names a path inside the project (a manifest is never trusted further)."""
    path = Path(relative) if isinstance(relative, str) and relative else None
    return None if path is None or path.is_absolute() or ".." in path.parts else root / path
