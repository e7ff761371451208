"""`talentbrief doctor` and the font path it guards: HarfBuzz subsetting, each language in its own face."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from talentbrief import cli, doctor, render

ROOT = Path(__file__).resolve().parents[1]
INSTALL = "sudo apt-get install -y --no-install-recommends"


def run_doctor(capsys) -> tuple[int, str]:
    code = cli.main(["--root", str(ROOT), "doctor"])
    return code, capsys.readouterr().out


def install_line(out: str) -> str:
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith(INSTALL)]
    assert len(lines) == 1, out
    return lines[0]


def test_doctor_passes_here(capsys):
    code, out = run_doctor(capsys)
    assert code == 0, out
    assert "[✗]" not in out and INSTALL not in out
    assert re.search(r"PDF font subsetting: HarfBuzz \d", out), out
    for lang, first in (("en", "Noto Sans"), ("zh", "Noto Sans CJK SC")):
        for weight in ("regular", "bold"):
            assert f"[✓] page {lang} {weight}: {first}: {first} (" in out, out
    assert "[✓] chart en: Noto Sans:" in out and "[✓] chart zh: Noto Sans CJK SC:" in out, out


def test_doctor_fails_without_a_cjk_font(tmp_path, monkeypatch, capsys):
    """fontconfig with an empty font folder: no face for either stack, and doctor names the packages."""
    (tmp_path / "fonts").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{tmp_path / 'fonts'}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    code, out = run_doctor(capsys)
    assert code == 1, out
    assert "[✗] page zh regular: Noto Sans CJK SC" in out and "[✗] page zh bold: Noto Sans CJK SC" in out
    assert install_line(out).split()[5:] == ["fonts-noto-core", "fonts-noto-cjk"]


def test_doctor_fails_without_harfbuzz_subsetting(monkeypatch, capsys):
    from weasyprint.pdf import fonts

    monkeypatch.setattr(fonts, "harfbuzz_subset", None)  # what WeasyPrint sees without the library
    code, out = run_doctor(capsys)
    assert code == 1, out
    assert "[✗] PDF font subsetting: fontTools" in out
    assert install_line(out) == f"{INSTALL} libharfbuzz-subset0"
    assert doctor.fallbacks(ROOT) == [doctor.SLOW_SUBSET]


# --- the PDF path the doctor checks, exercised -------------------------------------------------
def _pdf(text: str, lang: str) -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    return render.html_to_pdf(render.export_html(nb, title="t", lang=lang, as_of="", root=ROOT))


def _font_names(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:]]


def test_report_fonts_subset_with_harfbuzz_not_fonttools(monkeypatch):
    """Fails when WeasyPrint would fall back to fontTools (10 s per report with Noto CJK)."""
    from weasyprint.pdf.fonts import Font

    used = []
    for path in ("_harfbuzz_subset", "_fonttools_subset"):
        original = getattr(Font, path)

        def spy(self, *args, _original=original, _path=path, **kwargs):
            used.append((_path, self.family))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Font, path, spy)
    _pdf("**Talent** “programmes” 人才工程 **培养**", "zh")
    assert used, "no font was subset"
    assert {path for path, _ in used} == {"_harfbuzz_subset"}, used


def test_english_text_and_quotes_in_the_latin_face(tmp_path):
    """Curly quotes in English come from Noto Sans (proportional), not the CJK face (full-width)."""
    names = _font_names(_pdf("The Ministry “reports” **more than** 2.52 million — ‘trained’.", "en"), tmp_path)
    assert "Noto-Sans" in names and "Noto-Sans-Bold" in names, names
    assert not [n for n in names if "CJK" in n], names


def test_chinese_text_and_quotes_in_the_cjk_face(tmp_path):
    names = _font_names(_pdf("人力资源社会保障部“计划每年培训100万名” **人才**", "zh"), tmp_path)
    assert "Noto-Sans-CJK-SC" in names and "Noto-Sans-CJK-SC-Bold" in names, names


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_use_the_page_faces(lang):
    """figures.style_rc draws in the page's first family, and matplotlib finds the file fontconfig does."""
    import figures
    from matplotlib import font_manager

    families = figures.style_rc(lang)["font.sans-serif"]
    page = doctor.page_stacks(ROOT)[lang]
    assert families == [f for f in page if f in families] and families[0] == page[0], (families, page)
    chart_file = font_manager.findfont(font_manager.FontProperties(family=families[0]), fallback_to_default=False)
    assert Path(chart_file).name == Path(doctor.fc_match(page[0])[2]).name
