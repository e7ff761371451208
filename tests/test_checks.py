"""Consistency checks: each kind's verdicts on small tables, honest on good data, fail (never crash, never
vanish) on altered or missing data; the wording comes from the entry (data/checks.yml)."""

import pytest

from talentbrief import checks
from talentbrief.definitions import Entry
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def run(**kwargs):
    tables = make_tables(**kwargs)
    return {e.id: checks.run(e, tables.figures, tables.sources, tables.definitions.label)
            for e in tables.definitions.of("check")}


def check(kind, figures, **kwargs):
    """A check of this kind on the fixture tables, with terse wording showing every placeholder it fills."""
    wording = checks.KINDS[kind].wording
    said = {v: " ".join(f"{p}=[{{{p}}}]" for p in placeholders) for v, placeholders in wording.items()}
    entry = Entry("check", "t", kind, figures, {"en": "T", "zh": "T"},
                  {v: {"en": f"{v}: {said[v]}", "zh": f"{v}：{said[v]}"} for v in wording})
    tables = make_tables(**kwargs)
    return checks.run(entry, tables.figures, tables.sources)


def test_sourced_figures_get_verdicts_no_stronger_than_the_checks_can_show():
    results = run()
    assert {k: r.status for k, r in results.items()} == {
        "composition": "consistent", "restated-plan": "restatement", "exam-bounds": "plausible",
        "first-round-task": "consistent"}
    assert {r.status for r in results.values()} <= set(checks.VERDICTS)
    assert all(set(kind.wording) <= set(checks.VERDICTS) for kind in checks.KINDS.values())


def test_each_check_names_the_rows_it_used_in_the_order_its_entry_lists_them():
    results = run()
    assert results["composition"].figure_ids == ("f-ku-total", "f-ku-adv", "f-ku-cap", "f-de-2021")
    assert results["restated-plan"].figure_ids == ("f-de-2021", "f-de-2023")
    assert results["exam-bounds"].figure_ids == ("f-ex-pass", "f-ex-app")
    assert results["first-round-task"].figure_ids == ("f-ku-task", "f-ku-1")


# ---------------------------------------------------------------- parts-sum

PARTS = {"total": "f-ku-total", "parts": ("f-ku-adv", "f-ku-cap", "f-de-2021")}


def parts_sum(**kwargs):
    return check("parts-sum", PARTS, **kwargs)


def test_parts_sum_fills_parts_sum_and_total_in_both_languages():
    result = parts_sum()
    assert result.message["en"] == (
        "consistent: parts=[label advanced-seminar-trainees-per-year (about 20,000 people a year) + "
        "label capacity-improvement-trainees-per-year (about 900,000 people a year) + "
        "label digital-talents-trained-per-year (about 80,000 people a year)] "
        "sum=[about 1 million people a year] total=[1 million people a year]")
    assert result.message["zh"].startswith("consistent：parts=[标签 advanced-seminar-trainees-per-year（每年约2万人）、")
    assert "sum=[每年约100万人] total=[每年100万人]" in result.message["zh"]


@pytest.mark.parametrize("capacity, status", [
    (700_000, "fail"),  # parts add up to 800,000: a fifth short
    (960_000, "plausible"),  # 1,060,000: beyond the 5% of an approximation, within twice that
    (940_000, "consistent"),  # 960,000: within the approximation
])
def test_parts_sum_against_the_total(capacity, status):
    result = parts_sum(change={"f-ku-cap": {"value": capacity}})
    assert result.status == status and result.message["en"].startswith(f"{status}: ")


def test_parts_sum_of_exact_parts_must_add_up_exactly():
    exact = {fid: {"qualifier": "exact"} for fid in ("f-ku-adv", "f-ku-cap", "f-de-2021")}
    assert parts_sum(change=exact).status == "consistent"
    exact["f-ku-cap"] = {"qualifier": "exact", "value": 900_001}
    assert parts_sum(change=exact).status == "plausible"


def test_parts_in_different_units_are_not_comparable_and_say_so_in_words():
    result = parts_sum(change={"f-ku-cap": {"unit": "person_times"}})
    assert result.status == "not_comparable"
    assert result.message["en"] == "Cannot compare: the rows use different units (person-times, people)."
    assert result.message["zh"] == "无法比较：数据单位不同（人次、人）。"


# ---------------------------------------------------------------- restatement

RESTATED = {"original": "f-de-2021", "restated": "f-de-2023"}


def restatement(**kwargs):
    return check("restatement", RESTATED, **kwargs)


def test_a_restatement_with_the_same_value_is_a_restatement_naming_outlet_and_dates():
    result = restatement()
    assert result.status == "restatement"
    assert result.message["en"] == (
        "restatement: original=[about 80,000 people a year] restated=[about 80,000 people a year] "
        "restated_by=[Guangming Daily] original_date=[14 October 2021] restated_date=[7 October 2023]")
    assert "restated_by=[光明日报] original_date=[2021年10月14日]" in result.message["zh"]  # outlets, never slugs


@pytest.mark.parametrize("change", [{"value": 90_000}, {"qualifier": "exact"}])
def test_a_restatement_with_another_value_or_qualifier_fails(change):
    result = restatement(change={"f-de-2023": change})
    assert result.status == "fail" and result.message["en"].startswith("fail: ")


def test_the_project_wording_of_a_restatement_is_not_corroboration():
    message = run()["restated-plan"].message
    assert "restatement of the same plan, not independent corroboration" in message["en"]
    assert "重申" in message["zh"] and "并非独立佐证" in message["zh"] and "光明日报" in message["zh"]


# ---------------------------------------------------------------- at-most

BOUND = {"figure": "f-ex-pass", "limit": "f-ex-app"}


def at_most(**kwargs):
    return check("at-most", BOUND, **kwargs)


def test_a_figure_within_its_limit_is_only_plausible_with_the_ratio_of_the_bounds():
    result = at_most()
    assert result.status == "plausible"  # two lower bounds: within is never proven
    assert result.message["en"] == ("plausible: figure=[more than 920,000 people] "
                                    "limit=[more than 4.85 million people] ratio=[about 19%]")
    assert "figure=[92万余人]" in result.message["zh"] and "ratio=[约19%]" in result.message["zh"]


def test_a_figure_above_its_limit_fails():
    result = at_most(change={"f-ex-pass": {"value": 5_000_000}})
    assert result.status == "fail" and "figure=[more than 5 million people]" in result.message["en"]


def test_at_most_compares_figures_in_different_units():  # passes (people) within applications
    assert at_most(change={"f-ex-app": {"unit": "applications"}}).status == "plausible"


# ---------------------------------------------------------------- average-meets-task

TASK = {"task": "f-ku-task", "total": "f-ku-1"}


def average_task(**kwargs):
    return check("average-meets-task", TASK, **kwargs)


def test_an_average_reaching_the_task_is_at_most_consistent():
    result = average_task()
    assert result.status == "consistent"  # an average of all training cannot show each year met a subset's task
    assert result.message["en"] == ("consistent: average=[about 1.26 million person-times] "
                                    "task=[1 million person-times] total=[12.643 million person-times]")


def test_an_average_below_the_task_fails_and_follows_the_period_in_the_data():
    assert average_task(change={"f-ku-task": {"value": 2_000_000}}).status == "fail"
    assert average_task(change={"f-ku-1": {"period_start": "2019-01-01"}}).status == "consistent"  # 2 years
    assert average_task(change={"f-ku-1": {"period_start": "2001-01-01"}}).status == "fail"  # 20 years


def test_an_average_without_a_period_cannot_run():
    result = average_task(change={"f-ku-1": {"period_start": None}})
    assert result.status == "fail"
    assert result.message["en"] == "Cannot run: no data for f-ku-1."  # tables without definitions: by id


# ---------------------------------------------------------------- missing rows

def test_a_check_with_a_missing_row_cannot_run_and_names_it_by_label_in_both_languages():
    result = run(drop=("f-ku-adv",))["composition"]
    assert result.status == "fail"
    assert result.message["en"] == "Cannot run: no data for label advanced-seminar-trainees-per-year."
    assert result.message["zh"] == "无法检查：缺少标签 advanced-seminar-trainees-per-year的数据。"
    assert "f-ku-adv" not in result.figure_ids and "f-ku-total" in result.figure_ids


def test_no_data_at_all_fails_every_check_without_raising():
    results = run(drop=("f-ku-1", "f-ku-task", "f-ku-total", "f-ku-adv", "f-ku-cap", "f-de-2021", "f-de-2023",
                        "f-ex-app", "f-ex-pass"))
    assert {r.status for r in results.values()} == {"fail"}
    assert all(r.message["en"].startswith("Cannot run: no data for ") for r in results.values())


@pytest.mark.parametrize("status, diff, approximate", [
    ("consistent", 0, False), ("plausible", 1, False), ("consistent", 5, True), ("plausible", 6, True),
    ("fail", 11, True)])
def test_agreement_status_bands(status, diff, approximate):
    assert checks.agreement_status(diff, 100, approximate) == status
