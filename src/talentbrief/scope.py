"""The rows a report reads: how notebooks narrow the loader's tables.

`select` returns exactly what a report uses: sources published on or before `as_of`, and for a
programme brief that programme, its figures, the rows read by the checks and derived figures that
involve it (talentbrief.definitions), the rows those restate (`restates`: a restated plan is shown
once, citing both) and the sources and programme rows of those figures. Its functions are
`load.query`s: called on `load.load()`'s tables they are recorded as a read of their answer only
(talentbrief.reads), so touching a row outside a report's selection leaves that report untouched.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from talentbrief import load, rules


def parse_as_of(as_of) -> pd.Timestamp:
    """An ISO date (or date/Timestamp); a ValueError naming the expected form otherwise."""
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as error:
        raise ValueError(f"as_of must be an ISO date such as 2026-11-01, got {as_of!r}") from error
    if pd.isna(stamp):
        raise ValueError(f"as_of must be an ISO date such as 2026-11-01, got {as_of!r}")
    return stamp.normalize()


@load.query
def programmes_with_figures(tables) -> list[str]:
    """Programme ids that have at least one figure (those get a brief), in programmes.csv order."""
    used = set(tables.figures["programme_id"].astype(str))
    return [p for p in tables.programmes["programme_id"].astype(str) if p in used]


@load.query
def check_programme(tables, programme: str) -> str:
    """The programme id, or a ValueError naming the programmes that have figures."""
    allowed = programmes_with_figures(tables)
    if programme not in allowed:
        raise ValueError(f"unknown programme {programme!r}: expected one of {', '.join(allowed)}")
    return programme


def _dated(tables, as_of: pd.Timestamp):
    sources = tables.sources[tables.sources["date_published"] <= as_of]
    kept = set(sources["source_id"].astype(str))
    figures = tables.figures[tables.figures["source_id"].astype(str).isin(kept)]
    return dataclasses.replace(tables, sources=sources, figures=figures)


def used_figure_ids(tables, programme: str) -> set[str]:
    """The programme's own rows plus every row the checks and derived figures involving it read."""
    figures = tables.figures
    ids = set(figures.loc[figures["programme_id"].astype(str) == programme, "figure_id"].astype(str))
    declared = tables.definitions  # not a read of its files: the answer's digest covers the rows selected
    for entry in (e for es in declared.entries.values() for e in es) if declared is not None else ():
        ids |= set(entry.figure_ids) if programme in declared.programmes(entry) else set()
    ids &= set(figures["figure_id"].astype(str))
    return ids | rules.restated_ids(figures, ids)  # a restatement is shown with the row it restates


@load.query
def select(tables, *, as_of, programme: str | None = None):
    """Tables restricted to what one report reads (see module docstring)."""
    dated = _dated(tables, parse_as_of(as_of))
    if programme is None:
        return dated
    check_programme(tables, programme)
    ids = used_figure_ids(dated, programme)
    figures = dated.figures[dated.figures["figure_id"].astype(str).isin(ids)]
    source_ids = set(figures["source_id"].astype(str))
    programme_ids = set(figures["programme_id"].astype(str)) | {programme}
    return dataclasses.replace(
        dated,
        sources=dated.sources[dated.sources["source_id"].astype(str).isin(source_ids)],
        programmes=tables.programmes[tables.programmes["programme_id"].astype(str).isin(programme_ids)],
        figures=figures,
    )
