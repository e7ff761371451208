"""`talentbrief preview`: a real preview process on a project copy, a real page in Chromium.

The page is opened once and never reloaded by the test: every change it shows came through the
preview's own reload script. The network is blocked except for the preview's own address.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from tests.support import dom
from tests.support.browser import browser  # noqa: F401  (a fixture)
from tests.support.processes import still_alive
from tests.support.project import copy_project, rewrite_csv, run_cli

pytestmark = pytest.mark.timeout(600)


def as_foreground_job() -> None:
    """Start the child with SIGINT at its default, as a terminal's foreground job has it: a suite run as
    a shell's background job (nohup ... &) hands it down ignored, and no Ctrl-C could reach it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Preview:
    """`talentbrief preview IDS` for `root` on a free port, its output in a file."""

    def __init__(self, root: Path, *ids: str, jobs: int = 1):
        self.root, self.log = root, root / "preview.log"
        env = {**os.environ}
        env.pop("TALENTBRIEF_ROOT", None)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "talentbrief", "--root", str(root), "preview", *ids, "--jobs", str(jobs)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True,
                preexec_fn=as_foreground_job,  # noqa: PLW1509 (only resets a signal)
            )
        deadline = time.monotonic() + 60
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)/", self.output())):
            assert self.proc.poll() is None and time.monotonic() < deadline, self.output()
            time.sleep(0.1)
        self.base = f"http://127.0.0.1:{found.group(1)}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def status(self) -> dict:
        with urllib.request.urlopen(self.base + "/__preview__/status", timeout=10) as r:
            return json.load(r)

    def wait_idle(self, builds: int, timeout: float = 240) -> dict:
        """Until at least `builds` builds ran and nothing is running or waiting."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.output()
            status = self.status()
            if status["phase"] == "idle" and status["builds"] >= builds:
                return status
            assert time.monotonic() < deadline, (status, self.output())
            time.sleep(0.1)

    def interrupt(self) -> int:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=60)


def programme_report(root: Path) -> tuple[str, str]:
    """(report id, programme id) of the catalogue's first English programme brief."""
    cat = yaml.safe_load((root / "reports.yml").read_text(encoding="utf-8"))
    entry = next(e for e in cat["reports"] if "{programme}" in e["id"])
    programme = entry["grid"]["programme"][0]
    return entry["id"].format(programme=programme, lang="en"), programme


def shown_label(root: Path, report_id: str, programme: str) -> str:
    """The label_en of a figure row of `programme` that the built report displays."""
    page = (root / "reports" / f"{report_id}.html").read_text(encoding="utf-8")
    with open(root / "data" / "figures.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["programme_id"] == programme]
    label = next((r["label_en"] for r in rows if r["label_en"] and r["label_en"] in page), None)
    assert label, f"{report_id} shows none of its figures' labels"
    return label


def open_page(browser, url: str):  # noqa: F811
    """The page, with every request not to the preview itself aborted and recorded."""
    context = browser.new_context()
    page = context.new_page()
    blocked: list[str] = []
    base = url.split("/", 3)[:3]

    def route(r):
        if r.request.url.split("/", 3)[:3] == base:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    return page, blocked


FIGURE_TEXTS_JS = "() => Array.from(document.querySelectorAll('[data-figure-ids]'), e => e.textContent)"


def figure_texts(page) -> str:
    """The text of the page's figure elements: empty on a page that shows its own source."""
    return "\n".join(page.evaluate(FIGURE_TEXTS_JS))


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("preview") / "project")
    report_id, programme = programme_report(root)
    p = Preview(root, report_id)
    p.report_id, p.programme = report_id, programme
    yield p
    if p.proc.poll() is None:
        p.interrupt()


def test_page_follows_a_csv_edit_and_a_failing_cell_without_a_manual_reload(preview, browser):  # noqa: F811
    p = preview
    p.wait_idle(builds=2)  # the HTML, then the PDF pass
    assert (p.root / "reports" / f"{p.report_id}.pdf").is_file()  # the PDF came after the HTML
    label = shown_label(p.root, p.report_id, p.programme)
    page, blocked = open_page(browser, f"{p.base}/{p.report_id}.html")
    page.evaluate("window.__opened = true")  # gone if anyone but the preview's script reloaded it
    assert page.title() == dom.read((p.root / "reports" / f"{p.report_id}.html").read_text("utf-8")).title
    assert label in figure_texts(page)  # an element of the page, not text of its escaped source

    new_label = "Participants counted anew 7319"
    rewrite_csv(p.root / "data" / "figures.csv",
                lambda rows: [r.update(label_en=new_label) for r in rows if r["label_en"] == label])
    page.wait_for_function(f"t => ({FIGURE_TEXTS_JS})().some(s => s.includes(t))", arg=new_label,
                           timeout=120_000)
    assert page.evaluate("window.__opened === undefined")  # a reload, by the page itself
    on_disk = (p.root / "reports" / f"{p.report_id}.html").read_text(encoding="utf-8")
    assert new_label in on_disk and "__preview__" not in on_disk  # the script is only in the served page

    notebook = p.root / "notebooks" / "programme.ipynb"
    good = notebook.read_text(encoding="utf-8")
    nb = json.loads(good)
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                        "source": "raise ValueError('preview breaks on purpose')"})
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    page.wait_for_selector("#tb-preview-problem", timeout=120_000)
    problem = page.inner_text("#tb-preview-problem")
    assert "preview breaks on purpose" in problem and "cell" in problem
    assert page.locator("h1").count() == 1 and new_label in figure_texts(page)  # the last good content stays
    deadline = time.monotonic() + 30
    while "preview breaks on purpose" not in p.output():  # and the terminal says so too
        assert time.monotonic() < deadline, p.output()
        time.sleep(0.1)

    notebook.write_text(good, encoding="utf-8")  # fixed
    page.wait_for_function("() => !document.querySelector('#tb-preview-problem')", timeout=120_000)
    assert new_label in figure_texts(page)
    assert blocked == []  # the page and its reload script loaded nothing from anywhere else
    page.context.close()


def test_the_served_page_is_the_report_not_its_source(preview):
    p = preview
    p.wait_idle(builds=1)
    on_disk = dom.read((p.root / "reports" / f"{p.report_id}.html").read_text(encoding="utf-8"))
    status, body = fetch(f"{p.base}/{p.report_id}.html")
    assert status == 200
    served = dom.assert_renders(body, title=on_disk.title)
    assert served.headings == on_disk.headings and served.figures == on_disk.figures
    assert body.count("<script>") == 1 and "/__preview__/events" in body  # the reload script, as an element
    index_status, index = fetch(f"{p.base}/")
    assert index_status == 200 and dom.read(index).title and "&lt;!DOCTYPE" not in index


def test_a_banner_and_the_reload_script_are_added_as_elements(tmp_path):
    from talentbrief import macros
    from talentbrief import preview as preview_mod

    page = ('<!DOCTYPE html><html lang="en"><head><title>A &amp; B</title></head><body><h1>A &amp; B</h1>'
            '<p data-figure-ids="f-1">more than 2.52 million &lt;people&gt;</p></body></html>')
    banner = macros.render("banner", "preview.html.j2", problems=["data/figures.csv:3:value: <bad>"], failure=None)
    served = preview_mod.decorate(page, "/a.html", "token-1", banner).decode("utf-8")
    parsed = dom.assert_renders(served, title="A & B")
    assert parsed.figures == [("f-1", "more than 2.52 million <people>")]  # data text stays escaped once
    assert '<div id="tb-preview-problem"' in served and "&lt;bad&gt;" in served  # the problem escaped, once
    assert served.index("tb-preview-problem") < served.index("<h1>") < served.index("<script>")


def test_a_src_change_restarts_the_workers(preview):
    p = preview
    before = p.wait_idle(builds=1)
    with open(p.root / "src" / "figures.py", "a", encoding="utf-8") as f:
        f.write("\n# an edit the workers must pick up\n")
    deadline = time.monotonic() + 180
    while True:
        try:
            after = p.status()
            if after["workers"] and set(after["workers"]).isdisjoint(before["workers"]):
                break
        except OSError:
            pass  # restarting: the port is briefly closed
        assert time.monotonic() < deadline, p.output()
        time.sleep(0.2)
    assert after["pid"] == before["pid"] == p.proc.pid  # the same process, in place
    assert "restarting with the new code" in p.output()
    gone = [psutil.Process(pid) for pid in before["workers"] if psutil.pid_exists(pid)]
    assert still_alive(gone) == []  # the old workers did not outlive their pool
    p.wait_idle(builds=1)
    assert "leaked semaphore" not in p.output() and "resource_tracker" not in p.output(), p.output()
    zombies = [c for c in psutil.Process(p.proc.pid).children() if c.status() == psutil.STATUS_ZOMBIE]
    assert zombies == [], f"children of the old process image left unreaped: {zombies}"


def test_ctrl_c_leaves_no_process_behind(preview):
    p = preview
    p.wait_idle(builds=1)
    helpers = psutil.Process(p.proc.pid).children(recursive=True)
    assert len(helpers) >= 2  # a worker and its kernel at least
    assert p.interrupt() == 0
    assert "stopping" in p.output() and "Traceback" not in p.output()
    orphans = still_alive(helpers)
    for orphan in orphans:
        orphan.kill()
    assert orphans == []


def test_unknown_report_is_refused_before_anything_starts(project):
    result = run_cli(project, "preview", "no-such-report", timeout=120)
    assert result.returncode == 2 and "no report 'no-such-report'" in result.stderr
    assert not (project / "reports" / "manifest.json").exists()


# --- who may talk to the preview (issue 23): local pages only --------------------------------------


@pytest.fixture
def server(tmp_path):
    """The preview's HTTP server alone (no workers, no build) over a reports/ folder with one page."""
    from talentbrief import paths as paths_mod
    from talentbrief import preview

    paths = paths_mod.Paths(tmp_path)
    paths.reports.mkdir()
    (paths.reports / "index.html").write_text("<html><body><p>draft index</p></body></html>", encoding="utf-8")
    state = preview.State(paths)
    http = preview.start_http(state, 0)
    yield http.server_address[1]
    state.stopping.set()
    state.changed()
    http.shutdown()
    http.server_close()


def request(port: int, path: str, method: str = "GET", **headers: str):
    """A raw request to the preview with exactly these headers (Host included when given)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name.replace("_", "-"), value)
    conn.endheaders()
    return conn, conn.getresponse()


def status_of(port: int, path: str, method: str = "GET", **headers: str) -> int:
    conn, response = request(port, path, method, **headers)
    response.read()
    conn.close()
    return response.status


def test_a_foreign_host_is_refused_and_local_ones_served(server):
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own name as Host."""
    foreign = (f"evil.example:{server}", f"127.0.0.1.evil.example:{server}", "127.0.0.1", "localhost:1",
               f"0.0.0.0:{server}", f"127.0.0.1:{server}@evil.example")
    for host in foreign:
        assert status_of(server, "/index.html", Host=host) == 403, host
    assert status_of(server, "/index.html") == 403  # no Host at all
    assert status_of(server, "/index.html", "HEAD", Host=f"evil.example:{server}") == 403
    for host in ("127.0.0.1", "localhost", "LOCALHOST", "[::1]"):
        assert status_of(server, "/index.html", Host=f"{host}:{server}") == 200, host
    conn, response = request(server, "/", Host=f"evil.example:{server}")
    assert b"draft index" not in response.read()
    conn.close()


def test_a_cross_origin_request_that_would_start_work_is_refused(server):
    host = f"127.0.0.1:{server}"
    for headers in ({"Origin": "http://evil.example"}, {"Origin": f"http://localhost:{server + 1}"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        assert status_of(server, "/__preview__/status", Host=host, **headers) == 403, headers
        assert status_of(server, "/__preview__/events?page=/", Host=host, **headers) == 403, headers
        assert status_of(server, "/index.pdf", "POST", Host=host, **headers) == 403, headers
    same = {"Origin": f"http://127.0.0.1:{server}", "Sec-Fetch-Site": "same-origin"}
    assert status_of(server, "/__preview__/status", Host=host, **same) == 200
    assert status_of(server, "/__preview__/status", Host=host) == 200  # curl: no browser headers
    assert status_of(server, "/index.pdf", "POST", Host=host, **same) == 405  # nothing takes a POST


def test_event_streams_are_limited(server):
    from talentbrief import preview

    host = f"127.0.0.1:{server}"
    streams = [request(server, "/__preview__/events?page=/", Host=host) for _ in range(preview.MAX_STREAMS)]
    assert [r.status for _, r in streams] == [200] * preview.MAX_STREAMS
    assert status_of(server, "/__preview__/events?page=/", Host=host) == 503
    assert status_of(server, "/index.html", Host=host) == 200  # pages are still served
    for conn, response in streams:
        response.close()
        conn.close()
    deadline = time.monotonic() + 10  # a closed stream frees its place within RECHECK_S
    while True:
        conn, response = request(server, "/__preview__/events?page=/", Host=host)
        code = response.status
        response.close()
        conn.close()
        if code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert code == 200, "closed streams never freed their places"
