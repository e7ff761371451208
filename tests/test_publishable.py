"""Issue 22: briefings a policy reader could publish. Nothing misleading, every quote readable, every
page whole.

The built-report tests walk `built_project` (the whole catalogue built once per session, HTML and
PDF); the chart-label test draws the charts the Chinese reports draw, from the project's data.
"""

from __future__ import annotations

import html as htmlmod
import re
from pathlib import Path

import figures as fmt
from talentbrief import briefing, load, scope
from tests.support.pdf import image_boxes
from tests.support.snapshots import visible_text

ROOT = Path(__file__).resolve().parents[1]
CSS = ROOT / "src" / "talentbrief" / "templates" / "talentbrief"
TAG = re.compile(r"<[^>]+>")
MM = 72 / 25.4


def _plain(fragment: str) -> str:
    return " ".join(htmlmod.unescape(TAG.sub("", fragment)).split())


def _lang(rid: str) -> str:
    return rid.rsplit("-", 1)[1]


def _rows(fragment: str) -> list[tuple[list[str], str]]:
    """(figure ids, inner html) of every list item and table row that carries figure ids."""
    return [(ids.split(), body) for ids, body in re.findall(
        r'<(?:li|tr)\b[^>]*?data-figure-ids="([^"]*)"[^>]*>(.*?)</(?:li|tr)>', fragment, re.DOTALL)]


def _sections(page: str, *kinds: str) -> list[str]:
    """The inner html of the components of these kinds (tb-headlines, tb-figures, ...)."""
    return [body for kind, body in re.findall(r'<section class="tb-section ([\w-]+)">(.*?)</section>', page, re.DOTALL)
            if kind in kinds]


# ---------------------------------------------------------------- misleading


def test_a_restated_plan_is_one_figures_row(built_pages, built_tables):
    restating = built_tables.figures.dropna(subset=["restates"])
    pairs = dict(zip(restating["figure_id"].astype(str), restating["restates"].astype(str)))
    assert pairs, "the data has no restatement to show"
    seen = 0
    for rid, page in built_pages.items():
        for table in re.findall(r'<table class="tb-table tb-figure-table">(.*?)</table>', page, re.DOTALL):
            rows = [ids for ids, _ in _rows(table)]
            for later, original in pairs.items():
                showing = [ids for ids in rows if later in ids or original in ids]
                if showing:
                    seen += 1
                    assert len(showing) == 1, f"{rid}: the restated plan {original} is {len(showing)} rows"
                    assert showing[0] == [original, later], f"{rid}: the row cites {showing[0]}"
    assert seen >= 2  # programme-digital-engineers-en and -zh
    for lang, word in (("en", "restates another"), ("zh", "重申")):
        coverage = re.search(r'<section class="tb-section tb-coverage">(.*?)</section>', built_pages[f"audit-{lang}"],
                             re.DOTALL).group(1)
        cells = re.findall(r'<td class="tb-num" data-figure-ids="([^"]*)">(.*?)</td>', coverage, re.DOTALL)
        counted = [_plain(n) for ids, n in cells if set(pairs) & set(ids.split())]
        assert counted and all(word in n for n in counted), (lang, counted)


def test_a_partner_society_size_has_no_achieved_status_and_no_period_of_results(built_pages, built_tables):
    figs = built_tables.figures
    partner = figs[figs["programme_id"].astype(str) == "cmrs-materials-training"]
    ids = set(partner["figure_id"].astype(str))
    assert ids and set(partner["status"].astype(str)) == {"context"}
    for lang, achieved in (("en", ("achieved",)), ("zh", ("已完成", "已实现"))):
        page = built_pages[f"programme-cmrs-materials-training-{lang}"]
        table = re.search(r'<table class="tb-table tb-figure-table">(.*?)</table>', page, re.DOTALL).group(1)
        shown = [body for row_ids, body in _rows(table) if ids & set(row_ids)]
        assert len(shown) == len(ids), lang
        for body in shown:
            assert not any(word in _plain(body) for word in achieved), (lang, _plain(body))
        assert 'class="tb-period"' not in page, f"{lang}: a period of achieved figures for a partner's size"


def _part_totals(built_tables) -> dict[str, str]:
    """part figure id -> the id of its total (directly, or through the row a part restates)."""
    figs = built_tables.figures
    direct = {str(r["figure_id"]): str(r["part_of"]) for r in figs.to_dict("records")
              if isinstance(r.get("part_of"), str) and r["part_of"]}
    for r in figs.to_dict("records"):
        if isinstance(r.get("restates"), str) and r["restates"] in direct:
            direct[str(r["figure_id"])] = direct[r["restates"]]
    return direct


def test_parts_of_a_total_are_marked_as_parts_in_every_chart_and_list_that_shows_both(built_pages, built_tables):
    totals = _part_totals(built_tables)
    assert {"cn21-advanced-seminar-trainees-per-year", "cn21-capacity-improvement-trainees-per-year",
            "cn21-digital-talents-trained-per-year"} <= set(totals)
    labels = {lang: dict(zip(built_tables.figures["figure_id"].astype(str), built_tables.figures[f"label_{lang}"].astype(str)))
              for lang in ("en", "zh")}
    marks = {"en": ("part of:", "of which: "), "zh": ("属于", "其中：")}
    lists = charts = 0
    for rid, page in built_pages.items():
        lang = _lang(rid)
        in_list, in_chart = marks[lang]
        for section in _sections(page, "tb-headlines", "tb-figures"):
            rows = _rows(section)
            shown = {i for ids, _ in rows for i in ids}
            for ids, body in rows:
                part = ids[0]
                if part in totals and totals[part] in shown:
                    lists += 1
                    label = re.search(r'<(?:th scope="row"|span class="tb-label")>(.*?)</(?:th|span)>', body).group(1)
                    assert in_list in _plain(label) and labels[lang][totals[part]] in _plain(label), (rid, _plain(label))
        for ids, alt in re.findall(r'<figure class="tb-chart" data-figure-ids="([^"]*)">\s*<img [^>]*?alt="([^"]*)"',
                                   page):
            ids = ids.split()
            alt = htmlmod.unescape(alt)
            for part, total in totals.items():
                drawn = labels[lang][part] in alt  # a house chart draws each row by its label
                if drawn and part in ids and total in ids:
                    charts += 1
                    assert f"{in_chart}{labels[lang][part]}" in alt, (rid, alt)
    assert lists >= 8 and charts >= 4, (lists, charts)  # overview and knowledge-update, both languages


def test_computed_numbers_are_marked_and_styled_apart_from_quoted_ones(built_pages, built_tables):
    css = (CSS / "report.css").read_text(encoding="utf-8")
    rule = re.search(r"\.tb-computed\s*\{([^}]*)\}", css)
    quoted = re.search(r"\.tb-fig\s*\{([^}]*)\}", css)
    assert rule and quoted and "color" in rule.group(1) and rule.group(1) != quoted.group(1)
    words = {"en": ("computed:", "Computed by this report"), "zh": ("据此计算", "本报告计算所得")}
    seen = 0
    for rid in ("overview-en", "overview-zh", "programme-knowledge-update-en", "programme-knowledge-update-zh",
                "programme-software-exams-en", "programme-software-exams-zh"):
        page, lang = built_pages[rid], _lang(rid)
        spans = re.findall(r'<span class="([^"]*)" data-computed="([\w-]+)" data-figure-ids="([^"]*)" title="([^"]*)">'
                           r'(.*?)</span><sup class="tb-fnref"><a [^>]*?href="#fn-(\d+)"', page, re.DOTALL)
        assert spans, f"{rid}: no computed number is marked as computed"
        for classes, _key, ids, title, content, note in spans:
            seen += 1
            assert classes.split() == ["tb-computed"], (rid, classes)
            assert words[lang][0] in _plain(content), (rid, _plain(content))
            assert htmlmod.unescape(title) != "" and "“" not in htmlmod.unescape(title)  # no quote as tooltip
            entry = _plain(re.search(rf'<li [^>]*\bid="fn-{note}"[^>]*>(.*?)</li>', page, re.DOTALL).group(1))
            assert entry.startswith(words[lang][1]), (rid, entry)
            labels = dict(zip(built_tables.figures["figure_id"].astype(str), built_tables.figures[f"label_{lang}"].astype(str)))
            assert all(labels[fid] in entry for fid in ids.split()), (rid, entry)  # the note names each input
        for fig in re.findall(r'<span class="tb-fig"[^>]*>(.*?)</span>', page, re.DOTALL):
            assert words[lang][0] not in fig and "%" not in fig, (rid, fig)  # no computed number dressed as quoted
    assert seen >= 6


def test_no_restatement_is_shown_with_a_pass_tick(built_pages):
    said = {"en": "a restatement of the same plan", "zh": "同一计划的重申"}
    seen = 0
    for rid, page in built_pages.items():
        for status, verdict, finding in re.findall(
                r'<tr class="tb-check tb-check-(\w+)"[^>]*>.*?<td class="tb-check-status">(.*?)</td><td>(.*?)</td>',
                page, re.DOTALL):
            if said[_lang(rid)] in _plain(finding):
                seen += 1
                assert "✓" not in verdict and status != "consistent", (rid, verdict)
    assert seen >= 4  # digital-engineers brief and audit, both languages


def test_no_figure_id_in_any_visible_text(built_pages, built_tables):
    ids = set(built_tables.figures["figure_id"].astype(str))
    for rid, page in built_pages.items():
        shown = visible_text(page)
        titles = " ".join(htmlmod.unescape(t) for t in re.findall(r'\btitle="([^"]*)"', page))
        leaked = sorted(i for i in ids if i in shown or i in titles)
        assert not leaked, f"{rid}: figure ids in the text readers see: {leaked}"


def test_every_quote_has_its_translation_beside_it_when_in_the_other_language(built_pages, built_tables):
    figs = built_tables.figures
    sources = dict(zip(built_tables.sources["source_id"].astype(str), built_tables.sources["language"].astype(str)))
    by_quote = {(sources[str(r["source_id"])], " ".join(str(r["quote"]).split())): r for r in figs.to_dict("records")}
    seen = tips = 0
    for rid, page in built_pages.items():
        lang = _lang(rid)
        for quote_lang, quote, after in re.findall(
                r'<span class="tb-quote" lang="(\w+)">(.*?)</span>(.{0,80}?<span class="tb-translation"[^>]*>.*?</span>)?',
                page, re.DOTALL):
            if quote_lang == lang:
                continue
            seen += 1
            row = by_quote[(quote_lang, " ".join(htmlmod.unescape(quote).split()))]
            shown = re.search(r'<span class="tb-translation" lang="(\w+)">(.*?)</span>', after or "")
            assert shown, f"{rid}: no translation beside “{quote}”"
            assert shown.group(1) == lang and htmlmod.unescape(shown.group(2)) == row[f"quote_{lang}"], (rid, quote)
            assert re.search(r"\(translation: “|（译文：“", _plain(after)), (rid, _plain(after))
        for title in re.findall(r'<span class="tb-fig"[^>]*title="([^"]*)"', page):
            for (quote_lang, quote), row in by_quote.items():
                if quote_lang != lang and quote in htmlmod.unescape(title):
                    tips += 1
                    assert row[f"quote_{lang}"] in htmlmod.unescape(title), (rid, title)
    assert seen >= 40 and tips >= 40, (seen, tips)


# ---------------------------------------------------------------- built_pages and charts


def _content_box(page_box):
    """The page box less the @page margins of base.css (CSS shorthand: 1 to 4 values in mm)."""
    css = (CSS / "base.css").read_text(encoding="utf-8")
    shorthand = re.search(r"@page\s*\{[^}]*?margin:\s*([^;]+);", css).group(1).split()
    values = [float(v.removesuffix("mm")) * MM for v in shorthand]
    top, right, bottom, left = {1: lambda t: (t, t, t, t), 2: lambda t, r: (t, r, t, r),
                                3: lambda t, r, b: (t, r, b, r), 4: lambda t, r, b, l: (t, r, b, l)}[len(values)](*values)
    x0, y0, x1, y1 = page_box
    return x0 + left, y0 + bottom, x1 - right, y1 - top


def test_every_chart_image_is_inside_its_pdf_page(built_project):
    pdfs = sorted((built_project / "reports").glob("*.pdf"))
    assert len(pdfs) >= 22
    images = 0
    for pdf in pdfs:
        for page, page_box, box in image_boxes(pdf):
            images += 1
            inner = _content_box(page_box)
            slack = 1.0  # points: rounding in the content stream
            assert (box[0] >= inner[0] - slack and box[1] >= inner[1] - slack
                    and box[2] <= inner[2] + slack and box[3] <= inner[3] + slack), (
                f"{pdf.name} page {page}: image at {[round(v) for v in box]} leaves the page's text area "
                f"{[round(v) for v in inner]} (page {[round(v) for v in page_box]})")
    assert images >= 22


def _breaks_inside_a_word(text: str) -> list[str]:
    """Line breaks between two characters of a Chinese word (not at punctuation)."""
    bad = []
    for match in re.finditer(r"(.)\n(.)", text):
        before, after = match.groups()
        cjk = re.compile(r"[\u3400-\u9fff]")
        word = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
        if (cjk.match(before) or cjk.match(after)) and word.match(before) and word.match(after):
            bad.append(f"{before}|{after}")
    return bad


def _zh_charts(root):
    """Every house chart a Chinese report draws: the overview's two and each programme's."""
    built_tables = load.load(root)
    overview = briefing.start(tables=built_tables, lang="zh", as_of="2026-11-01")
    figs = overview.tables.figures
    people = figs["unit"].isin(briefing.HEADLINE_UNITS)
    yield briefing.bar_chart(overview, figs[(figs["status"] == "achieved") & (figs["period_basis"] == "cumulative")
                                            & people], title={"zh": "已发布的成果：培训与参与人数", "en": ""})
    yield briefing.bar_chart(overview, figs[(figs["status"] == "planned") & (figs["period_basis"] == "per_year")
                                            & (figs["unit"] == "persons")], title={"zh": "计划年度目标", "en": ""})
    for pid in scope.programmes_with_figures(built_tables):
        report = briefing.start(tables=built_tables, lang="zh",
                                as_of="2026-11-01", programme=pid)
        own = report.tables.figures[report.tables.figures["programme_id"] == pid]
        name = briefing.programme_name(report)
        yield report.chart(own, title={"zh": f"{name}：已发布数据", "en": ""})


def test_no_chart_label_in_a_chinese_report_is_broken_inside_a_word(built_project):
    drawn = 0
    for fig in _zh_charts(built_project):
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_position"))]
        for text in texts:
            drawn += "\n" in text
            assert not _breaks_inside_a_word(text), f"{text!r}: broken inside a word at {_breaks_inside_a_word(text)}"
    assert drawn >= 1  # some labels do wrap (at punctuation)
    names = load.load(built_project).programmes["name_zh"].astype(str)
    for name in names:  # the audit's chart wraps programme names with figures.wrap
        assert not _breaks_inside_a_word(fmt.wrap(name, 44)), name


def test_the_word_break_check_can_fail():
    assert _breaks_inside_a_word("第一轮累计开展知识更新继续教育活\n动") == ["活|动"]
    assert _breaks_inside_a_word("培养培训数字技术技能人才\n（2021年发布）") == []
    assert _breaks_inside_a_word("Yearly training task for\nhigh-level") == []


def test_the_image_box_check_can_fail(tmp_path):
    """A chart taller than the page's text area, drawn without the print rule, is caught."""
    import base64
    import io

    from PIL import Image
    from weasyprint import HTML

    png = io.BytesIO()
    Image.new("RGB", (40, 400), "navy").save(png, format="PNG")
    src = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    css = (CSS / "base.css").read_text(encoding="utf-8")
    pdf = tmp_path / "tall.pdf"
    HTML(string=f'<style>{css}</style><p>x</p><img src="{src}" style="width:60mm;height:300mm">').write_pdf(pdf)
    (_page, page_box, box), = image_boxes(pdf)
    inner = _content_box(page_box)
    assert box[1] < inner[1] - 1 or box[3] > inner[3] + 1  # it leaves the text area
