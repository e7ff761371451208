"""Build orchestration on a temporary project copy, with a fake executor standing in for kernels.

The fake runs jobs the way a real executor must: pulling them lazily, one at a time, yielding each
result as it completes. It records every report it runs, so "no kernel started" is checkable, and
reports what each run read as a real kernel would (talentbrief.reads): its notebook's bytes and the
rows `scope.select` gives for its parameters, hashed when it runs.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from talentbrief import build, digests, hashing, load, paths, reads
from talentbrief.jobs import JobFailure, Limits, Outputs
from tests.support.project import rewrite_csv, run_cli

HERE = Path(__file__).parent
BAD = sorted((HERE / "data" / "catalogues").glob("*.yml"))
CATALOGUE = """
parameters: {as_of: "2026-11-01"}
reports:
  - id: hello-{lang}
    notebook: notebooks/hello.ipynb
    grid: {lang: [en, zh]}
  - id: counted
    notebook: notebooks/hello.ipynb
    parameters: {lang: en, count: 2}
  - id: prog
    notebook: notebooks/hello.ipynb
    parameters: {lang: en, programme: vocational-skills}
"""
ALL = ["hello-en", "hello-zh", "counted", "prog"]


def seen(root: Path, job) -> dict:
    """What a notebook that reads scope.select(load.load(), as_of=..., programme=...) records."""
    p = job.parameters
    read = {"query": "select", "args": {"as_of": p["as_of"], "programme": p.get("programme")}}
    digest = reads.current(read, root, lambda r: hashing.read_digest(r, load.load(root)))
    return {"notebook": digests.sha256_file(root / job.notebook), "data": [{**read, "sha256": digest}]}


class FakeExecutor:
    def __init__(self, fail=(), delay=0.0):
        self.fail, self.delay = set(fail), delay
        self.ran: list[str] = []
        self.limits: dict[str, Limits] = {}
        self.workers = None

    def __call__(self, jobs, root, *, workers):
        self.workers = workers
        for job in jobs:  # lazily: the build may end this iterable after a failure
            self.ran.append(job.report_id)
            self.limits[job.report_id] = job.limits
            time.sleep(self.delay)
            if job.report_id in self.fail:
                nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
                yield (
                    job,
                    JobFailure(
                        job.report_id,
                        "Traceback ...\nValueError: boom",
                        cell=3,
                        executed=json.dumps(nb).encode(),
                    ),
                )
                continue
            p = job.parameters
            body = f"<html lang='{p['lang']}'>{job.report_id} {json.dumps(p, sort_keys=True)}</html>"
            yield (
                job,
                Outputs(
                    job.report_id,
                    body.encode(),
                    b"%PDF " + body.encode(),
                    b"{}",
                    f"Title {job.report_id}",
                    p["lang"],
                    p["as_of"],
                    0.01,
                    inputs=seen(Path(root), job),
                ),
            )


@pytest.fixture
def proj(project):
    for nb in (HERE / "data" / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, project / "notebooks" / nb.name)
    (project / "reports.yml").write_text(CATALOGUE, encoding="utf-8")
    return paths.get(project)


def run(p, *ids, executor=None, **kw):
    out, err = io.StringIO(), io.StringIO()
    ex = executor or FakeExecutor()
    code = build.run_build(p, ids, executor=ex, jobs=kw.pop("jobs", 2), out=out, err=err, **kw)
    return code, ex, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(f.relative_to(folder)): (f.stat().st_mtime_ns, f.read_bytes())
        for f in folder.rglob("*")
        if f.is_file()
    }


def test_first_build_writes_reports_manifest_and_index(proj):
    code, ex, out, err = run(proj)
    assert code == 0, err
    assert sorted(ex.ran) == sorted(ALL) and ex.workers == 2
    manifest = json.loads(proj.manifest.read_text())["reports"]
    assert sorted(manifest) == sorted(ALL)
    for rid in ALL:
        for fmt in ("html", "pdf"):
            data = (proj.reports / f"{rid}.{fmt}").read_bytes()
            assert manifest[rid]["outputs"][fmt]["sha256"] == digests.sha256_bytes(data)
        assert f"{rid}  built" in out
    entry = manifest["counted"]
    assert entry["parameters"] == {"as_of": "2026-11-01", "lang": "en", "count": 2}
    assert entry["notebook"] == "notebooks/hello.ipynb" and entry["as_of"] == "2026-11-01"
    assert set(entry["inputs"]) == {"notebook", "data", "src", "requirements.lock", "parameters"}
    index = proj.index.read_text()
    assert all(f'href="{rid}.html"' in index and f'href="{rid}.pdf"' in index for rid in ALL)
    assert "4 built, 0 up to date" in out


def test_noop_build_runs_nothing_and_rewrites_nothing(proj):
    assert run(proj)[0] == 0
    before = snapshot(proj.reports)
    time.sleep(0.01)
    code, ex, out, _ = run(proj)
    assert code == 0 and ex.ran == []
    assert snapshot(proj.reports) == before
    assert "0 built, 4 up to date" in out


def test_changed_parameter_rebuilds_only_that_report(proj):
    run(proj)
    before = snapshot(proj.reports)
    cat = proj.catalogue
    cat.write_text(cat.read_text().replace("count: 2", "count: 3"))
    code, ex, _, _ = run(proj)
    assert code == 0 and ex.ran == ["counted"]
    after = snapshot(proj.reports)
    assert after["hello-en.html"] == before["hello-en.html"]
    assert after["counted.html"] != before["counted.html"]


def test_changed_notebook_rebuilds_its_reports(proj):
    run(proj)
    nb = proj.notebooks / "hello.ipynb"
    nb.write_text(nb.read_text().replace("a number shown", "a figure shown"))
    code, ex, _, _ = run(proj)
    assert code == 0 and sorted(ex.ran) == sorted(ALL)


def test_changed_data_row_rebuilds_only_reports_that_read_it(proj):
    run(proj)
    figures = proj.data / "figures.csv"
    text = figures.read_text(encoding="utf-8")
    old = ",Knowledge-update training participants,"
    assert old in text
    figures.write_text(text.replace(old, ",Knowledge-update participants (revised),", 1), encoding="utf-8")
    code, ex, _, _ = run(proj)
    assert code == 0
    assert sorted(ex.ran) == ["counted", "hello-en", "hello-zh"]  # prog reads vocational-skills rows only


def test_missing_or_tampered_output_is_rebuilt(proj):
    run(proj)
    (proj.reports / "hello-zh.pdf").unlink()
    (proj.reports / "counted.html").write_text("edited by hand")
    code, ex, _, _ = run(proj)
    assert code == 0 and sorted(ex.ran) == ["counted", "hello-zh"]


def test_force_and_selection(proj):
    run(proj)
    assert sorted(run(proj, force=True)[1].ran) == sorted(ALL)
    assert sorted(run(proj, "hello-*", force=True)[1].ran) == ["hello-en", "hello-zh"]
    code, ex, _, err = run(proj, "nope")
    assert code == 2 and ex.ran == [] and "no report 'nope'" in err


def test_failing_report_keeps_old_one_writes_failed_and_exits_1(proj):
    run(proj)
    good = (proj.reports / "hello-en.html").read_bytes()
    manifest_before = json.loads(proj.manifest.read_text())["reports"]["hello-en"]
    nb = proj.notebooks / "hello.ipynb"
    nb.write_text(nb.read_text().replace("a number shown", "a figure shown"))
    code, ex, out, _ = run(proj, executor=FakeExecutor(fail={"hello-en"}), keep_going=True)
    assert code == 1
    assert sorted(ex.ran) == sorted(ALL)  # --keep-going: the others still built
    assert (proj.reports / "hello-en.html").read_bytes() == good
    assert json.loads(proj.manifest.read_text())["reports"]["hello-en"] == manifest_before
    assert "hello-en failed: cell 3: ValueError: boom" in out
    assert "cell 3" in (proj.failed / "hello-en.txt").read_text()
    assert (proj.failed / "hello-en.ipynb").is_file() and (proj.failed / "hello-en.html").is_file()

    code, ex, _, _ = run(proj)  # fixed: built again, the failure record goes away
    assert code == 0 and ex.ran == ["hello-en"]
    assert not (proj.failed / "hello-en.txt").exists() and not (proj.failed / "hello-en.ipynb").exists()


def test_without_keep_going_nothing_new_is_scheduled_after_a_failure(proj):
    code, ex, out, _ = run(proj, executor=FakeExecutor(fail={"hello-en"}), jobs=1)
    assert code == 1 and ex.ran == ["hello-en"]
    assert "3 not run" in out
    assert not (proj.reports / "hello-zh.html").exists()


@pytest.mark.parametrize("bad", BAD, ids=lambda b: b.stem)
def test_bad_catalogue_or_parameters_exit_2_before_any_kernel(proj, bad):
    shutil.copy(bad, proj.catalogue)
    code, ex, _, err = run(proj)
    assert code == 2 and ex.ran == []
    assert bad.read_text().splitlines()[0].removeprefix("# expect: ") in err
    assert not proj.manifest.exists()


def test_unknown_programme_is_bad_input(proj):
    proj.catalogue.write_text(CATALOGUE.replace("programme: vocational-skills", "programme: nonexistent"))
    code, ex, _, err = run(proj)
    assert code == 2 and ex.ran == [] and "report 'prog'" in err and "nonexistent" in err


def test_invalid_data_exit_2_with_file_row_column(proj):
    figures = proj.data / "figures.csv"
    figures.write_text(
        figures.read_text(encoding="utf-8").replace(",2520000,", ",lots,", 1), encoding="utf-8"
    )
    code, ex, _, err = run(proj)
    assert code == 2 and ex.ran == []
    assert "data/figures.csv:2:value" in err


def test_a_check_that_cannot_be_evaluated_is_refused_before_any_kernel(proj):
    assert run(proj)[0] == 0  # valid data, remembered as valid (talentbrief.memo): the YAML is part of that
    checks = proj.checks
    checks.write_text(checks.read_text(encoding="utf-8").replace(
        "figure: chemnews22-exam-passes", "figure: chemnews22-exam-passess"), encoding="utf-8")
    code, ex, _, err = run(proj, force=True)
    assert code == 2 and ex.ran == []
    assert "data/checks.yml:" in err and "check 'exam-bounds': unknown figure id 'chemnews22-exam-passess'" in err


def test_as_of_override_changes_parameters_and_cache_key(proj):
    run(proj)
    code, ex, _, _ = run(proj, as_of="2027-01-31")
    assert code == 0 and sorted(ex.ran) == sorted(ALL)
    assert json.loads(proj.manifest.read_text())["reports"]["prog"]["as_of"] == "2027-01-31"
    assert run(proj, as_of="2027-01-31")[1].ran == []
    code, ex, _, err = run(proj, as_of="31/01/2027")
    assert code == 2 and ex.ran == [] and "--as-of" in err


def test_dask_executor_without_dask_says_what_to_install(proj, monkeypatch):
    real = build.importlib.util.find_spec
    monkeypatch.setattr(build.importlib.util, "find_spec", lambda n, *a: None if n == "dask" else real(n, *a))
    code = build.run_build(proj, executor="dask", out=io.StringIO(), err=(err := io.StringIO()))
    assert code == 2 and "make dask" in err.getvalue() and "requirements-dask.lock" in err.getvalue()


def test_concurrent_builds_serialise_on_the_lock(proj):
    slow = FakeExecutor(delay=0.3)
    results = {}

    def first():
        results["first"] = run(proj, executor=slow, jobs=1)

    t = threading.Thread(target=first)
    t.start()
    while not proj.build_lock.exists() or not slow.ran:
        time.sleep(0.02)
    code, ex, _, err = run(proj)  # no --wait: refuses
    assert code == 1 and ex.ran == [] and "another build" in err
    code, ex, out, err = run(proj, wait=True)  # waits, then finds everything done
    t.join()
    assert "waiting" in err
    assert code == 0 and ex.ran == [] and "0 built, 4 up to date" in out
    assert results["first"][0] == 0 and sorted(slow.ran) == sorted(ALL)


def test_list_shows_status(proj):
    run(proj, executor=FakeExecutor(fail={"counted"}), keep_going=True)
    (proj.reports / "hello-zh.html").unlink()
    proj.catalogue.write_text(proj.catalogue.read_text().replace("vocational-skills", "knowledge-update"))
    out = io.StringIO()
    assert build.run_list(proj, out=out) == 0
    status = dict(line.split(None, 1) for line in out.getvalue().splitlines())
    assert status == {"hello-en": "up to date", "hello-zh": "missing", "counted": "failed", "prog": "stale"}


def test_cli_refuses_bad_id_without_starting_anything(proj):
    proj.catalogue.write_text("reports:\n  - {id: ../../etc/x, notebook: notebooks/hello.ipynb}\n")
    result = run_cli(proj.root, "build")
    assert result.returncode == 2
    assert "bad id '../../etc/x'" in result.stderr
    assert not proj.manifest.exists() and not any(proj.reports.glob("*.html"))


def test_corrupt_manifest_warns_then_rebuilds_what_it_cannot_vouch_for(proj):
    run(proj)
    proj.manifest.write_text('{"version": 1, "reports": {"hello-en": ')  # truncated by a full disk
    code, ex, _, err = run(proj)
    assert code == 0 and sorted(ex.ran) == sorted(ALL)
    assert err.count("\n") == 1 and "warning" in err and "manifest.json is unreadable" in err
    assert sorted(json.loads(proj.manifest.read_text())["reports"]) == sorted(ALL)


@pytest.mark.parametrize("kind", ["folder", "symlink"])
def test_lock_path_not_a_plain_file_is_one_line_exit_2(proj, tmp_path, kind):
    proj.reports.mkdir(exist_ok=True)
    target = tmp_path / "elsewhere"
    proj.build_lock.mkdir() if kind == "folder" else proj.build_lock.symlink_to(target)
    result = run_cli(proj.root, "build", "--executor", "local", timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and f"is a {kind}" in result.stderr
    assert "Traceback" not in result.stderr and not target.exists()


def test_reports_folder_not_writable_is_one_line_exit_2(proj, monkeypatch):
    proj.reports.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        proj.reports.chmod(0o555)
    else:  # root writes anywhere: refuse as the kernel would for anyone else
        real_open = os.open

        def refusing(path, *args, **kw):
            if str(path).startswith(str(proj.reports)):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kw)

        monkeypatch.setattr(os, "open", refusing)
    try:
        code, ex, _, err = run(proj)
    finally:
        proj.reports.chmod(0o755)
    assert code == 2 and ex.ran == []
    assert err == f"talentbrief: cannot write to {proj.build_lock}: Permission denied\n"


def test_report_whose_programme_has_no_figures_is_refused(proj):
    rewrite_csv(
        proj.data / "figures.csv",
        lambda rows: rows.__setitem__(
            slice(None), [r for r in rows if r["programme_id"] != "vocational-skills"]
        ),
    )
    code, ex, _, err = run(proj)
    assert code == 2 and ex.ran == []
    assert "report 'prog': programme 'vocational-skills' has no figures in data/figures.csv" in err
    result = run_cli(proj.root, "validate")
    assert (
        result.returncode == 2
        and "report 'prog': programme 'vocational-skills' has no figures" in result.stderr
    )


def test_limits_come_from_the_command_line_and_each_entry_may_override_them(proj):
    proj.catalogue.write_text(
        CATALOGUE.replace(
            "    grid: {lang: [en, zh]}", "    grid: {lang: [en, zh]}\n    timeout: 30\n    max_memory: 512"
        )
    )
    code, ex, _, _ = run(proj, limits=Limits(timeout=60, max_output=5, max_memory=1000))
    assert code == 0
    assert ex.limits["hello-zh"] == Limits(timeout=30, max_output=5, max_memory=512)
    assert ex.limits["counted"] == Limits(timeout=60, max_output=5, max_memory=1000)
    code, ex, _, _ = run(proj, force=True)
    assert ex.limits["counted"] == Limits()  # the defaults docs/operations.md states
    assert Limits() == Limits(timeout=900, max_output=50, max_memory=4096)


@pytest.mark.parametrize("bad_id", ["index", "manifest", "a" * 300])
def test_list_refuses_reserved_and_overlong_ids_in_one_line(proj, bad_id):
    proj.catalogue.write_text(CATALOGUE.replace("id: counted", f"id: {bad_id}"))
    out, err = io.StringIO(), io.StringIO()
    assert build.run_list(proj, out=out, err=err) == 2
    assert out.getvalue() == "" and err.getvalue().count("\n") == 1 and "bad id" in err.getvalue()


def test_html_only_build_then_a_full_build_adds_the_pdfs(proj):
    """The preview's HTML pass (formats=("html",)) must not make a later complete build skip the PDFs."""
    code, ex, _, err = run(proj, formats=("html",))
    assert code == 0, err
    assert sorted(ex.ran) == sorted(ALL)
    assert not list(proj.reports.glob("*.pdf"))
    again, ex2, _, _ = run(proj, formats=("html",))
    assert again == 0 and ex2.ran == []  # the HTML is up to date
    full, ex3, _, _ = run(proj)
    assert full == 0 and sorted(ex3.ran) == sorted(ALL)
    assert all((proj.reports / f"{rid}.pdf").is_file() for rid in ALL)
    assert run(proj)[1].ran == []


def test_undoing_a_broken_edit_clears_the_stale_failure(proj):
    """A report up to date again (its last good inputs restored) has no failure record left."""
    assert run(proj, "counted")[0] == 0
    notebook = proj.root / "notebooks" / "hello.ipynb"
    good = notebook.read_bytes()
    notebook.write_bytes(good + b"\n")  # another hash: the report is stale, and this time it fails
    code, *_ = run(proj, "counted", executor=FakeExecutor(fail={"counted"}))
    assert code == 1 and (proj.failed / "counted.txt").is_file()
    notebook.write_bytes(good)  # undone
    code, ex, out, _ = run(proj, "counted")
    assert code == 0 and ex.ran == [] and "1 up to date" in out
    assert not (proj.failed / "counted.txt").exists() and not (proj.failed / "counted.ipynb").exists()


def test_list_shows_an_entry_build_would_refuse_as_invalid_with_the_reason(project):
    catalogue = project / "reports.yml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + """
  - id: overview-fr
    notebook: notebooks/overview.ipynb
    parameters:
      lang: fr
""", encoding="utf-8")
    result = run_cli(project, "list", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in result.stdout.splitlines()}
    assert lines["overview-fr"] == "invalid: report 'overview-fr': parameter 'lang' must be one of en, zh, got 'fr'"
    assert lines["overview-en"] == "missing"  # valid and not built yet


def test_editing_a_module_that_cannot_change_a_report_rebuilds_nothing(project):
    result = run_cli(project, "build", "programme-vocational-skills-en", "overview-en", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    for module in ("doctor.py", "preview.py", "cli.py", "dask_executor.py", "diff.py"):
        path = project / "src" / "talentbrief" / module
        path.write_text(path.read_text(encoding="utf-8") + "\n# an edit no report can see\n", encoding="utf-8")
    again = run_cli(project, "build", "programme-vocational-skills-en", "overview-en")
    assert again.returncode == 0 and "0 built, 2 up to date" in again.stdout + again.stderr, again.stdout
    text = project / "src" / "talentbrief" / "text.py"  # the report side: every report it words rebuilds
    text.write_text(text.read_text(encoding="utf-8") + "\n# an edit of the report side\n", encoding="utf-8")
    third = run_cli(project, "build", "programme-vocational-skills-en", "overview-en")
    assert third.returncode == 0 and "2 built, 0 up to date" in third.stdout + third.stderr, third.stdout


def test_editor_droppings_are_never_inputs(project):
    (project / "data" / ".figures.csv.swp").write_bytes(b"swap")
    (project / "notebooks" / "overview.ipynb~").write_bytes(b"backup")
    names = [name for name, _ in paths.input_files(project)]
    assert "data/.figures.csv.swp" not in names and "notebooks/overview.ipynb~" not in names
    assert "data/figures.csv" in names
