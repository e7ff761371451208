"""Run jobs concurrently in local worker processes, each with its own warm kernel.

Workers are spawned (not forked: a forked child would share the parent's kernel sockets and
event loop), warm up in their initializer (kernel started, pandas/matplotlib/seaborn imported,
WeasyPrint loaded) and then call `render.run_job` for each job. Results are yielded as they
complete. A worker process that dies (killed, out of memory) breaks the pool: jobs that had not
started go to a fresh pool, jobs that were running are retried once each on their own (so a job
that kills its worker takes nobody else along) and then reported as JobFailure. Nothing hangs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from talentbrief.jobs import Job, JobFailure, Outputs

_started = None  # in a worker: queue on which it announces the job it starts


def default_workers() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _init_worker(root: str, started) -> None:
    """Pay the start-up costs once per worker, before the first job arrives."""
    global _started
    from talentbrief import engine, render

    _started = started
    if engine.warm_enabled():
        engine.warm_up(Path(root))
    render.warm_up()


def work(job: Job, root: str | Path) -> Outputs | JobFailure:
    """Run one job and return (never raise) its result, so any failure crosses the process boundary."""
    from talentbrief import render

    if _started is not None:
        _started.put(job.report_id)
    try:
        return render.run_job(job, Path(root))
    except JobFailure as failure:
        return failure
    except Exception as e:  # noqa: BLE001 -- a bug of ours, not the notebook: still one report failed
        return JobFailure(job.report_id, f"worker error: {type(e).__name__}: {e}")


def _run_pool(jobs: list[Job], root: Path, workers: int):
    """Yield (job, result) as jobs complete; return (suspects, unstarted) if a worker died.

    Suspects were started but not finished when the pool broke; unstarted jobs never reached a
    worker and are innocent.
    """
    ctx = multiprocessing.get_context("spawn")
    started_q = ctx.SimpleQueue()
    started: set[str] = set()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(str(root), started_q)
    )
    lost: list[Job] = []
    try:
        running: dict[Future, Job] = {pool.submit(work, job, str(root)): job for job in jobs}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append(job)
                    continue
                except Exception as e:  # noqa: BLE001 -- e.g. the job did not pickle
                    result = JobFailure(job.report_id, f"could not run: {type(e).__name__}: {e}")
                yield job, result
    finally:
        pool.shutdown(wait=not lost, cancel_futures=True)
        while not started_q.empty():
            started.add(started_q.get())
        started_q.close()
    return [j for j in lost if j.report_id in started], [j for j in lost if j.report_id not in started]


def _died(job: Job) -> JobFailure:
    return JobFailure(job.report_id, "worker process died (killed or out of memory) while running it")


def run_local(
    jobs: Iterable[Job], root: Path, *, workers: int | None = None
) -> Iterator[tuple[Job, Outputs | JobFailure]]:
    """Yield (job, Outputs | JobFailure) for every job, in completion order."""
    todo = list(jobs)
    root = Path(root).resolve()
    workers = max(1, min(workers or default_workers(), len(todo) or 1))
    while todo:
        suspects, unstarted = yield from _run_pool(todo, root, workers)
        if len(unstarted) == len(todo):  # nothing even started: the workers cannot start at all
            for job in unstarted:
                yield job, JobFailure(job.report_id, "worker processes failed to start")
            return
        todo = unstarted
        for job in suspects:  # each alone, so a job that kills its worker takes nobody else along
            again, never = yield from _run_pool([job], root, 1)
            if again or never:
                yield job, _died(job)
