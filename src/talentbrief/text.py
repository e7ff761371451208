"""The words of the report components (templates/talentbrief/words.yml), and the dates and periods they write.

No template holds a digit: numbers come from the data, formatted by `figures` and cited by `trace`.
`t()` gives escaped Markup for HTML; `plain()` gives text (check messages, chart titles, alt text)."""

from __future__ import annotations

import string
from pathlib import Path

import pandas as pd
import yaml
from markupsafe import Markup, escape

from figures import LANGS, PER_YEAR  # the one list of languages (words.yml has exactly these); "a year"
from talentbrief.narrative import date_parts
from talentbrief.rules import inferred


def _load_words() -> dict[str, dict[str, str]]:
    words = yaml.load((Path(__file__).resolve().parent / "templates" / "talentbrief" / "words.yml")
                      .read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    for key, texts in words.items():
        if set(texts) != set(LANGS):
            raise ValueError(f"words.yml: {key!r} must have exactly {', '.join(LANGS)}")
    return words


TEMPLATES: dict[str, dict[str, str]] = _load_words()  # templates/talentbrief/words.yml, reviewed as text


def check_lang(lang: str) -> str:
    """The language, or a ValueError naming the allowed ones (notebook parameters are validated early)."""
    if lang not in LANGS:
        raise ValueError(f"unknown lang {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


def plain(key: str, lang: str, **values) -> str:
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


def _written(lang: str, year: int, month: int | None = None, day: int | None = None) -> str:
    """As much of 4 August 2022 / 2022年8月4日 as is given (a year, a month, a day)."""
    if check_lang(lang) == "zh":
        return f"{year}年" + (f"{month}月" if month else "") + (f"{day}日" if day else "")
    name = pd.Timestamp(year, month, 1).month_name() if month else None  # English whatever the locale
    return " ".join(str(p) for p in (day, name, year) if p)


def _time(lang: str, *parts: int) -> Markup:
    """A date (year, month, day, as far as given) inside <time>, so the reader and the digit rule know it."""
    iso = "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])])
    return Markup('<time datetime="{}">{}</time>').format(iso, _written(lang, *parts))


def format_date(value, lang: str) -> str:
    d = pd.Timestamp(value)
    return _written(lang, d.year, d.month, d.day)


def time_tag(value, lang: str) -> Markup:
    d = pd.Timestamp(value)
    return _time(lang, d.year, d.month, d.day)


def date_tag(value: str, lang: str) -> Markup:
    """{eval}`date("2022-08")`: "August 2022" / "2022年8月" (YYYY, YYYY-MM or YYYY-MM-DD), in <time>."""
    parts = date_parts(value)
    if parts is None:
        raise ValueError(f"{value!r} is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)")
    return _time(lang, *parts)


# Dates reports name by the event that opens them: "since the 18th National Congress (8 November 2012)".
ERAS = {pd.Timestamp("2012-11-08"): "era.18th_congress"}


def whole_years(start, end) -> bool:
    """A period from 1 January to 31 December: how the data writes periods the source states in years."""
    if pd.isna(start) or pd.isna(end):
        return False
    return pd.Timestamp(start).strftime("%m-%d") == "01-01" and pd.Timestamp(end).strftime("%m-%d") == "12-31"


def _start(value, lang: str, in_years: bool = False) -> Markup:
    """A start date (a year when stated as one), with the era it opens: 党的十八大（2012年11月8日）."""
    stamp = pd.Timestamp(value)
    if in_years:
        return _time(lang, stamp.year)
    era = ERAS.get(stamp.normalize())
    return t(era, lang, date=time_tag(stamp, lang)) if era else time_tag(stamp, lang)


def period(row, lang: str) -> Markup:
    """A figure's period in words, dates in <time>: "since 8 November 2012", "2011 to 2020", "at ...";
    an inferred start is never shown as fact: "start not stated; taken as ..."."""
    start, end, basis = row["period_start"], row["period_end"], str(row["period_basis"])
    has_start, has_end = not pd.isna(start), not pd.isna(end)
    guessed = has_start and "period_start" in inferred(row)
    if has_start and has_end and basis != "point" and not guessed and whole_years(start, end):
        first, last = pd.Timestamp(start).year, pd.Timestamp(end).year
        if first == last:
            return _time(lang, first)
        return t("period.range", lang, start=_time(lang, first), end=_time(lang, last))
    if guessed:
        key = "start_inferred_range" if has_end else "start_inferred"
    elif basis == "per_year" and not has_start:
        return escape(PER_YEAR[lang])
    elif basis == "per_year":
        key = "per_year_range" if has_end else "per_year_from"
    elif basis == "point" and has_end:
        key = "point"
    else:
        key = ("range" if has_end else "since") if has_start else ("until" if has_end else "unknown")
    # a span whose earliest start was stated as a year (briefing's programme summary) starts with that year
    in_years = bool(row.get("start_in_years")) and not guessed
    return t(f"period.{key}", lang, start=_start(start, lang, in_years) if has_start else None,
             end=time_tag(end, lang) if has_end else None)
