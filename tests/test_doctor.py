"""`talentbrief doctor` and the font path it guards: HarfBuzz subsetting, each language in its own face."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from talentbrief import cli, render
from talentbrief import fonts as tb_fonts
from tests.support.pdf import chars_by_font
from tests.support.project import run_cli

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
    assert tb_fonts.fallbacks(render.base_css(ROOT)) == [tb_fonts.SLOW_SUBSET]


# --- the PDF path the doctor checks, exercised -------------------------------------------------
def _pdf(text: str, lang: str) -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    return render.html_to_pdf(render.export_html(nb, title="t", lang=lang, as_of="", root=ROOT))


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


def test_english_text_and_quotes_in_the_latin_face():
    """Letters and curly quotes in English come from Noto Sans (proportional), not the CJK face
    (whose quotes are full-width); a Chinese name inside falls back to the CJK face."""
    fonts = chars_by_font(
        _pdf("The Ministry “reports” **more than** 2.52 million — ‘trained’ by 人社部.", "en")
    )
    latin = fonts.get("Noto-Sans", set()) | fonts.get("Noto-Sans-Bold", set())
    assert set("TheMinstry“”‘’—") <= latin, fonts
    assert set("morethan") <= fonts.get("Noto-Sans-Bold", set()), fonts
    cjk = {c for name, chars in fonts.items() if "CJK" in name for c in chars}
    assert cjk == set("人社部"), fonts


def test_chinese_text_and_quotes_in_the_cjk_face():
    fonts = chars_by_font(_pdf("人力资源社会保障部“计划每年培训100万名” AI **人才**", "zh"))
    assert set("人力“”0AI") <= fonts.get("Noto-Sans-CJK-SC", set()), fonts
    assert set("人才") <= fonts.get("Noto-Sans-CJK-SC-Bold", set()), fonts
    others = {c for name, chars in fonts.items() if "CJK" not in name for c in chars}
    assert others <= set("0123456789/ "), fonts  # only the page number, set in the footer's own stack


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_use_the_page_faces(lang):
    """figures.style_rc draws in the page's first family, and matplotlib finds the file fontconfig does."""
    from matplotlib import font_manager

    import figures

    families = figures.style_rc(lang)["font.sans-serif"]
    page = tb_fonts.page_stacks(render.base_css(ROOT))[lang]
    assert families == [f for f in page if f in families] and families[0] == page[0], (families, page)
    chart_file = font_manager.findfont(
        font_manager.FontProperties(family=families[0]), fallback_to_default=False
    )
    assert Path(chart_file).name == Path(tb_fonts.fc_match(page[0])[2]).name


# --- no silent fallbacks ------------------------------------------------------------------------
def test_fonttools_fallback_is_recorded_not_printed_per_font(monkeypatch, capsys):
    """WeasyPrint's own warning goes to render.FALLBACKS (the build prints it once), not per font."""
    from weasyprint.pdf import fonts

    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    monkeypatch.setattr(render, "FALLBACKS", set())
    _pdf("fallback 回退", "zh")
    assert render.FALLBACKS == {tb_fonts.SLOW_SUBSET}
    assert "fontTools" not in capsys.readouterr().err


def test_build_warns_once_when_english_falls_back_to_the_cjk_face(tmp_path, project):
    """fontconfig without Noto Sans (only the CJK folder): the build says so in one line, for two reports."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
        f"<dir>{Path(tb_fonts.fc_match('Noto Sans CJK SC')[2]).parent}</dir><cachedir>{tmp_path / 'cache'}</cachedir>"
        "</fontconfig>\n"
    )
    result = run_cli(project, "build", "overview-en", "audit-en", env={"FONTCONFIG_FILE": str(conf)})
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    assert len(warnings) == 1, output
    assert re.fullmatch(
        r"talentbrief: warning: en text set in Noto Sans CJK \w+ .*, not Noto Sans .*", warnings[0]
    )
