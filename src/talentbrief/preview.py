"""`talentbrief preview`: rebuild on save, serve reports/ on 127.0.0.1, reload the open page.

Each pass is `build.run_build` on warm workers; a src/ change restarts the process in place (same pid,
port). Banner and reload script go into the HTML served, never the files; only local pages reach it
(`refusal`). docs/architecture.md has the design.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import resource_tracker
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from markupsafe import Markup

from talentbrief import build, errors, macros, store
from talentbrief import paths as paths_mod
from talentbrief.errors import TalentbriefError
from talentbrief.executor import WorkerPool

RESTARTED = "TALENTBRIEF_PREVIEW_RESTARTED"  # set across the in-place restart after a src/ change
PDF_DELAY_S = 1.0  # after an HTML pass, the open pages reload before the PDF pass takes the CPU
RECHECK_S = 0.5  # an event stream also looks for itself: reports/ may change by another `talentbrief build`
API = "/__preview__/"
_REPORT_PAGE = re.compile(r"[a-z0-9][a-z0-9-]*\.html")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MAX_STREAMS = 8  # open event streams (a page each); more gets 503


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


class State:
    """What the handler threads read and the build loop writes: problems of the last build, its phase."""

    def __init__(self, paths: paths_mod.Paths):
        self.paths = paths
        self.problems: list[str] = []
        self.problems_version = 0
        self.phase = "starting"
        self.builds = 0
        self.last_exit: int | None = None
        self.workers: list[int] = []
        self.stopping = threading.Event()
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        self._changed = threading.Condition()

    def changed(self) -> None:
        """Wake the event streams now: a report was stored, the problems changed, or we are stopping."""
        with self._changed:
            self._changed.notify_all()

    def wait_change(self, timeout: float) -> None:
        with self._changed:
            if not self.stopping.is_set():
                self._changed.wait(timeout)

    def set_problems(self, problems: list[str]) -> None:
        if problems != self.problems:
            self.problems = problems
            self.problems_version += 1
            self.changed()

    def token(self, page: str) -> str:
        """Changes whenever what `page` (a path under reports/) would show changes."""
        name = page.strip("/") or "index.html"
        parts = [_mtime(self.paths.reports / name), self.problems_version]
        if _REPORT_PAGE.fullmatch(name):
            parts.append(_mtime(self.paths.failed / f"{name[:-5]}.txt"))
        return "-".join(map(str, parts))

    def status(self) -> dict:
        return {"phase": self.phase, "builds": self.builds, "last_exit": self.last_exit,
                "pid": os.getpid(), "workers": self.workers, "problems": self.problems}


def failure_banner(state: State, report_id: str) -> Markup | None:
    """The report's failure (from reports/_failed/<id>.txt), or the build's bad-input problems."""
    failure = None
    with contextlib.suppress(OSError):  # no record: the report has not failed
        text = (state.paths.failed / f"{report_id}.txt").read_text(encoding="utf-8")
        where = re.search(r"^failed in:(.*)$", text, re.MULTILINE)
        message = text.split("\n\n", 1)[-1].strip().splitlines()
        page = state.paths.failed / f"{report_id}.html"
        failure = {"where": where[1].strip() if where else "", "last": message[-1] if message else "failed",
                   "link": f"/_failed/{report_id}.html" if page.is_file() else None}
    if not state.problems and failure is None:
        return None
    return macros.render("banner", "preview.html.j2", problems=state.problems[:20], failure=failure)


def decorate(page_html: str, page: str, token: str, banner: Markup | None) -> bytes:
    """The page as served: banner after <body>, reload script before </body>. The file is joined as
    Markup on purpose: a plain str added to Markup is escaped, which once served every page as source."""
    html = Markup(page_html)
    if banner:
        match = re.search(r"<body[^>]*>", html)
        at = match.end() if match else 0
        html = html[:at] + banner + html[at:]
    script = macros.render("reload", "preview.html.j2", page=page, token=token, api=API) + Markup("\n")
    head, end, tail = html.rpartition("</body>")
    html = head + script + end + tail if end else html + script
    return str(html).encode("utf-8")


class Handler(SimpleHTTPRequestHandler):
    """reports/ as static files, its HTML pages decorated; the preview's two endpoints."""

    def __init__(self, *args, state: State, **kw):
        self.state = state
        super().__init__(*args, directory=str(state.paths.reports), **kw)

    def log_message(self, format, *args) -> None:
        pass  # the terminal is for build results

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _refused(self, starts_work: bool) -> bool:
        why = refusal(self.headers, self.server.server_address[1], starts_work)
        if why:
            self.send_error(403, why)
        return why is not None

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self._refused(url.path.startswith(API)):
            return None
        if url.path == API + "events":
            return self._events(parse_qs(url.query).get("page", ["/"])[0])
        if url.path == API + "status":
            return self._send(200, "application/json", json.dumps(self.state.status()).encode())
        if url.path == "/" or url.path.endswith(".html"):
            return self._page(url.path)
        return super().do_GET()

    def do_HEAD(self) -> None:
        if not self._refused(False):
            super().do_HEAD()

    def _refuse_work(self) -> None:
        """Nothing here takes a body; a cross-origin attempt still learns only 403."""
        if not self._refused(True):
            self.send_error(405)

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse_work

    def _send(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _page(self, page: str) -> None:
        page = "/index.html" if page == "/" else page
        file = Path(self.translate_path(page))
        reports = self.state.paths.reports.resolve()
        if reports not in file.resolve().parents:
            return self.send_error(404)
        name = page.lstrip("/")
        report_id = name[:-5] if _REPORT_PAGE.fullmatch(name) and name != "index.html" else None
        token = self.state.token(page)
        banner = failure_banner(self.state, report_id or "")  # bad input shows on every page
        try:
            body, code = file.read_text(encoding="utf-8"), 200
        except OSError:
            failed = self.state.paths.failed / f"{report_id}.html"
            if report_id and failed.is_file():  # never built well: the failed notebook itself
                body, code, banner = failed.read_text(encoding="utf-8"), 200, None
            else:
                body = macros.render("not_built", "preview.html.j2", file=name)
                code = 404
        self._send(code, "text/html; charset=utf-8", decorate(body, page, token, banner))

    def _events(self, page: str) -> None:
        """Server-sent events: the page's token now and on each change; at most MAX_STREAMS at once."""
        if not self.state.streams.acquire(blocking=False):
            self.send_response(503, "too many open event streams")
            self.send_header("Retry-After", "5")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        last, quiet_since = None, time.monotonic()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"retry: 300\n\n")
            while not self.state.stopping.is_set():
                token = self.state.token(page)
                if token != last:
                    self.wfile.write(f"data: {token}\n\n".encode())
                    last, quiet_since = token, time.monotonic()
                elif time.monotonic() - quiet_since > 5:  # notice a page that went away
                    self.wfile.write(b": ping\n\n")
                    quiet_since = time.monotonic()
                self.wfile.flush()
                self.state.wait_change(RECHECK_S)
                if _peer_gone(self.connection):  # free its place now, not at a failed write
                    return
        except OSError:
            return
        finally:
            self.state.streams.release()


def _peer_gone(connection: socket.socket) -> bool:
    """Whether the client closed the connection (readable, and nothing left to read)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def refusal(headers, port: int, starts_work: bool) -> str | None:
    """Why to refuse a request (None: serve it): a Host not ours (DNS rebinding), or work started
    cross-origin (a cross-site page may send a form or an <img> though it cannot read the answer)."""
    host = (headers.get("Host") or "").strip().lower()
    if host not in {f"{name}:{port}" for name in LOCAL_HOSTS}:
        return "not a local address of this preview (Host)"
    if not starts_work:
        return None
    origin = headers.get("Origin")
    if origin is not None and origin.lower() not in {f"http://{name}:{port}" for name in LOCAL_HOSTS}:
        return "cross-origin request (Origin)"
    if headers.get("Sec-Fetch-Site", "same-origin").lower() not in ("same-origin", "none"):
        return "cross-origin request (Sec-Fetch-Site)"
    return None


def start_http(state: State, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(Handler, state=state))
    threading.Thread(target=server.serve_forever, daemon=True, name="preview-http").start()
    return server


def _ignored(path: str, root: Path) -> bool:
    """A path no build reads (paths.skipped), judged below the root: a parent named like a backup is fine."""
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        parts = Path(path).parts
    return any(paths_mod.skipped(part) for part in parts)


def start_watching(paths: paths_mod.Paths, changes: queue.Queue,
                   stop: threading.Event) -> list[threading.Thread]:
    """Threads putting each changed input (paths.INPUTS) into `changes`; files are watched through the
    root, as editors replace files by renaming, which a file watch loses."""
    import watchfiles

    def watch(targets: list[Path], recursive: bool, keep) -> None:
        for batch in watchfiles.watch(
            *targets, watch_filter=lambda _c, p: keep(p) and not _ignored(p, paths.root), recursive=recursive,
            debounce=1600, step=10, stop_event=stop, raise_interrupt=False,
        ):
            for _, path in batch:
                changes.put(Path(path))

    inputs = [paths.root / item for item in paths_mod.INPUTS]  # the one definition of the inputs
    folders = [f for f in inputs if f.is_dir()]
    files = {f.name for f in inputs if not f.is_dir()}
    jobs = [(folders, True, lambda p: True), ([paths.root], False, lambda p: Path(p).name in files)]
    threads = [threading.Thread(target=watch, args=a, daemon=True, name="preview-watch") for a in jobs]
    for t in threads:
        t.start()
    return threads


def drain(changes: queue.Queue, timeout: float) -> set[Path]:
    """Changed paths: waits up to `timeout` for the first, then takes what else is queued."""
    try:
        found = {changes.get(timeout=timeout)}
    except queue.Empty:
        return set()
    while not changes.empty():  # this thread is the only reader
        found.add(changes.get_nowait())
    return found


class Tee(io.TextIOBase):
    """The build's error stream: to the terminal, and kept for the page's banner."""

    def __init__(self, out: TextIO):
        self.out, self.lines = out, []

    def write(self, text: str) -> int:
        self.out.write(text)
        self.out.flush()
        self.lines += [ln for ln in text.splitlines() if ln.strip()]
        return len(text)


def build_pass(state: State, pool: WorkerPool, ids: list[str], out: TextIO, err: TextIO,
               formats: tuple[str, ...] | None, interrupted=lambda: False) -> int:
    """One `talentbrief build` of `ids` on the warm pool; `interrupted()` stops it feeding jobs."""

    def run(jobs, root, *, workers=None):
        def gated():
            for job in jobs:
                if interrupted():
                    return
                if formats is None and store.has_failed(state.paths, job.report_id):
                    continue  # its HTML failed: a PDF pass would only fail it again
                yield job

        for result in pool.run(gated()):
            yield result
            state.changed()  # resumed once the build has stored that result: its page may reload now

    tee = Tee(err)
    try:  # quiet: the PDF pass speaks only of failures
        code = build.run_build(state.paths, ids, jobs=pool.workers, keep_going=True, quiet=formats is None,
                               wait=True, executor=run, formats=formats, out=out, err=tee)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the session: say it, keep serving
        print(f"talentbrief preview: build error: {type(exc).__name__}: {exc}", file=tee)
        code = 2
    out.flush()
    if state.workers != pool.pids():  # a pool that lost a worker has new ones; sweep what it left
        from talentbrief import engine

        engine.sweep_scratch()
        state.workers = pool.pids()
    state.set_problems(tee.lines if code == 2 else [])
    state.builds += 1
    state.last_exit = code
    state.changed()
    return code


def running_code(paths: paths_mod.Paths, changed: set[Path]) -> list[Path]:
    """The changed files this process or its workers run (fingerprint.closure of preview.py)."""
    from talentbrief import fingerprint

    package = paths.src / "talentbrief"
    running = {(package / name).resolve() for name in fingerprint.closure(package, ("preview.py",))}
    return [p for p in changed if p.resolve() in running]


def new_code_imports() -> str | None:
    """None if the (edited) package still imports; else the error, so a typo does not end the preview."""
    imports = "import talentbrief.cli, talentbrief.preview, talentbrief.render"
    probe = subprocess.run([sys.executable, "-c", imports], capture_output=True, text=True, check=False)
    return None if probe.returncode == 0 else (probe.stderr.strip().splitlines() or ["failed"])[-1]


def run_preview(paths: paths_mod.Paths, ids: list[str], *, port: int = 0, workers: int | None = None) -> int:
    """Build, serve and rebuild until Ctrl-C (or SIGTERM); 0 on a clean stop, 2 on bad input at start."""
    out, err = sys.stdout, sys.stderr
    if os.environ.pop(RESTARTED, None) is None:  # refuse bad ids, data or catalogue first, as build does
        try:
            build.prepare(paths, ids)
        except TalentbriefError as exc:
            return errors.report(exc, err)
    state = State(paths)
    paths.reports.mkdir(parents=True, exist_ok=True)
    try:
        server = start_http(state, port)
    except OSError as exc:
        print(f"talentbrief: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=err)
        return 2
    port = server.server_address[1]
    first = ids[0] + ".html" if len(ids) == 1 and _REPORT_PAGE.fullmatch(ids[0] + ".html") else ""
    print(f"talentbrief preview: http://127.0.0.1:{port}/{first}  (Ctrl-C stops)", file=out, flush=True)
    # SIGTERM and SIGHUP stop it as Ctrl-C does: a KeyboardInterrupt, which no `except Exception` swallows
    previous = {s: signal.signal(s, signal.default_int_handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    src = paths.src.resolve()
    changes: queue.Queue = queue.Queue()
    watchers = start_watching(paths, changes, state.stopping)
    pool = WorkerPool(paths.root, workers)
    restart = False
    try:
        try:
            pool.warm()
        except RuntimeError as exc:
            print(f"talentbrief preview: {exc}", file=err, flush=True)
            return 1
        state.workers = pool.pids()
        while True:  # an HTML pass (at start, then after each change), then wait for the next change
            state.phase = "building"
            build_pass(state, pool, ids, out, err, ("html",))
            pdf_due = True
            while True:
                state.phase = "pdf-due" if pdf_due else "idle"
                if changed := drain(changes, PDF_DELAY_S if pdf_due else 0.5):
                    break
                if pdf_due:  # no edit since the HTML: now the PDFs, stopping at the next edit
                    state.phase = "building-pdf"
                    build_pass(state, pool, ids, out, err, None, interrupted=lambda: not changes.empty())
                    pdf_due = not changes.empty()
            if any(src in p.resolve().parents for p in changed) and running_code(paths, changed):
                if (why := new_code_imports()) is None:
                    restart = True
                    print("talentbrief preview: src/ changed; restarting with the new code", file=out,
                          flush=True)
                    return 0
                print(f"talentbrief preview: src/ changed but does not import ({why}); "
                      "still running the old code", file=err, flush=True)
    except KeyboardInterrupt:
        print("talentbrief preview: stopping", file=out, flush=True)
        return 0
    finally:
        state.phase = "stopping"
        state.stopping.set()
        state.changed()
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.shutdown()
        server.server_close()
        # close() for a restart: it comes between passes, so the workers are idle and exit to be reaped
        (pool.close if restart else pool.stop)()
        for t in watchers:
            t.join(timeout=5)
        if restart:
            # What exit does and exec does not: unlink the pool's semaphores (gc runs their finalizers) and
            # reap the resource tracker, which would otherwise outlive us and report them as leaked.
            gc.collect()
            if hasattr(tracker := resource_tracker._resource_tracker, "_stop"):  # private: maybe not there
                tracker._stop()
            out.flush()
            err.flush()
            os.environ[RESTARTED] = "1"
            argv = [sys.executable, "-m", "talentbrief", "--root", str(paths.root), "preview", *ids,
                    "--port", str(port), "--jobs", str(pool.workers)]
            os.execv(sys.executable, argv)


def _preview_cmd(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"--port {args.port}: use 0 (any free port) to 65535", file=sys.stderr)
        return 2
    return run_preview(paths_mod.get(args.root), args.ids, port=args.port, workers=args.jobs)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "preview", help="build, serve reports/ on 127.0.0.1 and rebuild + reload on every save",
        description="Build the chosen reports' HTML on warm workers, serve reports/ on 127.0.0.1, and on "
        "every change to notebooks/, data/, reports.yml or src/ rebuild what it affects and reload "
        "the open page. PDFs follow the HTML. Ctrl-C stops it and its workers.")
    p.add_argument("ids", nargs="*", metavar="ID", help="report ids or patterns (default: all)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("-j", "--jobs", type=build.jobs_option, help="warm worker processes (default: CPU count)")
    p.set_defaults(func=_preview_cmd)
