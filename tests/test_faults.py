"""Builds under stress: kill -9, concurrent builds, failing notebooks, changed and bad data, --jobs.

Each test works on its own temporary copy of the project with a small selection of reports, so the
whole file stays within a few minutes. Processes started here are killed by pid (their process group,
and any kernel whose JPY_PARENT_PID is one of them), never by name.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.support.processes import still_alive
from tests.support.project import rewrite_csv, run_cli
from tests.support.reports import load_manifest, manifest_reports, output_files, sha256

SMALL = ["overview-en", "audit-en"]
KILL_TARGET = "overview-en"


# --- helpers ------------------------------------------------------------------------------------------


def _env() -> dict:
    env = dict(os.environ)
    env.pop("TALENTBRIEF_ROOT", None)
    return env


def start_build(root: Path, *args: str) -> subprocess.Popen:
    """`talentbrief build ARGS` in its own process group (so the test can kill the whole build)."""
    return subprocess.Popen(
        [sys.executable, "-m", "talentbrief", "--root", str(root), "build", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=root,
        start_new_session=True,
    )


def _tree(pid: int) -> set[int]:
    try:
        proc = psutil.Process(pid)
        return {pid, *(c.pid for c in proc.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def kill_build(proc: subprocess.Popen) -> None:
    """SIGKILL the build's process group, then any kernel or worker it started that escaped the group."""
    started = _tree(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    _reap_orphans(started)


def _reap_orphans(started: set[int]) -> None:
    """Kill what the build left running (by pid), and wait briefly until it is gone (zombies count as gone)."""
    victims = []
    for p in psutil.process_iter(["pid"]):
        try:
            parent = p.environ().get("JPY_PARENT_PID")
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        if p.pid in started or (parent and parent.isdigit() and int(parent) in started):
            victims.append(p)
    for p in victims:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    still_alive(victims, timeout=10)


def build_ok(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    result = run_cli(root, "build", *args, timeout=timeout)
    assert result.returncode == 0, (
        f"build {args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


def recorded_outputs(root: Path) -> dict[Path, str]:
    """Every output file the manifest lists, with the sha256 it records."""
    out: dict[Path, str] = {}
    for rid, entry in manifest_reports(load_manifest(root)).items():
        out.update(output_files(root, rid, entry))
    return out


def assert_outputs_match_manifest(root: Path) -> dict[Path, str]:
    outputs = recorded_outputs(root)
    assert outputs, "the manifest lists no outputs"
    for path, digest in outputs.items():
        assert path.is_file(), f"manifest lists {path.name}, which is missing"
        assert sha256(path) == digest, f"{path.name} does not match the sha256 the manifest records"
    return outputs


def assert_parses(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:], f"{path.name} is not a whole PDF"
        from pypdf import PdfReader

        assert len(PdfReader(str(path)).pages) > 0, f"{path.name} has no pages"
    else:
        text = data.decode("utf-8")
        assert text.lstrip().lower().startswith("<!doctype html"), f"{path.name} does not start as HTML"
        assert text.rstrip().lower().endswith("</html>"), f"{path.name} is cut short"


def built_at(root: Path) -> dict[str, str]:
    return {rid: e.get("built_at") for rid, e in manifest_reports(load_manifest(root)).items()}


def list_status(root: Path) -> dict[str, str]:
    result = run_cli(root, "list", timeout=300)
    assert result.returncode == 0, f"talentbrief list exited {result.returncode}:\n{result.stderr}"
    status = {}
    for line in result.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            status[parts[0]] = parts[1].strip()
    return status


# --- kill -9 ------------------------------------------------------------------------------------------


def test_sigkill_at_random_points_loses_no_report(project):
    """Kill the whole build (parent, workers, kernels) at random points; nothing previously built is lost.

    Each attempt builds with another --as-of, so the report's bytes change and the store really writes;
    half the kills aim at the end of the build, where the writes happen.
    """
    seed = int(os.environ.get("TB_FAULT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    t0 = time.monotonic()
    build_ok(project, KILL_TARGET, "--jobs", "1", "--quiet")
    duration = time.monotonic() - t0
    previous = list(assert_outputs_match_manifest(project))
    previous += [project / "reports" / "index.html"]
    for attempt in range(4):
        if attempt % 2:
            delay = rng.uniform(0.75 * duration, 1.05 * duration)
        else:
            delay = rng.uniform(0.5, max(1.0, duration))
        as_of = f"2026-10-{10 + attempt:02d}"
        proc = start_build(project, KILL_TARGET, "--force", "--jobs", "1", "--as-of", as_of)
        time.sleep(delay)
        finished = proc.poll() is not None
        kill_build(proc)
        where = f"(seed {seed}, attempt {attempt + 1}, killed after {delay:.2f} s{', had finished' if finished else ''})"
        manifest = project / "reports" / "manifest.json"
        assert manifest.is_file(), f"manifest.json vanished {where}"
        data = json.loads(manifest.read_text(encoding="utf-8"))  # valid JSON, never half-written
        # A kill while its files were being replaced leaves the entry under "pending" (vouched for by
        # nobody until the next build reconciles it): known either way, never forgotten.
        known = KILL_TARGET in manifest_reports(data) or KILL_TARGET in data.get("pending", {})
        assert known, f"the manifest forgot {KILL_TARGET} {where}"
        for path in previous:
            assert path.is_file(), f"{path.name} lost {where}"
            assert_parses(path)  # the old version or the new one, whole either way
    build_ok(project, KILL_TARGET, "--jobs", "1")
    assert_outputs_match_manifest(project)
    leftovers = [p.name for p in (project / "reports").rglob(".*.tmp")]
    assert not leftovers, f"temp files left after the next build: {leftovers}"


# An audit hook loaded into every Python process of a build (and its workers) through PYTHONPATH:
# it logs each open-for-writing and each rename that touches reports/.
AUDIT_SITECUSTOMIZE = r"""
import os, sys
_dir, _log = os.environ.get("TB_AUDIT_REPORTS"), os.environ.get("TB_AUDIT_LOG")
if _dir and _log:
    _fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    _WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def _abs(p):
        try:
            return os.path.abspath(os.fsdecode(p))
        except Exception:
            return ""

    def _hook(event, args):
        if event == "open" and not isinstance(args[0], int):
            mode, flags = args[1], args[2]
            writing = (isinstance(flags, int) and flags & _WRITE) or (mode and any(c in mode for c in "wax+"))
            path = _abs(args[0])
            if writing and path.startswith(_dir):
                os.write(_fd, ("open\t" + path + "\n").encode())
        elif event == "os.rename":
            dst = _abs(args[1])
            if dst.startswith(_dir):
                os.write(_fd, ("rename\t" + _abs(args[0]) + "\t" + dst + "\n").encode())

    sys.addaudithook(_hook)
"""


def test_outputs_are_written_atomically(project, tmp_path):
    """No final output is ever opened for writing: each appears by renaming a temp file in the same folder."""
    hook = tmp_path / "audit"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(AUDIT_SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "audit.log"
    reports = (project / "reports").resolve()
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH", "")])),
        "TB_AUDIT_REPORTS": str(reports),
        "TB_AUDIT_LOG": str(log),
    }
    for as_of in ("2026-10-01", "2026-10-02"):  # a first build, then one that replaces every file
        result = run_cli(project, "build", KILL_TARGET, "--jobs", "1", "--as-of", as_of, env=env)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    events = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    assert events, "the audit hook saw nothing (is sitecustomize loaded?)"
    finals = [
        reports / f"{KILL_TARGET}.html",
        reports / f"{KILL_TARGET}.pdf",
        reports / "manifest.json",
        reports / "index.html",
    ]
    direct = sorted({e[1] for e in events if e[0] == "open" and Path(e[1]) in finals})
    assert not direct, f"outputs opened for writing in place (not atomic): {direct}"
    for final in finals:
        renames = [e for e in events if e[0] == "rename" and Path(e[2]) == final]
        # the manifest twice per stored report: the entry set aside as pending, then recorded
        per_build = 2 if final.name == "manifest.json" else 1
        assert len(renames) == 2 * per_build, (
            f"{final.name}: expected {per_build} per build, saw {len(renames)}"
        )
        for _, src, _ in renames:
            assert Path(src).parent == final.parent, f"{final.name} renamed from another folder: {src}"
            assert Path(src) not in finals


# --- concurrency --------------------------------------------------------------------------------------


def test_concurrent_builds_do_not_corrupt(project):
    """Three builds at once: without --wait a build either runs or says another holds the lock; --wait waits."""
    first = start_build(project, KILL_TARGET, "--force", "--jobs", "1")
    second = start_build(project, KILL_TARGET, "--force", "--jobs", "1")
    waiter = start_build(project, KILL_TARGET, "--force", "--jobs", "1", "--wait")
    procs = (first, second, waiter)
    try:
        results = [proc.communicate(timeout=600) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_build(proc)
    codes = [proc.returncode for proc in procs]
    errs = [err for _, err in results]
    # Which build takes the lock first is a race (the --wait one may win and refuse both others);
    # the contract: a plain build either runs or is refused with a reason, the waiter always runs.
    for code, err in zip(codes[:2], errs[:2]):
        if code != 0:
            assert code == 1, f"a refused build exits 1, not {code}: {err}"
            assert re.search(r"another build", err, re.IGNORECASE), (
                f"the refused build does not say why: {err!r}"
            )
    assert codes[2] == 0, f"the build with --wait did not wait and succeed: {codes[2]}\n{errs[2]}"
    json.loads((project / "reports" / "manifest.json").read_text(encoding="utf-8"))
    for path in assert_outputs_match_manifest(project):
        assert_parses(path)


# --- determinism --------------------------------------------------------------------------------------


def test_jobs_1_gives_the_same_html_as_jobs_2_and_builds_are_reproducible(project, built_project):
    """--jobs 1 here against the session's full build (default --jobs = cores) in another folder, at another time."""
    build_ok(project, *SMALL, "--jobs", "1", "--quiet")
    one = {rid: (project / "reports" / f"{rid}.html").read_bytes() for rid in SMALL}
    if (os.cpu_count() or 1) >= 2:
        reference, how = built_project, "the session build (default --jobs, all reports)"
    else:  # one core: the default is --jobs 1, so build with --jobs 2 explicitly
        reference, how = project, "--jobs 2"
        build_ok(project, *SMALL, "--force", "--jobs", "2", "--quiet")
    for rid in SMALL:
        other = (reference / "reports" / f"{rid}.html").read_bytes()
        assert other == one[rid], f"{rid}.html built with --jobs 1 differs from {how}"
        assert str(project) not in one[rid].decode("utf-8"), f"{rid}.html leaks the build folder's path"


# --- a failing notebook -------------------------------------------------------------------------------


def _break_notebook(nb_path: Path) -> int:
    """Make the last code cell raise; return its 1-based position among all cells of the notebook."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    assert len(code) >= 2, f"{nb_path.name} has fewer than two code cells"
    index = code[-1]
    cell = nb["cells"][index]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + "\nraise RuntimeError('tb-test deliberate failure')\n"
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return index + 1


def test_failing_notebook_keeps_the_old_report(project):
    build_ok(project, *SMALL, "--jobs", "2", "--quiet")
    before = {p: p.read_bytes() for rid in SMALL for p in (project / "reports").glob(f"{rid}.*")}
    manifest_before = load_manifest(project)
    cell = _break_notebook(project / "notebooks" / "overview.ipynb")

    result = run_cli(project, "build", *SMALL, "--force", "--keep-going", "--jobs", "2", timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 1, f"exit {result.returncode}, expected 1:\n{out}"
    assert "overview-en" in out and "RuntimeError" in out, (
        f"the summary does not name report and error:\n{out}"
    )
    assert re.search(rf"\bcell\s*#?\s*{cell}\b", out), f"the summary does not name cell {cell}:\n{out}"
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path.name} changed although its notebook failed"
    failed = project / "reports" / "_failed"
    assert (failed / "overview-en.ipynb").is_file(), "no _failed/overview-en.ipynb"
    failed_html = failed / "overview-en.html"
    assert failed_html.is_file(), "no _failed/overview-en.html"
    page = failed_html.read_text(encoding="utf-8")
    assert "tb-test deliberate failure" in page and "RuntimeError" in page, (
        "the failure HTML hides the traceback"
    )
    entry = manifest_reports(load_manifest(project))["overview-en"]
    assert entry == manifest_reports(manifest_before)["overview-en"], (
        "the manifest entry of the failed report changed"
    )
    # --keep-going: the other report was still built
    assert built_at(project)["audit-en"] != manifest_reports(manifest_before)["audit-en"]["built_at"] or (
        "audit-en" in result.stdout and "built" in result.stdout
    ), "audit-en was not rebuilt with --keep-going"
    assert list_status(project).get("overview-en") == "failed"


# --- incremental: one changed row rebuilds exactly its readers ----------------------------------------


def test_one_row_change_rebuilds_only_its_readers(project):
    ids = ["overview-en", "programme-software-exams-en", "programme-vocational-skills-en"]
    build_ok(project, *ids, "--jobs", "2", "--quiet")
    stamps = built_at(project)
    mtimes = {p: p.stat().st_mtime_ns for p in (project / "reports").iterdir() if p.is_file()}

    # a no-op build runs nothing and rewrites nothing
    result = build_ok(project, *ids, "--jobs", "2")
    assert built_at(project) == stamps, "a no-op build rebuilt something"
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes, "a no-op build rewrote files"
    assert not re.search(r"^\S+\s+built\s", result.stdout, re.MULTILINE), (
        f"a no-op build built:\n{result.stdout}"
    )

    def touch(rows):
        hit = [r for r in rows if r["programme_id"] == "software-exams"]
        assert hit, "no software-exams figure"
        hit[0]["note"] = (hit[0]["note"] + " Checked again.").strip()

    rewrite_csv(project / "data" / "figures.csv", touch)
    status = list_status(project)
    expected = {"overview-en", "programme-software-exams-en"}
    for rid in ids:
        want = "stale" if rid in expected else "up to date"
        assert status.get(rid) == want, (
            f"after the change, list says {rid}: {status.get(rid)!r}, expected {want!r}"
        )
    time.sleep(1.1)  # built_at has one-second resolution
    build_ok(project, *ids, "--jobs", "2", "--quiet")
    after = built_at(project)
    rebuilt = {rid for rid in ids if after[rid] != stamps[rid]}
    assert rebuilt == expected, f"rebuilt {sorted(rebuilt)}, expected exactly {sorted(expected)}"


# --- bad data is refused before any kernel --------------------------------------------------------------


def test_bad_csv_value_refuses_to_start(project):
    path = project / "data" / "figures.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")

    def spoil(rows):
        rows[0]["value"] = "2.52 million"

    rewrite_csv(path, spoil)
    t0 = time.monotonic()
    result = run_cli(project, "build", *SMALL, "--jobs", "2", timeout=300)
    elapsed = time.monotonic() - t0
    assert result.returncode == 2, f"exit {result.returncode}, expected 2:\n{result.stdout}\n{result.stderr}"
    column = header.index("value")
    where = rf"figures\.csv:2:(value|{column}|{column + 1})\b"
    assert re.search(where, result.stderr), f"stderr does not point at figures.csv:2:value:\n{result.stderr}"
    written = [p.name for p in (project / "reports").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert not [n for n in written if n.endswith((".html", ".pdf", ".ipynb"))], f"reports written: {written}"
    assert not (project / "reports" / "manifest.json").exists(), "a refused build wrote a manifest"
    assert elapsed < 30, f"refusing bad data took {elapsed:.1f} s (did a kernel start?)"


# --- limits -------------------------------------------------------------------------------------------


def test_limits_fail_only_their_report_and_the_build_goes_on(project):
    """A notebook that sleeps past its entry's timeout and one that prints past --max-output each
    fail with _failed/<id>.txt naming the cell and the limit; the worker's next report still builds."""
    fixtures = Path(__file__).parent / "data"
    for nb in (fixtures / "render" / "hog.ipynb", fixtures / "notebooks" / "hello.ipynb"):
        (project / "notebooks" / nb.name).write_bytes(nb.read_bytes())
    (project / "reports.yml").write_text(
        "reports:\n"
        "  - {id: sleeper, notebook: notebooks/hog.ipynb, parameters: {mode: sleep}, formats: [html],"
        " timeout: 2}\n"
        "  - {id: printer, notebook: notebooks/hog.ipynb, parameters: {mode: print}, formats: [html]}\n"
        "  - {id: hello, notebook: notebooks/hello.ipynb, formats: [html]}\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = run_cli(
        project, "build", "--executor", "local", "-j", "1", "--keep-going", "--max-output", "2", timeout=300
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - started < 120
    failed = project / "reports" / "_failed"
    sleeper = (failed / "sleeper.txt").read_text()
    assert "failed in: cell 3" in sleeper and "timed out after 2 s" in sleeper
    printer = (failed / "printer.txt").read_text()
    assert "failed in: cell 3" in printer and "more than 2 MB of output" in printer
    assert "sleeper failed: cell 3: timed out after 2 s" in result.stdout
    assert (project / "reports" / "hello.html").is_file()
    assert sorted(manifest_reports(load_manifest(project))) == ["hello"]
