"""talentbrief.validate: the shipped data passes; each bad-input case reports exactly its problems."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from talentbrief import load as tb_load
from talentbrief.paths import Paths
from talentbrief.validate import DataError, Problem, ensure_valid, validate
from tests.support.project import SEEDS, run_cli

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

BAD = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir())


def expected(case: str) -> list[tuple[str, str]]:
    """(file:row:column, message fragment) for each line of the case's expected.txt."""
    lines = (BAD / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split(": ", 1)) for line in lines if line and not line.startswith("#")]


def apply_case(root: Path, case: str) -> Path | None:
    """Overlay the case's files on the project copy; return its sources dir, if it has one."""
    shutil.copytree(BAD / case / "data", root / "data", dirs_exist_ok=True)
    sources = BAD / case / "sources"
    return sources if sources.is_dir() else None


def location(problem: Problem) -> str:
    return str(problem).split(": ", 1)[0]


def test_shipped_data_is_valid(data_root):
    assert validate(Paths(data_root)) == []


def test_shipped_data_matches_the_seed_articles(data_root):
    assert SEEDS.is_dir(), f"the source articles are expected in {SEEDS}"
    assert validate(Paths(data_root), SEEDS) == []


def test_corpus_covers_the_acceptance_cases():
    required = {
        "non-utf8",
        "missing-column",
        "unknown-column",
        "non-numeric-value",
        "negative-value",
        "unknown-qualifier",
        "unknown-status",
        "duplicate-figure-id",
        "dangling-source-id",
        "dangling-programme-id",
        "bad-date",
        "period-end-before-start",
        "quote-not-in-source",
        "sha256-mismatch",
        "inferred-unknown-field",
        "inferred-source-unknown-field",
        "restates-unknown-id",
        "restates-invalid",
        "part-of-invalid",
        "quote-translation-missing",
        "inferred-programme-unknown-field",
    }
    assert required <= set(CASES)
    assert all(expected(case) for case in CASES)


@pytest.mark.parametrize("case", CASES)
def test_bad_case_reports_every_problem_and_nothing_else(data_root, case):
    sources = apply_case(data_root, case)
    problems = validate(Paths(data_root), sources)
    want = expected(case)
    assert sorted(location(p) for p in problems) == sorted(loc for loc, _ in want)
    by_location = {}
    for p in problems:  # one cell may have several problems
        by_location.setdefault(location(p), []).append(p.message)
    for loc, fragment in want:
        assert any(fragment in m for m in by_location[loc]), (loc, by_location[loc])


@pytest.mark.parametrize("case", CASES)
def test_bad_case_stops_the_loader_and_the_build_gate(data_root, case):
    sources = apply_case(data_root, case)
    with pytest.raises(DataError) as raised:
        ensure_valid(Paths(data_root), sources)
    assert raised.value.problems and all(str(p) in str(raised.value) for p in raised.value.problems)
    if sources is None:  # the loader validates without sources: only these cases reach it
        with pytest.raises(DataError):
            tb_load.load(data_root)


@pytest.mark.parametrize("case", CASES)
def test_cli_exits_2_and_prints_each_problem(data_root, case):
    sources = apply_case(data_root, case)
    result = run_cli(data_root, "validate", *(["--sources", str(sources)] if sources else []))
    assert result.returncode == 2, result.stderr
    printed = result.stderr.splitlines()
    for loc, _ in expected(case):
        assert any(line.startswith(loc + ": ") for line in printed), (loc, result.stderr)
    assert result.stdout == ""


def test_cli_prints_a_summary_and_exits_0_on_good_data(project):
    result = run_cli(project, "validate", "--sources", str(SEEDS))
    assert result.returncode == 0, result.stderr
    counts = {
        name: len((project / "data" / f"{name}.csv").read_text(encoding="utf-8").splitlines()) - 1
        for name in ("sources", "programmes", "figures")
    }
    assert result.stdout.startswith(
        f"OK: {counts['sources']} sources, {counts['programmes']} programmes, {counts['figures']} figures"
    )
    assert result.stderr == ""


def test_problem_prints_as_file_row_column_message():
    assert str(Problem("data/figures.csv", 7, "value", "bad")) == "data/figures.csv:7:value: bad"
    assert (
        str(Problem("data/figures.csv", None, "", "file not found")) == "data/figures.csv::: file not found"
    )


def test_missing_file_is_named(data_root):
    (data_root / "data" / "programmes.csv").unlink()
    assert [str(p) for p in validate(Paths(data_root))] == ["data/programmes.csv::: file not found"]


def test_byte_order_mark_is_reported(data_root):
    path = data_root / "data" / "sources.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [location(p) for p in validate(Paths(data_root))] == ["data/sources.csv:1:"]


def test_row_is_the_editor_line_when_a_cell_spans_lines(data_root):
    path = data_root / "data" / "figures.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["note"] = "first line\nsecond line"  # record 2 now spans editor lines 2-3
    rows[2]["unit"] = "people"  # record 4 starts on editor line 5
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert [location(p) for p in validate(Paths(data_root))] == ["data/figures.csv:5:unit"]


def test_datapackage_passes_the_frictionless_tool(data_root):
    """Acceptance 3: any Frictionless-aware tool can read the data."""
    tool = Path(sys.executable).with_name("frictionless")
    result = subprocess.run(
        [str(tool), "validate", "data/datapackage.json"],
        check=False,
        cwd=data_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    broken = data_root / "data" / "figures.csv"
    broken.write_text(broken.read_text(encoding="utf-8").replace(",persons,", ",-1,", 1), encoding="utf-8")
    result = subprocess.run(
        [str(tool), "validate", "data/datapackage.json"],
        check=False,
        cwd=data_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
