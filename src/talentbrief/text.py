"""The words the library's report components print, in English and Chinese. Titles, ledes, section
headings, chart titles and narrative are written in the notebooks' Markdown cells instead.

No template contains a digit: numbers come from the data, formatted by `figures` and cited by
`talentbrief.trace`. `t()` gives escaped Markup for HTML (placeholders that are not Markup are
escaped); `plain()` gives text (check messages, chart titles, alt text).
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup, escape

LANGS = ("en", "zh")

TEMPLATES: dict[str, dict[str, str]] = {
    # titles and header
    "kicker": {"en": "talentbrief", "zh": "talentbrief 人才简报"},
    "as_of": {"en": "As of {date}", "zh": "截至{date}"},
    # section headings (no digits)
    "h.notes": {"en": "Notes", "zh": "注释"},
    "h.by_source": {"en": "Figures per source", "zh": "按来源统计的数字"},
    "h.by_programme": {"en": "Figures per programme", "zh": "按项目统计的数字"},
    # chart titles and notes
    "chart.dup_label": {"en": "{label} (reported {year})", "zh": "{label}（{year}年报道）"},
    "chart.source_note": {"en": "Source: {sources}.", "zh": "来源：{sources}。"},
    # tables
    "col.figure": {"en": "Figure", "zh": "指标"},
    "col.value": {"en": "Value", "zh": "数值"},
    "col.qualifier": {"en": "Qualifier", "zh": "限定"},
    "col.status": {"en": "Status", "zh": "状态"},
    "col.period": {"en": "Period", "zh": "时期"},
    "col.source": {"en": "Source", "zh": "来源"},
    "col.programme": {"en": "Programme", "zh": "项目"},
    "col.outlet": {"en": "Outlet", "zh": "发布媒体"},
    "col.date": {"en": "Date", "zh": "日期"},
    "col.owner": {"en": "Run by", "zh": "主管单位"},
    "col.count": {"en": "Figures", "zh": "数字数量"},
    "col.check": {"en": "Check", "zh": "检查"},
    "col.result": {"en": "Result", "zh": "结果"},
    "col.message": {"en": "Finding", "zh": "结论"},
    "col.rows": {"en": "Rows used", "zh": "所用数据行"},
    "none": {"en": "none", "zh": "无"},
    # programme brief
    "owner": {"en": "Run by {owner}.", "zh": "主管单位：{owner}。"},
    "period": {"en": "Period covered by the achieved figures: {period}.", "zh": "已完成数字涉及时期：{period}。"},
    "figure.item": {"en": "{label}: {value} ({status}; {period})", "zh": "{label}：{value}（{status}；{period}）"},
    "rows_used": {"en": "Rows used: {rows}", "zh": "所用数据行：{rows}"},
    "no_figures": {"en": "No figures are reported for this programme.", "zh": "本项目没有已报告的数字。"},
    "no_metrics": {"en": "No derived figures concern this programme.", "zh": "本项目没有推算数字。"},
    "no_checks": {"en": "No consistency checks concern this programme.", "zh": "本项目没有一致性检查。"},
    # periods
    "period.range": {"en": "{start} to {end}", "zh": "{start}至{end}"},
    "period.since": {"en": "since {start}", "zh": "{start}以来"},
    "period.until": {"en": "up to {end}", "zh": "截至{end}"},
    "period.point": {"en": "at {end}", "zh": "截至{end}"},
    "period.per_year": {"en": "a year", "zh": "每年"},
    "period.per_year_from": {"en": "from {start}", "zh": "{start}起"},
    "period.per_year_range": {"en": "{start} to {end}", "zh": "{start}至{end}"},
    "period.unknown": {"en": "not stated", "zh": "未说明"},
    # recent developments
    "dev.item": {"en": "{date}: {outlet} reports “{title}”.", "zh": "{date}，{outlet}报道《{title}》。"},
    "dev.figures": {"en": "It gives figures on {programmes}.", "zh": "其中有关于{programmes}的数字。"},
    "dev.qualitative": {"en": "A qualitative account: it reports no figures.",
                        "zh": "该报道为定性描述，没有数字。"},
    "list.sep": {"en": ", ", "zh": "、"},
    "list.semi": {"en": "; ", "zh": "；"},
    # sources list
    "source.item": {"en": "{producer}. “{title}”. {outlet}, {date}.", "zh": "{producer}：《{title}》，{outlet}，{date}。"},
    "source.lang": {"en": "Text in {language}.", "zh": "原文语言：{language}。"},
    "language.en": {"en": "English", "zh": "英文"},
    "language.zh": {"en": "Chinese", "zh": "中文"},
    "outlet.unknown": {"en": "outlet not named", "zh": "未注明发布媒体"},
    # notes
    "note.item": {"en": "“{quote}”: {title}, {outlet}, {date}. Figure {figure_id}.",
                  "zh": "“{quote}”：《{title}》，{outlet}，{date}。数据行 {figure_id}。"},
    # derived metrics
    "metric.first_round_average": {
        "en": "The first round of the knowledge update project ({period}) recorded {total}: {average}. "
              "The new round plans {plan}.",
        "zh": "第一轮知识更新工程（{period}）累计开展{total}，{average}。新一轮计划{plan}。"},
    "metric.average": {"en": "{average} on average over {years} years", "zh": "{years}年平均{average}"},
    "metric.exam_ratio": {
        "en": "Exam passes ({passes}) are {ratio} of applicants ({applicants}).",
        "zh": "考试通过人数（{passes}）为报考人数（{applicants}）的{ratio}。"},
    "metric.missing": {"en": "{name} cannot be computed: no data for {indicators}.",
                       "zh": "无法计算{name}：缺少{indicators}的数据。"},
    "metric.name.first_round_average": {"en": "The first round's yearly average", "zh": "第一轮年均培训量"},
    "metric.name.exam_ratio": {"en": "The exam ratio", "zh": "考试通过人数与报考人数之比"},
    "caveat.person_times_vs_people": {
        "en": "Person-times count every training attended, so a person trained twice counts twice; "
              "people count each person once. The two numbers are not in the same unit, so they do not "
              "show whether the new round trains more or fewer people than the first.",
        "zh": "人次按参加培训的次数计算，同一人参加两次计为两人次；人数则每人只计一次。"
              "两个数字单位不同，不能据此判断新一轮培训的人数比第一轮多还是少。"},
    "caveat.ratio_of_lower_bounds": {
        "en": "Both counts are lower bounds (“more than”), so this is a ratio of two lower bounds, not a "
              "true pass rate: the real share could be higher or lower.",
        "zh": "两个数字都是下限（“超过”），这是两个下限之比，并非真实通过率，实际比例可能更高也可能更低。"},
    # checks: names, outcomes
    "check.name.composition": {"en": "New-round composition", "zh": "新一轮工程构成"},
    "check.name.agreement": {"en": "Cross-source agreement: digital technology talents",
                             "zh": "跨来源一致性：数字技术人才"},
    "check.name.exam_bounds": {"en": "Exam passes within applicants", "zh": "考试通过人数不超过报考人数"},
    "check.name.first_round_task": {"en": "First round met its yearly task", "zh": "第一轮完成年度任务"},
    "check.composition": {"en": "{parts} add up to {sum}; the plan's total is {total}.",
                          "zh": "{parts}合计{sum}；计划总数为{total}。"},
    "check.composition.pass": {"en": "The parts match the total within the approximation.",
                               "zh": "各部分之和与总数在约数范围内相符。"},
    "check.composition.warn": {"en": "The parts come close to the total but not within the approximation.",
                               "zh": "各部分之和接近总数，但超出约数范围。"},
    "check.composition.fail": {"en": "The parts do not add up to the total.", "zh": "各部分之和与总数不符。"},
    "check.agreement": {"en": "{reports}.", "zh": "{reports}。"},
    "check.part": {"en": "{label} ({value})", "zh": "{label}（{value}）"},
    "check.report": {"en": "{source} ({date}): {value}", "zh": "{source}（{date}）：{value}"},
    "check.agreement.pass": {"en": "The sources agree within the approximation.",
                             "zh": "各来源在约数范围内一致。"},
    "check.agreement.warn": {"en": "The sources are close but differ by more than the approximation.",
                             "zh": "各来源数字接近，但差异超出约数范围。"},
    "check.agreement.fail": {"en": "The sources disagree.", "zh": "各来源数字不一致。"},
    "check.agreement.single": {"en": "Only one source reports this figure: nothing to compare.",
                               "zh": "只有一个来源报道该数字，无从比较。"},
    "check.exam_bounds.pass": {
        "en": "Passes ({passes}) do not exceed applicants ({applicants}). Both are lower bounds, so their "
              "ratio ({ratio}) is not a true pass rate.",
        "zh": "通过人数（{passes}）不超过报考人数（{applicants}）。两者都是下限，其比值（{ratio}）并非真实通过率。"},
    "check.exam_bounds.fail": {
        "en": "Passes ({passes}) exceed applicants ({applicants}): the two figures contradict each other.",
        "zh": "通过人数（{passes}）超过报考人数（{applicants}），两个数字相互矛盾。"},
    "check.first_round_task.pass": {
        "en": "The first round's yearly average, {average}, is at least the yearly task of {task} that "
              "the source reports as completed.",
        "zh": "第一轮年均{average}，不低于来源所称已完成的{task}年度任务。"},
    "check.first_round_task.fail": {
        "en": "The first round's yearly average, {average}, is below the yearly task of {task} that "
              "the source reports as completed.",
        "zh": "第一轮年均{average}，低于来源所称已完成的{task}年度任务。"},
    "check.missing": {"en": "Cannot run: no data for {indicators}.", "zh": "无法检查：缺少{indicators}的数据。"},
    "check.units": {"en": "Cannot compare: the rows use different units ({units}).",
                    "zh": "无法比较：数据行单位不同（{units}）。"},
    "status.pass": {"en": "✓ Pass", "zh": "✓ 通过"},
    "status.warn": {"en": "! Warning", "zh": "! 警告"},
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


def period(row, lang: str) -> Markup:
    """A figure's period in words, dates in <time>: "since 8 November 2012", "a year", "at ..."."""
    start, end, basis = row["period_start"], row["period_end"], str(row["period_basis"])
    has_start, has_end = not pd.isna(start), not pd.isna(end)
    if basis == "per_year":
        if has_start and has_end:
            return t("period.per_year_range", lang, start=time_tag(start, lang), end=time_tag(end, lang))
        return t("period.per_year_from", lang, start=time_tag(start, lang)) if has_start \
            else t("period.per_year", lang)
    if basis == "point" and has_end:
        return t("period.point", lang, end=time_tag(end, lang))
    if has_start and has_end:
        return t("period.range", lang, start=time_tag(start, lang), end=time_tag(end, lang))
    if has_start:
        return t("period.since", lang, start=time_tag(start, lang))
    if has_end:
        return t("period.until", lang, end=time_tag(end, lang))
    return t("period.unknown", lang)
