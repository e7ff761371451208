"""Consistency checks: honest verdicts on good data, fail (never crash, never vanish) on altered data."""

import pytest

from talentbrief import checks
from tests.content_tables import FIGURES, make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def run(**kwargs):
    tables = make_tables(**kwargs)
    return {r.key: r for r in checks.run(tables.figures, tables.sources)}


def test_sourced_figures_get_verdicts_no_stronger_than_the_checks_can_show():
    results = run()
    assert {k: r.status for k, r in results.items()} == {
        "composition": "consistent", "agreement": "restatement", "exam_bounds": "plausible",
        "first_round_task": "consistent"}
    assert {r.status for r in results.values()} <= set(checks.VERDICTS)


def test_first_round_task_is_at_most_consistent_and_says_why():
    result = run()["first_round_task"]
    assert result.status == "consistent"  # an average of all training cannot show each year met a subset's task
    assert "does not confirm" in result.message["en"] and "cannot show that each year" in result.message["en"]
    assert "不能证实" in result.message["zh"] and "一部分" in result.message["zh"]


def test_a_restated_plan_is_called_a_restatement_not_corroboration():
    message = run()["agreement"].message
    assert "restatement of the same plan, not independent corroboration" in message["en"]
    assert "重申" in message["zh"] and "并非独立佐证" in message["zh"]
    assert "gmw" not in message["zh"] and "cn-2021" not in message["zh"]  # outlets, never slugs
    assert "光明日报" in message["zh"]


def test_a_restatement_with_another_value_fails():
    result = run(change={"f-de-2023": {"value": 90_000}})["agreement"]
    assert result.status == "fail" and "different value" in result.message["en"]


def test_unlinked_reports_from_two_sources_are_compared_as_independent():
    result = run(change={"f-de-2023": {"restates": None}})["agreement"]
    assert result.status == "consistent" and "independent reports agree" in result.message["en"]


def test_exam_bounds_is_a_plausibility_check_with_the_applicants_caveat():
    result = run()["exam_bounds"]
    assert result.status == "plausible"
    assert "sits the exam" in result.message["en"] and "more than once" in result.message["en"]
    assert "未必都参加考试" in result.message["zh"] and "多次报考" in result.message["zh"]


def test_each_check_names_the_rows_it_used():
    results = run()
    assert results["composition"].figure_ids == ("f-ku-total", "f-ku-adv", "f-ku-cap", "f-de-2021")
    assert set(results["agreement"].figure_ids) == {"f-de-2021", "f-de-2023"}
    assert results["exam_bounds"].figure_ids == ("f-ex-pass", "f-ex-app")
    assert set(results["first_round_task"].figure_ids) == {"f-ku-1", "f-ku-task"}


def test_messages_exist_in_both_languages_with_qualified_numbers():
    results = run()
    composition = results["composition"].message
    assert "about 900,000" in composition["en"] and "1 million" in composition["en"]
    assert "约90万" in composition["zh"] and "100万" in composition["zh"]
    exam = results["exam_bounds"].message
    assert "more than 920,000" in exam["en"] and "lower bounds" in exam["en"]
    assert "92万余" in exam["zh"] and "485万余" in exam["zh"]


@pytest.mark.parametrize("capacity, status", [
    (700_000, "fail"),  # parts add up to 800,000: a fifth short
    (960_000, "plausible"),  # 1,060,000: beyond the 5% of an approximation, within twice that
    (940_000, "consistent"),  # 960,000: within the approximation
])
def test_composition_against_the_total(capacity, status):
    assert run(change={"f-ku-cap": {"value": capacity}})["composition"].status == status


def test_composition_of_exact_parts_must_add_up_exactly():
    exact = {fid: {"qualifier": "exact"} for fid in ("f-ku-adv", "f-ku-cap", "f-de-2021")}
    assert run(change=exact)["composition"].status == "consistent"
    exact["f-ku-cap"] = {"qualifier": "exact", "value": 900_001}
    assert run(change=exact)["composition"].status == "plausible"


def test_composition_with_a_missing_part_fails_and_says_which():
    result = run(drop=("f-ku-adv",))["composition"]
    assert result.status == "fail"
    assert "advanced-seminar-trainees-per-year" in result.message["en"]
    assert "advanced-seminar-trainees-per-year" in result.message["zh"]


def test_composition_takes_the_part_from_another_source_when_the_plan_lacks_it():
    result = run(drop=("f-de-2021",))["composition"]
    assert result.status == "consistent" and "f-de-2023" in result.figure_ids


def test_agreement_fails_when_the_sources_disagree():
    result = run(change={"f-de-2023": {"value": 120_000, "restates": None}})["agreement"]
    assert result.status == "fail"
    assert "120,000" in result.message["en"]


def test_agreement_with_one_source_is_not_comparable_and_with_none_fails():
    assert run(drop=("f-de-2023",))["agreement"].status == "not_comparable"
    assert run(drop=("f-de-2023", "f-de-2021"))["agreement"].status == "fail"


def test_agreement_in_different_units_is_not_comparable():
    result = run(change={"f-de-2023": {"unit": "person_times"}})["agreement"]
    assert result.status == "not_comparable"
    assert "人次、人" in result.message["zh"] and "person_times" not in result.message["zh"]


def test_exam_bounds_fail_when_passes_exceed_applicants():
    result = run(change={"f-ex-pass": {"value": 5_000_000}})["exam_bounds"]
    assert result.status == "fail"
    assert "contradict" in result.message["en"] and "矛盾" in result.message["zh"]


def test_exam_bounds_with_a_missing_row_fails():
    assert run(drop=("f-ex-app",))["exam_bounds"].status == "fail"


def test_first_round_task_fails_when_the_average_is_below_the_task():
    result = run(change={"f-ku-task": {"value": 2_000_000}})["first_round_task"]
    assert result.status == "fail"
    assert "below" in result.message["en"]


def test_no_data_at_all_fails_every_check_without_raising():
    results = run(drop=tuple(row[0] for row in FIGURES[:-1]))  # one unrelated row left
    assert {r.status for r in results.values()} == {"fail"}


@pytest.mark.parametrize("status, diff, approximate", [
    ("consistent", 0, False), ("plausible", 1, False), ("consistent", 5, True), ("plausible", 6, True),
    ("fail", 11, True)])
def test_agreement_status_bands(status, diff, approximate):
    assert checks.agreement_status(diff, 100, approximate) == status


def test_run_filters_by_programme():
    tables = make_tables()
    keys = [r.key for r in checks.run(tables.figures, tables.sources, "knowledge-update")]
    assert keys == ["composition", "first_round_task"]
