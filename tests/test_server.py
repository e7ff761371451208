"""`talentbrief serve`: builds use its warm workers, produce what a local build produces, and survive it.

Each test talks to a real server process over its real socket, the way `talentbrief build` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from multiprocessing.connection import AuthenticationError, Client
from pathlib import Path

import psutil
import pytest
import yaml

from talentbrief import build, server
from talentbrief import paths as paths_mod
from tests.support.processes import still_alive
from tests.support.project import CHECKOUT, copy_project, run_cli

SMALL = ["overview-en", "overview-zh", "programme-software-exams-en", "audit-en"]
BROKEN = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
         "source": 'as_of = "2026-11-01"'},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "raise ValueError('broken on purpose')"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.pop("TALENTBRIEF_ROOT", None)
    return env


class Served:
    """A `talentbrief serve` process for `root`, waited for until it answers."""

    def __init__(self, root: Path, *args: str, env: dict | None = None):
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "talentbrief", "--root", str(root), "serve", "--jobs", "2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or _env(), cwd=root,
        )
        deadline = time.monotonic() + 180
        self.paths = paths_mod.get(root)
        while (info := server.status(self.paths)) is None:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.proc.communicate()}")
            assert time.monotonic() < deadline, "server not ready in 180 s"
            time.sleep(0.1)
        self.info = info

    @property
    def pid(self) -> int:
        return self.proc.pid

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.pid).children(recursive=True)

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            run_cli(self.root, "serve", "--stop", timeout=120)
        try:
            out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


def html_hashes(root: Path) -> dict[str, str]:
    entries = json.loads((root / "reports" / "manifest.json").read_text(encoding="utf-8"))["reports"]
    out = {}
    for report_id, entry in entries.items():
        recorded = entry["outputs"]["html"]
        assert hashlib.sha256((root / "reports" / recorded["file"]).read_bytes()).hexdigest() == recorded["sha256"]
        out[report_id] = recorded["sha256"]
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("served") / "project")
    s = Served(root, "--idle-timeout", "0")
    yield s
    code, _, err = s.stop()
    assert code == 0, err
    assert not s.paths.server_socket.exists() and not s.paths.server_key.exists()


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory) -> dict[str, str]:
    root = copy_project(tmp_path_factory.mktemp("local") / "project")
    result = run_cli(root, "build", "--executor", "local", "--quiet", *SMALL)
    assert result.returncode == 0, result.stdout + result.stderr
    return html_hashes(root)


def test_build_uses_the_server_and_matches_a_local_build(served, local_reference):
    workers_before = {p.pid for p in served.descendants()}
    result = run_cli(served.root, "build", "--force", *SMALL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"using the build server (pid {served.pid}, 2 warm workers)" in result.stderr
    assert html_hashes(served.root) == local_reference
    assert {p.pid for p in served.descendants()} == workers_before  # the same warm workers did the work
    assert server.status(served.paths)["builds"] >= 1


def test_status_and_a_second_server(served):
    status = run_cli(served.root, "serve", "--status")
    assert status.returncode == 0 and f"pid {served.pid}" in status.stdout and "usable" in status.stdout
    second = run_cli(served.root, "serve", timeout=60)
    assert second.returncode == 1 and f"already running (pid {served.pid})" in second.stderr


def test_failing_notebook_through_the_server(served):
    root = served.root
    (root / "notebooks" / "broken.ipynb").write_text(json.dumps(BROKEN), encoding="utf-8")
    catalogue = yaml.safe_load((root / "reports.yml").read_text(encoding="utf-8"))
    catalogue["reports"].append({"id": "broken", "notebook": "notebooks/broken.ipynb", "formats": ["html"]})
    (root / "reports.yml").write_text(yaml.safe_dump(catalogue, sort_keys=False), encoding="utf-8")
    try:
        result = run_cli(root, "build", "--keep-going", "broken", "audit-en", "--force")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "using the build server" in result.stderr
        assert "broken failed: cell 2: ValueError: broken on purpose" in result.stdout
        assert (root / "reports" / "_failed" / "broken.html").is_file()
        again = run_cli(root, "build", "--force", "--executor", "server", "audit-en")
        assert again.returncode == 0 and "using the build server" in again.stderr  # still serving
    finally:
        catalogue["reports"].pop()
        (root / "reports.yml").write_text(yaml.safe_dump(catalogue, sort_keys=False), encoding="utf-8")


def test_a_stranger_without_the_key_is_refused(served):
    with pytest.raises((AuthenticationError, EOFError, ConnectionError)):
        Client(str(served.paths.server_socket), family="AF_UNIX", authkey=b"not the key").send(("stop",))
    assert server.status(served.paths) is not None  # unharmed


def test_a_killed_build_leaves_the_server_usable(served):
    proc = subprocess.Popen(
        [sys.executable, "-m", "talentbrief", "--root", str(served.root), "build", "--force", *SMALL],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), start_new_session=True,
    )
    assert "built" in proc.stdout.readline()  # one report back: the others are in flight
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    deadline = time.monotonic() + 60
    while server.status(served.paths)["busy"]:  # it finishes what runs, then is free again
        assert time.monotonic() < deadline
        time.sleep(0.1)
    result = run_cli(served.root, "build", "--force", "--executor", "server", *SMALL)
    assert result.returncode == 0 and "using the build server" in result.stderr, result.stderr


def test_killed_server_mid_build_loses_nothing(tmp_path):
    root = copy_project(tmp_path / "project")
    s = Served(root, "--idle-timeout", "0")
    helpers = s.descendants()
    assert len(helpers) >= 4  # 2 workers, each with its kernel
    proc = subprocess.Popen(
        [sys.executable, "-m", "talentbrief", "--root", str(root), "build", *SMALL],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )
    assert "built" in proc.stdout.readline()
    os.kill(s.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    s.proc.wait(timeout=30)  # not communicate(): orphans would hold its pipes open
    assert proc.returncode == 0, out + err
    assert "lost the build server" in err
    assert set(html_hashes(root)) == set(SMALL)
    orphans = still_alive(helpers)
    for p in orphans:
        p.kill()
    assert orphans == []  # workers and kernels do not outlive their server
    assert server.status(s.paths) is None  # its socket is dead: builds go local without a word
    again = run_cli(root, "build", "--force", "audit-en")
    assert again.returncode == 0 and "server" not in again.stderr
    s2 = Served(root, "--idle-timeout", "0")  # the dead server's lock and files do not block a new one
    try:
        assert server.status(s2.paths)["pid"] == s2.pid
    finally:
        assert s2.stop()[0] == 0


def test_idle_server_stops_by_itself(tmp_path):
    root = copy_project(tmp_path / "project")
    s = Served(root, "--idle-timeout", "1", "--jobs", "1")
    helpers = s.descendants()
    s.proc.wait(timeout=60)
    assert s.proc.returncode == 0
    assert "idle for 1 s; stopping" in s.proc.stderr.read()
    assert not s.paths.server_socket.exists()
    assert still_alive(helpers) == []
    stop = run_cli(root, "serve", "--stop")
    assert stop.returncode == 0 and "no build server running" in stop.stdout


def test_server_running_other_code_is_not_used(tmp_path):
    root = copy_project(tmp_path / "project")
    other = tmp_path / "other-src"
    shutil.copytree(CHECKOUT / "src" / "talentbrief", other / "talentbrief")
    with open(other / "talentbrief" / "render.py", "a", encoding="utf-8") as f:
        f.write("\n# an edit made after the server started\n")
    s = Served(root, "--idle-timeout", "0", env=_env(PYTHONPATH=str(other)))
    try:
        assert s.info["code"] != server.identity()["code"]
        result = run_cli(root, "build", "audit-en")
        assert result.returncode == 0, result.stderr
        assert "not using the build server" in result.stderr and "restart it" in result.stderr
        required = run_cli(root, "build", "--executor", "server", "audit-en", "--force")
        assert required.returncode == 2 and "cannot serve this build" in required.stderr
    finally:
        s.stop()


def test_executor_server_without_a_server_is_bad_input(project):
    result = run_cli(project, "build", "--executor", "server")
    assert result.returncode == 2
    assert "no build server is running" in result.stderr and "talentbrief serve" in result.stderr
    assert not (project / "reports" / "manifest.json").exists()


def test_serve_refuses_bad_options(project):
    assert run_cli(project, "serve", "--jobs", "0").returncode == 2
    assert run_cli(project, "serve", "--idle-timeout", "-1").returncode == 2
    status = run_cli(project, "serve", "--status")
    assert status.returncode == 1 and "no build server running" in status.stdout


def test_runtime_folder_must_be_private(tmp_path):
    folder = tmp_path / "run"
    assert server.private_dir(folder) == folder and (folder.stat().st_mode & 0o777) == 0o700
    folder.chmod(0o755)
    with pytest.raises(server.ServerError, match="not a private folder"):
        server.private_dir(folder)
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(server.ServerError, match="not a private folder"):
        server.private_dir(tmp_path / "link")


def test_each_project_has_its_own_socket(tmp_path):
    a, b = paths_mod.Paths(tmp_path / "a"), paths_mod.Paths(tmp_path / "b")
    assert a.server_socket != b.server_socket and a.server_socket.parent == b.server_socket.parent
    assert len(str(a.server_socket).encode()) < 100  # AF_UNIX paths are limited to 108 bytes


def test_auto_executor_without_a_server_builds_locally(project, capsys):
    code = build.run_build(paths_mod.get(project), ["audit-en"], jobs=1, quiet=True)
    assert code == 0
    assert "server" not in capsys.readouterr().err
    assert (project / "reports" / "audit-en.html").is_file()


def test_a_server_in_a_folder_others_can_write_is_never_used(served, monkeypatch, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    for real in (served.paths.server_socket, served.paths.server_key):
        (folder / real.name).symlink_to(real)
    monkeypatch.setattr(paths_mod, "runtime_dir", lambda: folder)
    assert server.status(served.paths)["pid"] == served.pid  # private: found through the links
    folder.chmod(0o777)
    assert server.status(served.paths) is None  # anyone could have planted them: not even connected to
