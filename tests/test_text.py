"""Report prose: both languages, no digits typed into templates, escaping, dates in <time>."""

import re
import string

import pandas as pd
import pytest

from talentbrief import text

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def placeholders(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# Shown to English readers only: Chinese reports carry figure ids in data-figure-ids, never as Latin text.
EN_ONLY = {"figure_id"}


@pytest.mark.parametrize("key", sorted(text.TEMPLATES))
def test_every_template_has_both_languages_with_the_same_placeholders(key):
    entry = text.TEMPLATES[key]
    assert set(entry) == set(text.LANGS)
    assert placeholders(entry["en"]) - EN_ONLY == placeholders(entry["zh"])
    assert not placeholders(entry["zh"]) & EN_ONLY


@pytest.mark.parametrize("key", sorted(text.TEMPLATES))
def test_no_template_contains_a_digit(key):
    for lang, template in text.TEMPLATES[key].items():
        assert not re.search(r"[0-9０-９]", template), (key, lang)


def test_unknown_lang_is_a_clear_error():
    with pytest.raises(ValueError, match="en, zh"):
        text.check_lang("fr")
    with pytest.raises(ValueError):
        text.t("h.notes", "de")


def test_t_escapes_values_but_not_markup():
    from markupsafe import Markup

    out = text.t("owner", "en", owner="<script>alert(1)</script>")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<b>" in text.t("owner", "en", owner=Markup("<b>x</b>"))


@pytest.mark.parametrize("lang, expected", [("en", "4 August 2022"), ("zh", "2022年8月4日")])
def test_dates(lang, expected):
    assert text.format_date("2022-08-04", lang) == expected
    assert text.time_tag(pd.Timestamp("2022-08-04"), lang) == f'<time datetime="2022-08-04">{expected}</time>'


def row(basis, start=None, end=None, inferred=None):
    return {"period_basis": basis, "period_start": pd.Timestamp(start) if start else pd.NaT,
            "period_end": pd.Timestamp(end) if end else pd.NaT, "inferred": inferred}


@pytest.mark.parametrize("fig, en, zh", [
    (row("cumulative", "2011-03-01", "2020-06-30"), "1 March 2011</time> to <time", "</time>至<time"),
    (row("cumulative", "2011-01-01", "2020-12-31"), '<time datetime="2011">2011</time> to <time datetime="2020">',
     '<time datetime="2011">2011年</time>至<time datetime="2020">2020年</time>'),
    (row("cumulative", "2022-01-01", "2022-12-31"), '<time datetime="2022">2022</time>', "2022年</time>"),
    (row("cumulative", "2015-06-01"), "since <time", "</time>以来"),
    (row("cumulative", "2012-11-08"), "since the Eighteenth National Congress of the CPC (<time",
     "党的十八大（<time datetime=\"2012-11-08\">2012年11月8日</time>）以来"),
    (row("point", end="2023-10-18"), "at <time", "截至<time"),
    (row("per_year"), "a year", "每年"),
    (row("per_year", "2021-10-14"), "from <time", "</time>起"),
    (row("per_year", "2011-01-01", "2020-12-31"), "</time> to <time", "年</time>至<time"),
    (row("cumulative"), "not stated", "未载明"),
])
def test_period_words(fig, en, zh):
    assert en in text.period(fig, "en")
    assert zh in text.period(fig, "zh")


@pytest.mark.parametrize("fig, en, zh", [
    (row("per_year", "2021-10-14", inferred="period_start"), "start not stated; taken as <time",
     "起始时间未载明，按<time datetime=\"2021-10-14\">2021年10月14日</time>推定"),
    (row("cumulative", "2012-11-08", inferred="period_start"),
     "start not stated; taken as the Eighteenth National Congress of the CPC (<time",
     "起始时间未载明，按党的十八大（<time datetime=\"2012-11-08\">2012年11月8日</time>）推定"),
])
def test_an_inferred_start_is_never_shown_as_fact(fig, en, zh):
    assert text.period(fig, "en").startswith(en) and "since" not in text.period(fig, "en")
    assert text.period(fig, "zh") == zh
