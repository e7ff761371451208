"""Notebook execution: papermill on one warm IPython kernel per worker thread (docs/architecture.md).

A fresh kernel costs ~2 s per notebook (start, then pandas, matplotlib, seaborn); the warm one is reset
to a fresh kernel's state instead (kernel_state.reset), and restarted when it died, after a failed
notebook and every `TALENTBRIEF_KERNEL_RUNS` notebooks; `TALENTBRIEF_WARM=0` runs each on a fresh
kernel. Nothing here changes the process's working directory: dask workers run tasks in threads.
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

from talentbrief import kernel_state
from talentbrief.jobs import Limits

ENGINE_NAME = "talentbrief"
KERNEL_NAME = "python3"  # ipykernel's native spec: runs sys.executable, i.e. this venv's python
# matplotlib-inline, Figures shown as PNG with alt text: here as in `make lab` (figures.setup_inline)
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
INLINE_SETUP = "import figures; figures.setup_inline()"
KERNEL_ARGUMENTS = (f"--IPKernelApp.exec_lines={INLINE_SETUP}",)  # also in the `talentbrief` kernelspec
# What every report imports (itself, or through talentbrief), once per kernel.
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
    env.update(TALENTBRIEF_ROOT=str(root), PYTHONPATH=os.pathsep.join([src, *rest]),
               MPLBACKEND=INLINE_BACKEND, PYTHONHASHSEED="0")
    env.pop("JPY_PARENT_PID", None)
    return env


def _in_kernel(call: str) -> str:
    """Code that runs `call` of talentbrief.kernel_state inside the kernel, in a throwaway namespace."""
    return f"exec(compile({KERNEL_STATE + call!r}, '<talentbrief-kernel>', 'exec'), {{}})"


def scratch_prefix(kind: str) -> str:
    """A temp folder prefix with our pid, so `sweep_scratch` can remove what a killed worker left."""
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
    """A notebook stopped by a limit or its kernel's death; `cell_index`: the running cell, if any."""

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

    def alive(self) -> bool:
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def start(self, root: Path, max_memory: int | None = None) -> None:
        """Start a kernel for `root` whose address space is capped at `max_memory` bytes (None: no cap)."""
        self.shutdown()
        sweep_scratch()  # ipc sockets below: no TCP ports to collide on, no "unencrypted TCP" warning
        self.sockets = tempfile.mkdtemp(prefix=scratch_prefix("kernel"))
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=os.path.join(self.sockets, "k"),
                                connection_file=os.path.join(self.sockets, "kernel.json"))  # swept with it
        # every kernel records its reads from its first line (talentbrief.reads); no history database:
        # it would report the warm kernel's rewound execution counter as an error in the output
        args = ["--HistoryManager.enabled=False", f"--IPKernelApp.exec_lines={RECORD}", *KERNEL_ARGUMENTS]
        run_sync(km.start_kernel)(env=kernel_env(root), cwd=str(root / "notebooks"), extra_arguments=args)
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
        """Interrupt, wait up to GRACE_S, then kill regardless: a stopped notebook may leave any state."""
        if self.km is not None:
            with contextlib.suppress(Exception):  # it may already be gone
                run_sync(self.km.interrupt_kernel)()
                self._run("pass", timeout=GRACE_S)
        self.shutdown()

    def prepare(self, root: Path, max_memory: int | None = None, reads: Path | None = None) -> None:
        """As a fresh kernel for `root` with this memory cap would be, recording reads to the file `reads`."""
        if os.getpid() != self.pid:  # inherited through fork: the sockets are not ours
            self.km = self.kc = None
            self.pid = os.getpid()
        stale = self.dirty or self.runs >= self.max_runs or max_memory != self.max_memory
        if stale or not self.alive():
            self.start(root, max_memory)
        self._run(_in_kernel(f"reset({str(root)!r}, {str(reads or '')!r})"))
        self.runs += 1

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
    km = getattr(getattr(_local, "kernel", None), "km", None)
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
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
    """papermill's client with a deadline for the whole notebook and a cap on its output, counted as
    messages arrive (before they are kept)."""

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
    """papermill engine running notebooks on this thread's warm kernel (or a fresh one)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, *, root, limits, fresh, reads, **kw):
        kernel = WarmKernel() if fresh else current_kernel()
        kw.pop("input_path", None)  # papermill's, not the client's
        kw["startup_timeout"] = kw.pop("start_timeout")  # nbclient's name for it
        try:
            kernel.prepare(Path(root), memory_bytes(limits), reads)
            client = LimitedClient(nb_man, limits, km=kernel.km, kernel_name=KERNEL_NAME, log=logger, **kw)
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


def execute(notebook: Path, parameters: dict, root: Path, output_path: Path, limits: Limits | None = None,
            prepare: Callable[[bytes], bytes] | None = None) -> Any:
    """Run `notebook` for project `root` into output_path; `inputs(nb)` is what the run read: the sha256
    of the bytes it ran before `prepare` (the key is the analyst's notebook) and talentbrief.reads' records.
    Raises papermill's PapermillExecutionError when a cell raises, Aborted when a limit stopped it."""
    import papermill

    from talentbrief import reads

    source = notebook.read_bytes()
    copy = output_path.with_name(f"source-{notebook.name}")
    copy.write_bytes(prepare(source) if prepare else source)
    record = output_path.with_name("reads.jsonl")
    nb = papermill.execute_notebook(str(copy), str(output_path), engine_name=ENGINE_NAME, root=Path(root),
                                    reads=record, limits=limits or Limits(), fresh=not warm_enabled(),
                                    parameters=parameters, progress_bar=False,
                                    request_save_on_cell_execute=False, kernel_name=KERNEL_NAME)
    nb.metadata["papermill"]["input_path"] = str(notebook)
    inputs = {"notebook": hashlib.sha256(source).hexdigest(), "data": reads.collect(record)}
    nb.metadata.setdefault("talentbrief", {})["inputs"] = inputs
    return nb


def inputs(nb: Any) -> dict | None:
    """What the run of an executed notebook read (see execute)."""
    return nb.metadata.get("talentbrief", {}).get("inputs")

