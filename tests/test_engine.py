"""The warm kernel: a notebook run after another sees exactly what it would see on a fresh kernel."""

from __future__ import annotations

import ast
import dataclasses
import os
import signal
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from talentbrief import digests, engine, render
from talentbrief.jobs import JobFailure, Limits
from tests.test_render import job, make_project


def probe_state(out) -> dict:
    """The state the probe notebook printed, as a dict."""
    nb = nbformat.reads(out.executed.decode("utf-8"), as_version=4)
    text = "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout"
    )
    return dict(ast.literal_eval(text.strip()))


def probe(root: Path):
    return render.run_job(job("probe", "probe", formats=("html",)), root)


@pytest.fixture
def cold(monkeypatch):
    monkeypatch.setenv("TALENTBRIEF_WARM", "0")


@pytest.fixture
def warm(monkeypatch):
    monkeypatch.setenv("TALENTBRIEF_WARM", "1")
    return engine.current_kernel()


def kernel_pid(kernel) -> int:
    return kernel.km.provisioner.process.pid


def test_b_after_a_on_warm_kernel_equals_b_on_fresh_kernel(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p")
    monkeypatch.setenv("TALENTBRIEF_WARM", "0")
    fresh = probe(root)
    monkeypatch.setenv("TALENTBRIEF_WARM", "1")
    kernel = engine.current_kernel()
    render.run_job(job("a", "leak", formats=("html",)), root)
    pid, runs = kernel_pid(kernel), kernel.runs
    after_a = probe(root)
    assert kernel_pid(kernel) == pid and kernel.runs == runs + 1  # really the same kernel
    assert probe_state(after_a) == probe_state(fresh)
    assert after_a.html == fresh.html
    assert after_a.executed.count(b'"execution_count": 1') == fresh.executed.count(b'"execution_count": 1')


def test_nothing_from_a_is_visible_to_b(tmp_path, warm):
    root = make_project(tmp_path / "p")
    render.run_job(job("a", "leak", formats=("html",)), root)
    state = probe_state(probe(root))
    assert state["leaked"] is False  # user namespace
    assert state["tbprobe"] == []  # project modules are imported afresh
    assert state["font.size"] == 10.0 and state["figures"] == 0  # matplotlib
    assert state["max_rows"] == 60  # pandas options
    assert state["TB_LEAK"] is None and state["leaked_path"] is False  # environment, sys.path
    assert state["cwd"] == "notebooks"
    assert ("error", "Warning") not in state["warnings"]


def test_a_helper_beside_the_notebooks_is_imported_afresh_and_recorded(tmp_path, warm, monkeypatch):
    """Issue 23: a warm kernel kept the first import of notebooks/helper_mod.py (and recorded no read
    of it on later runs). Saved twice within a second at the same size, its bytecode must not win."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    warm.shutdown()  # the next run starts a kernel that writes bytecode
    root = make_project(tmp_path / "p")
    cell = nbformat.v4.new_code_cell("import helper_mod\nprint('HELPER', helper_mod.VALUE)")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), root / "notebooks" / "helper.ipynb")
    helper = root / "notebooks" / "helper_mod.py"
    for value in ("one", "two", "six"):
        helper.write_text(f"VALUE = {value!r}\n", encoding="utf-8")
        out = render.run_job(job("helper", "helper", formats=("html",)), root)
        assert f"HELPER {value}" in out.html.decode("utf-8")
        read = {"file": "notebooks/helper_mod.py", "sha256": digests.sha256_file(helper)}
        assert read in out.inputs["data"], out.inputs
    assert (root / "notebooks" / "__pycache__").is_dir()  # the kernel did write (and use) bytecode


def test_kernel_env(tmp_path, warm):
    root = make_project(tmp_path / "p")
    state = probe_state(probe(root))
    assert state["src_first"] is True  # root/src shadows any installed copy
    assert state["mpl_backend"] == engine.INLINE_BACKEND  # what JupyterLab uses: plt.show() displays
    assert state["hashseed"] == "0"


def test_warm_kernel_follows_a_new_root(tmp_path, warm):
    first, second = make_project(tmp_path / "one"), make_project(tmp_path / "two")
    probe(first)
    pid = kernel_pid(warm)
    state = probe_state(probe(second))
    assert kernel_pid(warm) == pid
    assert state["src_first"] is True and state["cwd"] == "notebooks"


def test_dead_kernel_is_restarted(tmp_path, warm):
    root = make_project(tmp_path / "p")
    probe(root)
    pid = kernel_pid(warm)
    os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if not warm.alive():
            break
        time.sleep(0.1)
    out = probe(root)
    assert kernel_pid(warm) != pid
    assert probe_state(out)["leaked"] is False


def test_kernel_is_restarted_after_a_failure(tmp_path, warm):
    root = make_project(tmp_path / "p")
    with pytest.raises(JobFailure):
        render.run_job(job("broken", "failing", formats=("html",)), root)
    pid = kernel_pid(warm)
    assert warm.dirty
    probe(root)
    assert kernel_pid(warm) != pid and not warm.dirty


def test_cold_engine_gives_the_same_report(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p")
    monkeypatch.setenv("TALENTBRIEF_WARM", "0")
    with monkeypatch.context() as m:  # the cold path never touches this thread's warm kernel
        m.setattr(engine, "current_kernel", lambda: pytest.fail("the cold engine used the warm kernel"))
        cold_out = render.run_job(job("c", "chart", formats=("html",), offset=2), root)
    monkeypatch.setenv("TALENTBRIEF_WARM", "1")
    warm_out = render.run_job(job("c", "chart", formats=("html",), offset=2), root)
    assert warm_out.html == cold_out.html


# --- limits: a report that runs too long, prints too much, allocates too much, or kills its kernel -----


def hog(root: Path, mode: str, **limits):
    spec = job(f"hog-{mode}", "hog", formats=("html",), mode=mode)
    return render.run_job(dataclasses.replace(spec, limits=Limits(**limits)), root)


def test_timeout_interrupts_then_names_the_cell_and_the_next_report_runs(tmp_path, warm):
    root = make_project(tmp_path / "p")
    probe(root)
    pid = kernel_pid(warm)
    started = time.monotonic()
    with pytest.raises(JobFailure) as info:
        hog(root, "sleep", timeout=2)
    assert time.monotonic() - started < 2 + engine.GRACE_S + 5
    assert info.value.cell == 3 and info.value.message == "cell 3: timed out after 2 s"
    assert info.value.executed is not None  # kept for _failed/<id>.ipynb
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert probe_state(probe(root))["leaked"] is False  # a fresh kernel, ready for the next report
    assert kernel_pid(warm) != pid


def test_output_cap_fails_the_report_while_output_arrives(tmp_path, warm):
    root = make_project(tmp_path / "p")
    with pytest.raises(JobFailure) as info:
        hog(root, "print", max_output=2)
    assert info.value.message == "cell 3: produced more than 2 MB of output (the output cap)"
    kept = nbformat.reads(info.value.executed.decode("utf-8"), as_version=4)
    assert sum(len(o.get("text", "")) for c in kept.cells for o in c.get("outputs", ())) <= 2 * 1024 * 1024
    assert hog(root, "print", max_output=10).html  # under the cap it builds


def test_memory_cap_fails_the_report_without_using_the_memory(tmp_path, warm):
    root = make_project(tmp_path / "p")
    with pytest.raises(JobFailure) as info:
        hog(root, "alloc", max_memory=1500)
    assert info.value.cell == 3
    assert "MemoryError" in info.value.message and "memory cap of 1500 MB" in info.value.message
    assert hog(root, "alloc", max_memory=0).html  # no cap: the 2 GB are reserved, never touched


def test_dead_kernel_names_the_cell_that_was_running(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p")
    monkeypatch.setenv("TALENTBRIEF_WARM", "0")  # the cold path gets the same limits and messages
    with pytest.raises(JobFailure) as info:
        hog(root, "die")
    assert info.value.cell == 3 and "the kernel died" in info.value.message
    with pytest.raises(JobFailure) as info:
        hog(root, "sleep", timeout=1)
    assert info.value.message == "cell 3: timed out after 1 s"
