"""Run jobs in local worker processes, each with its own warm kernel (docs/architecture.md, Build).

Workers are spawned, not forked: a forked child would share the parent's kernel sockets and event loop.
`peek`, `pull` and `Attempts` are what every executor (this one, talentbrief.dask_executor) shares: no
workers for no jobs, the one lazy feed, the one retry policy for a job lost without an answer.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Self

from talentbrief.jobs import Job, JobFailure, Outputs, default_workers

_events = None  # in a worker: queue on which it announces ("ready", pid) and ("started", report_id)
PER_WORKER_IN_FLIGHT = 2  # one running, one queued: a worker never waits for the parent
DIED = "worker process died (killed or out of memory) while running it"


def peek(jobs: Iterable[Job]) -> Iterator[Job] | None:
    """`jobs` as an iterator, or None when there are none (then no executor starts anything)."""
    todo = iter(jobs)
    first = next(todo, None)
    return None if first is None else itertools.chain([first], todo)


def pull(todo: Iterator[Job], room: int) -> list[Job]:
    """Up to `room` more jobs: the one feed, so a build that stops yielding jobs stops any executor."""
    return list(itertools.islice(todo, max(0, room)))


class Attempts:
    """How often each job was lost without an answer (worker died, task lost); `retry` it `limit` times."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lost: Counter[str] = Counter()

    def retry(self, job: Job) -> bool:
        self.lost[job.report_id] += 1
        return self.lost[job.report_id] <= self.limit


def _watch_parent(parent: int) -> None:
    """Exit when the pool's owner is gone; multiprocessing alone would leave us (and our kernel) running."""
    while os.getppid() == parent:
        time.sleep(1.0)
    try:
        from talentbrief import engine

        engine.shutdown_all()
    finally:
        os._exit(1)


def _init_worker(root: str, events, parent: int) -> None:
    """Pay the start-up costs once per worker, before the first job arrives."""
    global _events
    from talentbrief import engine, reaper, render

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the owner's to handle: it stops us
    reaper.become_subreaper()  # orphans of our kernels' cells come to us, and end with their report
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watch").start()
    _events = events
    if engine.warm_enabled():
        engine.warm_up(Path(root))
    render.warm_up(Path(root))
    gc.collect()
    gc.freeze()  # what warm-up loaded lives as long as the worker: later collections skip it
    events.put(("ready", os.getpid()))


def work(job: Job, root: str | Path) -> Outputs | JobFailure:
    """Run one job and return (never raise) its result, so any failure crosses the process boundary."""
    from talentbrief import render

    if _events is not None:
        _events.put(("started", job.report_id))
    try:
        return render.run_job(job, Path(root))
    except JobFailure as failure:
        return failure
    except Exception as e:  # noqa: BLE001 -- a bug of ours, not the notebook: still one report failed
        return JobFailure(job.report_id, f"worker error: {type(e).__name__}: {e}")


class WorkerPool:
    """`workers` warm worker processes for `root`, reused for any number of runs, one at a time."""

    def __init__(self, root: Path | str, workers: int | None = None):
        self.root = Path(root).resolve()
        self.workers = max(1, workers or default_workers())
        self._ctx = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None
        self._events = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.stop()
        else:
            self.close()

    def pids(self) -> list[int]:
        """The worker processes' ids (empty before the first run or warm-up)."""
        return list(self._pool._processes) if self._pool is not None else []

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._events = self._ctx.SimpleQueue()
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx,
                                             initializer=_init_worker,
                                             initargs=(str(self.root), self._events, os.getpid()))
        return self._pool

    def _drain(self) -> tuple[set[str], set[int]]:
        """Events so far: ids of jobs that started, pids of workers that finished warming up."""
        started, ready = set(), set()
        while self._events is not None and not self._events.empty():
            kind, value = self._events.get()
            (started if kind == "started" else ready).add(value)
        return started, ready

    def warm(self, timeout: float = 300) -> None:
        """Start every worker now and return once each has warmed up (RuntimeError if they cannot)."""
        pool = self._executor()
        futures = [pool.submit(os.getpid) for _ in range(self.workers)]  # each submit spawns one worker
        ready: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(ready) < self.workers:
            ready |= self._drain()[1]
            broken = [f for f in futures if f.done() and f.exception() is not None]
            if broken:
                self.close(wait=False)
                raise RuntimeError(f"worker processes failed to start: {broken[0].exception()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready after {timeout:.0f} s")
            time.sleep(0.02)

    def close(self, wait: bool = True) -> None:
        """Shut the pool down; `wait=False` for a broken pool, whose workers are dead or dying."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
        if self._events is not None:
            self._events.close()
            self._events = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop without waiting for queued jobs (Ctrl-C): idle workers exit now, a busy one after its
        report or when this process exits, whichever is first; waits up to `timeout` s for them."""
        processes = list(self._pool._processes.values()) if self._pool is not None else []
        self.close(wait=False)
        deadline = time.monotonic() + timeout
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))

    def _round(self, todo: Iterator[Job]):
        """Yield (job, result) from `todo` until it is exhausted (return None) or the pool breaks: then
        return the jobs lost while running, those lost before they started, and how many completed."""
        pool = self._executor()
        self._drain()  # forget events of earlier runs
        window = PER_WORKER_IN_FLIGHT * self.workers
        running: dict[Future, Job] = {}
        lost: list[Job] = []
        completed = 0
        exhausted = False
        try:
            while True:
                if not exhausted and not lost:
                    batch = pull(todo, window - len(running))
                    exhausted = len(batch) < window - len(running)
                    for job in batch:
                        try:
                            running[pool.submit(work, job, str(self.root))] = job
                        except BrokenProcessPool:
                            lost.append(job)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    try:
                        result = future.result()
                    except (BrokenProcessPool, CancelledError):
                        lost.append(job)
                        continue
                    except Exception as e:  # noqa: BLE001 -- e.g. the job did not pickle
                        result = JobFailure(job.report_id, f"could not run: {type(e).__name__}: {e}")
                    completed += 1
                    yield job, result
        finally:
            for future in running:  # the caller stopped early: nothing new starts (running ones finish)
                future.cancel()
        if not lost:
            return None
        started, _ = self._drain()
        self.close(wait=False)
        suspects = [j for j in lost if j.report_id in started]
        return suspects, [j for j in lost if j.report_id not in started], completed

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Outputs | JobFailure]]:
        """Yield (job, Outputs | JobFailure) for every job, in completion order. When a worker dies, the
        jobs that had not started go to a fresh pool; those running are retried once each, alone."""
        todo: Iterator[Job] = iter(jobs)
        attempts = Attempts(limit=1)
        while True:
            outcome = yield from self._round(todo)
            if outcome is None:
                return
            suspects, innocents, completed = outcome
            if not suspects and not completed:  # nothing even started: the workers cannot start at all
                for job in itertools.chain(innocents, todo):
                    yield job, JobFailure(job.report_id, "worker processes failed to start")
                return
            for job in suspects:  # each alone, so a job that kills its worker takes nobody else along
                while attempts.retry(job):
                    with WorkerPool(self.root, 1) as solo:
                        if (yield from solo._round(iter([job]))) is None:
                            break
                else:
                    yield job, JobFailure(job.report_id, DIED)
            todo = itertools.chain(innocents, todo)


def run_local(jobs: Iterable[Job], root: Path, *,
              workers: int | None = None) -> Iterator[tuple[Job, Outputs | JobFailure]]:
    """Yield (job, Outputs | JobFailure) for every job, in completion order, from a pool of its own."""
    todo = peek(jobs)
    if todo is None:
        return
    with WorkerPool(root, workers) as pool:
        yield from pool.run(todo)
    from talentbrief import engine

    engine.sweep_scratch()  # what workers killed during the run left in TMPDIR
