"""The rows a report reads: how notebooks narrow the loader's tables. Its functions are `load.query`s,
recorded as a read of their answer only, so touching a row outside a report's selection leaves that
report untouched.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from talentbrief import load, rules


def parse_as_of(as_of) -> pd.Timestamp:
    """An ISO date (or date/Timestamp); a ValueError naming the expected form otherwise."""
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        stamp = pd.NaT
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
    """Sources published by `as_of` and their figures; for a programme brief only that programme, its
    figures, the rows its checks and derived figures read, the rows those restate (a restated plan is
    shown once, citing both), and the sources and programmes of those figures."""
    sources = tables.sources[tables.sources["date_published"] <= parse_as_of(as_of)]
    figures = tables.figures[tables.figures["source_id"].astype(str).isin(sources["source_id"].astype(str))]
    dated = dataclasses.replace(tables, sources=sources, figures=figures)
    if programme is None:
        return dated
    check_programme(tables, programme)
    ids = used_figure_ids(dated, programme)
    figures = dated.figures[dated.figures["figure_id"].astype(str).isin(ids)]
    source_ids = set(figures["source_id"].astype(str))
    programme_ids = set(figures["programme_id"].astype(str)) | {programme}
    return dataclasses.replace(dated, figures=figures,
                               sources=dated.sources[dated.sources["source_id"].astype(str).isin(source_ids)],
                               programmes=tables.programmes[
                                   tables.programmes["programme_id"].astype(str).isin(programme_ids)])
