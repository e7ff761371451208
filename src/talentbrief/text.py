"""The words the library's report components print, in English and Chinese. Titles, ledes, section
headings, chart titles and narrative are written in the notebooks' Markdown cells instead.

No template contains a digit: numbers come from the data, formatted by `figures` and cited by
`talentbrief.trace`. `t()` gives escaped Markup for HTML (placeholders that are not Markup are
escaped); `plain()` gives text (check messages, chart titles, alt text).
"""

from __future__ import annotations

import re

import pandas as pd
from markupsafe import Markup, escape

from talentbrief.rules import inferred

LANGS = ("en", "zh")

TEMPLATES: dict[str, dict[str, str]] = {
    # titles and header
    "kicker": {"en": "talentbrief", "zh": "人才培养简报"},
    "as_of": {"en": "As of {date}", "zh": "截至{date}"},
    # section headings (no digits)
    "h.notes": {"en": "Notes", "zh": "注释"},
    "note.ref": {"en": "note {n}", "zh": "注释{n}"},
    "note.pending": {"en": "note", "zh": "注释"},  # a marker before the page is built (trace.assemble_notes)
    "h.by_source": {"en": "Figures per source", "zh": "各来源数据条数"},
    "h.by_programme": {"en": "Figures per programme", "zh": "各项目数据条数"},
    # chart titles and notes
    "chart.dup_label": {"en": "{label} (reported {year})", "zh": "{label}（{year}年发布）"},
    "chart.restated_label": {"en": "{label} (reported {first}, restated {later})",
                             "zh": "{label}（{first}年发布，{later}年重申）"},
    "chart.source_note": {"en": "Source: {sources}.", "zh": "来源：{sources}。"},
    "chart.source_item": {"en": "{source} ({date})", "zh": "{source}（{date}）"},
    "source.cell": {"en": "{source}, {date}", "zh": "{source}，{date}"},
    "title.quoted": {"en": "“{title}”", "zh": "《{title}》"},
    # tables
    "col.figure": {"en": "Figure", "zh": "指标"},
    "col.value": {"en": "Value", "zh": "数值"},
    "col.qualifier": {"en": "Qualifier", "zh": "数值性质"},
    "col.status": {"en": "Status", "zh": "状态"},
    "col.period": {"en": "Period", "zh": "时期"},
    "col.source": {"en": "Source", "zh": "来源"},
    "col.programme": {"en": "Programme", "zh": "项目"},
    "col.outlet": {"en": "Outlet", "zh": "发布媒体"},
    "col.date": {"en": "Date", "zh": "日期"},
    "col.owner": {"en": "Run by", "zh": "实施单位"},
    "col.count": {"en": "Figures", "zh": "数据条数"},
    "count.restated": {"en": "{n}, of which {restated} restates another", "zh": "{n}（其中{restated}条为重申）"},
    "col.check": {"en": "Check", "zh": "检查"},
    "col.result": {"en": "Result", "zh": "结果"},
    "col.message": {"en": "Finding", "zh": "结论"},
    "col.rows": {"en": "Rows used", "zh": "所用数据行"},
    "none": {"en": "none", "zh": "无"},
    # programme brief
    "owner": {"en": "Run by the {owner}.", "zh": "实施单位：{owner}。"},
    "period": {"en": "Period covered by the achieved figures: {period}.", "zh": "已实现数据的统计时期：{period}。"},
    "context": {"en": "Figures marked “context” describe a partner organisation, not results of this programme.",
                "zh": "标为“背景信息”的数据反映合作方的情况，并非本项目的成果。"},
    "figure.item": {"en": "{label}: {value} ({status}; {period})", "zh": "{label}：{value}（{status}；{period}）"},
    # a part shown with its total (figures.part_of): never added to it
    "label.part": {"en": "{label} (part of: {total})", "zh": "{label}（属于{total}）"},
    "chart.part_label": {"en": "of which: {label}", "zh": "其中：{label}"},
    "rows_used": {"en": "Rows used: {rows}", "zh": "所用数据：{rows}"},
    "row.named": {"en": "{label} ({source})", "zh": "{label}（{source}）"},
    "no_figures": {"en": "No figures are reported for this programme.", "zh": "本项目暂无已发布的数据。"},
    "no_metrics": {"en": "No computed figures concern this programme.", "zh": "本项目没有计算数据。"},
    "no_checks": {"en": "No consistency checks concern this programme.", "zh": "本项目没有一致性检查。"},
    # periods
    "period.range": {"en": "{start} to {end}", "zh": "{start}至{end}"},
    "period.since": {"en": "since {start}", "zh": "{start}以来"},
    "period.until": {"en": "up to {end}", "zh": "截至{end}"},
    "period.point": {"en": "at {end}", "zh": "截至{end}"},
    "period.per_year": {"en": "a year", "zh": "每年"},
    "period.per_year_from": {"en": "from {start}", "zh": "{start}起"},
    "period.per_year_range": {"en": "{start} to {end}", "zh": "{start}至{end}"},
    "period.unknown": {"en": "not stated", "zh": "未载明"},
    "period.start_inferred": {"en": "start not stated; taken as {start}", "zh": "起始时间未载明，按{start}推定"},
    "period.start_inferred_range": {"en": "start not stated; taken as {start}; to {end}",
                                    "zh": "起始时间未载明，按{start}推定，至{end}"},
    "era.18th_congress": {"en": "the Eighteenth National Congress of the CPC ({date})", "zh": "党的十八大（{date}）"},
    "date.inferred": {"en": "{date} (date inferred)", "zh": "{date}（日期系推定）"},
    "restated": {"en": "first reported {first}; restated {later}", "zh": "{first}发布，{later}重申"},
    "restates": {"en": "restates the plan first reported {date}", "zh": "重申{date}发布的计划"},
    # recent developments
    "dev.item": {"en": "{date}: {outlet} published “{title}”.", "zh": "{date}，{outlet}刊发《{title}》。"},
    "dev.item.unnamed": {"en": "{date}: “{title}”, a report (outlet not named) on the {producer}.",
                         "zh": "{date}，《{title}》（未注明发布媒体）报道了{producer}的有关情况。"},
    "dev.figures": {"en": "Programmes it gives figures on: {programmes}.", "zh": "文中数据涉及：{programmes}。"},
    "dev.qualitative": {"en": "A qualitative account: it reports no figures.",
                        "zh": "该文为定性介绍，未提供数据。"},
    "list.sep": {"en": ", ", "zh": "、"},
    "list.semi": {"en": "; ", "zh": "；"},
    "list.comma": {"en": ", ", "zh": "，"},
    "tooltip.item": {"en": "{quote} — {source}", "zh": "{quote}——{source}"},
    # a verbatim quote, and beside it, when its language is not the report's, the data's translation
    "quote.plain": {"en": "“{quote}”", "zh": "“{quote}”"},
    "quote.translated": {"en": "“{quote}” (translation: “{translation}”)", "zh": "“{quote}”（译文：“{translation}”）"},
    "list.plus": {"en": " + ", "zh": "、"},
    "sentence.sep": {"en": " ", "zh": ""},
    # sources list
    "source.item": {"en": "“{title}”, {outlet}, {date}. Reports on: {producer}.",
                    "zh": "《{title}》，{outlet}，{date}。报道对象：{producer}。"},
    "source.translated": {"en": "Text in Chinese; title translated.", "zh": "原文为英文，标题为译文。"},
    "outlet.unknown": {"en": "outlet not named", "zh": "未注明发布媒体"},
    "reporter.unnamed": {"en": "{producer}, as reported by an unnamed outlet",
                         "zh": "{producer}（据未注明名称的媒体报道）"},
    # notes
    "note.item": {"en": "{quote}: “{title}”, {outlet}, {date}.",
                  "zh": "{quote}——《{title}》，{outlet}，{date}。"},
    # computed numbers: said to be computed where they stand, and in their note, which names the inputs
    "computed.title": {"en": "Computed by this report, not quoted from a source",
                       "zh": "本报告据来源数据计算所得，并非来源原文"},
    "computed.divide": {"en": "{value} (computed: {numerator} ÷ {denominator})",
                        "zh": "{value}（据此计算：{numerator}÷{denominator}）"},
    "note.computed": {"en": "Computed by this report, not reported by a source: {how}, from {inputs}.",
                      "zh": "本报告计算所得，并非来源发布的数据：{how}，所用数据为{inputs}。"},
    "note.input": {"en": "{label} (note {n})", "zh": "{label}（注释{n}）"},
    "how.average": {"en": "the total divided by the years it covers", "zh": "累计总量除以所涵盖的年数"},
    "how.ratio": {"en": "the first figure divided by the second", "zh": "前者除以后者"},
    "computed.average": {"en": "{average} on average over {years} years", "zh": "{years}年间平均{average}"},
    # derived figures and checks (their wording: data/derived.yml, data/checks.yml; verdicts: checks.VERDICTS)
    "metric.missing": {"en": "{name} cannot be computed: no data for {figures}.",
                       "zh": "无法计算{name}：缺少{figures}的数据。"},
    "check.part": {"en": "{label} ({value})", "zh": "{label}（{value}）"},
    "check.missing": {"en": "Cannot run: no data for {figures}.", "zh": "无法检查：缺少{figures}的数据。"},
    "check.units": {"en": "Cannot compare: the rows use different units ({units}).",
                    "zh": "无法比较：数据单位不同（{units}）。"},
    "status.consistent": {"en": "✓ Consistent", "zh": "✓ 相符"},
    "status.restatement": {"en": "Restatement", "zh": "重申"},
    "status.plausible": {"en": "≈ Plausible", "zh": "≈ 合理"},
    "status.not_comparable": {"en": "– Not comparable", "zh": "– 无从比较"},
    "status.fail": {"en": "✗ Fail", "zh": "✗ 未通过"},
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


def check_lang(lang: str) -> str:
    """The language, or a ValueError naming the allowed ones (notebook parameters are validated early)."""
    if lang not in LANGS:
        raise ValueError(f"unknown lang {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


def plain(key: str, lang: str, **values) -> str:
    """A template filled as plain text."""
    return TEMPLATES[key][check_lang(lang)].format(**values)


def fill(template: str, values: dict, html: bool = False):
    """A template of data/checks.yml or data/derived.yml filled with `values` (a value may be a function
    of no arguments, called once, in the order the template mentions it: citations number in reading
    order). As Markup when `html` (values that are not Markup escaped), else plain text."""
    import string

    names = dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f is not None)
    got = {n: values[n]() if callable(values[n]) else values[n] for n in names}
    return Markup(escape(template)).format(**got) if html else template.format(**got)


def t(key: str, lang: str, **values) -> Markup:
    """A template filled as HTML: values that are not Markup are escaped."""
    return Markup(escape(TEMPLATES[key][check_lang(lang)])).format(**values)


def join(items, lang: str, sep: str = "list.sep") -> Markup:
    """A list joined with the language's separator, items escaped unless Markup."""
    return Markup(escape(TEMPLATES[sep][check_lang(lang)])).join(escape(i) for i in items)


def format_date(value, lang: str) -> str:
    """4 August 2022 / 2022年8月4日."""
    d = pd.Timestamp(value)
    if check_lang(lang) == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


def time_tag(value, lang: str) -> Markup:
    """A date inside <time datetime=...>, so the reader and the digit rule both know it is a date."""
    d = pd.Timestamp(value)
    return Markup('<time datetime="{}">{}</time>').format(d.strftime("%Y-%m-%d"), format_date(d, lang))


def date_parts(value: str) -> tuple[int, ...] | None:
    """(year,), (year, month) or (year, month, day) of a written date, or None when it is not one."""
    import datetime

    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", str(value).strip())
    if not m:
        return None
    parts = tuple(int(p) for p in m.groups() if p is not None)
    try:
        datetime.date(parts[0], *(parts[1:] + (1,) * (3 - len(parts))))
    except ValueError:
        return None
    return parts


def date_tag(value: str, lang: str) -> Markup:
    """A date written in prose as 2022, 2022-08 or 2022-08-04, in <time> in the report's language:
    "August 2022" / "2022年8月" (the {date} role: a number the digit rule knows is a date)."""
    parts = date_parts(value)
    if parts is None:
        raise ValueError(f"{value!r} is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)")
    if len(parts) == 3:
        return time_tag(str(value).strip(), lang)
    if len(parts) == 1:
        return year_tag(parts[0], lang)
    year, month = parts
    shown = f"{year}年{month}月" if check_lang(lang) == "zh" else f"{_MONTHS_EN[month - 1]} {year}"
    return Markup('<time datetime="{:04d}-{:02d}">{}</time>').format(year, month, shown)


# Dates reports name by the event that opens them: "since the 18th National Congress (8 November 2012)".
ERAS = {pd.Timestamp("2012-11-08"): "era.18th_congress"}


def whole_years(start, end) -> bool:
    """A period from 1 January to 31 December: how the data writes periods the source states in years."""
    if pd.isna(start) or pd.isna(end):
        return False
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    return start.month == 1 and start.day == 1 and end.month == 12 and end.day == 31


def year_tag(year: int, lang: str) -> Markup:
    """A year in <time>: 2011 / 2011年 (a period the source states in years is shown in years)."""
    return Markup('<time datetime="{y:04d}">{y}{suffix}</time>').format(y=year, suffix="年" if lang == "zh" else "")


def _start(value, lang: str, in_years: bool = False) -> Markup:
    """A start date (a year when it was stated as one); a date that opens a named era is named with it
    (党的十八大（2012年11月8日）)."""
    stamp = pd.Timestamp(value)
    if in_years:
        return year_tag(stamp.year, lang)
    era = ERAS.get(stamp.normalize())
    return t(era, lang, date=time_tag(stamp, lang)) if era else time_tag(stamp, lang)


def period(row, lang: str) -> Markup:
    """A figure's period in words, dates in <time>: "since 8 November 2012", "2011 to 2020", "at ...".

    A start listed in the row's `inferred` is never shown as fact: "start not stated; taken as ...".
    """
    start, end, basis = row["period_start"], row["period_end"], str(row["period_basis"])
    has_start, has_end = not pd.isna(start), not pd.isna(end)
    in_years = bool(row.get("start_in_years"))  # a span whose earliest start was stated as a year
    if has_start and "period_start" in inferred(row):
        if has_end:
            return t("period.start_inferred_range", lang, start=_start(start, lang), end=time_tag(end, lang))
        return t("period.start_inferred", lang, start=_start(start, lang))
    if has_start and has_end and basis != "point" and whole_years(start, end):
        first, last = pd.Timestamp(start).year, pd.Timestamp(end).year
        if first == last:
            return year_tag(first, lang)
        return t("period.range", lang, start=year_tag(first, lang), end=year_tag(last, lang))
    if basis == "per_year":
        if has_start and has_end:
            return t("period.per_year_range", lang, start=_start(start, lang), end=time_tag(end, lang))
        return t("period.per_year_from", lang, start=_start(start, lang)) if has_start \
            else t("period.per_year", lang)
    if basis == "point" and has_end:
        return t("period.point", lang, end=time_tag(end, lang))
    if has_start and has_end:
        return t("period.range", lang, start=_start(start, lang, in_years), end=time_tag(end, lang))
    if has_start:
        return t("period.since", lang, start=_start(start, lang, in_years))
    if has_end:
        return t("period.until", lang, end=time_tag(end, lang))
    return t("period.unknown", lang)
