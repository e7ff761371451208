"""What a report read: recorded in the kernel while its notebook runs, re-hashed by the build.

A report's output depends on the data it read, and only the run knows that: a notebook may call
`load.load()` and look at any row, or open a CSV itself. So the kernel records every read as it
happens, with the sha256 of what it saw then, and the build stores the list in the report's
manifest entry. A later build hashes the same reads from the current data (`current`); the report
is up to date only if every digest is unchanged. A read is one of:

- {"query": NAME, "args": {...}}: a query of the loader's tables (`load.query`, e.g. scope.select);
  its digest is that of its answer, so only the rows it returns count;
- {"table": NAME}: a whole table taken from `load.load()`'s result without such a query;
- {"file": "data/..."}: any other open of a file under data/ (an audit hook), its whole bytes;
- {"dir": "data"}: a read under data/ that names no single file (a listing, a glob, the folder
  itself, a file that does not exist): every file in data/.

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

from talentbrief import hashing

STATE = "_talentbrief_reads"
ENV = "TALENTBRIEF_READS"
DATA = "data"
HEADER = {"recording": 1}
_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "glob.glob/2"})


# --- in the kernel --------------------------------------------------------------------------------


def install() -> None:
    """Add the audit hook (once per process: hooks cannot be removed) and begin a run."""
    if STATE not in sys.modules:
        state = types.ModuleType(STATE)
        state.target = state.root = state.data = None
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
    state.target = state.root = state.data = None
    if target and root:
        state.root = os.path.realpath(root)
        state.data = os.path.join(state.root, DATA)
        with _quiet(state), open(target, "w", encoding="utf-8") as f:
            f.write(json.dumps(HEADER) + "\n")
        state.target = target


def _hook(state: types.ModuleType) -> Callable[[str, tuple], None]:
    def hook(event: str, args: tuple) -> None:
        if event in _EVENTS and state.target and args and threading.get_ident() not in state.quiet:
            _seen(state, event, args[0])

    return hook


def _seen(state: types.ModuleType, event: str, raw: Any) -> None:
    """A path was opened or listed: record it if it lies under data/."""
    if raw is None or isinstance(raw, int):
        return
    try:
        path = os.path.realpath(os.fsdecode(raw))
    except (TypeError, ValueError):
        return
    if path != state.data and not path.startswith(state.data + os.sep):
        return
    if event == "open" and path != state.data and os.path.isfile(path):
        record({"file": Path(path).relative_to(state.root).as_posix()})
    else:
        record({"dir": DATA})


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
        found = {hashing.canonical_json(json.loads(line)): json.loads(line) for line in lines[1:] if line}
    except (OSError, ValueError):
        return None
    return [found[k] for k in sorted(found)]


# --- in the build: the same reads, hashed from the current data -----------------------------------


def current(read: dict[str, Any], root: Path, tables: Callable[[], Any] | None) -> str | None:
    """sha256 of what `read` sees in the project at `root` now; None if it cannot be read now.

    `tables()` gives the loader's current tables (only queries and whole tables need them).
    """
    root = Path(root)
    try:
        if "file" in read:
            path = root / read["file"]
            inside = path.resolve().is_relative_to((root / DATA).resolve())
            return hashing.sha256_file(path) if inside and path.is_file() else None
        if read.get("dir") == DATA:
            return hashing.tree_hash(root / DATA)
        if tables is not None and ("table" in read or "query" in read):

            return hashing.read_digest(read, tables())
    except Exception:  # noqa: BLE001 - a read that cannot be replayed now: the report must run again
        return None
    return None
