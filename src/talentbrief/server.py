"""`talentbrief serve`: warm workers kept between builds, so a build pays no start-up.

A cold build spends about 4 s before its reports flow: worker processes import nbconvert and
WeasyPrint, start kernels that import pandas and matplotlib, and load the CJK fonts. For one edited
row that is most of the build. The server pays it once and keeps a `WorkerPool`; while it runs,
`talentbrief build` (executor `auto`, the default) hands its jobs to it. Everything else stays in the
build process: validation, hashing, the lock, the store. The server only turns jobs into outputs, so
it can die at any moment and lose nothing: the build finishes the jobs it did not get back on a
fresh local pool.

One server per project, found through `Paths.server_socket` (a private per-user folder). It holds an
flock for its whole life, so a second server refuses to start and a dead one's leftovers are recognised.
Every connection first passes multiprocessing's HMAC challenge with a random key only the owner can
read; pickles are exchanged only after it. A server whose code or packages differ from the build's
is not used (the reports could differ from a local build): the build says so and builds without it.

Protocol (tuples over one connection): ("hello",) → ("hello", info); then ("run",) → ("ok", window) |
("busy",), followed by ("job", job)… ("end",) from the client and ("result", id, result)… ("done",)
from the server; or ("stop",) → ("stopping",).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import os
import queue
import select
import signal
import socket
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import AuthenticationError, Connection, answer_challenge, deliver_challenge
from pathlib import Path
from typing import Any

from talentbrief import fingerprint
from talentbrief import paths as paths_mod
from talentbrief.executor import PER_WORKER_IN_FLIGHT, WorkerPool, default_workers, run_local
from talentbrief.jobs import Job, JobFailure, Outputs

# What the server's workers run from its own memory (the notebooks import the project's src/ afresh).
MODULES = (
    "__init__.py",
    "jobs.py",
    "paths.py",
    "engine.py",
    "render.py",
    "executor.py",
    "fingerprint.py",
    "server.py",
)
HANDSHAKE_TIMEOUT = 5.0  # a server that does not answer within this is treated as absent
DEFAULT_IDLE_TIMEOUT = 3600.0

Say = Callable[[str], None]


class ServerError(RuntimeError):
    """The server cannot start or cannot be reached as asked (the CLI exits non-zero with this message)."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def identity() -> dict[str, str]:
    return {"code": fingerprint.code(MODULES), "env": fingerprint.environment()}


def _is_private(folder: Path) -> bool:
    """A real folder (not a link) owned by us that nobody else can enter: nobody else can plant files in it."""
    st = os.lstat(folder)
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def private_dir(folder: Path) -> Path:
    """`folder`, created 0700; refused unless it is private (see _is_private)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _is_private(folder):
        raise ServerError(
            f"{folder} is not a private folder of yours (owner only, mode 0700): refusing to use it"
        )
    return folder


def _lock_path(paths: paths_mod.Paths) -> Path:
    return paths.server_socket.with_suffix(".lock")


def _recv_timeout(sock: socket.socket, seconds: float) -> None:
    """A receive timeout on a blocking socket (0: none); Connection reads the fd directly, so the
    socket must stay blocking and the timeout must live in the kernel."""
    whole = int(seconds)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, int((seconds - whole) * 1e6))
    )


# ------------------------------------------------------------------------------------------ client


def _connect(paths: paths_mod.Paths) -> Connection | None:
    """An authenticated connection to this project's server, or None when none is running.

    Only in a private folder: results arrive as pickles, so the server must be one of ours.
    """
    try:
        if not _is_private(paths.server_socket.parent):
            return None
        key = paths.server_key.read_bytes()
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(HANDSHAKE_TIMEOUT)
        sock.connect(str(paths.server_socket))
        sock.settimeout(None)
        _recv_timeout(sock, HANDSHAKE_TIMEOUT)
    except OSError:  # no socket, or a dead server's (connection refused)
        sock.close()
        return None
    conn = Connection(sock.detach())
    try:
        answer_challenge(conn, key)  # the order multiprocessing.connection.Client uses
        deliver_challenge(conn, key)
    except (AuthenticationError, EOFError, OSError):
        conn.close()
        return None
    return conn


def _hello(conn: Connection) -> dict[str, Any]:
    conn.send(("hello",))
    kind, info = conn.recv()
    if kind != "hello":
        raise ServerError(f"unexpected answer from the build server: {kind!r}")
    return info


def status(paths: paths_mod.Paths) -> dict[str, Any] | None:
    """The running server's info (pid, workers, code, builds...), or None."""
    conn = _connect(paths)
    if conn is None:
        return None
    try:
        return _hello(conn)
    except (EOFError, OSError, ServerError):
        return None
    finally:
        conn.close()


def _mismatch(paths: paths_mod.Paths, info: dict[str, Any]) -> str | None:
    mine = identity()
    if info.get("root") != str(paths.root):
        return f"it serves {info.get('root')}"
    if info.get("code") != mine["code"]:
        return f"it runs talentbrief {info.get('code')}, this build {mine['code']}"
    if info.get("env") != mine["env"]:
        return "its installed packages differ from this build's"
    return None


def check(paths: paths_mod.Paths) -> dict[str, Any]:
    """The server's info if this build can use it; ServerError saying why not otherwise."""
    info = status(paths)
    if info is None:
        raise ServerError(f"no build server is running for {paths.root}; start one with: talentbrief serve")
    if (why := _mismatch(paths, info)) is not None:
        raise ServerError(
            f"the build server (pid {info['pid']}) cannot serve this build: {why}; {RESTART_HINT}"
        )
    return info


RESTART_HINT = "restart it: talentbrief serve --stop, then talentbrief serve"


def _open_run(paths: paths_mod.Paths) -> tuple[Connection, dict[str, Any], int] | str | None:
    """(connection, info, window) ready for jobs; a reason not to use the server; or None (no server)."""
    conn = _connect(paths)
    if conn is None:
        return None
    try:
        info = _hello(conn)
        if (why := _mismatch(paths, info)) is not None:
            conn.close()
            return f"talentbrief: not using the build server (pid {info['pid']}): {why}; {RESTART_HINT}"
        conn.send(("run",))
        answer = conn.recv()
    except (EOFError, OSError, ServerError) as exc:
        conn.close()
        return f"talentbrief: the build server did not answer ({exc}); building without it"
    if answer[0] != "ok":
        conn.close()
        return f"talentbrief: the build server (pid {info['pid']}) is busy with another build; building without it"
    _recv_timeout_fd(conn, 0)  # from now on results may take as long as a report takes
    return conn, info, int(answer[1])


def _recv_timeout_fd(conn: Connection, seconds: float) -> None:
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    try:
        _recv_timeout(sock, seconds)
    finally:
        sock.close()


def run_server(
    jobs: Iterable[Job],
    root: Path | str,
    *,
    workers: int | None = None,
    say: Say = _stderr,
) -> Iterator[tuple[Job, Outputs | JobFailure]]:
    """The `auto` executor: this project's build server when one can take the build, else `run_local`.

    Jobs are pulled lazily (at most the server's window in flight), like run_local. If the server
    goes away mid-build, the jobs it had not answered and the rest go to a local pool.
    """
    todo = iter(jobs)
    first = next(todo, None)
    if first is None:
        return
    todo = itertools.chain([first], todo)
    paths = paths_mod.Paths(Path(root).resolve())
    opened = _open_run(paths)
    if not isinstance(opened, tuple):
        if opened:
            say(opened)
        yield from run_local(todo, paths.root, workers=workers)
        return
    conn, info, window = opened
    say(f"talentbrief: using the build server (pid {info['pid']}, {info['workers']} warm workers)")
    in_flight: dict[str, Job] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < window:
                job = next(todo, None)
                if job is None:
                    exhausted = True
                    conn.send(("end",))
                    break
                conn.send(("job", job))
                in_flight[job.report_id] = job
            if exhausted and not in_flight:
                return
            message = conn.recv()
            if message[0] != "result":
                raise EOFError(f"unexpected message {message[0]!r}")
            _, report_id, result = message
            yield in_flight.pop(report_id), result
    except (EOFError, OSError) as exc:
        left = list(in_flight.values())
        conn.close()
        say(
            f"talentbrief: lost the build server ({type(exc).__name__}: {exc or 'connection closed'}); "
            "building the remaining reports here"
        )
        yield from run_local(itertools.chain(left, todo), paths.root, workers=workers)
    finally:
        conn.close()  # if the build stopped early, the server sees EOF and schedules nothing more


# ------------------------------------------------------------------------------------------ server


class Server:
    """The state of one running server: its pool, its listener, and whether a build is running."""

    def __init__(self, paths: paths_mod.Paths, workers: int, idle_timeout: float, say: Say):
        self.paths = paths
        self.pool = WorkerPool(paths.root, workers)
        self.idle_timeout = idle_timeout
        self.say = say
        self.stop = threading.Event()
        self.running = threading.Lock()  # one build at a time
        self.last_activity = time.monotonic()
        self.builds = 0
        self.started_at = time.time()
        self.identity = identity()

    def info(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "root": str(self.paths.root),
            "workers": self.pool.workers,
            "builds": self.builds,
            "busy": self.running.locked(),
            "started_at": self.started_at,
            "idle_timeout": self.idle_timeout,
            **self.identity,
        }

    # -- per connection (each in a thread of its own) -------------------------------------------
    def handle(self, sock: socket.socket, key: bytes) -> None:
        _recv_timeout(sock, HANDSHAKE_TIMEOUT)
        conn = Connection(sock.detach())
        try:
            deliver_challenge(conn, key)  # what multiprocessing.connection.Listener.accept does
            answer_challenge(conn, key)
            while True:
                message = conn.recv()
                if message[0] == "hello":
                    conn.send(("hello", self.info()))
                elif message[0] == "stop":
                    conn.send(("stopping",))
                    self.stop.set()
                    return
                elif message[0] == "run":
                    _recv_timeout_fd(conn, 0)
                    self.serve_build(conn)
                    return
                else:
                    return
        except (AuthenticationError, EOFError, OSError):
            return  # a stranger, or a client that left: nothing to clean up
        finally:
            self.last_activity = time.monotonic()
            conn.close()

    def serve_build(self, conn: Connection) -> None:
        if not self.running.acquire(blocking=False):
            conn.send(("busy",))
            return
        try:
            conn.send(("ok", PER_WORKER_IN_FLIGHT * self.pool.workers))
            inbox: queue.SimpleQueue = queue.SimpleQueue()

            def read() -> None:
                try:
                    while True:
                        message = conn.recv()
                        inbox.put(message)
                        if message[0] != "job":
                            return
                except (EOFError, OSError):
                    inbox.put(("gone",))

            threading.Thread(target=read, daemon=True, name="server-read").start()

            def feed() -> Iterator[Job]:
                while (message := inbox.get())[0] == "job":
                    yield message[1]

            results = self.pool.run(feed())
            try:
                for job, result in results:
                    conn.send(("result", job.report_id, result))
            except OSError:
                pass  # the client left: closing `results` lets running reports finish and starts no more
            finally:
                results.close()
            self.builds += 1
        finally:
            self.last_activity = time.monotonic()
            self.running.release()

    # -- the main loop ----------------------------------------------------------------------------
    def idle(self) -> bool:
        return (
            self.idle_timeout > 0
            and not self.running.locked()
            and time.monotonic() - self.last_activity > self.idle_timeout
        )

    def serve_forever(self, listener: socket.socket, key: bytes) -> None:
        while not self.stop.is_set():
            readable, _, _ = select.select([listener], [], [], 0.5)
            if readable:
                sock, _ = listener.accept()
                threading.Thread(
                    target=self.handle, args=(sock, key), daemon=True, name="server-conn"
                ).start()
            elif self.idle():
                self.say(f"talentbrief: build server idle for {self.idle_timeout:.0f} s; stopping")
                return


def serve(
    paths: paths_mod.Paths,
    *,
    workers: int | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    say: Say = _stderr,
) -> int:
    """Run this project's build server until stopped (--stop, SIGTERM, SIGINT) or idle; 0 on a clean stop."""
    private_dir(paths.server_socket.parent)
    lock = open(_lock_path(paths), "a+b")  # noqa: SIM115 -- held for the server's whole life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        info = status(paths)
        pid = f" (pid {info['pid']})" if info else ""
        say(f"talentbrief: a build server for {paths.root} is already running{pid}")
        return 1
    server = Server(paths, workers or default_workers(), idle_timeout, say)
    listener = None
    stop_now = server.stop.set

    def on_signal(signum, frame) -> None:
        stop_now()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        started = time.monotonic()
        for stale in (paths.server_socket, paths.server_key):  # a dead server's: we hold the lock
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        try:
            server.pool.warm()
        except RuntimeError as exc:
            say(f"talentbrief: build server could not start its workers: {exc}")
            return 1
        if server.stop.is_set():
            return 0
        key = os.urandom(32)
        fd = os.open(paths.server_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(paths.server_socket))
        os.chmod(paths.server_socket, 0o600)
        listener.listen(8)
        say(
            f"talentbrief: build server for {paths.root} ready in {time.monotonic() - started:.1f} s "
            f"(pid {os.getpid()}, {server.pool.workers} warm workers"
            + (f", stops after {idle_timeout:.0f} s idle" if idle_timeout > 0 else "")
            + "); builds of this project now use it"
        )
        server.serve_forever(listener, key)
        with server.running:  # a stop request waits for the build in progress
            pass
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if listener is not None:
            listener.close()
        for path in (paths.server_socket, paths.server_key):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        server.pool.close()
        lock.close()  # releases the flock: the next server may start


def stop(paths: paths_mod.Paths, *, timeout: float = 120.0) -> bool:
    """Ask the server to stop and wait until it has; False if none was running."""
    conn = _connect(paths)
    if conn is None:
        return False
    try:
        conn.send(("stop",))
        conn.recv()
    except (EOFError, OSError):
        pass
    finally:
        conn.close()
    deadline = time.monotonic() + timeout
    with open(_lock_path(paths), "a+b") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServerError(f"the build server did not stop within {timeout:.0f} s") from None
                time.sleep(0.05)


# ------------------------------------------------------------------------------------------ CLI


def _serve_cmd(args: argparse.Namespace) -> int:
    paths = paths_mod.get(args.root)
    try:
        if args.status:
            info = status(paths)
            if info is None:
                print(f"talentbrief: no build server running for {paths.root}")
                return 1
            why = _mismatch(paths, info)
            print(
                f"talentbrief: build server pid {info['pid']} for {info['root']}: {info['workers']} warm workers, "
                f"{info['builds']} builds served, {'busy' if info['busy'] else 'idle'}; "
                + (f"not usable: {why}" if why else "usable by builds here")
            )
            return 0
        if args.stop:
            if stop(paths):
                print(f"talentbrief: build server for {paths.root} stopped")
            else:
                print(f"talentbrief: no build server running for {paths.root}")
            return 0
        if args.jobs is not None and args.jobs < 1:
            print(f"talentbrief: --jobs {args.jobs}: must be at least 1", file=sys.stderr)
            return 2
        if args.idle_timeout < 0:
            print("talentbrief: --idle-timeout must be 0 (never) or more seconds", file=sys.stderr)
            return 2
        return serve(paths, workers=args.jobs, idle_timeout=args.idle_timeout)
    except ServerError as exc:
        print(f"talentbrief: {exc}", file=sys.stderr)
        return 2


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "serve",
        help="keep warm workers for this project's builds (runs until stopped)",
        description="Keep warm workers between builds: while this runs, `talentbrief build` uses them "
        "instead of starting its own (about 4 s saved per build).",
    )
    s.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    s.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help="stop after this long without a build (default %(default).0f; 0: never)",
    )
    what = s.add_mutually_exclusive_group()
    what.add_argument("--status", action="store_true", help="say whether a server runs (exit 1 if none)")
    what.add_argument("--stop", action="store_true", help="stop the running server (waits for its build)")
    s.set_defaults(func=_serve_cmd)
