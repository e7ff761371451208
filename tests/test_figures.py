"""House-style tests. Expected strings are written by hand from the rules in figures' docstring."""

import io
import logging
import re
import types
import warnings
from decimal import Decimal

import matplotlib
import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager

import figures

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

# --------------------------------------------------------------------------- format_number

NUMBERS = [
    # value, en, zh
    (14, "14", "14"),
    (10149, "10,149", "10149"),
    (10000, "10,000", "1万"),
    (15000, "15,000", "1.5万"),
    (80000, "80,000", "8万"),
    (920000, "920,000", "92万"),
    (999999, "999,999", "999999"),
    (1000000, "1 million", "100万"),
    (2520000, "2.52 million", "252万"),
    (4850000, "4.85 million", "485万"),
    (12643000, "12.643 million", "1264.3万"),
    (12643001, "12,643,001", "12643001"),
    (99990000, "99.99 million", "9999万"),
    (100000000, "100 million", "1亿"),
    (120000000, "120 million", "1.2亿"),
    (1500000000, "1.5 billion", "15亿"),
    (0.5, "0.5", "0.5"),
    (1264300.0, "1,264,300", "126.43万"),
]


@pytest.mark.parametrize(("value", "en", "zh"), NUMBERS)
def test_format_number_keeps_every_digit(value, en, zh):
    assert figures.format_number(value, "en") == en
    assert figures.format_number(value, "zh") == zh


def test_format_number_accepts_numpy_and_decimal():
    assert figures.format_number(np.int64(2520000), "en") == "2.52 million"
    assert figures.format_number(np.float64(80000.0), "zh") == "8万"
    assert figures.format_number(Decimal("12643000.0"), "zh") == "1264.3万"


@pytest.mark.parametrize(
    ("value", "digits", "en", "zh"),
    [
        (12643000, 3, "about 12.6 million", "约1260万"),
        (1264300.0, 3, "about 1.26 million", "约126万"),
        (2520000, 3, "2.52 million", "252万"),  # nothing rounded away: no "about"
        (10149, 2, "about 10,000", "约1万"),
    ],
)
def test_format_number_rounding_adds_about(value, digits, en, zh):
    assert figures.format_number(value, "en", digits=digits) == en
    assert figures.format_number(value, "zh", digits=digits) == zh


@pytest.mark.parametrize("bad", [None, "12", True, float("nan"), float("inf")])
def test_format_number_rejects_non_numbers(bad):
    with pytest.raises((TypeError, ValueError)):
        figures.format_number(bad, "en")


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError, match="'fr'"):
        figures.format_number(14, "fr")


# --------------------------------------------------------------------------- format_figure

# Every qualifier x language x magnitude (< 10,000; 10,000-999,999; millions; >= 1e8).
FIGURES = [
    (14, "exact", "14 people", "14人"),
    (14, "approx", "about 14 people", "约14人"),
    (14, "lower_bound", "more than 14 people", "超过14人"),
    (14, "upper_bound", "up to 14 people", "不超过14人"),
    (80000, "exact", "80,000 people", "8万人"),
    (80000, "approx", "about 80,000 people", "约8万人"),
    (80000, "lower_bound", "more than 80,000 people", "8万余人"),
    (80000, "upper_bound", "up to 80,000 people", "不超过8万人"),
    (2520000, "exact", "2.52 million people", "252万人"),
    (2520000, "approx", "about 2.52 million people", "约252万人"),
    (2520000, "lower_bound", "more than 2.52 million people", "252万余人"),
    (2520000, "upper_bound", "up to 2.52 million people", "不超过252万人"),
    (120000000, "exact", "120 million people", "1.2亿人"),
    (120000000, "approx", "about 120 million people", "约1.2亿人"),
    (120000000, "lower_bound", "more than 120 million people", "1.2亿余人"),
    (120000000, "upper_bound", "up to 120 million people", "不超过1.2亿人"),
]


@pytest.mark.parametrize(("value", "qualifier", "en", "zh"), FIGURES)
def test_format_figure_qualifier_language_magnitude(value, qualifier, en, zh):
    assert figures.format_figure(value, "persons", qualifier, "en") == en
    assert figures.format_figure(value, "persons", qualifier, "zh") == zh


def test_format_figure_issue_examples():
    assert figures.format_figure(12643000, "person_times", "exact", "en") == "12.643 million person-times"
    assert figures.format_figure(12643000, "person_times", "exact", "zh") == "1264.3万人次"
    assert figures.format_figure(4850000, "persons", "lower_bound", "zh") == "485万余人"
    assert figures.format_figure(10149, "persons", "lower_bound", "zh") == "超过10149人"


def test_format_figure_per_year():
    assert (
        figures.format_figure(80000, "persons", "approx", "en", per_year=True) == "about 80,000 people a year"
    )
    assert figures.format_figure(80000, "persons", "approx", "zh", per_year=True) == "每年约8万人"
    assert (
        figures.format_figure(1000000, "persons", "exact", "en", per_year=True) == "1 million people a year"
    )
    assert figures.format_figure(1000000, "persons", "exact", "zh", per_year=True) == "每年100万人"
    assert figures.format_figure(2520000, "persons", "lower_bound", "zh", per_year=True) == "每年252万余人"


def test_format_figure_singular_and_units():
    assert figures.format_figure(1, "journals", "exact", "en") == "1 journal"
    assert figures.format_figure(2, "journals", "exact", "en") == "2 journals"
    assert figures.format_figure(1, "journals", "exact", "zh") == "1种"  # the label names what is counted: 期刊：1种
    assert figures.format_figure(1000000, "persons", "exact", "en") == "1 million people"
    assert figures.format_figure(30, "seminars", "lower_bound", "zh") == "超过30期"
    assert figures.format_figure(20000, "courses", "lower_bound", "zh") == "2万余门"
    assert figures.format_figure(1, "branches", "exact", "en") == "1 branch"


def test_unknown_unit_and_qualifier_are_rejected_clearly():
    with pytest.raises(ValueError, match=r"unknown unit 'widgets'.*persons"):
        figures.format_figure(14, "widgets", "exact", "en")
    with pytest.raises(ValueError, match=r"unknown qualifier 'roughly'.*lower_bound"):
        figures.format_figure(14, "persons", "roughly", "en")


# --------------------------------------------------------------------------- derived numbers


@pytest.mark.parametrize(
    ("value", "qualifier", "en", "zh"),
    [
        # 12.643 million person-times over ten years: rounding makes the exact result approximate
        (12643000 / 10, "exact", "about 1.26 million person-times", "约126万人次"),
        (12643000 / 10, "approx", "about 1.26 million person-times", "约126万人次"),
        # nothing rounded away: an exact result stays unqualified
        (1000000.0, "exact", "1 million person-times", "100万人次"),
        # bounds keep their wording and are rounded in the direction that keeps them true
        (2528000, "lower_bound", "more than 2.52 million person-times", "252万余人次"),
        (2521000, "upper_bound", "up to 2.53 million person-times", "不超过253万人次"),
    ],
)
def test_format_derived_never_hides_a_qualifier(value, qualifier, en, zh):
    assert figures.format_derived(value, "en", unit="person_times", qualifier=qualifier) == en
    assert figures.format_derived(value, "zh", unit="person_times", qualifier=qualifier) == zh


def test_format_derived_without_unit_and_per_year():
    assert figures.format_derived(12643000 / 10, "en", per_year=True) == "about 1.26 million a year"
    assert figures.format_derived(12643000 / 10, "zh", per_year=True) == "每年约126万"
    assert figures.format_derived(20000 + 900000 + 80000, "en", qualifier="exact") == "1 million"


@pytest.mark.parametrize(
    ("ratio", "kwargs", "en", "zh"),
    [
        (920000 / 4850000, {}, "about 19%", "约19%"),
        (0.25, {}, "25%", "25%"),
        (0.19, {}, "19%", "19%"),
        (920000 / 4850000, {"digits": 1}, "about 19%", "约19%"),
        (0.1875, {"digits": 1}, "about 18.8%", "约18.8%"),
        (0.1897, {"qualifier": "lower_bound"}, "more than 18%", "超过18%"),
        (0.25, {"qualifier": "approx"}, "about 25%", "约25%"),
    ],
)
def test_format_percent(ratio, kwargs, en, zh):
    assert figures.format_percent(ratio, "en", **kwargs) == en
    assert figures.format_percent(ratio, "zh", **kwargs) == zh


# --------------------------------------------------------------------------- labels


def test_labels():
    assert figures.status_label("achieved", "en") == "achieved"
    assert figures.status_label("planned", "en") == "planned"
    assert figures.status_label("achieved", "zh") == "已实现"
    assert figures.status_label("planned", "zh") == "计划"
    assert figures.qualifier_phrase("lower_bound", "en") == "more than"
    assert figures.qualifier_phrase("approx", "zh") == "约"
    assert figures.qualifier_phrase("exact", "en") == ""
    assert figures.qualifier_label("lower_bound", "zh") == "下限"
    assert figures.qualifier_mark("lower_bound") == "≥"
    assert figures.unit_label("persons", "en", 1) == "person"
    assert figures.unit_label("persons", "en", 3) == "people"
    assert figures.unit_label("occupations", "zh", 3) == "个"
    with pytest.raises(ValueError, match="unknown status 'done'"):
        figures.status_label("done", "en")


def test_every_unit_has_words_in_both_languages():
    assert set(figures._ZH_COUNT_NOUNS) == set(figures.UNITS)
    for unit in figures.UNITS:
        assert figures.unit_label(unit, "en", 1) != figures.unit_label(unit, "en", 2)
        assert figures.unit_label(unit, "zh")


# --------------------------------------------------------------------------- charts


def _rows(*specs):
    keys = ("figure_id", "label_en", "label_zh", "value", "unit", "qualifier", "status")
    return pd.DataFrame([dict(zip(keys, spec)) for spec in specs])


HEADLINE = _rows(
    ("fig-trained", "Trained", "培训人数", 2520000, "persons", "lower_bound", "achieved"),
    ("fig-digital", "Digital technology", "数字技术人才", 80000, "persons", "approx", "planned"),
    ("fig-new", "New round", "新一轮", 1000000, "persons", "exact", "planned"),
)
MIXED = pd.concat(
    [
        HEADLINE,
        _rows(
            ("fig-times", "Person-times", "培训人次", 12643000, "person_times", "exact", "achieved"),
        ),
    ],
    ignore_index=True,
)


def _chart(rows=HEADLINE, lang="en", **kw):
    """A house chart as a notebook displays it: PNG bytes and the metadata the report embeds."""
    fig = figures.bar_figure(
        rows,
        lang=lang,
        title=kw.pop("title", "Headline"),
        source_note=kw.pop("source_note", "Source: plan & report"),
        **kw,
    )
    png, meta = figures.figure_png(fig)
    return types.SimpleNamespace(png=png, alt=meta["alt"], meta=meta, fig=fig)


def _texts(fig):
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def test_png_bytes_are_identical_across_calls():
    first, second = _chart(MIXED, "zh").png, _chart(MIXED, "zh").png
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert first == second
    assert _chart(MIXED, "en").png != first


def test_alt_text_lists_every_plotted_bar():
    assert _chart(HEADLINE, "en").alt == (
        "Headline. Trained: more than 2.52 million people (achieved); "
        "Digital technology: about 80,000 people (planned); New round: 1 million people (planned)."
    )
    assert _chart(HEADLINE, "zh", title="要点").alt == (
        "要点。培训人数：252万余人（已实现）；数字技术人才：约8万人（计划）；新一轮：100万人（计划）。"
    )


def test_displayed_chart_carries_ids_alt_caption_and_css_size():
    chart = _chart(HEADLINE, "en", title='Bars <"quoted">')
    assert chart.meta["figure_ids"] == ["fig-trained", "fig-digital", "fig-new"]
    assert chart.alt.startswith('Bars <"quoted">. ')  # escaped by the page template, not here
    assert chart.meta["caption"] == "Source: plan & report"
    px_width = int.from_bytes(chart.png[16:20], "big")
    assert chart.meta["width"] == round(px_width * figures.CSS_DPI / figures.DPI)


def test_title_per_language_colour_and_order():
    both = {"en": "In English", "zh": "中文标题"}
    assert _chart(HEADLINE, "zh", title=both).alt.startswith("中文标题。")
    assert _chart(HEADLINE, "en", title=both).alt.startswith("In English. ")
    ordered = _chart(HEADLINE, "en", order=["fig-new", "fig-trained", "fig-digital"])
    assert ordered.meta["figure_ids"] == ["fig-new", "fig-trained", "fig-digital"]
    assert ordered.alt.index("New round") < ordered.alt.index("Trained")
    green = _chart(HEADLINE, "en", colours={"achieved": "#009e73"})
    bars = [p for p in green.fig.axes[0].patches if p.get_width() > 0]
    assert matplotlib.colors.to_hex(bars[0].get_facecolor()) == "#009e73"  # the achieved bar
    assert green.png != _chart(HEADLINE, "en").png
    with pytest.raises(ValueError, match="order lacks figure id"):
        _chart(HEADLINE, "en", order=["fig-new"])


def test_any_figure_gets_alt_text_from_its_titles_and_labels():
    fig = matplotlib.figure.Figure()
    ax = fig.subplots()
    ax.bar(["a", "b"], [1, 2])
    ax.set(title="Counts", xlabel="Kind", ylabel="Number")
    figures.use_style("zh")  # the word for a chart is in the language of the style in use
    assert figures.alt_text(fig).startswith("图表")
    figures.use_style("en")
    assert figures.alt_text(fig) == "Chart: Counts; Kind; Number"
    assert figures.alt_text(figures.describe(fig, alt="Given")) == "Given"


def test_bounds_approximations_and_status_are_marked():
    fig = figures.bar_figure(HEADLINE, lang="en", title="T", source_note="Source: plan")
    texts = _texts(fig)
    assert "≥ 2.52 million" in texts and "≈ 80,000" in texts and "1 million" in texts
    assert "Source: plan" not in texts  # the source is said once, in the caption under the image
    assert figures.figure_png(fig)[1]["caption"] == "Source: plan"
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert legend == ["achieved", "planned", "≈ approximate", "≥ lower bound"]
    trained, digital, new = fig.axes[0].patches
    assert trained.get_hatch() and digital.get_hatch() and not new.get_hatch()
    assert trained.get_hatch() != digital.get_hatch()
    assert trained.get_facecolor()[3] == 1 and new.get_facecolor()[3] < 1  # achieved solid, planned light


def test_zh_labels_use_marks_without_space():
    texts = _texts(figures.bar_figure(HEADLINE, lang="zh", title="T", source_note="来源"))
    assert "≥252万" in texts and "≈8万" in texts and "100万" in texts


def test_mixed_units_get_one_panel_each_and_a_note():
    fig = figures.bar_figure(MIXED, lang="en", title="T", source_note="Source: x")
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title(loc="left") for ax in panels] == ["people", "person-times"]
    assert [len(ax.patches) for ax in panels] == [3, 1]
    assert "Each panel has its own unit, period basis and scale." in _texts(fig)
    assert not any("Source: x" in t for t in _texts(fig))  # the caption gives the source, once


def test_log_scale_is_automatic_for_wide_spans_and_said():
    wide = _rows(
        ("a", "A", "甲", 2520000, "persons", "exact", "achieved"),
        ("b", "B", "乙", 14, "persons", "exact", "achieved"),
    )
    ax = figures.bar_figure(wide, lang="en", title="T", source_note="S").axes[0]
    assert ax.get_xscale() == "log" and "log scale" in ax.get_title(loc="left")
    ax = figures.bar_figure(HEADLINE, lang="en", title="T", source_note="S").axes[0]
    assert ax.get_xscale() == "linear" and "log" not in ax.get_title(loc="left")
    ax = figures.bar_figure(wide, lang="zh", title="T", source_note="S", log=False).axes[0]
    assert ax.get_xscale() == "linear"
    assert _chart(wide, "en").alt.endswith("(Log scale.)")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unit": "widgets"}, "unknown unit 'widgets'"),
        ({"status": "done"}, "unknown status 'done'"),
        ({"qualifier": "roughly"}, "unknown qualifier"),
        ({"value": pd.NA}, "fig-trained has no value"),
    ],
)
def test_bad_rows_are_rejected(change, message):
    rows = HEADLINE.head(1).astype({"value": "Int64"}).assign(**change)
    with pytest.raises(ValueError, match=message):
        _chart(rows)


def test_missing_columns_and_empty_rows_are_rejected():
    with pytest.raises(ValueError, match="status"):
        _chart(HEADLINE.drop(columns="status"))
    with pytest.raises(ValueError, match="no rows"):
        _chart(HEADLINE.head(0))


def _missing_glyph_reports(render):
    """Run ``render`` and collect matplotlib's missing-glyph warnings and log records."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            render()
    finally:
        logger.removeHandler(handler)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in records]
    return [m for m in messages if "missing from font" in m]


def test_zh_chart_resolves_a_cjk_font_and_has_no_missing_glyphs():
    font = figures.cjk_font()
    assert "CJK" in font.name or "Han" in font.name
    family = figures.style_rc("zh")["font.sans-serif"][0]
    resolved = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert "CJK" in str(resolved) and str(resolved) == font.path
    assert (
        _missing_glyph_reports(
            lambda: _chart(MIXED, "zh", title="人才工程主要数据", source_note="来源：报告")
        )
        == []
    )


def test_missing_glyph_detection_works(monkeypatch):
    """Control: a Chinese label in a Latin-only style must be reported."""
    style_rc = figures.style_rc
    monkeypatch.setattr(figures, "style_rc", lambda lang: {**style_rc(lang), "font.family": ["Noto Sans"]})
    assert _missing_glyph_reports(lambda: _chart(HEADLINE, "en", title="人才工程主要数据"))


def test_en_chart_falls_back_to_cjk_like_the_page():
    assert _missing_glyph_reports(lambda: _chart(HEADLINE, "en", title="人才工程主要数据")) == []


def test_cjk_font_missing_gives_install_hint(monkeypatch):
    monkeypatch.setattr(figures, "_CJK_CANDIDATES", ("No Such Font CJK",))
    figures.cjk_font.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="apt-get install fonts-noto-cjk"):
            figures.cjk_font()
    finally:
        figures.cjk_font.cache_clear()


def test_use_style_sets_house_rcparams():
    with matplotlib.rc_context():
        figures.use_style("zh")
        assert matplotlib.rcParams["font.sans-serif"][0] == figures.cjk_font().name
        assert matplotlib.rcParams["svg.hashsalt"] == "talentbrief"
        figures.use_style("en")
        assert matplotlib.rcParams["font.sans-serif"] == ["Noto Sans", "DejaVu Sans", "Noto Sans CJK SC"]


def test_alt_text_says_a_year_for_yearly_rates():
    rows = HEADLINE.head(2).assign(period_basis=["cumulative", "per_year"])
    assert _chart(rows, "en").alt == (
        "Headline. People, cumulative: Trained: more than 2.52 million people (achieved). "
        "People a year: Digital technology: about 80,000 people a year (planned)."
    )
    assert "人数（每年）：数字技术人才：每年约8万人（计划）" in _chart(rows, "zh").alt


def test_text_from_data_is_drawn_literally_not_as_mathtext():
    rows = _rows(
        ("fig-a", "Funded with $5 and $6 grants", "五元", 10, "persons", "exact", "achieved"),
        ("fig-b", r"$$\href{javascript:x}{x}$$", "链接", 20, "persons", "exact", "achieved"),
    )
    fig = figures.bar_figure(rows, lang="en", title="Costs in $ and $$", source_note="Source: $x$")
    svg = io.StringIO()
    with matplotlib.rc_context({**figures.style_rc("en"), "svg.fonttype": "none"}):
        fig.savefig(svg, format="svg")  # text as <text> elements, so the drawn characters can be read
    drawn = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.getvalue())]
    assert "Funded with $5 and $6 grants" in drawn
    assert r"$$\href{javascript:x}{x}$$" in drawn
    assert "Costs in $ and $$" in drawn
    assert _chart(rows).png.startswith(b"\x89PNG")  # no mathtext ParseException


def test_a_total_and_a_yearly_rate_never_share_an_axis():
    rows = HEADLINE.assign(period_basis=["cumulative", "per_year", "per_year"])
    fig = figures.bar_figure(rows, lang="en", title="T", source_note="S")
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title(loc="left") for ax in panels] == ["people, cumulative", "people a year"]
    assert [[t.get_text() for t in ax.get_yticklabels()] for ax in panels] == [
        ["Trained"], ["Digital technology", "New round"]]


def test_a_wide_span_is_drawn_as_dots_not_bars_from_a_log_baseline():
    wide = _rows(
        ("a", "A", "甲", 10000000, "persons", "lower_bound", "achieved"),
        ("b", "B", "乙", 15000, "persons", "lower_bound", "achieved"),
    )
    ax = figures.bar_figure(wide, lang="zh", title="T", source_note="S").axes[0]
    assert ax.get_xscale() == "log"
    assert not ax.patches  # no bars whose length starts at an arbitrary 10^k
    assert [line.get_marker() for line in ax.lines] == [">", ">"]


CROWDED = _rows(  # long labels that wrap to three lines, several units, a wide span (log panel)
    ("a", "Yearly training task for high-level, urgently needed talents (first round)",
     "第一轮高层次急需紧缺专业技术人才培训任务", 1000000, "person_times", "exact", "achieved"),
    ("b", "Talents to be trained in capacity improvement", "能力提升项目培养培训人才", 900000, "persons",
     "approx", "planned"),
    ("c", "Talents to be trained in advanced seminars", "高级研修项目培养人才", 20000, "persons", "approx",
     "planned"),
    ("d", "National advanced seminars to be held", "举办国家级高级研修班", 300, "seminars", "exact", "planned"),
    ("e", "Continuing-education activities (first round)", "第一轮累计开展知识更新继续教育活动", 12643000,
     "person_times", "lower_bound", "achieved"),
    ("f", "Bases", "基地", 200, "bases", "exact", "achieved"),
    ("g", "Tiny", "微", 3, "bases", "exact", "achieved"),
)


def _drawn_text_boxes(fig):
    """(text, box in pixels) of every visible, non-empty text the PNG shows, as drawn at the PNG's dpi."""
    png, _ = figures.figure_png(fig)  # draws the figure as the report embeds it
    renderer = fig.canvas.get_renderer()
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == fig.canvas.get_width_height()
    texts = [*fig.texts, fig._suptitle, fig._supxlabel]
    for ax in fig.axes:
        texts += [ax.title, *ax.texts]
        if ax.axison:  # (the legend's axes has none); the locator also proposes x ticks past the limits
            texts += ax.get_yticklabels()
            lo, hi = sorted(ax.get_xlim())
            texts += [t for x, t in zip(ax.get_xticks(), ax.get_xticklabels()) if lo <= x <= hi * (1 + 1e-9)]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    shown = {id(t): t for t in texts if t is not None and t.get_visible() and t.get_text().strip()}
    return [(t.get_text(), t.get_window_extent(renderer)) for t in shown.values()]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("rows", [HEADLINE, MIXED, CROWDED], ids=["headline", "mixed", "crowded"])
def test_chart_text_fits_the_image_and_never_overlaps(rows, lang):
    fig = figures.bar_figure(rows, lang=lang, title="A title " * 6, source_note="Source: " + "words " * 30)
    boxes = _drawn_text_boxes(fig)
    width, height = fig.canvas.get_width_height()
    assert len(boxes) > 2 * len(rows)  # labels, values, ticks, titles, legend, note
    for text, box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, f"{text!r} is cut off"
    for i, (text, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1:]:
            assert not box.overlaps(other_box), f"{text!r} overlaps {other!r}"
