"""The words of the report components (templates/talentbrief/words.yml), and the dates and periods they write.

No template holds a digit: numbers come from the data, formatted by `figures` and cited by `trace`.
`t()` gives escaped Markup for HTML; `plain()` gives text (check messages, chart titles, alt text).
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pandas as pd
import yaml
from markupsafe import Markup, escape

from figures import LANGS, PER_YEAR  # the one list of languages (words.yml has exactly these); "a year"
from talentbrief.rules import inferred


def _load_words() -> dict[str, dict[str, str]]:
    words = yaml.load((Path(__file__).resolve().parent / "templates" / "talentbrief" / "words.yml")
                      .read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    for key, texts in words.items():
        if set(texts) != set(LANGS):
            raise ValueError(f"words.yml: {key!r} must have exactly {', '.join(LANGS)}")
    return words


TEMPLATES: dict[str, dict[str, str]] = _load_words()  # templates/talentbrief/words.yml, reviewed as text

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
    """A template of data/checks.yml or derived.yml filled (Markup when `html`); a value may be a function,
    called once in the order the template mentions it, so citations number in reading order."""
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
    """{eval}`date("2022-08")`: "August 2022" / "2022年8月", in <time> so the digit rule knows it is a date."""
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
    """A start date (a year when stated as one), with the era it opens: 党的十八大（2012年11月8日）."""
    stamp = pd.Timestamp(value)
    if in_years:
        return year_tag(stamp.year, lang)
    era = ERAS.get(stamp.normalize())
    return t(era, lang, date=time_tag(stamp, lang)) if era else time_tag(stamp, lang)


def period(row, lang: str) -> Markup:
    """A figure's period in words, dates in <time>: "since 8 November 2012", "2011 to 2020", "at ...";
    an inferred start is never shown as fact: "start not stated; taken as ..."."""
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
            else escape(PER_YEAR[lang])
    if basis == "point" and has_end:
        return t("period.point", lang, end=time_tag(end, lang))
    if has_start and has_end:
        return t("period.range", lang, start=_start(start, lang, in_years), end=time_tag(end, lang))
    if has_start:
        return t("period.since", lang, start=_start(start, lang, in_years))
    if has_end:
        return t("period.until", lang, end=time_tag(end, lang))
    return t("period.unknown", lang)
