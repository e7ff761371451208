"""Run the build's jobs on a Dask cluster (`--executor dask`), with `executor.run_local`'s contract.

Workers need no shared filesystem: the inputs travel as one tar.gz task (`ship`); only the client
writes reports/. docs/distributed.md explains the design. Dask is imported at the top, so importing
this module is the check that the optional extra is installed.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import importlib.util
import io
import multiprocessing
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dask
import distributed
import toolz
from distributed import Client, LocalCluster, as_completed

from talentbrief import fingerprint, reaper
from talentbrief.errors import TalentbriefError
from talentbrief.executor import Attempts, peek, pull
from talentbrief.jobs import DASK_INSTALL, Job, JobFailure, Outputs
from talentbrief.paths import input_files

ENV_SCHEDULER = "TALENTBRIEF_DASK_SCHEDULER"

_FIXED_MTIME = 946684800  # 2000-01-01: identical inputs give identical bytes (and hash)

CONNECT_TIMEOUT = "30s"  # to reach an existing scheduler
# What a worker runs from its own installation (the rest comes in the bundle), derived, never listed.
WORKER_MODULES = fingerprint.closure(fingerprint.PACKAGE, ("dask_executor.py",))
MAX_RESUBMITS = 2  # of one report after the bundle was lost (the scheduler retries worker deaths)


@dataclass(frozen=True)
class Bundle:
    """The project inputs as a deterministic tar.gz; `sha256` names it on the workers."""

    sha256: str
    data: bytes

    def __repr__(self) -> str:  # keep logs and the dashboard readable
        return f"Bundle({self.sha256[:12]}, {len(self.data)} bytes)"


def make_bundle(root: Path | str) -> Bundle:
    """Pack the inputs under `root` reproducibly: sorted names, fixed mtime/owner/mode, no gzip timestamp."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in input_files(root):  # what a report reads; reports.yml makes it a project root
            data = path.read_bytes()
            info = tarfile.TarInfo(name)  # uid, gid and names: 0 and "" by default
            info.size = len(data)
            info.mtime = _FIXED_MTIME
            info.mode = 0o755 if os.access(path, os.X_OK) and path.suffix in ("", ".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
    data = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    return Bundle(hashlib.sha256(data).hexdigest(), data)


_unpack_lock = threading.Lock()
_unpacked: dict[str, Path] = {}


def _cache_dir() -> Path:
    try:
        base = Path(distributed.get_worker().local_directory)
    except ValueError:  # not inside a worker (e.g. called directly in a test)
        base = Path(tempfile.gettempdir())
    return base / "talentbrief-bundles"


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    """Unpack regular files and folders only, inside `dest`: tarfile's "data" filter where Python has it
    (3.11.4+), the same refusals by hand on Debian 12's Python 3.11.2."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    for m in tar.getmembers():
        path = Path(m.name)
        if not (m.isfile() or m.isdir()) or path.is_absolute() or ".." in path.parts:
            raise RuntimeError(f"bundle member {m.name!r} refused: only plain files inside the project")
    tar.extractall(dest)  # every member checked above (getmembers() keeps the list it read)


def materialise(bundle: Bundle) -> Path:
    """Unpack `bundle` once per process (and per worker directory); return the project root inside it."""
    with _unpack_lock:
        if (known := _unpacked.get(bundle.sha256)) is not None and (known / ".complete").is_file():
            return known
        if hashlib.sha256(bundle.data).hexdigest() != bundle.sha256:
            raise RuntimeError(f"bundle {bundle.sha256[:12]} arrived corrupted")
        target = _cache_dir() / bundle.sha256[:32]
        if not (target / ".complete").is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{bundle.sha256[:12]}-", dir=target.parent))
            try:
                with tarfile.open(fileobj=io.BytesIO(bundle.data), mode="r:gz") as tar:
                    _extract(tar, staging)
                (staging / "reports").mkdir(exist_ok=True)
                (staging / ".complete").write_text(bundle.sha256 + "\n", encoding="ascii")
                try:
                    os.replace(staging, target)
                except OSError:  # another process on this host won the race: use theirs
                    if not (target / ".complete").is_file():
                        raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        _unpacked[bundle.sha256] = target
        return target


# The talentbrief code a worker has in memory (since it loaded this module): the client's, or reports differ.
CODE = fingerprint.code(WORKER_MODULES)

# Dask's profiler (a stack sample every 10 ms, under the GIL) made reports 15-20 % slower and grew worker
# memory (py-spy); off in our LocalCluster, by environment elsewhere (docs/distributed.md).
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def worker_config() -> dict:
    """The whole configuration with WORKER_CONFIG, for the nannies: they keep a shallow copy of the
    global one, so a scoped `dask.config.set` would not reach a worker restarted after a crash."""
    with dask.config.set(WORKER_CONFIG):
        return copy.deepcopy(dask.config.config)


def _adopt_orphans() -> None:
    """A worker a nanny started becomes a subreaper (talentbrief.reaper), so nothing a report starts
    outlives it; not any other process, whose own children it would end."""
    if multiprocessing.parent_process() is not None:
        reaper.become_subreaper()


def run_task(job: Job, bundle: Bundle, client_code: str) -> Outputs | JobFailure:
    """The Dask task: one report. Returns failures as values so the scheduler never retries them."""
    where = socket.gethostname()
    try:
        if CODE != client_code:
            return JobFailure(job.report_id, f"dask worker on {where} runs talentbrief {CODE}, the client "
                              f"{client_code}: install the client's version on every worker "
                              f"({DASK_INSTALL}) and restart the workers")
        root = materialise(bundle)
        _adopt_orphans()
        from talentbrief.render import run_job

        return run_job(job, root)
    except JobFailure as failure:
        return failure
    except Exception as exc:  # noqa: BLE001 - anything else is still this report's failure, reported once
        detail = "".join(traceback.format_exception(exc)).rstrip()
        return JobFailure(job.report_id, f"on dask worker {where}: {type(exc).__name__}: {exc}\n{detail}")


def scheduler_address(scheduler: str | None) -> str | None:
    """`--scheduler` wins, then $TALENTBRIEF_DASK_SCHEDULER; None means "start a local cluster"."""
    return (scheduler or os.environ.get(ENV_SCHEDULER) or "").strip() or None


def check_scheduler(scheduler: str | None) -> None:
    """Raise SchedulerUnreachable before a build takes its lock if the scheduler cannot be reached."""
    if (address := scheduler_address(scheduler)) is not None:
        _connect(address).close()


def _connect(address: str) -> Client:
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


def _dashboard(client: Client) -> str | None:
    """The dashboard's URL, or None when the scheduler serves none (its pages need bokeh)."""
    try:
        has_bokeh = client.run_on_scheduler(lambda: importlib.util.find_spec("bokeh") is not None)
        return client.dashboard_link if has_bokeh else None
    except Exception:  # noqa: BLE001 - no dashboard, or run_on_scheduler refused: print nothing
        return None


def _failure_from(job: Job, exc: BaseException | None, future) -> JobFailure:
    if isinstance(exc, distributed.KilledWorker):
        message = ("every dask worker that ran it died (distributed.scheduler.allowed-failures reached: out "
                   f"of memory? a crash in a native library?); not retried further ({exc})")
    elif exc is None:
        message = f"dask task ended as {future.status!r}"
    else:
        message = f"dask task error: {type(exc).__name__}: {exc}"
    return JobFailure(job.report_id, message)


def ship(client: Client, bundle: Bundle):
    """The bundle as a task every report depends on: unlike scattered data it can be recomputed from
    the scheduler's copy when every worker holding it dies, and it needs no worker connected yet."""
    key = f"talentbrief-bundle-{bundle.sha256}"
    return client.submit(toolz.identity, bundle, key=key, priority=100, retries=3)


def run_dask(jobs: Iterable[Job], root: Path | str, *, scheduler: str | None, workers: int | None = None,
             progress: Callable[[str], None] | None = None) -> Iterator[tuple[Job, Outputs | JobFailure]]:
    """Yield (job, Outputs | JobFailure) in completion order, on `scheduler_address`'s cluster or a new
    LocalCluster of `workers` (default 2); `jobs` is pulled about two tasks per worker thread ahead, so a
    caller that stops feeding jobs stops the build. `progress` gets the status lines (default: stderr)."""
    say = progress or (lambda message: print(f"talentbrief: {message}", file=sys.stderr, flush=True))
    todo = peek(jobs)
    if todo is None:
        return
    address = scheduler_address(scheduler)
    cluster = client = None
    live: dict = {}  # task key -> (future, job, attempt), until yielded
    try:
        if address is None:
            n = workers or 2
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   config=worker_config())
            say(f"no --scheduler or ${ENV_SCHEDULER}: started a local Dask cluster "
                f"({n} worker process{'es' if n != 1 else ''}, 1 thread each) at {cluster.scheduler_address}")
            client = Client(cluster)
        else:
            client = _connect(address)
            if not client.nthreads():
                say(f"no workers connected to {address} yet: reports wait until one joins")
        if (link := _dashboard(client)) is not None:
            say(f"Dask dashboard: {link}")

        bundle = make_bundle(root)
        shipped = ship(client, bundle)
        run_token = uuid.uuid4().hex[:8]
        code = fingerprint.code(WORKER_MODULES)  # the workers must run the same

        def submit(job: Job, attempt: int):
            # retries=0: notebook errors come back as values; worker deaths are the scheduler's
            future = client.submit(run_task, job, shipped, code, retries=0, pure=False,
                                   key=("talentbrief-report", f"{job.report_id}-{run_token}", attempt))
            live[future.key] = (future, job, attempt)
            return future

        pending = as_completed(with_results=False)
        attempts = Attempts(limit=MAX_RESUBMITS)

        def refill() -> None:
            window = max(2 * sum(client.nthreads().values()), workers or 0, 2)
            for job in pull(todo, window - len(live)):
                pending.add(submit(job, 0))

        refill()
        for future in pending:
            _, job, attempt = live.pop(future.key)
            if future.status == "finished":
                result = future.result()
                future.release()
                yield job, result
            else:
                exc = future.exception() if future.status == "error" else None
                lost = future.status in ("cancelled", "lost") or isinstance(exc, distributed.CancelledError)
                future.release()
                if lost and attempts.retry(job):
                    if shipped.status in ("cancelled", "lost", "error"):
                        shipped = ship(client, bundle)
                    pending.add(submit(job, attempt + 1))
                else:
                    yield job, _failure_from(job, exc, future)
            refill()
    finally:
        if client is not None:
            if live:  # the caller stopped early (or we failed): don't leave work on a shared cluster
                client.cancel([future for future, _, _ in live.values()])
            client.close()
        if cluster is not None:
            cluster.close()


class SchedulerUnreachable(TalentbriefError):
    """--scheduler / $TALENTBRIEF_DASK_SCHEDULER names no scheduler we can connect to (exit 2)."""
