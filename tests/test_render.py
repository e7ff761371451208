"""render.run_job: self-contained, reproducible HTML; A4 PDF with embedded fonts and exact CJK text."""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from talentbrief import render
from talentbrief.jobs import Job, JobFailure

FIXTURES = Path(__file__).parent / "data" / "render"
ZH_TITLE = "人工智能人才培养概览"


def make_project(root: Path) -> Path:
    """A minimal project: the fixture notebooks and a src/ holding one project module."""
    (root / "notebooks").mkdir(parents=True)
    (root / "src").mkdir()
    for nb in FIXTURES.glob("*.ipynb"):
        shutil.copy(nb, root / "notebooks" / nb.name)
    shutil.copy(FIXTURES / "tbprobe.py", root / "src" / "tbprobe.py")
    return root


def job(report_id: str, notebook: str, formats=("html", "pdf"), **parameters) -> Job:
    return Job(report_id, f"notebooks/{notebook}.ipynb", parameters, tuple(formats))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def en(project):
    return render.run_job(job("overview-en", "chart"), project)


@pytest.fixture(scope="module")
def zh(project):
    return render.run_job(job("overview-zh", "chart", title=ZH_TITLE, lang="zh"), project)


def test_html_is_self_contained(en):
    html = en.html.decode("utf-8")
    assert re.findall(r"https?://", html) == []  # the fixture writes no links, so none may appear
    assert "<script" not in html
    assert not re.search(r"<link\b", html)
    assert "@import" not in html  # no stylesheet fetched
    assert re.findall(r"url\((?!#)", html) == []  # only in-page references (SVG clip paths)
    assert 'src="data:image/png;base64,' in html  # the PNG output is embedded
    assert "<svg" in html and "</svg>" in html  # the SVG chart is inline
    assert "@page" in html  # base.css is inlined


def test_html_shows_outputs_only(en):
    html = en.html.decode("utf-8")
    assert "sns.barplot" not in html and "savefig" not in html  # no input code
    assert "Out[" not in html and "In&nbsp;[" not in html and "In [" not in html
    assert "This markdown stays in the report." in html
    assert "total 19" in html  # stdout and the DataFrame are kept
    assert "<table" in html


def test_html_head_from_display_metadata(en, zh):
    assert en.title == "Programme overview" and en.lang == "en" and en.as_of == "2024-06-30"
    assert '<html lang="en">' in en.html.decode()
    assert "<title>Programme overview</title>" in en.html.decode()
    page = zh.html.decode("utf-8")
    assert zh.lang == "zh" and '<html lang="zh">' in page
    assert f"<title>{ZH_TITLE}</title>" in page
    assert "截至" in page and "2024-06-30" in page  # running header with the as-of date


def test_meta_falls_back_to_job(project):
    out = render.run_job(job("probe-report", "probe", formats=("html",), lang="zh-CN"), project)
    assert out.title == "probe-report"
    assert out.lang == "zh-CN" and '<html lang="zh">' in out.html.decode()  # two-letter for HTML
    assert out.pdf is None


def test_html_is_byte_reproducible_across_runs_and_roots(en, tmp_path):
    other = make_project(tmp_path / "elsewhere")
    again = render.run_job(job("overview-en", "chart"), other)
    assert again.html == en.html


def test_executed_notebook_is_returned(zh):
    nb = nbformat.reads(zh.executed.decode("utf-8"), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert all(c.get("outputs") is not None for c in nb.cells if c.cell_type == "code")


def test_pdf_is_a4_with_page_numbers_and_metadata(en):
    assert en.pdf.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(en.pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    pages = len(reader.pages)
    text = reader.pages[0].extract_text()
    assert f"1 / {pages}" in text
    assert "Programme overview" in text and "2024-06-30" in text
    assert reader.metadata.title == "Programme overview"
    assert reader.trailer["/Root"]["/Lang"] == "en"


def pdffonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in lines.splitlines()[2:] if line.strip()]


def test_pdf_fonts_all_embedded(en, tmp_path):
    fonts = pdffonts(en.pdf, tmp_path)
    assert fonts
    for row in fonts:  # columns from the right: object ID (2), uni, sub, emb
        assert row[-5] == "yes", row


def test_zh_pdf_embeds_cjk_font_and_extracts_exact_title(zh, tmp_path):
    fonts = pdffonts(zh.pdf, tmp_path)
    assert all(row[-5] == "yes" for row in fonts)
    assert any("CJK" in row[0] for row in fonts), fonts
    reader = PdfReader(BytesIO(zh.pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert ZH_TITLE in text
    assert not re.search("[\u2e80-\u2fdf]", text)  # no Kangxi/CJK radical look-alikes (⼈ U+2F08)
    assert reader.metadata.title == ZH_TITLE
    assert reader.trailer["/Root"]["/Lang"] == "zh"


def test_pdf_is_deterministic(en):
    html = en.html.decode("utf-8")
    assert render.html_to_pdf(html) == render.html_to_pdf(html)


def test_pdf_fetches_nothing_from_the_network():
    page = '<html><body><img src="http://127.0.0.1:9/x.png"><p>offline</p></body></html>'
    pdf = render.html_to_pdf(page)  # the image is refused, not fetched; the page still renders
    assert "offline" in PdfReader(BytesIO(pdf)).pages[0].extract_text()


def test_failing_notebook_names_the_cell(project):
    with pytest.raises(JobFailure) as caught:
        render.run_job(job("broken", "failing"), project)
    failure = caught.value
    assert failure.report_id == "broken"
    assert failure.cell == 5  # fifth cell of the source notebook (papermill's injected cell not counted)
    assert failure.message.startswith("cell 5 raised ValueError: programme total does not add up")
    nb = nbformat.reads(failure.executed.decode("utf-8"), as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "ValueError"


def test_failure_html_shows_code_and_traceback(project):
    with pytest.raises(JobFailure) as caught:
        render.run_job(job("broken", "failing"), project)
    page = render.failure_html(caught.value.executed, title="broken").decode("utf-8")
    # one numbering: the message's "cell 5" is the prompt In [5] of the page and of the stored notebook
    prompts = re.findall(r"In(?:\xa0|&nbsp;| )\[(\d+)\]", page)
    assert caught.value.cell == 5 and "5" in prompts
    assert prompts and max(map(int, prompts)) == 5 and "papermill-error-cell" not in page
    nb = nbformat.reads(caught.value.executed.decode("utf-8"), as_version=4)
    assert [i for i, c in enumerate(nb.cells, 1) if c.get("outputs") and c.outputs[-1].output_type == "error"] == [
        c.execution_count for c in nb.cells if c.get("outputs") and c.outputs[-1].output_type == "error"]
    assert "programme total does not add up" in page
    assert "ValueError" in page
    assert "raise" in page  # the failing cell's code is shown
    assert re.findall(r"https?://", page) == []


def test_project_report_css_is_inlined(tmp_path):
    root = make_project(tmp_path / "p")
    own = root / "src" / "talentbrief" / "templates"
    shutil.copytree(render.PACKAGE_TEMPLATES, own)
    (own / "talentbrief" / "report.css").write_text(".tb-marker-7f3a { color: red; }\n")
    out = render.run_job(job("css", "probe", formats=("html",)), root)
    assert ".tb-marker-7f3a" in out.html.decode()


def test_svg_boilerplate_is_stripped():
    svg = (
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="1">'
        '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF></metadata>'
        '<a href="https://example.org/source">kept</a></svg>'
    )
    assert render.strip_svg_boilerplate(svg) == (
        '<svg width="1"><a href="https://example.org/source">kept</a></svg>'
    )
