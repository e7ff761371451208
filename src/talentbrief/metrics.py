"""Derived figures: computed from figure rows named by id in data/derived.yml, never typed in. One
whose rows are missing (published after the report's as-of date) has `value=None` and names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

import figures as fmt
from talentbrief import text


@dataclass(frozen=True)
class Kind:
    """A check or derived-figure kind: what an entry of data/checks.yml or data/derived.yml can say."""

    run: Callable  # evaluates one entry on the rows (checks.run / compute)
    inputs: dict  # role -> whether it takes a list of figure ids
    wording: dict  # template key (a verdict, or "text") -> placeholders the kind fills
    valid: Callable[[dict], list[str]] = lambda rows: []  # problems of the input rows (CSV cells)
    cites: bool = False  # further roles name figures the wording cites as {role}
    same_unit: bool = False  # inputs in different units cannot be compared


@dataclass(frozen=True)
class Derived:
    key: str  # the entry's id
    kind: str
    value: float | None  # None when an input row is missing
    rows: dict = field(default_factory=dict)  # role -> row (or list of rows) present
    missing: tuple[str, ...] = ()  # input figure ids not in the rows
    years: float | None = None  # the period a yearly average covers


def inputs(entry, figures: pd.DataFrame) -> tuple[dict, tuple[str, ...]]:
    """(role -> row, or list of rows, present in `figures`; the input ids that are not)."""
    by_id = {str(r["figure_id"]): r for _, r in figures.iterrows() if str(r["figure_id"]) in set(entry.figure_ids)}
    rows = {role: by_id.get(v) if isinstance(v, str) else [by_id[i] for i in v if i in by_id]
            for role, v in entry.figures.items()}
    return rows, tuple(i for i in entry.figure_ids if i not in by_id)


def period_years(start, end) -> float | None:
    """Length of an inclusive period in years: whole months / 12 when it spans whole months."""
    if pd.isna(start) or pd.isna(end):
        return None
    start, after = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    if start.day == 1 and after.day == 1:
        return ((after.year - start.year) * 12 + after.month - start.month) / 12
    return (after - start).days / 365.25


def needs_period(role: str) -> Callable[[dict], list[str]]:
    """Validation: the `role` figure states both ends of its period (CSV cells)."""
    def valid(rows):
        row = rows[role]
        return [f"figure {row['figure_id']!r} ({role}) has no {end}: the kind needs the period it covers"
                for end in ("period_start", "period_end") if not str(row.get(end) or "").strip()]
    return valid


# ---------------------------------------------------------------- kinds

def _ratio(entry, rows) -> Derived:
    den = int(rows["denominator"]["value"])
    value = int(rows["numerator"]["value"]) / den if den else None
    return Derived(entry.id, entry.kind, value, rows, () if den else (str(rows["denominator"]["figure_id"]),))


def _ratio_shown(result: Derived, lang: str) -> tuple[str, str, tuple[str, ...]]:
    num, den = result.rows["numerator"], result.rows["denominator"]
    content = text.plain("computed.divide", lang, value=fmt.format_percent(result.value, lang),
                         numerator=fmt.format_number(int(num["value"]), lang),
                         denominator=fmt.format_number(int(den["value"]), lang))
    return content, text.plain("how.ratio", lang), (str(num["figure_id"]), str(den["figure_id"]))


def _yearly_average(entry, rows) -> Derived:
    total = rows["total"]
    years = period_years(total["period_start"], total["period_end"])
    if not years:
        return Derived(entry.id, entry.kind, None, rows, (str(total["figure_id"]),))
    return Derived(entry.id, entry.kind, int(total["value"]) / years, rows, years=years)


def _yearly_average_shown(result: Derived, lang: str) -> tuple[str, str, tuple[str, ...]]:
    total = result.rows["total"]
    years = fmt.format_derived(result.years, lang, qualifier="exact")
    average = text.plain("computed.average", lang, years=years, average=fmt.format_derived(
        result.value, lang, unit=str(total["unit"]), per_year=True))
    content = text.plain("computed.divide", lang, value=average, denominator=years,
                         numerator=fmt.format_number(int(total["value"]), lang))
    return content, text.plain("how.average", lang), (str(total["figure_id"]),)


def _nonzero(role: str) -> Callable[[dict], list[str]]:
    def valid(rows):
        if str(rows[role].get("value") or "").strip() in ("", "0"):
            return [f"figure {rows[role]['figure_id']!r} ({role}) has no value to divide by"]
        return []
    return valid


KINDS = {
    # numerator ÷ denominator, shown as a percentage
    "ratio": Kind(_ratio, {"numerator": False, "denominator": False},
                  {"text": ("value", "numerator", "denominator")}, valid=_nonzero("denominator"), cites=True),
    # a cumulative total ÷ the years its period covers ({period}: that period in words)
    "yearly-average": Kind(_yearly_average, {"total": False}, {"text": ("value", "total", "period")},
                           valid=needs_period("total"), cites=True),
}
SHOWN = {"ratio": _ratio_shown, "yearly-average": _yearly_average_shown}


def compute(entry, figures: pd.DataFrame) -> Derived:
    """One derived figure, computed from these rows (value None and `missing` when rows are absent)."""
    rows, missing = inputs(entry, figures)
    if missing:
        return Derived(entry.id, entry.kind, None, rows, missing)
    return KINDS[entry.kind].run(entry, rows)


def shown(result: Derived, lang: str) -> tuple[str, str, tuple[str, ...]]:
    """(the number in words, saying it is computed; how, for its note; the figure ids it comes from)."""
    return SHOWN[result.kind](result, lang)
