"""`talentbrief diff`: the pieces (visible text, table rows, side-by-side rows) on small inputs, then the
command on a temporary git repository of the project with two commits (one figure's value and one
overview sentence changed), run through the CLI as a user would, and its --html page in Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from talentbrief import review, tablediff, textview
from talentbrief.diff import DiffError, compare_charts, resolve
from talentbrief.paths import cache_dir
from talentbrief.textview import Chart
from tests.support.browser import browser, close, open_file, run_axe  # noqa: F401  (browser is a fixture)
from tests.support.project import copy_project, rewrite_csv, run_cli

pytestmark = pytest.mark.timeout(900)

FIGURE = "chemnews22-skilled-talents-trained"
OLD_EN, NEW_EN = "official and press sources report", "official and media sources report"
OLD_ZH, NEW_ZH = "官方和媒体来源发布的", "官方和新闻媒体来源发布的"


# --- visible text -------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Head title</title><style>p{color:red}</style></head>
<body><header><p>kicker</p><h1>The   title</h1></header><script>var x = "<p>no</p>";</script>
<main><p>First <b>bold</b>
 sentence.</p><div hidden><p>hidden text</p></div>
<table><thead><tr><th>Figure</th><th>Value</th></tr></thead>
<tbody><tr><th>Trained</th><td>more than 2.52 million<sup>1</sup></td></tr></tbody></table>
<figure class="tb-chart" data-figure-ids="a b"><img src="data:image/png;base64,AAAA" alt="Chart title. a: 1 (achieved).">
<figcaption>Source: X.</figcaption></figure><ul><li>one</li><li>two &amp; three</li></ul>
<figure class="tb-chart" data-figure-ids="c"><img src="data:image/png;base64,BBBB" alt="标题。c：1。"></figure>
</main></body></html>"""


def test_visible_text_is_line_by_line_without_script_style_head_or_hidden():
    lines, charts = textview.read(PAGE)
    assert lines == [
        "kicker", "# The title", "First bold sentence.", "Figure | Value", "Trained | more than 2.52 million1",
        "[chart] Chart title", "Source: X.", "- one", "- two & three", "[chart] 标题",
    ]
    assert [c.title for c in charts] == ["Chart title", "标题"]
    assert [c.figure_ids for c in charts] == [("a", "b"), ("c",)]
    assert charts[0].image != charts[1].image
    assert textview.visible_text(PAGE) == lines  # deterministic: the same page, the same lines


def test_charts_compare_by_title_image_and_ids():
    a, b = Chart("T", ("x",), "1"), Chart("U", ("y",), "2")
    assert compare_charts([a, b], [a, b]) == []
    changes = compare_charts([a, b], [Chart("T", ("x",), "9"), Chart("V", ("z",), "3")])
    assert [(c.kind, c.title, c.figure_ids) for c in changes] == [
        ("changed", "T", ("x",)), ("added", "V", ("z",)), ("removed", "U", ("y",))]


# --- table rows ---------------------------------------------------------------------------------------


def _data(folder: Path, figures: str, extra: str | None = None) -> Path:
    folder.mkdir(parents=True)
    schema = {"fields": [{"name": n} for n in ("figure_id", "source_id", "value", "quote")],
              "primaryKey": ["figure_id"],
              "foreignKeys": [{"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}}]}
    package = {"resources": [{"name": "figures", "path": "figures.csv", "schema": schema}]}
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    (folder / "figures.csv").write_text(figures, encoding="utf-8")
    if extra is not None:
        (folder / "notes.csv").write_text(extra, encoding="utf-8")
    return folder


def test_table_changes_field_by_field_with_the_source(tmp_path):
    head = "figure_id,source_id,value,quote\n"
    old = _data(tmp_path / "old", head + "f1,s1,100,about 100\nf2,s1,5,five\n", "k,v\na,1\n")
    new = _data(tmp_path / "new", head + 'f1,s2,120,"about 120, ""so"""\nf3,s3,7,seven\n', "k,v\na,2\n")
    changes = {t.name: t for t in tablediff.compare(old, new)}
    rows = {r.key: r for r in changes["figures"].rows}
    assert rows["f1"].kind == "changed"
    assert rows["f1"].fields == [("source_id", "s1", "s2"), ("value", "100", "120"), ("quote", "about 100", 'about 120, "so"')]
    assert rows["f1"].refs == {"source_id": "s2"}
    assert (rows["f2"].kind, rows["f2"].refs) == ("removed", {"source_id": "s1"})
    assert (rows["f3"].kind, rows["f3"].refs) == ("added", {"source_id": "s3"})
    assert [r.fields for r in changes["notes"].rows] == [[("v", "1", "2")]]  # a CSV outside the datapackage
    assert tablediff.compare(old, old) == []


# --- the review page ----------------------------------------------------------------------------------


def test_side_by_side_marks_changed_words_and_skips_unchanged_lines():
    old = [f"line {i}" for i in range(10)]
    new = list(old)
    new[5] = "line 5 now longer"
    rows = review.side_by_side(old, new, context=1)
    assert [r["kind"] for r in rows] == ["skip", "equal", "replace", "equal", "skip"]
    assert rows[2]["left"] == [("line 5", False)]
    assert rows[2]["right"] == [("line 5", False), (" now longer", True)]
    assert (rows[2]["old_no"], rows[2]["new_no"]) == (6, 6)
    zh = review.side_by_side(["官方和媒体来源"], ["官方和新闻媒体来源"])
    assert zh[0]["right"] == [("官方和", False), ("新闻", True), ("媒体来源", False)]


def test_review_page_escapes_data_text():
    from talentbrief.diff import ReportChange, Result, Side
    from talentbrief.paths import Paths

    evil = '<script>alert(1)</script>'
    result = Result(
        Side("HEAD", Paths(Path("/x"))), Side("working tree", Paths(Path("/y"))),
        [tablediff.TableChange("figures", "changed", [tablediff.RowChange("changed", "f1", {}, [("quote", "a", evil)])])],
        [ReportChange("r-en", "changed", "en", evil, ["x"], [evil])],
    )
    html = review.page(result)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- bad input ----------------------------------------------------------------------------------------


def test_not_a_git_checkout_is_bad_input(project):
    with pytest.raises(DiffError, match="not in a git checkout"):
        resolve(project, "HEAD")
    result = run_cli(project, "diff")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not in a git checkout" in result.stderr
    assert list((project / "reports").iterdir()) == []


# --- the command on a two-commit repository -----------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True).stdout


def _edit_notebook(path: Path, old: str, new: str) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    hits = 0
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if old in text:
            cell["source"] = text.replace(old, new)
            hits += 1
    assert hits == 1, f"{old!r} is in {hits} cells of {path.name}"
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _change_figure(rows):
    (row,) = [r for r in rows if r["figure_id"] == FIGURE]
    assert row["value"] == "2520000"
    row["value"] = "2530000"
    row["quote"] = row["quote"].replace("2.52 million", "2.53 million")  # the quote must hold the value


class Runs:
    """The repository and what two runs of `diff HEAD~1 --html` printed, with their times."""

    def __init__(self, root: Path, page: Path, first, second, times):
        self.root, self.page, self.first, self.second, self.times = root, page, first, second, times


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    root = copy_project(tmp_path_factory.mktemp("diff") / "project")
    (root / ".gitignore").write_text("/reports/\n", encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    rewrite_csv(root / "data" / "figures.csv", _change_figure)
    _edit_notebook(root / "notebooks" / "overview.ipynb", OLD_EN, NEW_EN)
    _edit_notebook(root / "notebooks" / "overview.ipynb", OLD_ZH, NEW_ZH)
    _git(root, "commit", "-qam", "two")
    page = root.parent / "review.html"
    results, times = [], []
    for _ in range(2):
        started = time.monotonic()
        results.append(run_cli(root, "diff", "HEAD~1", "--html", str(page), timeout=1500))
        times.append(time.monotonic() - started)
    print(f"\ndiff HEAD~1: first run {times[0]:.1f} s, second run {times[1]:.1f} s")
    return Runs(root, page, *results, times)


def _sections(stdout: str) -> dict[str, str]:
    """Each changed report's part of the output (its text diff and chart lines), by report id."""
    parts = re.split(r"^\w+ report (\S+) \(\w+\): .*$", stdout, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def _statuses(stdout: str) -> dict[str, str]:
    return {m[2]: m[1] for m in re.finditer(r"^  (added|removed|changed|unchanged) +(\S+) \((\w+)\)$", stdout, re.MULTILINE)}


def _built(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in folder.glob("*.html") if p.stem != "index"}


def _pages(runs: Runs) -> tuple[dict[str, str], dict[str, str]]:
    """Both sides' built HTML, read straight from the diff's cache folders (the suite's own cache,
    conftest._private_memo), not through the text extractor."""
    sha = _git(runs.root, "rev-parse", "HEAD~1").strip()
    (tree,) = (cache_dir() / "diff").glob("tree-*")
    return _built(cache_dir() / "diff" / sha / "reports"), _built(tree / "reports")


CHART_IMAGES = re.compile(r'<figure class="tb-chart"[^>]*>\s*<img\b(?:[^>"]|"[^"]*")*?\ssrc="([^"]+)"')


def test_changes_exit_1_with_the_figure_field_change(runs):
    assert runs.first.returncode == 1, runs.first.stderr
    out = runs.first.stdout
    assert re.search(rf"^    changed +{FIGURE} +\(source_id chemnews-2022-miit-talent, programme_id vocational-skills\)$",
                     out, re.MULTILINE), out
    assert '        value: "2520000" -> "2530000"' in out
    assert "2.52 million skilled talents\" -> \"has trained more than 2.53 million" in out
    assert out.index("Data:") < out.index("Reports:")


def test_the_sentence_changes_in_exactly_the_reports_that_show_it(runs):
    sections = _sections(runs.first.stdout)
    shows = {rid for rid, s in sections.items() if re.search(rf"^-.*{OLD_EN}", s, re.MULTILINE)
             and re.search(rf"^\+.*{NEW_EN}", s, re.MULTILINE)}
    shows_zh = {rid for rid, s in sections.items() if re.search(rf"^-.*{OLD_ZH}", s, re.MULTILINE)
                and re.search(rf"^\+.*{NEW_ZH}", s, re.MULTILINE)}
    old, new = _pages(runs)
    assert shows == {rid for rid, html in old.items() if OLD_EN in html} == {"overview-en"}
    assert shows_zh == {rid for rid, html in old.items() if OLD_ZH in html} == {"overview-zh"}
    assert {rid for rid, html in new.items() if NEW_EN in html or NEW_ZH in html} == shows | shows_zh


def test_the_figure_changes_in_exactly_the_reports_that_show_it(runs):
    sections, statuses = _sections(runs.first.stdout), _statuses(runs.first.stdout)
    old, new = _pages(runs)
    phrases = {"en": ("more than 2.52 million people", "more than 2.53 million people"), "zh": ("252万余人", "253万余人")}
    for lang, (before, after) in phrases.items():
        expected = {rid for rid, html in old.items() if before in html and rid.endswith(f"-{lang}")}
        assert expected, f"no {lang} report shows {before!r}"
        shown = {rid for rid, s in sections.items()
                 if re.search(rf"^-.*{before}", s, re.MULTILINE) and re.search(rf"^\+.*{after}", s, re.MULTILINE)}
        assert shown == expected
    charted = {rid for rid, s in sections.items() if re.search(rf"^chart changed: .*\(figures: .*{FIGURE}", s, re.MULTILINE)}
    changed = {rid for rid, status in statuses.items() if status == "changed"}
    assert len(statuses) == 22
    assert changed == set(sections) == {rid for rid in old if old[rid] != new[rid]}
    redrawn = {rid for rid in old if CHART_IMAGES.findall(old[rid]) != CHART_IMAGES.findall(new[rid])}
    assert charted == redrawn
    assert {"overview-en", "overview-zh", "programme-vocational-skills-en", "programme-vocational-skills-zh"} <= changed


def test_second_diff_builds_nothing_and_prints_the_same(runs):
    assert "built 22 reports of HEAD~1" in runs.first.stderr and "and 22 of the working tree" in runs.first.stderr
    assert re.search(r"built 0 reports of HEAD~1 \(\w+\) and 0 of the working tree", runs.second.stderr), runs.second.stderr
    assert (runs.second.returncode, runs.second.stdout) == (runs.first.returncode, runs.first.stdout)
    assert runs.times[1] < runs.times[0] / 3


def test_reports_folder_is_never_touched(runs):
    assert not (runs.root / "reports").exists() or list((runs.root / "reports").iterdir()) == []


def test_no_change_exits_0(runs):
    _git(runs.root, "checkout", "HEAD~1", "--", "data", "notebooks")
    try:
        result = run_cli(runs.root, "diff", "HEAD~1", timeout=900)
    finally:
        _git(runs.root, "checkout", "HEAD", "--", "data", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Data: no change" in result.stdout
    assert set(_statuses(result.stdout).values()) == {"unchanged"}


def test_unknown_revision_exits_2_with_one_line(runs):
    result = run_cli(runs.root, "diff", "no-such-rev", timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["talentbrief: diff: unknown revision 'no-such-rev' (see: git log --oneline)"]


def test_a_failing_report_is_named_in_one_line(runs):
    nb_path = runs.root / "notebooks" / "audit.ipynb"
    saved = nb_path.read_bytes()
    nb = json.loads(saved)
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "boom", "metadata": {},
                        "outputs": [], "source": "raise ValueError('boom in the audit')"})
    nb_path.write_text(json.dumps(nb), encoding="utf-8")
    try:
        result = run_cli(runs.root, "diff", "HEAD~1", timeout=900)
    finally:
        nb_path.write_bytes(saved)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert re.match(r"talentbrief: diff: working tree does not build: report audit-(en|zh) failed: .*boom in the audit", line), line


def test_review_page_offline_axe_clean_with_the_changed_figure(runs, browser):  # noqa: F811
    visit = open_file(browser, runs.page)
    try:
        assert visit.problems() == []
        serious = [v for v in run_axe(visit.page) if v["impact"] in ("serious", "critical")]
        assert serious == []
        page = visit.page
        row = page.locator("tr", has=page.locator("th", has_text=FIGURE)).filter(has_text="value")
        assert row.count() == 1 and row.is_visible()
        assert row.locator("td.tb-before").inner_text() == "2520000"
        assert row.locator("td.tb-after").inner_text() == "2530000"
        assert page.locator("#r-overview-zh ins", has_text="新闻").first.is_visible()
        assert page.locator("#r-overview-en del", has_text="press").first.is_visible()
        external = page.evaluate("() => Array.from(document.querySelectorAll('[src],[href]'))"
                                 ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
                                 ".filter(u => !u.startsWith('#'))")
        assert external == []
    finally:
        close(visit)


def test_an_unwritable_html_file_exits_2_with_one_line(runs):
    result = run_cli(runs.root, "diff", "HEAD~1", "--html", str(runs.root / "reports.yml" / "review.html"), timeout=900)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("talentbrief: diff: cannot write ") and "reports.yml" in line, result.stderr
    assert result.stdout == ""
