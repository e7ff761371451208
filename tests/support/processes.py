"""Waiting for processes to be gone: fault tests kill builds and servers and check what they leave."""

from __future__ import annotations

import time

import psutil


def still_alive(procs: list[psutil.Process], timeout: float = 20) -> list[psutil.Process]:
    """Those of `procs` still running after waiting up to `timeout` s for all to end (zombies count as ended)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for p in procs:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)
