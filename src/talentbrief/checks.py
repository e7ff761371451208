"""Consistency checks between figures (entries of data/checks.yml): a verdict, a finding in both
languages, the rows used. A verdict says no more than the check can show: `consistent` fits but does not
prove, a `restatement` is no corroboration. A check whose rows are missing (published after the as-of
date) fails as "cannot run", naming them: it never raises on data and is never dropped from a report.
Findings name a source by its outlet or issuing body, never by slug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

import figures as fmt
from talentbrief import text
from talentbrief.metrics import Kind, inputs, needs_period, period_years
from talentbrief.trace import reporter

APPROX_TOLERANCE = 0.05  # a value marked "about" is taken to be within this share of the true value
VERDICTS = ("consistent", "plausible", "restatement", "not_comparable", "fail")


@dataclass(frozen=True)
class CheckResult:
    key: str  # the check's id
    status: str  # one of VERDICTS
    message: dict[str, str]  # lang -> plain text (numbers formatted, not yet cited)
    figure_ids: tuple[str, ...]  # the rows the check used


def _both(build: Callable[[str], str]) -> dict[str, str]:
    return {lang: build(lang) for lang in text.LANGS}


def _figure(row, lang: str) -> str:
    return fmt.format_figure(int(row["value"]), str(row["unit"]), str(row["qualifier"]), lang,
                             per_year=str(row["period_basis"]) == "per_year")


def agreement_status(diff: float, reference: float, approximate: bool) -> str:
    """consistent within the approximation (exact values: equal), plausible within one tolerance more."""
    tolerance = APPROX_TOLERANCE if approximate else 0.0
    if abs(diff) <= tolerance * abs(reference):
        return "consistent"
    if abs(diff) <= (tolerance + APPROX_TOLERANCE) * abs(reference):
        return "plausible"
    return "fail"


# ---------------------------------------------------------------- kinds: (status, lang -> placeholders)

def _parts_sum(rows, sources):
    """The parts add up to the total, within the approximation of any value marked "about"."""
    total, parts = rows["total"], rows["parts"]
    summed = sum(int(p["value"]) for p in parts)
    approximate = any(str(r["qualifier"]) != "exact" for r in (total, *parts))
    status = agreement_status(summed - int(total["value"]), int(total["value"]), approximate)
    return status, lambda lang: {
        "parts": text.plain("list.plus", lang).join(
            text.plain("check.part", lang, label=p[f"label_{lang}"], value=_figure(p, lang)) for p in parts),
        "sum": fmt.format_figure(summed, str(total["unit"]), "approx" if approximate else "exact", lang,
                                 per_year=str(total["period_basis"]) == "per_year"),
        "total": _figure(total, lang)}


def _restatement(rows, sources):
    """A later source restates the plan (figures.restates): never corroboration; another value fails."""
    original, restated = rows["original"], rows["restated"]
    same = int(original["value"]) == int(restated["value"]) \
        and str(original["qualifier"]) == str(restated["qualifier"])
    by_source = {str(r["source_id"]): r for r in sources.to_dict("records")}

    def date(row, lang):
        src = by_source.get(str(row["source_id"]))
        return text.format_date(src["date_published"], lang) if src else "?"

    restated_by = by_source.get(str(restated["source_id"]))
    return "restatement" if same else "fail", lambda lang: {
        "original": _figure(original, lang), "restated": _figure(restated, lang),
        "restated_by": reporter(restated_by, lang) if restated_by else "?",
        "original_date": date(original, lang), "restated_date": date(restated, lang)}


def _at_most(rows, sources):
    """A figure within another (passes within applications). Bounds cannot prove it: at most plausible."""
    figure, limit = rows["figure"], rows["limit"]
    status = "plausible" if int(figure["value"]) <= int(limit["value"]) else "fail"
    ratio = int(figure["value"]) / int(limit["value"]) if int(limit["value"]) else None
    return status, lambda lang: {
        "figure": _figure(figure, lang), "limit": _figure(limit, lang),
        "ratio": fmt.format_percent(ratio, lang) if ratio is not None else ""}


def _average_meets_task(rows, sources):
    """A yearly task said to be met: the total's yearly average must reach it (necessary, not sufficient)."""
    total, task = rows["total"], rows["task"]
    years = period_years(total["period_start"], total["period_end"])
    if not years:
        return None, (str(total["figure_id"]),)
    average = int(total["value"]) / years
    return "consistent" if average >= int(task["value"]) else "fail", lambda lang: {
        "average": fmt.format_derived(average, lang, unit=str(total["unit"])),
        "task": fmt.format_figure(int(task["value"]), str(task["unit"]), str(task["qualifier"]), lang),
        "total": _figure(total, lang)}


def _restates(rows) -> list[str]:
    original, restated = rows["original"]["figure_id"], rows["restated"]
    if restated.get("restates") == original:
        return []
    return [f"figure {restated['figure_id']!r} does not restate {original!r} (its `restates` column in figures.csv)"]


KINDS = {
    # figures.total is the sum of figures.parts: {parts} (each "label (value)"), {sum}, {total}
    "parts-sum": Kind(_parts_sum, {"total": False, "parts": True},
                      dict.fromkeys(("consistent", "plausible", "fail"), ("parts", "sum", "total")),
                      same_unit=True),
    # figures.restated reports again the plan of figures.original: {original}, {restated} (values),
    # {restated_by} (the outlet), {original_date}, {restated_date}
    "restatement": Kind(_restatement, {"original": False, "restated": False},
                        dict.fromkeys(("restatement", "fail"), (
                            "original", "restated", "restated_by", "original_date", "restated_date")),
                        valid=_restates, same_unit=True),
    # figures.figure does not exceed figures.limit: {figure}, {limit}, {ratio} (figure ÷ limit, computed)
    "at-most": Kind(_at_most, {"figure": False, "limit": False},
                    dict.fromkeys(("plausible", "fail"), ("figure", "limit", "ratio"))),
    # the yearly average of figures.total over its period reaches figures.task: {average}, {task}, {total}
    "average-meets-task": Kind(_average_meets_task, {"total": False, "task": False},
                               dict.fromkeys(("consistent", "fail"), ("average", "task", "total")),
                               valid=needs_period("total"), same_unit=True),
}


def run(entry, figures: pd.DataFrame, sources: pd.DataFrame, label=lambda fid, lang: fid) -> CheckResult:
    """One check of data/checks.yml on these rows; `label(figure_id, lang)` names a missing figure."""
    kind = KINDS[entry.kind]
    rows, missing = inputs(entry, figures)
    present = tuple(i for i in entry.figure_ids if i not in missing)
    if not missing and kind.same_unit:
        units = sorted({str(r["unit"]) for v in rows.values() for r in (v if isinstance(v, list) else [v])})
        if len(units) > 1:
            return CheckResult(entry.id, "not_comparable", _both(lambda lang: text.plain(
                "check.units", lang, units=text.plain("list.sep", lang).join(fmt.unit_label(u, lang) for u in units))),
                present)
    status, values = (None, missing) if missing else kind.run(rows, sources)
    if status is None:  # no data for these figures (or for a period they need)
        return CheckResult(entry.id, "fail", _both(lambda lang: text.plain(
            "check.missing", lang, figures=text.plain("list.sep", lang).join(label(i, lang) for i in values))), present)
    return CheckResult(entry.id, status, _both(lambda lang: text.fill(entry.wording[status][lang], values(lang))),
                       present)
