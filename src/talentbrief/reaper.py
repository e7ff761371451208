"""Nothing a report starts outlives it (a cell's `Popen(..., start_new_session=True)`, a double-forking
daemon), or a cron build would leak one on every run. A worker becomes a child subreaper (Linux), so the
orphans of its kernels come to it rather than to init; after each report `end_strays` ends every
descendant of the kernel and every adopted process (told from the worker's own children by session:
jupyter_client starts each kernel in a session of its own). Without a subreaper (not Linux, tests running
`render.run_job` in pytest) only the kernel's descendants are ended: an orphan went to init.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Iterable

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
GRACE_S = 1.0  # how long a stray gets between SIGTERM and SIGKILL
_subreaper = False


def become_subreaper() -> bool:
    """Make this process adopt the orphans of its descendants (Linux); False where it cannot."""
    global _subreaper
    if sys.platform.startswith("linux"):
        _subreaper = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return _subreaper


def _parents() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every living process visible in /proc."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields and fields[0] != b"Z":  # a zombie is dead already: only its parent's wait is missing
            found[int(name)] = (int(fields[1]), int(fields[3]))
    return found


def descendants(pids: Iterable[int], parents: dict[int, tuple[int, int]]) -> set[int]:
    """Every living process below `pids`."""
    children: dict[int, list[int]] = {}
    for child, (parent, _) in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), list(pids)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def strays(kernels: Iterable[int]) -> set[int]:
    """The processes to end now: below the kernels, and (as a subreaper) adopted ones with theirs."""
    kernels, parents = set(kernels), _parents()
    adopted = set()
    if _subreaper:  # our children in a session not ours (what we start ourselves shares it), kernels aside
        me, session = os.getpid(), os.getsid(0)
        adopted = {pid for pid, (parent, sid) in parents.items() if parent == me and sid != session} - kernels
    return adopted | descendants(kernels | adopted, parents)


def end_strays(kernels: Iterable[int]) -> list[int]:
    """End what `strays(kernels)` finds (SIGTERM, then SIGKILL after GRACE_S); their pids."""
    kernels = set(kernels)
    targets = strays(kernels)
    if not targets:
        return []
    _signal(targets, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while (left := targets & strays(kernels)) and time.monotonic() < deadline:
        _reap(left)
        time.sleep(0.02)
    for _ in range(5):  # a stray that forked meanwhile: its children are strays too
        if not (left := strays(kernels)):
            break
        _signal(left, signal.SIGKILL)
        time.sleep(0.02)
        _reap(left)
    return sorted(targets)


def _signal(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _reap(pids: Iterable[int]) -> None:
    """Collect the exit status of those that are our own children (adopted ones), so none lingers."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
