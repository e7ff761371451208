"""Derived numbers, computed from figure rows found by indicator, never typed in.

Each metric is declared once in METRICS with the programme it concerns and a selector giving the
rows it reads; `talentbrief.scope` uses the same selectors, so a programme brief's input hash covers
exactly the rows its metrics read. A metric whose rows are missing has `value=None` and names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

FIRST_ROUND = "first-round-training"
NEW_ROUND = "new-round-trainees-per-year"
EXAM_APPLICANTS = "exam-applicants"
EXAM_PASSES = "exam-passes"


@dataclass(frozen=True)
class Metric:
    key: str  # names the text template that describes it
    programme: str
    value: float | None  # None when an input row is missing
    unit: str | None
    figure_ids: tuple[str, ...]  # every row the number is computed from
    caveat: str  # text key of the caveat the report must print next to it
    missing: tuple[str, ...] = ()  # indicators not found
    extra: dict = field(default_factory=dict)  # further inputs the text needs (e.g. years)


@dataclass(frozen=True)
class Spec:
    key: str
    programme: str
    rows: Callable[[pd.DataFrame], pd.DataFrame]  # figure rows it reads (same rows scope keeps)
    compute: Callable[[pd.DataFrame], Metric]


def rows_for(figures: pd.DataFrame, *indicators: str) -> pd.DataFrame:
    """Rows of these indicators in a stable order (by figure id)."""
    picked = figures[figures["indicator"].astype(str).isin(indicators)]
    return picked.sort_values("figure_id", kind="stable")


def first(figures: pd.DataFrame, indicator: str) -> pd.Series | None:
    rows = rows_for(figures, indicator)
    return None if rows.empty else rows.iloc[0]


def period_years(start, end) -> float | None:
    """Length of an inclusive period in years: whole months / 12 when it spans whole months."""
    if pd.isna(start) or pd.isna(end):
        return None
    start, after = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    if start.day == 1 and after.day == 1:
        months = (after.year - start.year) * 12 + after.month - start.month
        return months / 12
    return (after - start).days / 365.25


def _missing(key, programme, unit, caveat, rows, wanted) -> Metric:
    found = set(rows["indicator"].astype(str))
    return Metric(key, programme, None, unit, tuple(rows["figure_id"].astype(str)), caveat,
                  missing=tuple(i for i in wanted if i not in found))


def first_round_average(figures: pd.DataFrame) -> Metric:
    """Average person-times a year in the first round, set against the new round's people a year."""
    rows = rows_for(figures, FIRST_ROUND, NEW_ROUND)
    total, plan = first(figures, FIRST_ROUND), first(figures, NEW_ROUND)
    key, caveat = "first_round_average", "person_times_vs_people"
    years = None if total is None else period_years(total["period_start"], total["period_end"])
    if total is None or plan is None or pd.isna(total["value"]) or not years:
        metric = _missing(key, "knowledge-update", "person_times", caveat, rows, (FIRST_ROUND, NEW_ROUND))
        return metric if metric.missing else replace(metric, missing=("period",))
    return Metric(key, "knowledge-update", int(total["value"]) / years, str(total["unit"]),
                  (str(total["figure_id"]), str(plan["figure_id"])), caveat,
                  extra={"years": years, "total_id": str(total["figure_id"]),
                         "plan_id": str(plan["figure_id"]), "plan_value": int(plan["value"]),
                         "plan_unit": str(plan["unit"]), "plan_qualifier": str(plan["qualifier"]),
                         "start": total["period_start"], "end": total["period_end"]})


def exam_ratio(figures: pd.DataFrame) -> Metric:
    """Passes / applicants: a ratio of two lower bounds, so not a true pass rate."""
    rows = rows_for(figures, EXAM_APPLICANTS, EXAM_PASSES)
    applicants, passes = first(figures, EXAM_APPLICANTS), first(figures, EXAM_PASSES)
    key, caveat = "exam_ratio", "ratio_of_lower_bounds"
    if applicants is None or passes is None or not applicants["value"]:
        return _missing(key, "software-exams", "ratio", caveat, rows, (EXAM_APPLICANTS, EXAM_PASSES))
    return Metric(key, "software-exams", int(passes["value"]) / int(applicants["value"]), "ratio",
                  (str(passes["figure_id"]), str(applicants["figure_id"])), caveat,
                  extra={"qualifiers": (str(passes["qualifier"]), str(applicants["qualifier"]))})


METRICS = (
    Spec("first_round_average", "knowledge-update", lambda f: rows_for(f, FIRST_ROUND, NEW_ROUND),
         first_round_average),
    Spec("exam_ratio", "software-exams", lambda f: rows_for(f, EXAM_APPLICANTS, EXAM_PASSES), exam_ratio),
)


def compute(figures: pd.DataFrame, programme: str | None = None) -> list[Metric]:
    """Every metric (or those concerning one programme), computed from these rows."""
    return [spec.compute(figures) for spec in METRICS if programme in (None, spec.programme)]
