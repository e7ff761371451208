"""The `talentbrief` kernel (make lab, nbval): registered per environment, named by every notebook, and
running a notebook there shows what the report shows, charts included (PNG with alt text and ids)."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from talentbrief import engine, kernelspec
from tests.support.project import CHECKOUT, copy_project

NOTEBOOKS = sorted((CHECKOUT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_names_the_talentbrief_kernel(path):
    assert json.loads(path.read_text(encoding="utf-8"))["metadata"]["kernelspec"]["name"] == kernelspec.NAME


def test_install_writes_a_kernel_for_this_python_set_up_as_builds(tmp_path):
    folder = kernelspec.install(str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "talentbrief"
    assert spec["argv"][0] == sys.executable
    assert spec["argv"][-len(engine.KERNEL_ARGUMENTS):] == list(engine.KERNEL_ARGUMENTS)
    assert spec["env"]["MPLBACKEND"] == engine.INLINE_BACKEND == engine.kernel_env(tmp_path)["MPLBACKEND"]


def test_overview_runs_top_to_bottom_in_the_lab_kernel_with_charts_inline(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    root = copy_project(tmp_path / "project")
    kernelspec.install(str(tmp_path / "prefix"))
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "prefix" / "share" / "jupyter" / "kernels")])
    monkeypatch.chdir(root / "notebooks")  # JupyterLab starts a notebook's kernel in its folder
    nb = nbformat.read(root / "notebooks" / "overview.ipynb", as_version=4)
    km = KernelManager(kernel_name="talentbrief", kernel_spec_manager=specs)
    NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    charts = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(charts) == 2
    for chart in charts:
        meta = chart.metadata["image/png"]
        assert meta["alt"] and meta["figure_ids"] and meta["width"] > 0
    html = "".join(o.data.get("text/html", "") for o in outputs if "data" in o)
    assert "<h1>China&#39;s talent-training programmes: overview briefing</h1>" in html or \
        "<h1>China's talent-training programmes: overview briefing</h1>" in html
    assert "more than 920,000 people" in html and 'class="tb-note" ' in html  # notes travel with citations


def test_builds_do_not_need_the_kernelspec_a_notebook_names(tmp_path):
    """A fresh machine without `make bootstrap`'s kernel still builds: the engine picks the kernel."""
    from talentbrief import render
    from talentbrief.jobs import Job

    root = copy_project(tmp_path / "project")
    path = root / "notebooks" / "audit.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"]["name"] = "not-installed-anywhere"
    nbformat.write(nb, path)
    out = render.run_job(Job("audit-en", "notebooks/audit.ipynb", {"lang": "en"}, ("html",)), root)
    assert "Talent-training figures: data audit" in out.html.decode()
