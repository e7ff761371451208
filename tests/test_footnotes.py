"""Issue 20: footnotes are numbered when the report is assembled, not while its cells run.

A notebook run as JupyterLab lets an analyst run it (set-up cells first, then the others bottom to
top, shuffled and again top to bottom, each cell keeping its last outputs at its place) builds the
same page as the same notebook run top to bottom: the same footnote numbers, the same notes, the same
bytes."""

from __future__ import annotations

import random
import re

import nbformat
import pytest

from talentbrief import kernelspec, narrative, render
from talentbrief.jobs import Job
from tests.support.project import copy_project

PARAMETERS = {"as_of": "2026-11-01", "lang": "en"}  # overview-en, as reports.yml builds it


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A copy of the project and a client factory for the `talentbrief` kernel, started in notebooks/
    as JupyterLab starts it."""
    from jupyter_client.kernelspec import KernelSpecManager

    tmp = tmp_path_factory.mktemp("footnotes")
    root = copy_project(tmp / "project")
    kernelspec.install(str(tmp / "prefix"))
    specs = KernelSpecManager(kernel_dirs=[str(tmp / "prefix" / "share" / "jupyter" / "kernels")])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TALENTBRIEF_ROOT", str(root))
        mp.chdir(root / "notebooks")
        yield root, specs


def prepared(root, notebook: str, tmp):
    """The notebook as the build runs it (render._run_notebook, engine.execute): Markdown cells of the
    report's language turned into code cells (narrative.prepare), loaded by papermill, its parameters
    cell injected."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = narrative.prepare(nbformat.read(root / "notebooks" / notebook, as_version=4), PARAMETERS["lang"])
    nbformat.write(nb, tmp / notebook)
    return parameterize_notebook(load_notebook_node(str(tmp / notebook)), dict(PARAMETERS))


def client(nb, root, specs):
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    km = KernelManager(kernel_name=kernelspec.NAME, kernel_spec_manager=specs)
    return NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(root / "notebooks")}})


def run_out_of_order(nb, root, specs, seed: int = 20) -> tuple[int, list[int]]:
    """Set-up cells (up to `briefing.start`) in order, then every other code cell bottom to top (so the
    first numbers cited are the page's last), then in a shuffled order, then all again top to bottom.
    A cell that needs one not run yet (a variable a later cell sets, for {eval}) fails
    and is run again after the others, as an analyst would. Returns the set-up's last cell and the
    order the other cells ran in."""
    from nbclient.exceptions import CellExecutionError

    start = next(i for i, c in enumerate(nb.cells) if "briefing.start(" in c.source)
    rest = [i for i, c in enumerate(nb.cells) if i > start and c.cell_type == "code"]
    shuffled = rest[:]
    random.Random(seed).shuffle(shuffled)
    ran = []
    c = client(nb, root, specs)
    with c.setup_kernel():
        for i in range(start + 1):
            c.execute_cell(nb.cells[i], i)
        for queue in (rest[::-1], shuffled, rest):
            queue, tries = list(queue), 0
            while queue:
                i = queue.pop(0)
                try:
                    c.execute_cell(nb.cells[i], i)
                    ran.append(i)
                except CellExecutionError:
                    tries += 1
                    assert tries < 10 * len(rest), f"cell {i} never runs: {nb.cells[i].source[:200]}"
                    queue.append(i)
    return start, ran


JOB = Job("overview-en", "notebooks/overview.ipynb", PARAMETERS, ("html",))


def built(nb, root) -> str:
    return render.export_html(render.stable_ids(nb), root=root, **render.report_meta(nb, JOB))


def notes_of(page: str) -> list[tuple[str, str, str]]:
    """(number, figure ids, text) of every listed note."""
    section = re.search(r'<section class="tb-section tb-notes-section">(.*?)</section>', page, re.DOTALL).group(1)
    found = [(re.search(r'\bid="fn-(\d+)"', attrs).group(1), re.search(r'data-figure-ids="([^"]*)"', attrs).group(1),
              re.sub(r"<[^>]+>", "", body)) for attrs, body in re.findall(r"<li ([^>]*)>(.*?)</li>", section, re.DOTALL)]
    return found


def markers(page: str) -> list[str]:
    return re.findall(r'<sup class="tb-fnref"><a [^>]*?href="#fn-(\d+)"', page)


def test_cells_run_twice_or_out_of_order_build_the_same_notes_and_page(lab, tmp_path):
    root, specs = lab
    in_order = prepared(root, "overview.ipynb", tmp_path)
    client(in_order, root, specs).execute()
    reference = built(in_order, root)
    assert reference == render.run_job(JOB, root).html.decode("utf-8")  # prepared as the build prepares it

    shuffled = prepared(root, "overview.ipynb", tmp_path)
    start, ran = run_out_of_order(shuffled, root, specs)
    code = [i for i, c in enumerate(shuffled.cells) if c.cell_type == "code" and i > start]
    assert sorted(set(ran)) == code and len(ran) > 2 * len(code)
    assert ran[:len(code)] != code  # the first pass really was out of order
    page = built(shuffled, root)

    notes = notes_of(reference)
    assert len(notes) > 10 and [n for n, _, _ in notes] == [str(i) for i in range(1, len(notes) + 1)]
    assert notes_of(page) == notes
    # numbered in page order: the markers read 1, 2, 3 ... (a number may repeat, never jump ahead)
    seen = markers(reference)
    assert [int(n) for n in dict.fromkeys(seen)] == list(range(1, len(dict.fromkeys(seen)) + 1))
    assert markers(page) == seen
    assert page == reference
