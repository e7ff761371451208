"""Derived figures: each kind computes from the rows its entry names by id, and says how it computed."""

import pytest

from talentbrief import metrics
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def compute(entry_id, **kwargs):
    tables = make_tables(**kwargs)
    return metrics.compute(tables.definitions.get("derived", entry_id), tables.figures)


def test_yearly_average_is_total_over_the_years_of_its_period():
    m = compute("first-round-average")
    assert m.value == pytest.approx(12_643_000 / 10) and m.years == 10 and m.missing == ()
    assert str(m.rows["plan"]["figure_id"]) == "f-ku-total"  # a further figure its text cites
    said = "about 1.26 million person-times a year on average over 10 years (computed: 12.643 million ÷ 10)"
    assert metrics.shown(m, "en") == (said, "the total divided by the years it covers", ("f-ku-1",))
    assert metrics.shown(m, "zh")[0] == "10年间平均每年约126万人次（据此计算：1264.3万÷10）"


def test_yearly_average_follows_the_period_in_the_data():
    assert compute("first-round-average", change={"f-ku-1": {"period_start": "2016-01-01"}}).value \
        == pytest.approx(12_643_000 / 5)


@pytest.mark.parametrize("start, end, years", [
    ("2011-01-01", "2020-12-31", 10),
    ("2012-07-01", "2013-06-30", 1),
    ("2020-01-01", "2020-03-31", 0.25),
])
def test_period_years_counts_whole_months(start, end, years):
    assert metrics.period_years(start, end) == pytest.approx(years)


def test_period_years_of_odd_days_uses_days():
    assert metrics.period_years("2012-11-08", "2022-11-07") == pytest.approx(3652 / 365.25)
    assert metrics.period_years("2012-11-08", None) is None


def test_ratio_is_numerator_over_denominator_shown_as_a_percentage():
    m = compute("exam-ratio")
    assert m.value == pytest.approx(920_000 / 4_850_000)
    assert metrics.shown(m, "en") == ("about 19% (computed: 920,000 ÷ 4.85 million)",
                                      "the first figure divided by the second", ("f-ex-pass", "f-ex-app"))
    assert metrics.shown(m, "zh")[0] == "约19%（据此计算：92万÷485万）"


@pytest.mark.parametrize("drop, entry_id, missing", [
    (("f-ku-1",), "first-round-average", ("f-ku-1",)),
    (("f-ku-total",), "first-round-average", ("f-ku-total",)),  # a cited figure is an input too
    (("f-ex-pass", "f-ex-app"), "exam-ratio", ("f-ex-pass", "f-ex-app")),
])
def test_missing_rows_give_no_value_and_name_them(drop, entry_id, missing):
    m = compute(entry_id, drop=drop)
    assert m.value is None and m.missing == missing


def test_no_period_or_a_zero_denominator_give_no_value():
    assert compute("first-round-average", change={"f-ku-1": {"period_start": None}}).missing == ("f-ku-1",)
    assert compute("exam-ratio", change={"f-ex-app": {"value": 0}}).missing == ("f-ex-app",)
