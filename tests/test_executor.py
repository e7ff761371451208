"""executor.run_local: the same results with 1 or 2 workers; a dying worker fails only its own job."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from talentbrief import executor
from talentbrief.jobs import JobFailure, Outputs
from tests.test_render import ZH_TITLE, job, make_project


def jobs():
    return [
        job("chart-0", "chart", formats=("html",), offset=0),
        job("chart-1", "chart", formats=("html",), offset=1, title="Second"),
        job("chart-zh", "chart", formats=("html", "pdf"), title=ZH_TITLE, lang="zh"),
        job("probe", "probe", formats=("html",)),
        job("broken", "failing", formats=("html",)),
    ]


def run(root, workers) -> dict:
    results = {}
    for j, result in executor.run_local(jobs(), root, workers=workers):
        assert j.report_id not in results  # each job yielded exactly once
        results[j.report_id] = result
    return results


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("project"))


def test_one_and_two_workers_give_identical_results(project):
    one, two = run(project, 1), run(project, 2)
    assert set(one) == set(two) == {j.report_id for j in jobs()}
    for report_id in one:
        a, b = one[report_id], two[report_id]
        if report_id == "broken":
            assert isinstance(a, JobFailure) and isinstance(b, JobFailure)
            assert a.cell == b.cell == 5 and a.message == b.message
            continue
        assert isinstance(a, Outputs) and isinstance(b, Outputs), (a, b)
        assert a.html == b.html
        assert (a.title, a.lang, a.as_of) == (b.title, b.lang, b.as_of)
    assert one["chart-zh"].pdf.startswith(b"%PDF") and one["chart-0"].pdf is None
    assert one["chart-0"].html != one["chart-1"].html  # parameters reached the notebook


def test_dead_worker_fails_only_its_job(project, monkeypatch):
    tmp = Path(tempfile.mkdtemp(prefix="tbt"))  # short: kernel sockets live in it
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    work = [
        job("chart-0", "chart", formats=("html",)),
        job("killer", "killer", formats=("html",)),
        job("chart-1", "chart", formats=("html",), offset=1),
        job("probe", "probe", formats=("html",)),
    ]
    results = {j.report_id: r for j, r in executor.run_local(work, project, workers=2)}
    assert set(results) == {j.report_id for j in work}
    assert isinstance(results["killer"], JobFailure)
    assert "worker process died" in results["killer"].message
    for report_id in ("chart-0", "chart-1", "probe"):
        assert isinstance(results[report_id], Outputs), results[report_id]
    try:
        assert list(tmp.iterdir()) == []  # the killed workers' kernel and run folders were swept
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_work_returns_failures_instead_of_raising(project):
    result = executor.work(job("missing", "no-such-notebook"), project)
    assert isinstance(result, JobFailure) and result.report_id == "missing"


def test_no_jobs_no_workers(project):
    assert list(executor.run_local([], project, workers=2)) == []


def test_a_pool_serves_several_runs_with_the_same_warm_workers(project):
    with executor.WorkerPool(project, 2) as pool:
        pool.warm()
        workers = set(pool._pool._processes)
        assert len(workers) == 2
        first = {j.report_id: r for j, r in pool.run(jobs()[:3])}
        second = {j.report_id: r for j, r in pool.run(jobs()[:3])}
        assert set(pool._pool._processes) == workers  # no new process was started for the second run
    assert first.keys() == second.keys() == {"chart-0", "chart-1", "chart-zh"}
    for report_id, result in first.items():
        assert result.html == second[report_id].html


def test_jobs_are_pulled_lazily(project):
    pulled = []

    def feed():
        for i in range(12):
            pulled.append(i)
            yield job(f"chart-{i}", "chart", formats=("html",), offset=i)

    results = executor.run_local(feed(), project, workers=1)
    next(results)
    assert len(pulled) <= executor.PER_WORKER_IN_FLIGHT + 1  # not the whole catalogue at once
    results.close()


def test_shared_feed_peek_and_attempts():
    assert executor.peek([]) is None
    todo = executor.peek(iter(range(5)))
    assert executor.pull(todo, 2) == [0, 1] and executor.pull(todo, 0) == [] and executor.pull(todo, 9) == [2, 3, 4]
    attempts, j = executor.Attempts(limit=1), job("x", "chart")
    assert attempts.retry(j) and not attempts.retry(j)  # once more, then it fails
