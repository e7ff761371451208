"""The built PDFs are real text: pypdf extracts the figures exactly, fonts are embedded, CJK is CJK.

Works on `built_project` (the whole catalogue built once per session in a temporary copy).
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import pytest

from tests.support.pdf import (
    chars_by_font,
    pdf_metadata,
    pdf_text,
    pdffonts,
    radicals,
    render_page_png,
    require_cjk_font,
    require_tool,
)
from tests.support.reports import load_manifest, manifest_lang, manifest_reports

CJK_FONT = re.compile(r"noto\s*-?\s*(sans|serif)\s*-?\s*cjk", re.IGNORECASE)
LATIN_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz“”‘’—–"
PAGE_NUMBER = "0123456789/ "
LATIN_FONT = re.compile(r"^(?:[A-Z]{6}\+)?Noto-?Sans(-Bold)?$")  # subset prefix, then the Latin face
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@pytest.fixture(scope="session")
def pdf_reports(built_project) -> dict[str, dict]:
    """{report id: {lang, as_of, title, pdf path, pages text}} for every report the manifest lists."""
    reports = manifest_reports(load_manifest(built_project))
    out = {}
    for rid, entry in sorted(reports.items()):
        pdf = built_project / "reports" / f"{rid}.pdf"
        assert pdf.is_file(), f"{rid}.pdf missing"
        page_html = (built_project / "reports" / f"{rid}.html").read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", page_html, re.DOTALL)
        params = entry.get("parameters") or {}
        out[rid] = {
            "lang": manifest_lang(entry) or rid.rsplit("-", 1)[-1],
            "as_of": str(entry.get("as_of") or params.get("as_of") or ""),
            "title": html.unescape(title.group(1)).strip() if title else "",
            "pdf": pdf,
            "pages": pdf_text(pdf),
            # verbatim quotes of English-language sources: marked lang="en", so set in the Latin face
            "english_quotes": "".join(html.unescape(q) for q in re.findall(
                r'<span class="tb-quote" lang="en">(.*?)</span>', page_html, re.DOTALL)),
        }
    return out


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _nospace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _date_forms(iso: str, lang: str) -> list[str]:
    d = date.fromisoformat(iso[:10])
    if lang == "zh":
        return [iso[:10], f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month:02d}月{d.day:02d}日"]
    return [iso[:10], f"{d.day} {MONTHS[d.month - 1]} {d.year}", f"{MONTHS[d.month - 1]} {d.day}, {d.year}"]


def test_every_pdf_has_pages(pdf_reports):
    for rid, rep in pdf_reports.items():
        assert rep["pages"], f"{rid}.pdf has no pages"
        assert any(p.strip() for p in rep["pages"]), f"{rid}.pdf has no extractable text"


@pytest.mark.parametrize(
    "rid, phrases",
    [
        ("overview-en", ["more than 2.52 million", "12.643 million", "more than 4.85 million"]),
        ("overview-zh", ["252万", "1264.3万", "485万"]),
    ],
)
def test_pdf_text_has_the_headline_figures(pdf_reports, rid, phrases):
    pages = pdf_reports[rid]["pages"]
    text = _flat(" ".join(pages))
    squeezed = _nospace(text)
    for phrase in phrases:
        found = phrase in text or (pdf_reports[rid]["lang"] == "zh" and _nospace(phrase) in squeezed)
        assert found, f"{rid}.pdf: {phrase!r} not extracted; text starts {text[:400]!r}"


def test_chinese_text_extracts_exactly(pdf_reports):
    """No look-alike radicals (⼈ U+2F08 for 人, ⼯ U+2F2F for 工), no replacement characters, no (cid:N)."""
    zh = {rid: rep for rid, rep in pdf_reports.items() if rep["lang"] == "zh"}
    assert zh, "no Chinese report in the manifest"
    for rid, rep in zh.items():
        text = "".join(rep["pages"])
        assert not radicals(text), f"{rid}.pdf: look-alike radicals in extracted text: {radicals(text)}"
        assert "\ufffd" not in text, f"{rid}.pdf: U+FFFD in extracted text"
        assert "(cid:" not in text, f"{rid}.pdf: unmapped glyphs (cid:N) in extracted text"
        assert re.search(r"[\u4e00-\u9fff]{4,}", text), f"{rid}.pdf: no Chinese text extracted"
        assert any(ch in text for ch in "人工"), f"{rid}.pdf: neither 人 nor 工 extracted"


def test_title_and_as_of_date_in_pdf(pdf_reports):
    for rid, rep in pdf_reports.items():
        text = " ".join(rep["pages"])
        assert rep["title"], f"{rid}.html has no <title>"
        squeezed = _nospace(text)
        assert _nospace(rep["title"]) in squeezed, f"{rid}.pdf: title {rep['title']!r} not in extracted text"
        meta = pdf_metadata(rep["pdf"])
        assert meta.get("/Title", "").strip() == rep["title"], (
            f"{rid}.pdf: metadata title {meta.get('/Title')!r}"
        )
        assert rep["as_of"], f"{rid}: manifest records no as_of parameter"
        forms = _date_forms(rep["as_of"], rep["lang"])
        assert any(_nospace(f) in squeezed for f in forms), (
            f"{rid}.pdf: as-of date not found in any of {forms}"
        )


def test_page_numbers_present(pdf_reports):
    for rid, rep in pdf_reports.items():
        total = len(rep["pages"])
        for number, page in enumerate(rep["pages"], start=1):
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            # a short line (header/footer margin box) that carries this page's number
            pattern = re.compile(rf"(?<![\d.,]){number}(?![\d.,%万亿])")
            candidates = [line for line in lines if len(line) <= 60 and pattern.search(line)]
            assert candidates, (
                f"{rid}.pdf page {number}/{total}: no page number found; lines: {lines[:3]} … {lines[-3:]}"
            )


def test_fonts_embedded_and_cjk_font_in_chinese_pdfs(pdf_reports):
    require_tool("pdffonts")
    require_cjk_font()
    for rid, rep in pdf_reports.items():
        fonts = pdffonts(rep["pdf"])
        assert fonts, f"{rid}.pdf: pdffonts lists no fonts"
        not_embedded = [f.name for f in fonts if not f.emb]
        assert not not_embedded, f"{rid}.pdf: fonts not embedded: {not_embedded}"
        if rep["lang"] == "zh":
            assert any(CJK_FONT.search(f.name) for f in fonts), (
                f"{rid}.pdf: no Noto CJK font among {[f.name for f in fonts]}"
            )
        else:  # English body text and headings in the Latin face, not the CJK one
            latin = {m.group(1) or "" for f in fonts if (m := LATIN_FONT.match(f.name))}
            assert latin == {"", "-Bold"}, f"{rid}.pdf: no Noto Sans regular and bold among {[f.name for f in fonts]}"


def test_no_chinese_face_is_slanted(pdf_reports):
    """Chinese typography has no italic: a CJK face set oblique is a synthesized slant, in any PDF."""
    slanted = {rid: [f.name for f in pdffonts(rep["pdf"]) if CJK_FONT.search(f.name)
                     and re.search(r"(?i)oblique|italic", f.name)] for rid, rep in pdf_reports.items()}
    slanted = {rid: names for rid, names in slanted.items() if names}
    assert not slanted, f"CJK faces set oblique: {slanted}"


def test_each_language_set_in_its_own_face(pdf_reports):
    """English letters and quotes never in the CJK face (full-width quotes, wide gaps); Chinese text,
    quotes included, only in the CJK face (the Latin face holds no more than the page numbers and the
    verbatim quotes of English-language sources, which are English)."""
    for rid, rep in pdf_reports.items():
        fonts = chars_by_font(rep["pdf"])
        cjk = {c for name, chars in fonts.items() if CJK_FONT.search(name) for c in chars}
        body = {c for name, chars in fonts.items() if "Mono" not in name and not CJK_FONT.search(name) for c in chars}
        if rep["lang"] == "zh":
            allowed = set(PAGE_NUMBER) | set(rep["english_quotes"])
            assert body <= allowed, f"{rid}.pdf: {''.join(sorted(body - allowed))!r} set outside the CJK face"
            assert re.search(r"[\u4e00-\u9fff]", "".join(cjk)), f"{rid}.pdf: no Chinese in the CJK face"
        else:
            wrong = cjk & set(LATIN_TEXT)
            assert not wrong, f"{rid}.pdf: {''.join(sorted(wrong))!r} set in the CJK face"
            assert set("aeiost") <= body, f"{rid}.pdf: the Latin face holds {''.join(sorted(body))!r}"


def test_chinese_page_renders(pdf_reports, tmp_path: Path):
    """pdftoppm renders the first page of the Chinese overview to a PNG that is not blank."""
    from PIL import Image

    png = render_page_png(pdf_reports["overview-zh"]["pdf"], 1, tmp_path / "overview-zh-p1")
    assert png.is_file() and png.stat().st_size > 0
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:200])
    assert dark / (image.width * image.height) > 0.005, "rendered Chinese page is (nearly) blank"
