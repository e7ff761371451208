"""Shared benchmark harness: a temporary copy of the project, timed commands, peak memory, result lines.

Every benchmark works on a throwaway copy of the project's inputs (never on the checkout, never on
reports/), runs the same commands a user would type, and ends its output with one JSON line so that
scripts can collect results (`python benchmarks/bench_build.py | tail -1`).

Memory is the peak of the *sum* of the resident set sizes of a whole process tree (the command and every
process it starts: workers, kernels, browsers), sampled every 50 ms with psutil. That is what the
machine has to hold at once; `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` only reports the largest
single process and is printed alongside as a cross-check.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import psutil

from talentbrief.paths import copy_inputs

CHECKOUT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtualenv's bin: papermill, jupyter, talentbrief
MB = 1024 * 1024


def copy_project(dest: Path, source: Path = CHECKOUT) -> Path:
    return copy_inputs(source, dest)


class Workdir:
    """A temporary directory removed on exit unless `keep` (then its path is printed)."""

    def __init__(self, prefix: str, keep: bool = False):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self.keep = keep

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        if self.keep:
            print(f"(kept {self.path})", file=sys.stderr)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def tool(name: str) -> str:
    """A console script from the benchmark's own virtualenv (falls back to PATH)."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        sys.exit(f"benchmark: {name!r} not found (expected in {BIN} or on PATH)")
    return found


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("benchmark: Chromium is missing; install it with: apt-get install -y chromium")


def child_env(root: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TALENTBRIEF_ROOT", None)
    if root is not None:
        env["TALENTBRIEF_ROOT"] = str(root)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class PeakRSS:
    """Samples the summed RSS of some process trees in a background thread; `.peak_mb` after stop()."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.roots: list[psutil.Process] = []
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, pid: int) -> None:
        try:
            self.roots.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass

    def sample(self) -> int:
        seen: set[int] = set()
        total = 0
        for root in list(self.roots):
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for proc in procs:
                if proc.pid in seen:
                    continue
                seen.add(proc.pid)
                try:
                    total += proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / MB


@dataclass
class Timing:
    label: str
    seconds: float
    peak_rss_mb: float
    returncode: int = 0
    output: str = ""
    cpu_s: float = 0.0  # user + system CPU of the command and the descendants it waited for
    extra: dict = field(default_factory=dict)


class CommandFailed(RuntimeError):
    pass


def run(
    label: str,
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    extra_pids=(),
    check: bool = True,
    timeout: float | None = None,
    log: Path | None = None,
) -> Timing:
    """Run one command; wall time (perf_counter around start..exit) and peak RSS of its process tree.

    `extra_pids` (e.g. a LocalCluster's worker processes) are added to the memory sample.
    Output goes to `log` (appended) so a long build's output does not fill a pipe.
    """
    log = log or (cwd / ".bench.log")
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        start_at = out.tell()
        cpu0 = _children_cpu()
        with PeakRSS() as mem:
            for pid in extra_pids:
                mem.watch(pid)
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
            mem.watch(proc.pid)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            seconds = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0
    with open(log, "rb") as f:
        f.seek(start_at)
        output = f.read().decode(errors="replace")
    timing = Timing(label, seconds, mem.peak_mb, rc, output, cpu)
    if check and rc != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise CommandFailed(f"{label}: exit {rc}: {' '.join(argv)}\n{tail}")
    return timing


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def children_maxrss_mb() -> float:
    """Largest single child process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return {
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": model,
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def warm_up(cwd: Path) -> None:
    """Untimed: load the heavy libraries once so neither path pays the cold disk cache alone."""
    code = "import pandas, matplotlib.pyplot, nbconvert, papermill, weasyprint, ipykernel"
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=child_env(),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit(result: dict) -> None:
    """The last line of every benchmark: one JSON object."""
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False), flush=True)


def talentbrief(root: Path, *args: str) -> list[str]:
    return [tool("talentbrief"), "--root", str(root), *args]


def load_specs(root: Path):
    """The expanded catalogue of the copy, through the project's own loader."""
    from talentbrief import catalogue, paths

    return catalogue.load(paths.get(root))
