"""`make lab`'s JupyterLab, as a real server on 127.0.0.1 with a token: the whole project is the
workspace with the notebooks first, and a notebook saved after a run is written without outputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.support.project import CHECKOUT, copy_project, run_cli

pytestmark = pytest.mark.timeout(300)
TOKEN = "talentbrief-lab-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """`jupyter lab` with the project's own config, in `root`, as `make lab` starts it."""

    def __init__(self, root: Path):
        shutil.copy(CHECKOUT / "jupyter_lab_config.py", root / "jupyter_lab_config.py")
        self.port, self.log = free_port(), root / "lab.log"
        jupyter = Path(sys.executable).with_name("jupyter")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(jupyter), "lab", "--config=jupyter_lab_config.py", "--no-browser", f"--port={self.port}",
                 f"--IdentityProvider.token={TOKEN}", "--ServerApp.port_retries=0"],
                cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".jupyter-user")},
            )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                self.request("GET", "/api/status")
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.3)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, str]:
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=30) as r:
                return r.status, r.read(), r.headers.get("Location", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Location", "")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("lab") / "project")
    result = run_cli(root, "build", "overview-en")
    assert result.returncode == 0, result.stdout + result.stderr
    server = Lab(root)
    server.root = root
    yield server
    server.stop()


def test_the_lab_serves_the_whole_project_with_the_notebooks_first(lab):
    status, _, location = lab.request("GET", "/")
    assert status == 302 and location.rstrip("?").endswith("/lab/tree/notebooks"), (status, location)
    assert lab.request("GET", "/lab/tree/notebooks")[0] == 200
    for path in ("notebooks/overview.ipynb", "data/figures.csv", "reports.yml", "reports/overview-en.html"):
        status, body, _ = lab.request("GET", f"/api/contents/{path}?content=0")
        assert status == 200, (path, status, body[:200])


def test_saving_a_run_notebook_writes_no_outputs(lab):
    path = lab.root / "notebooks" / "overview.ipynb"
    written = nbformat.read(path, as_version=4)
    run = nbformat.read(lab.root / "reports" / "_executed" / "overview-en.ipynb", as_version=4)
    assert sum(len(c.get("outputs", ())) for c in run.cells) > 5  # a run notebook: charts, tables, prose
    run.metadata["language_info"] = {"name": "python", "version": "3.11.2", "codemirror_mode": {"name": "ipython"}}
    run.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-12-04T05:00:00Z"}
    prose = next(c for c in run.cells if c.cell_type == "markdown")  # as jupyterlab-myst leaves it after a run
    prose.metadata["user_expressions"] = [{"expression": "exam_ratio", "result": {
        "status": "ok", "data": {"text/plain": "'3.2 times'"}, "metadata": {}}}]
    status, body, _ = lab.request("PUT", "/api/contents/notebooks/overview.ipynb",
                                  {"type": "notebook", "format": "json", "content": run})
    assert status == 200, body[:300]
    saved = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert all("execution" not in c["metadata"] and "user_expressions" not in c["metadata"] for c in saved["cells"])
    assert saved["metadata"]["language_info"] == {"name": "python"}
    assert path.stat().st_size < 100_000  # a run notebook is several hundred KB with its charts

    status, body, _ = lab.request("PUT", "/api/contents/notebooks/overview.ipynb",
                                  {"type": "notebook", "format": "json", "content": written})
    assert status == 200
    assert nbformat.read(path, as_version=4) == written  # saving what is committed changes nothing
