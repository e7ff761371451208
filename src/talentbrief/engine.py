"""Notebook execution: papermill with one warm IPython kernel per worker thread.

Papermill starts a fresh kernel per notebook (~0.7 s) which then imports pandas, matplotlib and
seaborn again (~1.5 s). The `talentbrief` papermill engine instead keeps a kernel alive, with those
libraries imported, and between notebooks puts it back into the state a fresh kernel would be in:
empty user namespace, execution counter 1, working directory, environment, sys.path, warnings
filters, matplotlib rcParams and pandas options restored, figures closed, and the project's own
modules (anything loaded from the project folder but not from a virtualenv kept there: src/, a
helper module beside the notebooks) dropped so they are imported afresh, and their reads recorded.
The kernel is restarted when it died, after a failed notebook and every `TALENTBRIEF_KERNEL_RUNS`
notebooks.

`TALENTBRIEF_WARM=0` runs each notebook on a fresh kernel of the same kind, shut down afterwards.
Neither path changes the parent process's working directory, so both are safe in threads (dask
workers run tasks in threads).

Every notebook runs under `jobs.Limits`: a deadline for the whole notebook, a cap on the bytes of
output it sends (counted as messages arrive, before they are kept) and a cap on the kernel's address
space (RLIMIT_AS, set in the kernel after its imports). A notebook stopped by the deadline or the
output cap, or whose kernel dies, raises `Aborted` naming the cell that was running; its kernel is
interrupted, given `GRACE_S` to stop, then killed, and the next notebook gets a fresh one.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

from talentbrief import kernel_state
from talentbrief.jobs import Limits

ENGINE_NAME = "talentbrief"
KERNEL_NAME = "python3"  # ipykernel's native spec: runs sys.executable, i.e. this venv's python
# What JupyterLab shows is what the report shows: the kernel draws with matplotlib-inline, and every
# displayed Figure becomes a PNG with alt text (figures.setup_inline), here and in `make lab`.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
INLINE_SETUP = "import figures; figures.setup_inline()"
KERNEL_ARGUMENTS = (f"--IPKernelApp.exec_lines={INLINE_SETUP}",)  # also in the `talentbrief` kernelspec
# What every report imports (directly, or through talentbrief's macros and Markdown cells), once per kernel.
PRELOAD = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot", "seaborn", "frictionless", "jinja2", "markdown_it")
GRACE_S = 5  # after an interrupt, how long a stopped notebook's kernel may take before it is killed
MB = 1024 * 1024
OUTPUT_MESSAGES = ("stream", "display_data", "execute_result", "update_display_data", "error")
RECORD = "__import__('talentbrief.reads').reads.install()"  # a kernel's first line: record its reads
KERNEL_STATE = Path(kernel_state.__file__).read_text(encoding="utf-8") + "\n"  # the code run in the kernel


def warm_enabled() -> bool:
    return os.environ.get("TALENTBRIEF_WARM", "1").strip().lower() not in ("0", "false", "no", "off")


def kernel_env(root: Path) -> dict[str, str]:
    """The kernel's environment: the project's own src/ first, headless matplotlib, fixed hash seed."""
    env = dict(os.environ)
    src = str(Path(root) / "src")
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    env.update(
        TALENTBRIEF_ROOT=str(root),
        PYTHONPATH=os.pathsep.join([src, *rest]),
        MPLBACKEND=INLINE_BACKEND,
        PYTHONHASHSEED="0",
    )
    env.pop("JPY_PARENT_PID", None)
    return env


def kernel_manager_class(root: Path) -> type[AsyncKernelManager]:
    """A kernel manager class whose kernels start in `root/notebooks` with `kernel_env(root)`.

    nbclient's `kernel_manager_class` must be a class, so the settings ride on a small subclass;
    this is how the cold (papermill) engine gets the same kernel as the warm one. Every kernel records
    what it reads (talentbrief.reads) from its first line on; kernel_state.reset names each notebook's
    record file.
    """
    env, cwd = kernel_env(root), str(Path(root) / "notebooks")

    class TalentbriefKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw.setdefault("env", env)
            kw.setdefault("cwd", cwd)
            # No history database: the warm kernel rewinds its execution counter, which a
            # history database reports as an error inside the notebook's output.
            kw["extra_arguments"] = [
                *kw.get("extra_arguments", ()), "--HistoryManager.enabled=False",
                f"--IPKernelApp.exec_lines={RECORD}", *KERNEL_ARGUMENTS,
            ]
            await super().start_kernel(**kw)

    return TalentbriefKernelManager


def _in_kernel(call: str) -> str:
    """Code that runs `call` of talentbrief.kernel_state inside the kernel, in a throwaway namespace."""
    return f"exec(compile({KERNEL_STATE + call!r}, '<talentbrief-kernel>', 'exec'), {{}})"


def scratch_prefix(kind: str) -> str:
    """Prefix of a temp folder of this process: the pid in it lets a later start sweep the folders a
    killed worker left behind (`sweep_scratch`)."""
    return f"talentbrief-{os.getpid()}-{kind}-"


def sweep_scratch() -> None:
    """Remove temp folders of talentbrief processes that no longer exist."""
    for folder in Path(tempfile.gettempdir()).glob("talentbrief-*-*-*"):
        pid = folder.name.split("-")[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # someone else's, still running


class KernelError(RuntimeError):
    """The warm kernel could not be started or reset."""


class Aborted(RuntimeError):
    """A notebook stopped by a limit or by its kernel dying: `nb` as executed so far, `cell_index` the
    cell that was running (its index in `nb`, or None if no cell had started)."""

    def __init__(self, why: str, cell_index: int | None, nb: Any):
        super().__init__(why)
        self.why, self.cell_index, self.nb = why, cell_index, nb


class WarmKernel:
    """One long-lived kernel (and its client) owned by one thread of one process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.km: AsyncKernelManager | None = None
        self.kc = None
        self.runs = 0
        self.dirty = False
        self.sockets: str | None = None
        self.max_memory: int | None = None  # bytes, the RLIMIT_AS the running kernel was started with
        self.max_runs = int(os.environ.get("TALENTBRIEF_KERNEL_RUNS", "100"))

    # -- lifecycle ---------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def start(self, root: Path, max_memory: int | None = None) -> None:
        """Start a kernel for `root` whose address space is capped at `max_memory` bytes (None: no cap)."""
        self.shutdown()
        # ipc: local sockets under an absolute temp path, no TCP ports to collide on and no
        # "unencrypted TCP" warning on the build's console
        sweep_scratch()
        self.sockets = tempfile.mkdtemp(prefix=scratch_prefix("kernel"))
        km = kernel_manager_class(root)(
            kernel_name=KERNEL_NAME,
            transport="ipc",
            ip=os.path.join(self.sockets, "k"),
            connection_file=os.path.join(self.sockets, "kernel.json"),  # swept with the folder
        )
        run_sync(km.start_kernel)()
        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=60)
        except Exception:
            kc.stop_channels()
            run_sync(km.shutdown_kernel)(now=True)
            raise
        self.km, self.kc, self.runs, self.dirty, self.max_memory = km, kc, 0, False, max_memory
        self._run(_in_kernel(f"baseline({PRELOAD!r}, {str(root)!r}, {max_memory!r})"))

    def shutdown(self) -> None:
        km, kc, self.km, self.kc = self.km, self.kc, None, None
        if kc is not None:
            kc.stop_channels()
        if km is not None:
            with contextlib.suppress(RuntimeError, OSError, TimeoutError):  # already gone
                run_sync(km.shutdown_kernel)(now=True)
        if self.sockets:
            shutil.rmtree(self.sockets, ignore_errors=True)
            self.sockets = None

    def stop(self) -> None:
        """Stop what the kernel is running: interrupt, wait up to GRACE_S, then kill it regardless
        (a stopped notebook may have left any state; the next one gets a fresh kernel)."""
        if self.km is not None:
            with contextlib.suppress(Exception):  # it may already be gone
                run_sync(self.km.interrupt_kernel)()
                self._run("pass", timeout=GRACE_S)
        self.shutdown()

    def prepare(self, root: Path, max_memory: int | None = None, reads: Path | None = None) -> None:
        """Make the kernel indistinguishable from a fresh one started for `root` with this memory cap;
        it records what the next notebook reads in the file `reads` (talentbrief.reads)."""
        if os.getpid() != self.pid:  # inherited through fork: the sockets are not ours
            self.km = self.kc = None
            self.pid = os.getpid()
        stale = self.dirty or self.runs >= self.max_runs or max_memory != self.max_memory
        if stale or not self.alive():
            self.start(root, max_memory)
        self._run(_in_kernel(f"reset({str(root)!r}, {str(reads or '')!r})"))
        self.runs += 1

    # -- messaging ---------------------------------------------------------------------------
    def _run(self, code: str, *, timeout: float = 120) -> None:
        """Execute silently (no history, no execution count); raise KernelError on error."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        while True:
            reply = run_sync(self.kc.get_shell_msg)(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content["status"] != "ok":
            self.dirty = True
            raise KernelError(f"kernel setup failed: {content.get('ename')}: {content.get('evalue')}")


_local = threading.local()
_all: list[WarmKernel] = []
_all_lock = threading.Lock()


def current_kernel() -> WarmKernel:
    """This thread's warm kernel (created lazily, shut down at exit)."""
    kernel = getattr(_local, "kernel", None)
    if kernel is None:
        kernel = _local.kernel = WarmKernel()
        with _all_lock:
            _all.append(kernel)
    return kernel


def kernel_pids() -> list[int]:
    """Process ids of this thread's live kernel (none on the cold path: its kernel is gone by now)."""
    kernel = getattr(_local, "kernel", None)
    provisioner = getattr(getattr(kernel, "km", None), "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    return [pid] if isinstance(pid, int) else []


def warm_up(root: Path) -> None:
    """Start this thread's kernel now (worker initialiser), so the first report does not wait."""
    kernel = current_kernel()
    if not kernel.alive():
        kernel.start(Path(root).resolve(), memory_bytes(Limits()))


def memory_bytes(limits: Limits) -> int | None:
    return int(limits.max_memory * MB) if limits.max_memory else None


def _output_size(content: dict) -> int:
    """Characters of output a message adds to the notebook (text, or every representation of it)."""
    size = len(content.get("text", "")) + sum(len(line) for line in content.get("traceback", ()))
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(repr(value))
    return size


class LimitedClient(PapermillNotebookClient):
    """papermill's client with a deadline for the whole notebook and a cap on its output."""

    def __init__(self, nb_man, limits: Limits, **kw):
        super().__init__(nb_man, **kw)
        self.limits = limits
        self.deadline = time.monotonic() + limits.timeout if limits.timeout else None
        self.timeout_func = self._remaining
        self.interrupt_on_timeout = False  # a timeout raises; WarmKernel.stop interrupts, then kills
        self.output_chars = 0
        self.over_output = False
        self.running: int | None = None

    def _remaining(self, cell) -> int | None:
        return None if self.deadline is None else max(1, math.ceil(self.deadline - time.monotonic()))

    def execute_cell(self, cell, cell_index, *args, **kw):  # papermill calls this, once per cell
        self.running = cell_index
        return super().execute_cell(cell, cell_index, *args, **kw)

    def process_message(self, msg, cell, cell_index):
        if msg["msg_type"] in OUTPUT_MESSAGES and self.limits.max_output:
            self.output_chars += _output_size(msg["content"])
            if self.output_chars > self.limits.max_output * MB:
                # stop reading (nothing more is kept) and stop waiting for the cell's reply
                self.over_output = True
                if self.task_poll_for_reply is not None:
                    self.task_poll_for_reply.cancel()
                raise RuntimeError("output cap reached")
        return super().process_message(msg, cell, cell_index)

    def why_stopped(self, exc: BaseException) -> str | None:
        """The limit (or the kernel's death) that ended the notebook, or None for any other error."""
        if self.over_output:
            return f"produced more than {self.limits.max_output:g} MB of output (the output cap)"
        if isinstance(exc, CellTimeoutError):
            return f"timed out after {self.limits.timeout:g} s"
        if isinstance(exc, DeadKernelError):
            cap = f" (memory cap {self.limits.max_memory:g} MB)" if self.limits.max_memory else ""
            return f"the kernel died (killed, crashed or out of memory{cap})"
        return None


@atexit.register
def shutdown_all() -> None:
    with _all_lock:
        kernels = list(_all)
    for kernel in kernels:
        if kernel.pid == os.getpid():
            kernel.shutdown()


class WarmEngine(Engine):
    """papermill engine running notebooks on this thread's warm kernel (engine kwarg `root`)."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        root=None,
        limits=None,
        fresh=False,
        reads=None,
        **kwargs,
    ):
        if root is None:
            raise TypeError("the talentbrief engine needs root= (the project folder)")
        limits = limits or Limits()
        kernel = WarmKernel() if fresh else current_kernel()
        kwargs = remove_args(["input_path", "timeout", "startup_timeout", "kernel_manager_class"], **kwargs)
        final = merge_kwargs(kwargs, startup_timeout=start_timeout, kernel_name=KERNEL_NAME, log=logger,
                             log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
        try:
            kernel.prepare(Path(root), memory_bytes(limits), reads)
            client = LimitedClient(nb_man, limits, km=kernel.km, **final)
            client.kc = kernel.kc  # reuse the channels: nbclient neither opens nor closes them
            try:
                client.execute()
            except BaseException as exc:
                kernel.dirty = True
                why = client.why_stopped(exc)
                if why is None:
                    raise
                kernel.stop()
                raise Aborted(why, client.running, nb_man.nb) from None
            if any(o.get("output_type") == "error" for c in nb_man.nb.cells for o in c.get("outputs", ())):
                kernel.dirty = True  # a failed notebook may have left the kernel in any state
            return nb_man.nb
        finally:
            if fresh:
                kernel.shutdown()


papermill_engines.register(ENGINE_NAME, WarmEngine)


def execute(
    notebook: Path,
    parameters: dict,
    root: Path,
    output_path: Path,
    limits: Limits | None = None,
    prepare: Callable[[bytes], bytes] | None = None,
) -> Any:
    """Run `notebook` with `parameters` for project `root`; the executed notebook lands in output_path.

    The returned notebook's metadata["talentbrief"]["inputs"] says what the run read: the sha256 of
    the notebook bytes it read (a copy of exactly those bytes runs, after `prepare` if given: the
    key stays that of the notebook the analyst edits) and the data reads its kernel recorded
    (talentbrief.reads; None if it recorded nothing).
    Raises papermill's PapermillExecutionError when a cell raises (output_path is written first),
    Aborted when a limit stopped it or its kernel died.
    """
    import papermill

    from talentbrief import reads

    output_path = Path(output_path)
    source = Path(notebook).read_bytes()
    copy = output_path.with_name(f"source-{Path(notebook).name}")
    copy.write_bytes(prepare(source) if prepare else source)
    record = output_path.with_name("reads.jsonl")
    nb = papermill.execute_notebook(
        str(copy),
        str(output_path),
        engine_name=ENGINE_NAME,
        root=Path(root),
        reads=record,
        limits=limits or Limits(),
        fresh=not warm_enabled(),
        parameters=parameters,
        log_output=False,
        progress_bar=False,
        request_save_on_cell_execute=False,
        kernel_name=KERNEL_NAME,
    )
    nb.metadata["papermill"]["input_path"] = str(notebook)
    inputs = {"notebook": hashlib.sha256(source).hexdigest(), "data": reads.collect(record)}
    nb.metadata.setdefault("talentbrief", {})["inputs"] = inputs
    return nb


def inputs(nb: Any) -> dict | None:
    """What the run of an executed notebook read (see execute)."""
    return nb.metadata.get("talentbrief", {}).get("inputs")

