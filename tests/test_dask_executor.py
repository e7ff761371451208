"""Issue 8: `talentbrief build --executor dask` on a Dask distributed cluster.

One LocalCluster (2 worker processes, 1 thread each) serves the whole module, as an existing cluster
would: builds connect to it with `--scheduler ADDRESS` from a separate process (run_cli), so the
workers share nothing with the build but the scheduler. The catalogue is the project's own, trimmed
to a dozen reports to keep the suite quick.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from distributed import Client, LocalCluster

from talentbrief import build, dask_executor
from talentbrief import paths as paths_mod
from talentbrief.jobs import Job, JobFailure
from tests.support.project import copy_project, run_cli

PROGRAMMES_KEPT = 4  # 2 overview + 4 programmes × 2 languages + 2 audit = 12 reports


def trimmed_catalogue(root: Path) -> dict:
    """The project's reports.yml with each grid's first list cut to PROGRAMMES_KEPT values; PDFs
    only for the first entry (they cost time and the acceptance compares HTML)."""
    cat = yaml.safe_load((root / "reports.yml").read_text(encoding="utf-8"))
    for n, entry in enumerate(cat["reports"]):
        for key, values in entry.get("grid", {}).items():
            if key != "lang":
                entry["grid"][key] = values[:PROGRAMMES_KEPT]
        if n > 0:
            entry["formats"] = ["html"]
    return cat


def make_copy(dest: Path) -> Path:
    root = copy_project(dest)
    (root / "reports.yml").write_text(
        yaml.safe_dump(trimmed_catalogue(root), sort_keys=False), encoding="utf-8"
    )
    return root


def manifest(root: Path) -> dict:
    return json.loads((root / "reports" / "manifest.json").read_text(encoding="utf-8"))["reports"]


def html_hashes(root: Path) -> dict[str, str]:
    """id -> sha256 of reports/<id>.html, checked against the manifest's record of it."""
    out = {}
    for report_id, entry in manifest(root).items():
        recorded = entry["outputs"]["html"]
        actual = hashlib.sha256((root / "reports" / recorded["file"]).read_bytes()).hexdigest()
        assert actual == recorded["sha256"], f"{report_id}: file and manifest disagree"
        out[report_id] = recorded["sha256"]
    return out


def expected_ids(root: Path) -> set[str]:
    from talentbrief import catalogue

    return {s.id for s in catalogue.load(paths_mod.get(root))}


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    with (
        LocalCluster(  # configured as docs/distributed.md configures workers
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            config=dask_executor.worker_config(),
        ) as c,
        Client(c) as client,
    ):
        yield c, client


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The trimmed catalogue built by the local executor: the hashes every dask build must match."""
    root = make_copy(tmp_path_factory.mktemp("local") / "project")
    result = run_cli(root, "build", "--force", "--jobs", "2", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    hashes = html_hashes(root)
    assert set(hashes) == expected_ids(root) and len(hashes) >= 10
    return root, hashes


def wait_for_workers(client: Client, n: int = 2, timeout: float = 60) -> dict[str, int]:
    client.wait_for_workers(n, timeout=timeout)
    return client.run(os.getpid)


# --- acceptance 1: same HTML as the local build --------------------------------------------------------


def test_dask_build_matches_local_build(cluster, reference, tmp_path):
    c, client = cluster
    _, expected = reference
    root = make_copy(tmp_path / "project")
    result = run_cli(root, "build", "--executor", "dask", "--scheduler", c.scheduler_address)
    assert result.returncode == 0, result.stdout + result.stderr
    assert html_hashes(root) == expected
    for report_id, entry in manifest(root).items():  # the PDFs came back too, where asked for
        for fmt in entry["formats"]:
            assert (root / "reports" / f"{report_id}.{fmt}").stat().st_size > 0
    # progress: one line per report, fed from task completions
    assert sum(" built " in line for line in result.stdout.splitlines()) == len(expected)
    # nothing of the build was left on the cluster
    assert not any("talentbrief-report" in str(k) for k in client.run_on_scheduler(_task_keys))


def test_scheduler_from_environment_variable(cluster, reference, tmp_path):
    c, _ = cluster
    _, expected = reference
    root = make_copy(tmp_path / "project")
    result = run_cli(
        root,
        "build",
        "--executor",
        "dask",
        "overview-*",
        "--quiet",
        env={dask_executor.ENV_SCHEDULER: c.scheduler_address},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "started a local Dask cluster" not in result.stderr  # it used ours
    built = html_hashes(root)
    assert built and built == {k: v for k, v in expected.items() if k.startswith("overview-")}


def _task_keys(dask_scheduler=None):
    return list(dask_scheduler.tasks)


# --- acceptance 2: a worker killed mid-build -----------------------------------------------------------


def test_worker_killed_mid_build_loses_nothing(cluster, reference, tmp_path):
    c, client = cluster
    _, expected = reference
    pids = wait_for_workers(client)
    root = make_copy(tmp_path / "project")
    env = {**os.environ}
    env.pop("TALENTBRIEF_ROOT", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talentbrief",
            "--root",
            str(root),
            "build",
            "--executor",
            "dask",
            "--scheduler",
            c.scheduler_address,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    killed = None
    try:
        deadline = time.monotonic() + 600
        while killed is None and proc.poll() is None and time.monotonic() < deadline:
            done = list((root / "reports").glob("*.html"))
            busy = {w: keys for w, keys in client.processing().items() if keys and w in pids}
            if len(done) >= 2 and busy:  # mid-build: some reports stored, others running
                victim = min(busy)
                os.kill(pids[victim], signal.SIGKILL)
                killed = victim
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed is not None, "the build finished before a worker could be killed"
    assert proc.returncode == 0, stdout + stderr
    assert html_hashes(root) == expected  # every report present, and the same as the local build
    assert sum(" built " in line for line in stdout.splitlines()) == len(expected)
    # the nanny brought a new worker process in place of the killed one
    after = wait_for_workers(client)
    assert pids[killed] not in after.values()


# --- a notebook that raises: reported once, not retried ------------------------------------------------

BROKEN = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "execution_count": None,
            "outputs": [],
            "source": 'as_of = "2026-11-01"\nmarker = ""',
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": 'with open(marker, "a") as f:\n    f.write("ran\\n")\nraise RuntimeError("broken on purpose")',
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_failing_notebook_is_reported_once_and_not_retried(cluster, tmp_path):
    c, _ = cluster
    root = copy_project(tmp_path / "project")
    (root / "notebooks" / "broken.ipynb").write_text(json.dumps(BROKEN), encoding="utf-8")
    marker = tmp_path / "runs.txt"  # the workers are local here, so the notebook can count its runs
    cat = trimmed_catalogue(root)
    first = cat["reports"][0]
    cat["reports"] = [
        {**first, "grid": {"lang": ["en"]}, "formats": ["html"]},
        {
            "id": "broken",
            "notebook": "notebooks/broken.ipynb",
            "parameters": {"marker": str(marker)},
            "formats": ["html"],
        },
    ]
    (root / "reports.yml").write_text(yaml.safe_dump(cat, sort_keys=False), encoding="utf-8")
    result = run_cli(root, "build", "--executor", "dask", "--scheduler", c.scheduler_address, "--keep-going")
    assert result.returncode == 1, result.stdout + result.stderr
    assert marker.read_text().splitlines() == ["ran"]  # executed exactly once: no retry
    assert "broken failed" in result.stdout and "broken on purpose" in result.stdout
    assert result.stdout.count("broken  FAILED") == 1
    assert (root / "reports" / "_failed" / "broken.html").is_file()
    assert list(manifest(root)) == [first["id"].format(lang="en")]  # the good report was still built


# --- dask not installed --------------------------------------------------------------------------------


def test_missing_dask_exits_2_with_the_install_line(project, monkeypatch):
    for name in ("dask", "distributed", "talentbrief.dask_executor"):
        monkeypatch.setitem(sys.modules, name, None)  # import of these now fails, as when not installed
    out, err = io.StringIO(), io.StringIO()
    code = build.run_build(paths_mod.get(project), executor="dask", out=out, err=err)
    assert code == 2
    assert "make dask" in err.getvalue() and "requirements-dask.lock" in err.getvalue()
    assert not (project / "reports" / "manifest.json").exists()


def test_the_module_itself_needs_dask(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "talentbrief.dask_executor", raising=False)
    with pytest.raises(ImportError):
        import talentbrief.dask_executor  # noqa: F401


# --- the executor's parts ------------------------------------------------------------------------------


def test_bundle_is_deterministic_and_content_addressed(tmp_path):
    a = copy_project(tmp_path / "a")
    b = copy_project(tmp_path / "b")
    (b / "src" / "__pycache__").mkdir(exist_ok=True)
    (b / "src" / "__pycache__" / "junk.cpython-311.pyc").write_bytes(b"junk")
    (b / "reports" / "old.html").write_text("not an input")
    os.utime(b / "data" / "figures.csv", (1, 1))  # another mtime: same content, same bundle
    first, second = dask_executor.make_bundle(a), dask_executor.make_bundle(b)
    assert first.data == second.data and first.sha256 == second.sha256
    assert first.sha256 == hashlib.sha256(first.data).hexdigest()
    with (b / "data" / "figures.csv").open("a", encoding="utf-8") as f:
        f.write("\n")
    assert dask_executor.make_bundle(b).sha256 != first.sha256


def test_materialise_unpacks_a_project_once(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_executor, "_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(dask_executor, "_unpacked", {})
    source = copy_project(tmp_path / "source")
    bundle = dask_executor.make_bundle(source)
    root = dask_executor.materialise(bundle)
    assert paths_mod.find_root(root) == root  # a project root the pipeline recognises
    for item in ("reports.yml", "requirements.lock", "data/figures.csv", "src/figures.py"):
        assert (root / item).read_bytes() == (source / item).read_bytes(), item
    assert not (root / "pyproject.toml").exists() and list((root / "reports").iterdir()) == []
    (root / "data" / "touched").write_text("still the same folder")
    assert dask_executor.materialise(bundle) == root and (root / "data" / "touched").exists()
    monkeypatch.setattr(dask_executor, "_unpacked", {})  # another process on the same machine
    assert dask_executor.materialise(bundle) == root
    corrupt = dask_executor.Bundle("0" * 64, bundle.data)
    with pytest.raises(RuntimeError, match="corrupted"):
        dask_executor.materialise(corrupt)


@pytest.mark.parametrize("data_filter", [True, False], ids=["python-3.11.4+", "debian-12-python-3.11.2"])
def test_materialise_unpacks_only_plain_files_inside_the_project(tmp_path, monkeypatch, data_filter):
    """Debian 12's Python 3.11.2 has no tarfile filter: the same refusals must hold without it."""
    import gzip
    import tarfile

    if not data_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    monkeypatch.setattr(dask_executor, "_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(dask_executor, "_unpacked", {})
    root = dask_executor.materialise(dask_executor.make_bundle(copy_project(tmp_path / "source")))
    assert (root / "data" / "figures.csv").is_file()

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    data = gzip.compress(raw.getvalue())
    evil = dask_executor.Bundle(hashlib.sha256(data).hexdigest(), data)
    with pytest.raises(Exception, match="escaped.txt|outside"):
        dask_executor.materialise(evil)
    assert not (tmp_path / "cache" / "escaped.txt").exists()


def test_task_returns_failures_as_values(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_executor, "_cache_dir", lambda: tmp_path / "cache")
    bundle = dask_executor.make_bundle(copy_project(tmp_path / "source"))
    job = Job("r", "notebooks/none.ipynb", {}, ("html",))

    mismatch = dask_executor.run_task(job, bundle, "0.0.0+other")
    assert isinstance(mismatch, JobFailure) and "restart the workers" in mismatch.message

    import talentbrief.render

    def crash(job, root):
        raise OSError("disk full")

    monkeypatch.setattr(talentbrief.render, "run_job", crash)
    failure = dask_executor.run_task(job, bundle, dask_executor.CODE)
    assert isinstance(failure, JobFailure) and "OSError: disk full" in failure.message


def test_scheduler_address_precedence(monkeypatch):
    monkeypatch.delenv(dask_executor.ENV_SCHEDULER, raising=False)
    assert dask_executor.scheduler_address(None) is None
    monkeypatch.setenv(dask_executor.ENV_SCHEDULER, "tcp://env:8786")
    assert dask_executor.scheduler_address(None) == "tcp://env:8786"
    assert dask_executor.scheduler_address("tcp://flag:8786") == "tcp://flag:8786"


def _missing(report_id: str) -> Job:
    """A job that fails fast on any worker: its notebook does not exist."""
    return Job(report_id, "notebooks/does-not-exist.ipynb", {}, ("html",))


def test_run_dask_stops_pulling_jobs_when_the_caller_stops(cluster, project):
    c, _ = cluster
    pulled, stop = [], False

    def feed():
        for i in range(20):
            if stop:
                return
            pulled.append(i)
            yield _missing(f"r{i}")

    results = []
    for job, result in dask_executor.run_dask(
        feed(), project, scheduler=c.scheduler_address, progress=lambda m: None
    ):
        assert isinstance(result, JobFailure) and result.report_id == job.report_id
        results.append(job.report_id)
        stop = True
    assert len(pulled) <= 6 and len(results) == len(pulled)  # a window of ~2 per worker, not all 20


def test_without_scheduler_starts_a_local_cluster_and_says_so(project, monkeypatch):
    monkeypatch.delenv(dask_executor.ENV_SCHEDULER, raising=False)
    said = []
    results = list(
        dask_executor.run_dask(
            [_missing("a"), _missing("b")], project, scheduler=None, workers=1, progress=said.append
        )
    )
    assert sorted(job.report_id for job, _ in results) == ["a", "b"]
    assert all(isinstance(r, JobFailure) for _, r in results)
    assert any("started a local Dask cluster (1 worker process," in m for m in said), said


def _profiling(dask_worker=None) -> bool:
    return "profile" in dask_worker.periodic_callbacks


def test_the_clusters_workers_run_without_the_profiler(project, monkeypatch, cluster):
    """Switched off by configuration, not by stopping a worker's internals: the LocalCluster a build
    starts gets WORKER_CONFIG, and its nannies hand it to the worker processes."""
    c, client = cluster
    assert not any(client.run(_profiling).values())
    # workers a nanny starts again (after a crash) are configured the same. distributed may close a
    # nanny whose worker exits while it restarts it (seen once in a full suite run), so the cluster is
    # scaled back to two workers rather than waited on with a restart timeout
    client.restart(timeout="300s", wait_for_workers=False)
    c.scale(2)
    client.wait_for_workers(2, timeout=300)
    assert len(client.run(_profiling)) == 2 and not any(client.run(_profiling).values())
    seen = []

    class Spy(LocalCluster):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            with Client(self) as own:
                seen.extend(own.run(_profiling).values())

    monkeypatch.setattr(dask_executor, "LocalCluster", Spy)
    monkeypatch.delenv(dask_executor.ENV_SCHEDULER, raising=False)
    list(dask_executor.run_dask([_missing("a")], project, scheduler=None, workers=1, progress=lambda m: None))
    assert seen == [False]
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as plain,
        Client(plain) as other,
    ):
        assert all(other.run(_profiling).values())  # distributed's default: the test can fail


def test_unreachable_scheduler_is_named(project, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", "2s")
    with pytest.raises(dask_executor.SchedulerUnreachable, match="tcp://127.0.0.1:9"):
        list(dask_executor.run_dask([_missing("a")], project, scheduler="tcp://127.0.0.1:9"))
    with pytest.raises(dask_executor.SchedulerUnreachable, match="tcp://127.0.0.1:9"):
        dask_executor.check_scheduler("tcp://127.0.0.1:9")


def test_check_scheduler_passes_for_a_live_one(cluster, monkeypatch):
    c, _ = cluster
    dask_executor.check_scheduler(c.scheduler_address)
    monkeypatch.delenv(dask_executor.ENV_SCHEDULER, raising=False)
    dask_executor.check_scheduler(None)  # no address: a local cluster will be started, nothing to check


def test_a_task_run_in_a_process_of_ones_own_does_not_adopt_its_orphans():
    """Issue 23: only a worker process a nanny started becomes a subreaper. Called in this process (as
    the test above does, or an in-process cluster would), it would end this process's own children."""
    from talentbrief import reaper

    dask_executor._adopt_orphans()
    assert reaper._subreaper is False


def test_a_worker_running_other_code_than_the_client_is_refused(cluster, tmp_path):
    """The client's copy of a module the worker runs (narrative, through render) differs: no report is
    built by a worker that would render it differently, and the message says what to do."""
    root = make_copy(tmp_path / "project")
    narrative = root / "src" / "talentbrief" / "narrative.py"
    assert "narrative.py" in dask_executor.WORKER_MODULES  # derived from the imports, not listed by hand
    narrative.write_text(narrative.read_text(encoding="utf-8") + "\n# the client's own edit\n", encoding="utf-8")
    c, _client = cluster
    env = {**os.environ, "PYTHONPATH": str(root / "src")}  # the client runs the copy's talentbrief
    env.pop("TALENTBRIEF_ROOT", None)
    rid = next(iter(sorted(expected_ids(root))))
    result = subprocess.run(
        [sys.executable, "-m", "talentbrief", "--root", str(root), "build", rid, "--executor", "dask",
         "--scheduler", c.scheduler_address], capture_output=True, text=True, timeout=600, env=env, check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "runs talentbrief" in out and "install the client's version on every worker" in out, out
    assert not (root / "reports" / f"{rid}.html").exists()
