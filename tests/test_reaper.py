"""Nothing a report starts outlives it (issue 23): a cell's detached children end with the report."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from talentbrief import reaper
from tests.support.processes import still_alive
from tests.support.project import run_cli
from tests.test_reads import add_cell


def sleeping(seconds: int) -> list[psutil.Process]:
    """Running `sleep SECONDS` processes (zombies are gone already)."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        if p.info["cmdline"] == ["sleep", str(seconds)] and p.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(p)
    return found


def unique_seconds() -> int:
    return random.randrange(100_000, 999_999)


def test_end_strays_ends_what_a_kernel_started_and_keeps_the_kernel():
    n = unique_seconds()
    kernel = subprocess.Popen(["sh", "-c", f"sleep {n} & setsid sleep {n} & exec sleep {n + 1}"])
    try:
        deadline = time.monotonic() + 10
        while len(sleeping(n)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sleeping(n)) == 2
        ended = reaper.end_strays([kernel.pid])
        assert len(ended) == 2 and kernel.pid not in ended
        assert not still_alive(sleeping(n), 5)
        assert kernel.poll() is None  # the kernel itself is kept
    finally:
        kernel.kill()
        kernel.wait()


def test_a_subreaper_ends_the_orphans_it_adopts_and_nothing_it_started_itself():
    """An orphan (its parent exited) comes to the subreaper; a child the process started in its own
    session (as a worker starts its helpers) is kept."""
    n = unique_seconds()
    script = textwrap.dedent(
        f"""
        import os, subprocess, time
        from talentbrief import reaper
        assert reaper.become_subreaper()
        own = subprocess.Popen(["sleep", "{n + 1}"])
        subprocess.run(["sh", "-c", "setsid sleep {n} & exit 0"], start_new_session=True, check=True)
        time.sleep(0.3)
        ended = reaper.end_strays([])
        print(len(ended), own.poll() is None)
        own.kill()
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["1", "True"], out
    assert not still_alive(sleeping(n), 5)


@pytest.mark.parametrize("outcome", ["success", "failure"])
def test_a_cells_detached_child_is_gone_when_the_build_returns(project, outcome):
    """Issue 23's reproduction: `sleep` started in a session of its own, plus an orphan (its shell
    exited), outlived `talentbrief build`. Both end with the report, whether it succeeds or fails."""
    n = unique_seconds()
    code = (  # (not holding the build's output open: a leak then shows here, not as a hung build)
        "import subprocess\n"
        f"subprocess.Popen(['sleep', '{n}'], start_new_session=True, stdout=subprocess.DEVNULL,\n"
        "                 stderr=subprocess.DEVNULL)\n"
        f"subprocess.run(['sh', '-c', 'sleep {n} >/dev/null 2>&1 & exit 0'], start_new_session=True)\n"
    )
    if outcome == "failure":
        code += "raise RuntimeError('this report fails')\n"
    add_cell(project, code, "overview.ipynb")
    result = run_cli(project, "build", "overview-en", "--executor", "local")
    assert result.returncode == (0 if outcome == "success" else 1), result.stdout + result.stderr
    leaked = sleeping(n)
    for p in leaked:
        p.kill()
    assert leaked == []
