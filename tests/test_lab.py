"""`make lab`'s JupyterLab, as a real server on 127.0.0.1 with a token: the whole project is the
workspace with the notebooks first, and a notebook saved after a run is written without outputs."""

from __future__ import annotations

import json
import os
import re
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

from tests.support.browser import browser  # noqa: F401  (a fixture)
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


# -- what the lab shows: a real browser on the real server -------------------------------------------------
EVAL = re.compile(r"\{eval\}`([^`]*)`")
RAW_ROLE = re.compile(r"\{(eval|fig|glue|date)\}")
NOTEBOOK = "notebooks/overview.ipynb"
CITED = ("chemnews22-exam-passes", "more than 920,000 people")  # a figure cited in an English cell
GLUED = "exam_ratio"  # a value a code cell computes and a Markdown cell shows through {eval}
COMPUTED = "exam-ratio"  # its id in data/derived.yml, which its element carries (data-computed)


def markdown_cells(root: Path) -> list[tuple[int, dict]]:
    nb = nbformat.read(root / NOTEBOOK, as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def cell_citing(root: Path, expression: str, lang: str = "en") -> int:
    """The index of the first `lang` Markdown cell whose {eval} expressions include `expression`."""
    for i, cell in markdown_cells(root):
        if f"lang-{lang}" in cell.metadata.get("tags", ()) and expression in EVAL.findall(cell.source):
            return i
    raise AssertionError(f"no lang-{lang} Markdown cell of {NOTEBOOK} has {{eval}}`{expression}`")


@pytest.fixture(scope="module")
def lab_run(lab, browser):  # noqa: F811
    """NOTEBOOK opened in the lab with the talentbrief kernel and Run All: the page once the kernel is done."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{lab.base}/lab/tree/{NOTEBOOK}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=120_000)
    try:  # jupyterlab-myst renders every Markdown cell (class "myst"), {eval} or not, before any run
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell .myst", timeout=30_000)
    except PlaywrightTimeout:
        raise AssertionError("Markdown cells are not rendered by jupyterlab-myst: is it installed and enabled? "
                             "(jupyter labextension list)") from None
    # the kernel the notebook names, started and idle (the status bar: "talentbrief (project venv) | Idle")
    page.locator(".jp-StatusBar-Widget").filter(has_text="| Idle").wait_for(timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # Done: every code cell has a count (no "[*]", no "[ ]"), and every Markdown cell with {eval} shows each
    # value: no expression left as code (jupyterlab-myst's look before the kernel answered), no value's box
    # still empty (its renderer fills it a moment after).
    expressions = {i: EVAL.findall(c.source) for i, c in markdown_cells(lab.root) if EVAL.search(c.source)}
    try:
        page.wait_for_function(
        """(expressions) => {
            const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'));
            if (!prompts.length || !prompts.every(p => /\\[\\d+\\]/.test(p.textContent))) return false;
            return Object.entries(expressions).every(([i, exprs]) => {
                const shown = document.querySelector(`.jp-Notebook [data-windowed-list-index="${i}"] .myst`);
                return shown
                    && !Array.from(shown.querySelectorAll('code')).some(c => exprs.includes(c.textContent))
                    && Array.from(shown.querySelectorAll('.not-prose.inline-block')).every(v => v.textContent.trim());
            });
        }""", arg=expressions, timeout=240_000, polling=500)
    except PlaywrightTimeout:
        page.screenshot(path=lab.root / "lab-run.png", full_page=True)
        prompts = page.locator(".jp-Notebook .jp-InputPrompt").all_inner_texts()
        raise AssertionError(f"the run did not finish: prompts {prompts}; see {lab.root / 'lab-run.png'}, "
                             f"{lab.log}") from None
    sessions = json.loads(lab.request("GET", "/api/sessions")[1])
    yield page, sessions, errors
    context.close()


def rendered(page, index: int):
    """A Markdown cell as rendered: by jupyterlab-myst (.myst), else by JupyterLab's own renderer."""
    return page.locator(f'.jp-Notebook [data-windowed-list-index="{index}"]').locator(
        ":is(.myst, .jp-RenderedMarkdown)").first


def test_the_lab_runs_the_notebook_with_the_talentbrief_kernel(lab_run):
    page, sessions, errors = lab_run
    assert [s["kernel"]["name"] for s in sessions if s["path"].endswith(NOTEBOOK)] == ["talentbrief"], sessions
    assert page.locator(".jp-Notebook .jp-OutputArea-output img").count() >= 1  # the charts
    assert page.locator(".jp-Notebook .jp-OutputArea-output table").count() >= 1  # the tables
    assert not page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type*=error]").count()
    assert not errors, errors


def test_a_cited_figure_reads_as_in_the_report_with_its_citation(lab_run, lab):
    page = lab_run[0]
    figure_id, words = CITED
    cell = rendered(page, cell_citing(lab.root, f'fig("{figure_id}")'))
    cited = cell.locator(f'.tb-fig[data-figure-ids~="{figure_id}"]')
    assert cited.count() >= 1, cell.inner_html()
    assert cited.first.text_content().strip() == words
    assert cited.first.get_attribute("title")  # the source's words, on hover as in the report
    assert cited.first.locator("xpath=following-sibling::*[1]").get_attribute("class") == "tb-fnref"


def test_a_computed_value_reads_as_in_the_report(lab_run, lab, browser):  # noqa: F811
    page = lab_run[0]
    shown = rendered(page, cell_citing(lab.root, GLUED)).locator(f'[data-computed="{COMPUTED}"]')
    assert shown.count() == 1, rendered(page, cell_citing(lab.root, GLUED)).inner_html()[:2000]
    report = browser.new_page()
    try:
        report.goto((lab.root / "reports" / "overview-en.html").as_uri())
        expected = report.locator(f'[data-computed="{COMPUTED}"]').first.text_content()
    finally:
        report.close()
    assert re.search(r"\d", expected)
    assert shown.text_content() == expected


def test_no_role_or_expression_is_left_raw(lab_run, lab):
    page = lab_run[0]
    for i, cell in markdown_cells(lab.root):
        shown = rendered(page, i).text_content()  # (inner_text is empty for a cell scrolled out of view)
        assert not RAW_ROLE.search(shown), (i, shown[:300])
        for expression in EVAL.findall(cell.source):
            assert expression not in shown, (i, expression, shown[:300])


def test_each_language_cell_is_labelled_and_the_other_language_set_apart(lab_run, lab):
    page = lab_run[0]
    look = """(e) => ({label: getComputedStyle(e, '::after').content, opacity: getComputedStyle(e).opacity})"""
    seen = {"en": 0, "zh": 0}
    for i, cell in markdown_cells(lab.root):
        tags = cell.metadata.get("tags", ())
        node = page.locator(f'.jp-Notebook [data-windowed-list-index="{i}"]')
        style = node.evaluate(look)
        if "lang-en" in tags:  # the notebook's language: shown as is, labelled
            assert style == {"label": '"English"', "opacity": "1"}, (i, style)
            seen["en"] += 1
        elif "lang-zh" in tags:  # the other language: labelled as left out of this report, dimmed
            assert "中文" in style["label"] and "not in this report" in style["label"], (i, style)
            assert float(style["opacity"]) < 1, (i, style)
            seen["zh"] += 1
        else:
            assert style["label"] == "none", (i, style)
    assert seen["en"] and seen["zh"], seen
