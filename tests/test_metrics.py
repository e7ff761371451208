"""Derived numbers come from the rows (found by indicator), with the ids they use and their caveat."""

import pytest

from talentbrief import metrics
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def test_first_round_average_is_total_over_the_years_of_its_period():
    m = metrics.first_round_average(make_tables().figures)
    assert m.value == pytest.approx(12_643_000 / 10)
    assert m.unit == "person_times"
    assert m.extra["years"] == 10
    assert m.figure_ids == ("f-ku-1", "f-ku-total")  # the total it averages and the plan it is set against
    assert m.caveat == "person_times_vs_people"
    assert m.missing == ()


def test_first_round_average_follows_the_period_in_the_data():
    tables = make_tables(change={"f-ku-1": {"period_start": "2016-01-01"}})
    assert metrics.first_round_average(tables.figures).value == pytest.approx(12_643_000 / 5)


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


def test_exam_ratio_is_passes_over_applicants_with_its_caveat():
    m = metrics.exam_ratio(make_tables().figures)
    assert m.value == pytest.approx(920_000 / 4_850_000)
    assert m.figure_ids == ("f-ex-pass", "f-ex-app")
    assert m.caveat == "ratio_of_lower_bounds"


@pytest.mark.parametrize("drop, compute, missing", [
    (("f-ku-1",), metrics.first_round_average, ("first-round-training",)),
    (("f-ku-total",), metrics.first_round_average, ("new-round-trainees-per-year",)),
    (("f-ex-pass", "f-ex-app"), metrics.exam_ratio, ("exam-applicants", "exam-passes")),
])
def test_missing_rows_give_no_value_and_name_them(drop, compute, missing):
    m = compute(make_tables(drop=drop).figures)
    assert m.value is None
    assert m.missing == missing


def test_first_round_without_a_period_is_reported_missing():
    m = metrics.first_round_average(make_tables(change={"f-ku-1": {"period_start": None}}).figures)
    assert m.value is None and m.missing == ("period",)


def test_compute_filters_by_programme():
    figures = make_tables().figures
    assert [m.key for m in metrics.compute(figures)] == ["first_round_average", "exam_ratio"]
    assert [m.key for m in metrics.compute(figures, "software-exams")] == ["exam_ratio"]
    assert metrics.compute(figures, "vocational-skills") == []
