"""Run jobs concurrently in local worker processes, each with its own warm kernel.

Workers are spawned (not forked: a forked child would share the parent's kernel sockets and
event loop), warm up in their initializer (kernel started, pandas/matplotlib/seaborn imported,
WeasyPrint loaded) and then call `render.run_job` for each job. A `WorkerPool` keeps them warm for
as long as it lives: one build (`run_local`) or every rebuild of a `talentbrief preview`.

What every executor (this one and `talentbrief.dask_executor`) shares lives here: `peek` (no jobs, no
workers started), `pull` (the one lazy feed: at most a window of jobs in flight) and `Attempts` (the one
fallback: a job lost without an answer is tried again a bounded number of times, then fails).

Jobs are pulled lazily, at most two per worker in flight, so a build that stops after a failure
stops scheduling. A worker process that dies (killed, out of memory) breaks the pool: jobs that had
not started go to a fresh pool, jobs that were running are retried once each on their own (so a job
that kills its worker takes nobody else along) and then reported as JobFailure. Nothing hangs.
Workers exit by themselves when the process that owns the pool dies, even by SIGKILL, and leave
Ctrl-C to their owner (which stops them): a terminal's SIGINT reaches the whole process group.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import threading
import time
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
    """Up to `room` more jobs. Every executor feeds itself only through this, so a build that stops
    yielding jobs (after a failure) stops every executor the same way."""
    return list(itertools.islice(todo, max(0, room)))


class Attempts:
    """How often each job was lost without an answer (its worker died, its task was lost): the one
    fallback policy. `retry(job)` says whether to run it again; after `limit` retries it fails."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lost: dict[str, int] = {}

    def retry(self, job: Job) -> bool:
        n = self.lost[job.report_id] = self.lost.get(job.report_id, 0) + 1
        return n <= self.limit


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


def _noop() -> None:
    """A task whose only effect is to make the pool spawn (and warm) a worker."""


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
    """`workers` warm worker processes for the project at `root`, reusable for any number of runs.

    Not thread-safe: one `run` at a time.
    """

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
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._ctx,
                initializer=_init_worker,
                initargs=(str(self.root), self._events, os.getpid()),
            )
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
        futures = [pool.submit(_noop) for _ in range(self.workers)]  # each submit spawns one worker
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
        """Shut the pool down, waiting for its workers to exit unless `wait` is False (a broken pool:
        its workers are dead or dying)."""
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
        """Run jobs from `todo` until it is exhausted or the pool breaks.

        Yields (job, result) as jobs complete; returns None when all went through, else
        (suspects, innocents, completed): jobs lost while running, jobs lost before they started, and
        how many completed in this round.
        """
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
        return (
            [j for j in lost if j.report_id in started],
            [j for j in lost if j.report_id not in started],
            completed,
        )

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Outputs | JobFailure]]:
        """Yield (job, Outputs | JobFailure) for every job, in completion order."""
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
                while True:
                    if not attempts.retry(job):
                        yield job, JobFailure(job.report_id, DIED)
                        break
                    with WorkerPool(self.root, 1) as solo:
                        if (yield from solo._round(iter([job]))) is None:
                            break
            todo = itertools.chain(innocents, todo)


def run_local(
    jobs: Iterable[Job], root: Path, *, workers: int | None = None
) -> Iterator[tuple[Job, Outputs | JobFailure]]:
    """Yield (job, Outputs | JobFailure) for every job, in completion order, from a pool of its own."""
    todo = peek(jobs)
    if todo is None:
        return
    with WorkerPool(root, workers) as pool:
        yield from pool.run(todo)
    from talentbrief import engine

    engine.sweep_scratch()  # what workers killed during the run left in TMPDIR
