"""Notebooks are the authoring surface: what a cell shows reaches the HTML and the PDF, Markdown cells
carry the bilingual narrative with {fig} citations, and the recipes of docs/authoring.md work as
notebook-only edits. Every test edits a temporary copy of the project, as an analyst would in JupyterLab.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from tests.support.browser import UNTRACED_DIGITS_JS, browser, close, open_file  # noqa: F401  (a fixture)
from tests.support.pdf import pdf_text
from tests.support.project import copy_project, run_cli

OVERVIEW = "notebooks/overview.ipynb"


# -- editing notebooks like an analyst ------------------------------------------------------------
def markdown(text: str, lang: str | None = None):
    cell = new_markdown_cell(text)
    if lang:
        cell.metadata["tags"] = [f"lang-{lang}"]
    return cell


def edit(root: Path, notebook: str, change) -> None:
    path = root / notebook
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def before_notes(*cells):
    """Insert cells just before the notes cell (the last one), where a new section would go."""
    def change(nb):
        nb.cells[-1:-1] = list(cells)
    return change


def cell_with(nb, needle: str):
    return next(c for c in nb.cells if needle in c.source)


def build(root: Path, *ids: str) -> str:
    result = run_cli(root, "build", *ids)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


# -- reading built reports ------------------------------------------------------------------------
def page(root: Path, rid: str) -> str:
    return (root / "reports" / f"{rid}.html").read_text(encoding="utf-8")


class _Charts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found, self.ids = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and "tb-chart" in (attrs.get("class") or "").split():
            self.ids = (attrs.get("data-figure-ids") or "").split()
        elif tag == "img" and self.ids is not None:
            self.found.append({"ids": self.ids, "png": attrs["src"].split(",", 1)[1], "alt": attrs.get("alt")})
            self.ids = None


def charts(html: str) -> list[dict]:
    """Every chart of a page: the ids its <figure> carries, its PNG (base64) and alt text, in order."""
    parser = _Charts()
    parser.feed(html)
    return parser.found


def pdf_images(root: Path, rid: str) -> list:
    """The distinct images of a PDF (WeasyPrint may list one image in the resources of several pages)."""
    from pypdf import PdfReader

    found = {img.name: img for p in PdfReader(str(root / "reports" / f"{rid}.pdf")).pages for img in p.images}
    return list(found.values())


def pdf_flat(root: Path, rid: str) -> str:
    return re.sub(r"\s+", " ", " ".join(pdf_text(root / "reports" / f"{rid}.pdf")))


def colour_pixels(image, rgb: tuple[int, int, int]) -> int:
    """Pixels of exactly this colour in a PIL image or a base64 PNG."""
    import base64

    import numpy as np
    from PIL import Image

    if isinstance(image, str):
        image = Image.open(io.BytesIO(base64.b64decode(image)))
    return int(np.all(np.asarray(image.convert("RGB")) == rgb, axis=-1).sum())


def cited_ids(html: str) -> set[str]:
    main = html[html.index("<main"):]
    return {i for attr in re.findall(r'data-figure-ids="([^"]*)"', main) for i in attr.split()}


# -- a zh paragraph, and what a notebook edit rebuilds ---------------------------------------------
@pytest.fixture(scope="module")
def zh_paragraph(tmp_path_factory):
    """Baseline build, then a lang-zh Markdown cell with {fig} added to overview.ipynb and a rebuild."""
    root = copy_project(tmp_path_factory.mktemp("zh") / "project")
    build(root, "overview-en", "overview-zh", "audit-en")
    before = {rid: page(root, rid) for rid in ("overview-en", "overview-zh")}
    edit(root, OVERVIEW, before_notes(markdown("软件考试：通过人数{eval}`fig('chemnews22-exam-passes')`，详见注释。", "zh")))
    log = build(root, "overview-en", "overview-zh", "audit-en")
    return root, before, log


def test_lang_zh_cell_renders_the_figure_with_footnote_and_ids(zh_paragraph):
    root, _, _ = zh_paragraph
    html = page(root, "overview-zh")
    para = re.search(r"<p>软件考试：通过人数(.*?)，详见注释。</p>", html).group(1)
    assert re.search(r'<span class="tb-fig" data-figure-ids="chemnews22-exam-passes" title="[^"]+">92万余人</span>', para)
    note = re.search(r'href="#fn-(\d+)"', para).group(1)
    assert re.search(rf'<li (?=[^>]*id="fn-{note}")(?=[^>]*data-figure-ids="chemnews22-exam-passes")[^>]*>', html)
    assert "软件考试：通过人数92万余人" in re.sub(r"\s+", "", pdf_flat(root, "overview-zh"))


def test_lang_zh_cell_adds_nothing_to_the_english_report(zh_paragraph):
    root, before, _ = zh_paragraph
    assert page(root, "overview-en") == before["overview-en"]  # rebuilt (its notebook changed), same bytes
    assert page(root, "overview-zh") != before["overview-zh"]


def test_a_notebook_edit_rebuilds_only_that_notebooks_reports(zh_paragraph):
    _, _, log = zh_paragraph
    assert "overview-en  built" in log and "overview-zh  built" in log
    assert "audit-en  built" not in log and "2 built, 1 up to date" in log


# -- bad narrative is refused before any kernel starts ----------------------------------------------
@pytest.mark.parametrize("cell, message", [
    (markdown("Passes: {eval}`fig('no-such-figure')`."), "cell 4: unknown figure id 'no-such-figure'"),
    (markdown("Passes: {eval}`fig('gmw23-digital-talents-trained-per-year')`.", "en"),
     ("cell 4: figure 'gmw23-digital-talents-trained-per-year' was published on 2023-10-07, after the report's "
      "as-of date 2023-01-01")),
    (markdown("Hola", "es"), "cell 4: unknown language tag 'lang-es'"),
    (markdown("{abbr}`CMRS`"), "cell 4: unknown role {abbr}"),
])
def test_bad_markdown_is_refused_with_exit_2_naming_notebook_and_cell(project, cell, message):
    def insert(nb):
        nb.cells.insert(3, cell)
    edit(project, OVERVIEW, insert)
    args = ("build", "overview-en") + (("--as-of", "2023-01-01") if "as-of" in message else ())
    result = run_cli(project, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert f"{OVERVIEW}: {message}" in out
    assert not (project / "reports" / "overview-en.html").exists()
    assert not list((project / "reports").glob("_executed/*"))  # no kernel ran


# -- the recipes of docs/authoring.md, and cells JupyterLab shows ------------------------------------
GREEN = (0, 158, 115)  # "#009e73", the recipe's colour
EXAMS = ["chemnews22-exam-applicants", "chemnews22-exam-passes"]

SEABORN_CELL = """\
import matplotlib.pyplot as plt
import seaborn as sns

fig, ax = plt.subplots(figsize=(6, 2.5))
sns.barplot(data=figs[figs["unit"] == "persons"].head(4), x="value", y="figure_id", ax=ax)
ax.set_title("Seaborn test chart")
plt.show()"""

TWO_FIGURES_CELL = """\
exams = figs[figs["figure_id"].isin(["chemnews22-exam-applicants", "chemnews22-exam-passes"])]
report.chart(exams, title={"en": "Exam applicants and passes", "zh": "考试报考与通过人数"})"""

TABLE_CELL = """\
report.figure_table(figs[figs["programme_id"] == "software-exams"])"""

UNSHOWABLE_CELL = """\
from IPython.display import display
display({"application/vnd.example+json": {"a": 1}}, raw=True)"""

NEW_KIND = """
  - id: exams-{lang}
    notebook: notebooks/exams.ipynb
    grid:
      lang: [en, zh]
    formats: [html, pdf]
"""


def new_kind_notebook(root: Path) -> None:
    """Recipe 5: a new notebook (parameters, setup, header, narrative, table, notes)."""
    overview = nbformat.read(root / OVERVIEW, as_version=4)
    params, setup = overview.cells[0], overview.cells[1]
    nb = nbformat.v4.new_notebook(metadata=overview.metadata, cells=[
        params, setup,
        new_code_cell('report.header(title={"en": "Software exams", "zh": "软件资格考试"})'),
        markdown("By {eval}`date('2022-08')`, {eval}`fig('chemnews22-exam-passes')` passed the exams.", "en"),
        markdown("截至{eval}`date('2022-08')`，通过考试的有{eval}`fig('chemnews22-exam-passes')`。", "zh"),
        new_code_cell(TABLE_CELL),
        new_code_cell("briefing.notes(report)"),
    ])
    nbformat.write(nb, root / "notebooks" / "exams.ipynb")
    with open(root / "reports.yml", "a", encoding="utf-8") as fh:
        fh.write(NEW_KIND)


@pytest.fixture(scope="module")
def recipes(tmp_path_factory):
    """overview-en/zh before and after the recipes, plus the new report kind, in one copy."""
    root = copy_project(tmp_path_factory.mktemp("recipes") / "project")
    build(root, "overview-en", "overview-zh")
    before = {rid: {"html": page(root, rid), "pdf_images": len(pdf_images(root, rid))}
              for rid in ("overview-en", "overview-zh")}

    def apply(nb):
        chart = cell_with(nb, "Reported results")  # recipe 1: one chart's colour
        chart.source = chart.source.replace('"zh": "已发布的成果：培训与参与人数"})',
                                            '"zh": "已发布的成果：培训与参与人数"},\n'
                                            '                   colours={"achieved": "#009e73"})')
        nb.cells[-1:-1] = [
            markdown("## Software exams", "en"), markdown("## 软件资格考试", "zh"),  # recipe 2
            markdown("By {eval}`date('2022-08')`, {eval}`fig('chemnews22-exam-passes')` passed the software exams.", "en"),
            markdown("截至{eval}`date('2022-08')`，软件资格考试通过人数为{eval}`fig('chemnews22-exam-passes')`。", "zh"),
            new_code_cell(TWO_FIGURES_CELL),  # recipe 3
            new_code_cell(TABLE_CELL),  # recipe 4
            new_code_cell(SEABORN_CELL),  # acceptance: a seaborn chart
            new_code_cell(UNSHOWABLE_CELL),  # never silently dropped
        ]
    edit(root, OVERVIEW, apply)
    assert "colours=" in cell_with(nbformat.read(root / OVERVIEW, as_version=4), "Reported results").source
    new_kind_notebook(root)
    log = build(root, "overview-en", "overview-zh", "exams-en", "exams-zh")
    return root, before, log


@pytest.mark.parametrize("rid", ["overview-en", "overview-zh"])
def test_recipe_change_one_charts_colour(recipes, rid):
    root, before, _ = recipes
    old, new = charts(before[rid]["html"]), charts(page(root, rid))
    assert colour_pixels(old[0]["png"], GREEN) == 0 and colour_pixels(new[0]["png"], GREEN) > 500
    assert new[1]["png"] == old[1]["png"]  # the other chart is untouched
    assert len([img for img in pdf_images(root, rid) if colour_pixels(img.image, GREEN) > 500]) == 1


def test_recipe_bilingual_paragraph_with_inline_figure(recipes):
    root, _, _ = recipes
    en, zh = page(root, "overview-en"), page(root, "overview-zh")
    assert re.search(r'By <time datetime="2022-08">August 2022</time>, <span class="tb-fig" '
                     r'data-figure-ids="chemnews22-exam-passes"[^>]*>more than '
                     r'920,000 people</span><sup class="tb-fnref">', en)
    assert "软件资格考试通过人数为" not in en and "By August 2022" not in zh
    assert '截至<time datetime="2022-08">2022年8月</time>，' in zh
    assert re.search(r'通过人数为<span class="tb-fig" data-figure-ids="chemnews22-exam-passes"[^>]*>92万余人</span>', zh)
    assert "By August 2022, more than 920,000 people" in pdf_flat(root, "overview-en")
    assert "软件资格考试通过人数为92万余人" in re.sub(r"\s+", "", pdf_flat(root, "overview-zh"))


@pytest.mark.parametrize("rid", ["overview-en", "overview-zh", "exams-en", "exams-zh"])
def test_every_recipe_result_passes_the_traceability_rule(recipes, browser, rid):  # noqa: F811
    root, _, _ = recipes
    visit = open_file(browser, root / "reports" / f"{rid}.html")
    try:
        untraced = visit.page.evaluate(UNTRACED_DIGITS_JS)
    finally:
        close(visit)
    assert untraced == [], f"{rid}: digits outside figures, <time> and footnote marks: {untraced[:5]}"


@pytest.mark.parametrize("rid, title", [("overview-en", "Exam applicants and passes"), ("overview-zh", "考试报考与通过人数")])
def test_recipe_chart_of_two_figures(recipes, rid, title):
    root, _, _ = recipes
    two = [c for c in charts(page(root, rid)) if c["alt"].startswith(title)]
    assert len(two) == 1 and two[0]["ids"] == EXAMS
    assert "920,000" in two[0]["alt"] or "92万" in two[0]["alt"]


def test_recipe_add_a_table(recipes):
    root, before, _ = recipes
    html = page(root, "overview-en")
    rows = re.findall(r'<tr data-figure-ids="(chemnews22-exam-[a-z]+)">', html)
    old_rows = re.findall(r'<tr data-figure-ids="(chemnews22-exam-[a-z]+)">', before["overview-en"]["html"])
    assert len(rows) == len(old_rows) + 2  # the new table: applicants and passes
    assert pdf_flat(root, "overview-en").count("Exam passes more than 920,000 people") >= 2


def test_recipe_new_report_kind(recipes):
    root, _, log = recipes
    assert "exams-en  built" in log and "exams-zh  built" in log
    en, zh = page(root, "exams-en"), page(root, "exams-zh")
    assert "<title>Software exams</title>" in en and "<title>软件资格考试</title>" in zh
    assert "By August 2022, more than 920,000 people" in pdf_flat(root, "exams-en")
    assert "通过考试的有92万余人" in re.sub(r"\s+", "", pdf_flat(root, "exams-zh"))
    assert 'href="exams-en.html"' in (root / "reports" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("rid", ["overview-en", "overview-zh"])
def test_a_seaborn_cell_adds_one_chart_with_alt_text(recipes, rid):
    root, before, _ = recipes
    old, new = charts(before[rid]["html"]), charts(page(root, rid))
    seaborn = [c for c in new if "Seaborn test chart" in c["alt"]]
    assert len(seaborn) == 1
    assert len(new) == len(old) + 2  # the seaborn chart and the two-figure chart of recipe 3
    assert len(pdf_images(root, rid)) == before[rid]["pdf_images"] + 2


def test_an_output_the_page_cannot_show_is_a_build_warning(recipes):
    _, _, log = recipes
    warnings = [line for line in log.splitlines() if "application/vnd.example+json" in line]
    assert len(warnings) == 2  # one per language, each naming notebook and cell
    assert re.fullmatch(r"talentbrief: warning: overview-en: notebooks/overview\.ipynb: cell \d+: output of type "
                        r"application/vnd\.example\+json cannot be shown; left out", warnings[0]) or \
        re.fullmatch(r"talentbrief: warning: overview-zh: .*", warnings[0])


# -- over the whole catalogue ------------------------------------------------------------------------
def test_each_english_and_chinese_pair_cites_the_same_figure_ids(built_project):
    reports = sorted(p.stem for p in (built_project / "reports").glob("*-en.html"))
    assert len(reports) >= 11
    for en in reports:
        zh = en[:-3] + "-zh"
        assert cited_ids(page(built_project, en)) == cited_ids(page(built_project, zh)), en
