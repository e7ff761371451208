"""House-style tests. Expected strings are written by hand from the rules in figures' docstring."""

from decimal import Decimal

import numpy as np
import pytest

import figures

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
    assert figures.format_figure(80000, "persons", "approx", "en", per_year=True) == "about 80,000 people a year"
    assert figures.format_figure(80000, "persons", "approx", "zh", per_year=True) == "每年约8万人"
    assert figures.format_figure(1000000, "persons", "exact", "en", per_year=True) == "1 million people a year"
    assert figures.format_figure(1000000, "persons", "exact", "zh", per_year=True) == "每年100万人"
    assert figures.format_figure(2520000, "persons", "lower_bound", "zh", per_year=True) == "每年252万余人"


def test_format_figure_singular_and_units():
    assert figures.format_figure(1, "journals", "exact", "en") == "1 journal"
    assert figures.format_figure(2, "journals", "exact", "en") == "2 journals"
    assert figures.format_figure(1, "journals", "exact", "zh") == "1种期刊"
    assert figures.format_figure(1000000, "persons", "exact", "en") == "1 million people"
    assert figures.format_figure(30, "seminars", "lower_bound", "zh") == "超过30期研修班"
    assert figures.format_figure(20000, "courses", "lower_bound", "zh") == "2万余门课程"
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
    assert figures.status_label("achieved", "zh") == "已完成"
    assert figures.status_label("planned", "zh") == "计划"
    assert figures.qualifier_phrase("lower_bound", "en") == "more than"
    assert figures.qualifier_phrase("approx", "zh") == "约"
    assert figures.qualifier_phrase("exact", "en") == ""
    assert figures.qualifier_label("lower_bound", "zh") == "下限"
    assert figures.qualifier_mark("lower_bound") == "≥"
    assert figures.unit_label("persons", "en", 1) == "person"
    assert figures.unit_label("persons", "en", 3) == "people"
    assert figures.unit_label("occupations", "zh", 3) == "个职业"
    with pytest.raises(ValueError, match="unknown status 'done'"):
        figures.status_label("done", "en")


def test_every_unit_has_words_in_both_languages():
    for unit in figures.UNITS:
        assert figures.unit_label(unit, "en", 1) != figures.unit_label(unit, "en", 2)
        assert figures.unit_label(unit, "zh")
