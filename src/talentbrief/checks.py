"""Consistency checks between figures: a verdict, a message in both languages, the rows used.

Verdicts say no more than a check can show (VERDICTS): `consistent` (the figures fit together, which
does not prove them), `plausible` (a plausibility check found nothing implausible), `not_comparable`
(nothing to compare, or different units) and `fail` (the figures contradict each other, or the check
cannot run). Each check is declared once in CHECKS with the programme it concerns and a selector giving
the rows it reads (`talentbrief.scope` keeps exactly those). Missing rows make a check fail with a
message naming what is missing; a check never raises on data and is never dropped from a report.
Messages name sources by their outlet or issuing body in the report's language, never by slug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

import figures as fmt
from talentbrief import metrics, text
from talentbrief.metrics import first, rows_for
from talentbrief.trace import reporter

# A value marked "about" is taken to be within this share of the true value.
APPROX_TOLERANCE = 0.05

COMPOSITION_TOTAL = metrics.NEW_ROUND
COMPOSITION_PARTS = ("advanced-seminar-trainees-per-year", "capacity-improvement-trainees-per-year",
                     "digital-talents-trained-per-year")
AGREEMENT = "digital-talents-trained-per-year"
FIRST_ROUND_TASK = "first-round-yearly-training-task"
# `restatement`: a later source reports again the same plan with the same value. It is neither a pass
# nor corroboration (the same plan said twice), so it has its own verdict, shown without a tick.
VERDICTS = ("consistent", "plausible", "restatement", "not_comparable", "fail")


@dataclass(frozen=True)
class CheckResult:
    key: str
    programme: str
    status: str  # one of VERDICTS
    message: dict[str, str]  # lang -> plain text (numbers formatted, not yet cited)
    figure_ids: tuple[str, ...]  # the rows the check used


@dataclass(frozen=True)
class Spec:
    key: str
    programme: str
    rows: Callable[[pd.DataFrame], pd.DataFrame]
    run: Callable[[pd.DataFrame, pd.DataFrame], CheckResult]  # (figures, sources) -> result


def _ids(rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(rows["figure_id"].astype(str))


def _both(build: Callable[[str], str]) -> dict[str, str]:
    return {lang: build(lang) for lang in text.LANGS}


def _figure(row, lang: str) -> str:
    return fmt.format_figure(int(row["value"]), str(row["unit"]), str(row["qualifier"]), lang,
                             per_year=str(row["period_basis"]) == "per_year")


def _missing(key, programme, rows, wanted) -> CheckResult | None:
    """A fail result naming the indicators with no row, or None when all are there."""
    found = set(rows["indicator"].astype(str))
    absent = [i for i in wanted if i not in found]
    if not absent:
        return None
    return CheckResult(key, programme, "fail",
                       _both(lambda lang: text.plain("check.missing", lang, indicators=", ".join(absent))),
                       _ids(rows))


def _units_differ(key, programme, rows) -> CheckResult | None:
    units = sorted(set(rows["unit"].astype(str)))
    if len(units) <= 1:
        return None
    return CheckResult(key, programme, "not_comparable", _both(lambda lang: text.plain(
        "check.units", lang, units=text.plain("list.sep", lang).join(fmt.unit_label(u, lang) for u in units))),
        _ids(rows))


def agreement_status(diff: float, reference: float, approximate: bool) -> str:
    """consistent within the approximation (exact values: equal), plausible within one tolerance more,
    else fail."""
    tolerance = APPROX_TOLERANCE if approximate else 0.0
    if abs(diff) <= tolerance * abs(reference):
        return "consistent"
    if abs(diff) <= (tolerance + APPROX_TOLERANCE) * abs(reference):
        return "plausible"
    return "fail"


# ---------------------------------------------------------------- new-round composition

def composition_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """The total and one row per part, parts taken from the total's source when it has them."""
    total = first(figures, COMPOSITION_TOTAL)
    picked = [] if total is None else [total]
    for part in COMPOSITION_PARTS:
        rows = rows_for(figures, part)
        if total is not None:
            same = rows[rows["source_id"].astype(str) == str(total["source_id"])]
            rows = same if not same.empty else rows
        if not rows.empty:
            picked.append(rows.iloc[0])
    return pd.DataFrame(picked, columns=figures.columns)


def composition(figures: pd.DataFrame, sources: pd.DataFrame) -> CheckResult:
    key, programme = "composition", "knowledge-update"
    rows = composition_rows(figures)
    problem = _missing(key, programme, rows, (COMPOSITION_TOTAL, *COMPOSITION_PARTS)) \
        or _units_differ(key, programme, rows)
    if problem:
        return problem
    total = rows[rows["indicator"].astype(str) == COMPOSITION_TOTAL].iloc[0]
    parts = rows[rows["indicator"].astype(str) != COMPOSITION_TOTAL]
    summed = int(parts["value"].sum())
    approximate = any(str(q) != "exact" for q in rows["qualifier"])
    status = agreement_status(summed - int(total["value"]), int(total["value"]), approximate)

    def message(lang):
        listed = text.plain("list.plus", lang).join(text.plain("check.part", lang, label=p[f"label_{lang}"], value=_figure(p, lang))
                            for _, p in parts.iterrows())
        summed_text = fmt.format_figure(summed, str(total["unit"]), "approx" if approximate else "exact",
                                        lang, per_year=True)
        return (text.plain("check.composition", lang, parts=listed, sum=summed_text,
                           total=_figure(total, lang)) + text.plain("sentence.sep", lang)
                + text.plain(f"check.composition.{status}", lang))

    return CheckResult(key, programme, status, _both(message), _ids(rows))


# ---------------------------------------------------------------- cross-source agreement

def agreement_rows(figures: pd.DataFrame) -> pd.DataFrame:
    return rows_for(figures, AGREEMENT)


def _restatement(rows: pd.DataFrame):
    """(later row, the row it restates) when one of these rows restates another of them, else None."""
    by_id = {str(r["figure_id"]): r for _, r in rows.iterrows()}
    for _, row in rows.iterrows():
        target = row.get("restates")
        if isinstance(target, str) and target in by_id:
            return row, by_id[target]
    return None


def agreement(figures: pd.DataFrame, sources: pd.DataFrame) -> CheckResult:
    """Two sources with the same measure: a restatement (linked in the data) says the same plan twice and
    is checked for the same value, never counted as corroboration; unlinked reports are compared."""
    key, programme = "agreement", "digital-engineers"
    rows = agreement_rows(figures)
    problem = _missing(key, programme, rows, (AGREEMENT,)) or _units_differ(key, programme, rows)
    if problem:
        return problem
    by_source = {str(r["source_id"]): r for r in sources.to_dict("records")}

    def date(row, lang):
        src = by_source.get(str(row["source_id"]))
        return text.format_date(src["date_published"], lang) if src else "?"

    def who(row, lang):
        src = by_source.get(str(row["source_id"]))
        return reporter(src, lang) if src else "?"

    if rows["source_id"].nunique() < 2:
        return CheckResult(key, programme, "not_comparable",
                           _both(lambda lang: text.plain("check.agreement.single", lang)), _ids(rows))
    pair = _restatement(rows)
    if pair is not None:
        later, original = pair
        same = int(later["value"]) == int(original["value"]) and str(later["qualifier"]) == str(original["qualifier"])
        status = "restatement" if same else "fail"
        return CheckResult(key, programme, status, _both(lambda lang: text.plain(
            "check.restated.same" if same else "check.restated.fail", lang, later=who(later, lang), later_date=date(later, lang),
            first_date=date(original, lang), value=_figure(original, lang), later_value=_figure(later, lang))),
            _ids(rows))
    values = [int(v) for v in rows["value"]]
    approximate = any(str(q) != "exact" for q in rows["qualifier"])
    status = agreement_status(max(values) - min(values), max(values), approximate)

    def message(lang):
        reports = text.plain("list.semi", lang).join(
            text.plain("check.report", lang, source=who(r, lang), value=_figure(r, lang), date=date(r, lang))
            for _, r in rows.iterrows())
        return text.plain("check.agreement", lang, reports=reports) + text.plain("sentence.sep", lang) + \
            text.plain(f"check.agreement.{status}", lang)

    return CheckResult(key, programme, status, _both(message), _ids(rows))


# ---------------------------------------------------------------- exam passes within applicants

def exam_rows(figures: pd.DataFrame) -> pd.DataFrame:
    return rows_for(figures, metrics.EXAM_APPLICANTS, metrics.EXAM_PASSES)


def exam_bounds(figures: pd.DataFrame, sources: pd.DataFrame) -> CheckResult:
    key, programme = "exam_bounds", "software-exams"
    rows = exam_rows(figures)
    problem = _missing(key, programme, rows, (metrics.EXAM_APPLICANTS, metrics.EXAM_PASSES))
    if problem:
        return problem
    applicants, passes = first(rows, metrics.EXAM_APPLICANTS), first(rows, metrics.EXAM_PASSES)
    # Two lower bounds: passes within applicants is only plausible, never proven.
    status = "plausible" if int(passes["value"]) <= int(applicants["value"]) else "fail"
    ratio = metrics.exam_ratio(rows)

    def message(lang):
        return text.plain(f"check.exam_bounds.{status}", lang, passes=_figure(passes, lang),
                          applicants=_figure(applicants, lang),
                          ratio=fmt.format_percent(ratio.value, lang) if ratio.value is not None else "")

    return CheckResult(key, programme, status, _both(message),
                       (str(passes["figure_id"]), str(applicants["figure_id"])))


# ---------------------------------------------------------------- first round's yearly task against its total

def first_round_task_rows(figures: pd.DataFrame) -> pd.DataFrame:
    return rows_for(figures, metrics.FIRST_ROUND, FIRST_ROUND_TASK)


def first_round_task(figures: pd.DataFrame, sources: pd.DataFrame) -> CheckResult:
    """The source says a yearly task for a subset of training was completed each year: then the average
    of all first-round training must reach it. That is necessary, not sufficient: at most consistent."""
    key, programme = "first_round_task", "knowledge-update"
    rows = first_round_task_rows(figures)
    problem = _missing(key, programme, rows, (metrics.FIRST_ROUND, FIRST_ROUND_TASK)) \
        or _units_differ(key, programme, rows)
    if problem:
        return problem
    total, task = first(rows, metrics.FIRST_ROUND), first(rows, FIRST_ROUND_TASK)
    years = metrics.period_years(total["period_start"], total["period_end"])
    if not years:
        return CheckResult(key, programme, "fail", _both(
            lambda lang: text.plain("check.missing", lang, indicators=f"{metrics.FIRST_ROUND} (period)")),
            _ids(rows))
    average = int(total["value"]) / years
    status = "consistent" if average >= int(task["value"]) else "fail"

    def message(lang):
        return text.plain(f"check.first_round_task.{status}", lang,
                          average=fmt.format_derived(average, lang, unit=str(total["unit"])),
                          task=fmt.format_figure(int(task["value"]), str(task["unit"]), str(task["qualifier"]),
                                                 lang))

    return CheckResult(key, programme, status, _both(message), _ids(rows))


CHECKS = (
    Spec("composition", "knowledge-update", composition_rows, composition),
    Spec("agreement", "digital-engineers", agreement_rows, agreement),
    Spec("exam_bounds", "software-exams", exam_rows, exam_bounds),
    Spec("first_round_task", "knowledge-update", first_round_task_rows, first_round_task),
)


def run(figures: pd.DataFrame, sources: pd.DataFrame, programme: str | None = None) -> list[CheckResult]:
    """Every check (or those concerning one programme), in a fixed order."""
    return [spec.run(figures, sources) for spec in CHECKS if programme in (None, spec.programme)]
