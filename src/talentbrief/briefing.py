"""The notebook API: `start` gives the report for a notebook's parameters; its methods are the components.

A notebook's set-up cell is `report = briefing.start(lang=lang, as_of=as_of)` (and `programme=` for a
programme brief) followed by `fig, date = report.fig, report.date`, which its Markdown cells use through
{eval} (talentbrief.narrative). `report.figures`, `.sources` and `.programmes` are the tables the report
may use (talentbrief.scope), for the pandas cells. The components return a `Block` that a cell shows as
its result, the same in JupyterLab and in the report. Every number goes through `report.notes.cite` (or
sits in an element carrying figure ids), dates sit in <time>, and everything from the data is escaped.
docs/authoring.md lists these names; nothing else in this module is for notebooks. There is no notes
cell: each citation carries its note, and the build numbers and lists them (`trace.assemble_notes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup, escape

import figures as fmt
from talentbrief import checks, load, metrics, narrative, scope, text
from talentbrief.macros import Block, block
from talentbrief.rules import inferred
from talentbrief.trace import (
    Notes,
    credit,
    outlet,
    producer,
    source_date,
    source_date_text,
    source_title,
    title_translated,
    wrap_ids,
)

__all__ = ("Report", "start")

HEADLINE_UNITS = ("persons", "person_times", "applications")  # people counts lead; other units show when a programme has none
RESULT_BASES = ("cumulative", "per_year")  # results and targets; a stock at a date (members) is context
_DIGIT = re.compile(r"\d")


@dataclass
class Report:
    """One report: its tables (already narrowed by scope.select), language, date, programme and notes."""

    tables: object  # talentbrief.load.Tables
    lang: str
    as_of: pd.Timestamp
    programme: str | None
    notes: Notes
    title: str = field(default="")

    # -- the tables, for pandas cells
    @property
    def figures(self) -> pd.DataFrame:
        """One row per reported figure: value, unit, qualifier, status, period, quote, source."""
        return self.tables.figures

    @property
    def sources(self) -> pd.DataFrame:
        return self.tables.sources

    @property
    def programmes(self) -> pd.DataFrame:
        return self.tables.programmes

    @property
    def name(self) -> str:
        """The report's programme, named in its language."""
        return programme_name(self)

    # -- values for {eval} in Markdown cells
    def fig(self, figure_id: str) -> Block:
        """A figure by id, as the house formatter writes it ("more than 920,000 people"), cited."""
        return Block(cite_figure(self, figure_id))

    def date(self, value) -> Block:
        """A date (YYYY, YYYY-MM or YYYY-MM-DD) in the report's language, inside <time>."""
        return Block(text.date_tag(str(value), self.lang))

    def derived(self, derived_id: str) -> Block:
        """A derived figure of data/derived.yml, computed, said to be computed and cited."""
        return Block(derived_value(self, derived_id))

    def inputs(self, *derived_ids: str) -> list[str]:
        """The figure ids these derived figures are computed from (for a pandas selection)."""
        entries = [self.tables.definitions.get("derived", d) for d in derived_ids]
        return list(dict.fromkeys(i for e in entries for i in e.figure_ids))

    # -- components, each shown as a cell's result
    def header(self, *, title) -> None:
        header(self, title=title)

    def headlines(self) -> Block:
        return headlines(self)

    def figure_table(self, rows: pd.DataFrame | None = None) -> Block:
        return figure_table(self, rows)

    def chart(self, rows: pd.DataFrame, *, title, **style):
        return bar_chart(self, rows, title=title, **style)

    def developments(self) -> Block:
        return developments(self)

    def source_list(self) -> Block:
        return sources_list(self)

    def summary(self) -> Block:
        return programme_summary(self)

    def coverage(self) -> Block:
        return coverage(self)

    def computed_figures(self) -> Block:
        return metrics_section(self)

    def checks(self) -> Block:
        return checks_section(self)


def start(*, lang: str, as_of, programme: str | None = None, tables=None) -> Report:
    """The report for a notebook's parameters: the data (`tables`, default: all of it) narrowed to what
    the report may use, charts in house style. A ValueError for a bad lang, date or programme."""
    text.check_lang(lang)
    stamp = scope.parse_as_of(as_of)
    # select refuses a programme without figures (scope.check_programme, the one programme check)
    tables = scope.select(load.load() if tables is None else tables, as_of=as_of, programme=programme)
    fmt.use_style(lang)
    return Report(tables, lang, stamp, programme, Notes(tables, lang))


# ---------------------------------------------------------------- small helpers

def programme_name(report: Report, programme_id: str | None = None) -> str:
    """A programme's name in the report's language (default: the report's programme)."""
    programme_id = programme_id or report.programme
    rows = report.tables.programmes[report.tables.programmes["programme_id"].astype(str) == programme_id]
    return str(rows.iloc[0][f"name_{report.lang}"]) if not rows.empty else programme_id


def _figures_of(report: Report, programme_id: str) -> pd.DataFrame:
    figs = report.tables.figures
    return figs[figs["programme_id"].astype(str) == programme_id]


def _sources_by_id(report: Report) -> dict[str, dict]:
    return {str(r["source_id"]): r for r in report.tables.sources.to_dict("records")}


def _per_year(row) -> bool:
    return str(row["period_basis"]) == "per_year"


def figure_text(row, lang: str) -> str:
    """A figure row as a phrase that keeps its qualifier: "more than 2.52 million people"."""
    return fmt.format_figure(int(row["value"]), str(row["unit"]), str(row["qualifier"]), lang,
                             per_year=_per_year(row))


def restatements(figures: pd.DataFrame) -> dict[str, list[str]]:
    """figure id -> ids of the rows (present here) that restate it (figures.restates)."""
    ids = figures["figure_id"].astype(str)
    present, found = set(ids), {}
    for fid, target in zip(ids, figures.get("restates", ())):  # columns: no row dicts
        if isinstance(target, str) and target in present:
            found.setdefault(target, []).append(fid)
    return found


def without_restatements(figures: pd.DataFrame) -> pd.DataFrame:
    """The rows minus those restating another row present: a restated plan is shown once, citing both."""
    restating = {fid for ids in restatements(figures).values() for fid in ids}
    return figures[~figures["figure_id"].astype(str).isin(restating)]


def row_ids(report: Report, row) -> tuple[str, ...]:
    """A row's id followed by the ids of the rows restating it: what citing the row cites."""
    fid = str(row["figure_id"])
    return (fid, *restatements(report.tables.figures).get(fid, ()))


def total_of(report: Report, row) -> str | None:
    """The id of the total a row is a part of (figures.part_of), directly or through the row it restates."""
    figs = report.tables.figures
    part = row.get("part_of")
    if not (isinstance(part, str) and part):
        target = row.get("restates")
        rows = figs[figs["figure_id"].astype(str) == target] if isinstance(target, str) else figs.head(0)
        part = rows.iloc[0].get("part_of") if not rows.empty else None
    return part if isinstance(part, str) and part else None


def label_text(report: Report, row, shown) -> Markup:
    """A row's label; a part whose total is `shown` in the same list or table says whose part it is
    ("(part of: People to be trained (new round))"), so a reader never adds a total to its parts."""
    label = row[f"label_{report.lang}"]
    total = total_of(report, row)
    if total is None or total not in set(shown):
        return escape(label)
    return text.t("label.part", report.lang, label=label, total=report.notes.label(total))


def _shown_ids(report: Report, rows: pd.DataFrame) -> set[str]:
    return {i for fid in rows["figure_id"].astype(str) for i in row_ids(report, {"figure_id": fid})}


def cite_row(report: Report, row) -> Markup:
    return report.notes.cite(row_ids(report, row), figure_text(row, report.lang))


def _restated(report: Report, ids: tuple[str, ...]) -> Markup:
    """"first reported 14 October 2021; restated 7 October 2023" for a row and its restatements."""
    figs = report.tables.figures.set_index(report.tables.figures["figure_id"].astype(str))
    sources = _sources_by_id(report)
    dates = [source_date(sources[str(figs.loc[i, "source_id"])], report.lang) for i in ids]
    return text.t("restated", report.lang, first=dates[0], later=text.join(dates[1:], report.lang))


def period_text(report: Report, row) -> Markup:
    """The row's period, and when other sources restate it, when it was first reported and restated."""
    ids = row_ids(report, row)
    period = text.period(row, report.lang)
    return period if len(ids) == 1 else period + text.t("list.semi", report.lang) + _restated(report, ids)


def cite_figure(report: Report, figure_id: str) -> Markup:
    """One figure by id, as {eval}`fig("figure-id")` writes it: the house phrase, cited."""
    figs = report.tables.figures
    rows = figs[figs["figure_id"].astype(str) == figure_id]
    if rows.empty:
        raise KeyError(f"figure {figure_id!r} is not in this report's scope (talentbrief.scope.select)"
                       + narrative.did_you_mean(figure_id, figs["figure_id"].astype(str)))
    return cite_row(report, rows.iloc[0])


def _maybe_ids(figure_ids, content) -> Markup:
    """Content that may contain digits (titles, descriptions) wrapped with the ids it relates to."""
    if figure_ids and _DIGIT.search(str(content)):
        return wrap_ids(figure_ids, content)
    return escape(content)


# ---------------------------------------------------------------- header

def metadata(report: Report, title: str) -> dict:
    """The display metadata the renderer reads for <title>, <html lang>, the PDF and the index."""
    return {"talentbrief": {"title": title, "lang": report.lang, "as_of": report.as_of.strftime("%Y-%m-%d")}}


def header(report: Report, *, title) -> None:
    """Display kicker, title and "as of" date as the report's first output, carrying the metadata.
    `title` is a string or {"en": ..., "zh": ...}."""
    from IPython.display import HTML, display

    report.title = title[report.lang] if isinstance(title, dict) else str(title)
    date = text.time_tag(report.as_of, report.lang)
    html = block("header", kicker=text.t("kicker", report.lang), title=report.title,
                 as_of=text.t("as_of", report.lang, date=date), lang=report.lang)
    display(HTML(str(html)), metadata=metadata(report, report.title))


# ---------------------------------------------------------------- headline figures

def headline_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """A programme's results and targets: people counts, or its other results when it has none.

    Stocks at a date (an organisation's members, branches, journals) are not results of a programme,
    and a row restating another is shown with it (once).
    """
    figures = without_restatements(figures)
    results = figures[figures["period_basis"].astype(str).isin(RESULT_BASES)
                      & (figures["status"].astype(str) != "context")]
    people = results[results["unit"].astype(str).isin(HEADLINE_UNITS)]
    return people if not people.empty else results


def headlines(report: Report) -> Block:
    """Per programme with results or targets: its headline figures with qualifier, status and period
    (a restated plan once, citing both sources)."""
    lang = report.lang
    programmes = []
    pids = scope.programmes_with_figures(report.tables)
    shown = set().union(*(_shown_ids(report, headline_rows(_figures_of(report, p))) for p in pids)) if pids else set()
    for pid in pids:
        items = [{"ids": row_ids(report, r),
                  "text": text.t("figure.item", lang, label=Markup('<span class="tb-label">{}</span>').format(
                      label_text(report, r, shown)), value=cite_row(report, r),
                      status=fmt.status_label(str(r["status"]), lang), period=period_text(report, r))}
                 for r in headline_rows(_figures_of(report, pid)).to_dict("records")]
        if items:
            programmes.append({"name": programme_name(report, pid), "figures": items})
    return block("headlines", programmes=programmes)


# ---------------------------------------------------------------- chart data

def chart_rows(report: Report, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows for figures.bar_figure: a `chart_label` column that tells apart same-label rows from two
    sources, and `per_year`."""
    lang = report.lang
    restated = restatements(report.tables.figures)
    rows = without_restatements(rows).copy()
    shown = _shown_ids(report, rows)
    totals = {str(r["figure_id"]): total_of(report, r) for r in rows.to_dict("records")}
    parts = {fid: t for fid, t in totals.items() if t in shown}
    if parts:  # each part right after its total, marked "of which"
        ids = list(rows["figure_id"].astype(str))
        ordered = [f for f in ids if f not in parts]
        for fid in ids:
            if fid in parts:
                at = max(i for i, f in enumerate(ordered) if f == parts[fid] or parts.get(f) == parts[fid])
                ordered.insert(at + 1, fid)
        rows = rows.set_index(rows["figure_id"].astype(str)).loc[ordered].reset_index(drop=True)
    years = {k: pd.Timestamp(v["date_published"]).year for k, v in _sources_by_id(report).items()}
    source_of = dict(zip(report.tables.figures["figure_id"].astype(str), report.tables.figures["source_id"].astype(str)))
    labels = rows[f"label_{lang}"].astype(str)
    repeated = labels.duplicated(keep=False)

    def label(fid, text_, sid, dup):
        if restated.get(fid):  # one mark for a restated plan, labelled with both years
            later = text.plain("list.sep", lang).join(str(years[source_of[i]]) for i in restated[fid])
            return text.plain("chart.restated_label", lang, label=text_, first=years[str(sid)], later=later)
        return text.plain("chart.dup_label", lang, label=text_, year=years[str(sid)]) if dup else text_

    rows["chart_label"] = [label(str(f), lab, sid, dup)
                           for f, lab, sid, dup in zip(rows["figure_id"], labels, rows["source_id"], repeated)]
    rows["chart_label"] = [text.plain("chart.part_label", lang, label=lab) if str(f) in parts else lab
                           for f, lab in zip(rows["figure_id"], rows["chart_label"])]
    rows["per_year"] = rows["period_basis"].astype(str) == "per_year"
    rows["period_basis"] = rows["period_basis"].astype(str)  # one panel per unit and period basis
    rows["value"] = rows["value"].astype("int64")
    return rows


def source_note(report: Report, figure_ids) -> str:
    """"Source: China Chemical News (4 August 2022); ..." for the sources of these figures, oldest first
    (a chart's caption): the outlet, or the title when the text names none."""
    sources = _sources_by_id(report)
    figs = report.tables.figures
    used_ids = figs.loc[figs["figure_id"].astype(str).isin(set(figure_ids)), "source_id"].astype(str)
    used = sorted(set(used_ids), key=lambda s: sources[s]["date_published"])
    listed = text.plain("list.semi", report.lang).join(
        text.plain("chart.source_item", report.lang, source=credit(sources[s], report.lang),
                   date=source_date_text(sources[s], report.lang))
        for s in used)
    return text.plain("chart.source_note", report.lang, sources=listed)


def bar_chart(report: Report, rows: pd.DataFrame, *, title, **style):
    """figures.bar_figure over these figure rows, with labels and source note for this report
    (`style`: colours, order, log). A restated plan is one mark; the chart still carries (and its note
    cites) both rows. None when there are no rows."""
    if rows.empty:
        return None
    data = chart_rows(report, rows)
    ids = list(dict.fromkeys(i for fid in data["figure_id"].astype(str) for i in row_ids(report, {"figure_id": fid})))
    fig = fmt.bar_figure(data, lang=report.lang, title=title, source_note=source_note(report, ids),
                         label_key="chart_label", **style)
    return fmt.describe(fig, figure_ids=ids)


# ---------------------------------------------------------------- recent developments and sources

def _source_figure_ids(report: Report, source_id: str) -> list[str]:
    figs = report.tables.figures
    return list(figs.loc[figs["source_id"].astype(str) == source_id, "figure_id"].astype(str))


def developments(report: Report) -> Block:
    """Every dated source, newest first: what it reports, and on which programmes (or that it is qualitative)."""
    lang, figs = report.lang, report.tables.figures
    items = []
    for src in report.tables.sources.sort_values("date_published", ascending=False).to_dict("records"):
        sid = str(src["source_id"])
        ids = _source_figure_ids(report, sid)
        names = [programme_name(report, p) for p in dict.fromkeys(
            figs.loc[figs["source_id"].astype(str) == sid, "programme_id"].astype(str))]
        what = text.t("dev.figures", lang, programmes=text.join(names, lang, sep="list.semi")) if ids \
            else text.t("dev.qualitative", lang)
        date = source_date(src, lang)
        if isinstance(src.get("publisher"), str) and src["publisher"].strip():
            said = text.t("dev.item", lang, date=date, outlet=outlet(src, lang), title=source_title(src, lang))
        else:  # a report whose outlet the text does not name: credited to no one, about its bodies
            said = text.t("dev.item.unnamed", lang, date=date, producer=producer(src, lang),
                          title=source_title(src, lang))
        body = said + text.t("sentence.sep", lang) + what
        items.append({"ids": ids, "body": body})
    return block("developments", items=items)


def sources_list(report: Report) -> Block:
    """The sources in date order: title (linked when there is an address), outlet, date, the bodies it
    reports on, and whether the title is a translation."""
    lang = report.lang
    items = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        url = src.get("url_main")
        link = url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
        shown = block("link", href=link, content=source_title(src, lang))
        body = text.t("source.item", lang, producer=producer(src, lang), title=shown,
                      outlet=outlet(src, lang), date=source_date(src, lang))
        if title_translated(src, lang):
            body += text.t("sentence.sep", lang) + text.t("source.translated", lang)
        items.append({"id": str(src["source_id"]), "ids": _source_figure_ids(report, str(src["source_id"])),
                      "body": body})
    return block("sources", items=items)


# ---------------------------------------------------------------- programme brief

def programme_summary(report: Report) -> Block:
    """Owner, description and the period the programme's figures cover."""
    lang, pid = report.lang, report.programme
    prog = report.tables.programmes[report.tables.programmes["programme_id"].astype(str) == pid].iloc[0]
    figs = _figures_of(report, pid)
    extra = Markup("")
    if figs.empty:
        extra = block("paragraph", content=text.t("no_figures", lang))
    else:
        achieved = figs[figs["status"].astype(str) == "achieved"]
        starts, ends = achieved["period_start"].dropna(), achieved["period_end"].dropna()
        open_ended = achieved["period_end"].isna().any()
        earliest = achieved[achieved["period_start"] == starts.min()] if len(starts) else achieved.head(0)
        # the span's start is inferred when every row starting then infers it, and a year when stated as one
        guessed = len(earliest) and all("period_start" in inferred(r) for r in earliest.to_dict("records"))
        in_years = len(earliest) and all(text.whole_years(r["period_start"], r["period_end"])
                                         for r in earliest.to_dict("records"))
        span = {"period_start": starts.min() if len(starts) else pd.NaT,
                "period_end": pd.NaT if open_ended or not len(ends) else ends.max(), "period_basis": "cumulative",
                "inferred": "period_start" if guessed else "", "start_in_years": bool(in_years)}
        if len(starts) or len(ends):
            extra = block("period", ids=list(achieved["figure_id"].astype(str)),
                          content=text.t("period", lang, period=text.period(span, lang)))
        if (figs["status"].astype(str) == "context").any():
            extra += block("paragraph", content=text.t("context", lang))
    owner = prog["owner"] if lang == "en" else prog[f"owner_{lang}"]
    return block("summary", owner=text.t("owner", lang, owner=owner),
                 description=_maybe_ids(list(figs["figure_id"].astype(str)), prog[f"description_{lang}"]),
                 extra=extra)


def _table_period(report: Report, row) -> Markup:
    """A table row's period; a row restating an earlier one (listed too) says which plan it restates."""
    figs = report.tables.figures
    target = row.get("restates")
    if not (isinstance(target, str) and target in set(figs["figure_id"].astype(str))):
        return text.period(row, report.lang)
    source_id = str(figs.loc[figs["figure_id"].astype(str) == target, "source_id"].iloc[0])
    first = source_date(_sources_by_id(report)[source_id], report.lang)
    return text.period(row, report.lang) + text.t("list.semi", report.lang) + text.t("restates", report.lang, date=first)


def figure_table(report: Report, rows: pd.DataFrame | None = None) -> Block:
    """A table of figure rows (default: the programme's): label, cited value (qualifier kept),
    qualifier, status, period and source; each row carries its figure id."""
    lang = report.lang
    rows = _figures_of(report, report.programme) if rows is None else rows
    rows = without_restatements(rows)  # a restated plan is one row, citing both sources
    shown = _shown_ids(report, rows)
    sources = _sources_by_id(report)
    source_of = dict(zip(report.tables.figures["figure_id"].astype(str), report.tables.figures["source_id"].astype(str)))
    body = []
    for row in rows.to_dict("records"):
        ids = row_ids(report, row)
        cells = [text.t("source.cell", lang, source=credit(sources[s], lang), date=source_date(sources[s], lang))
                 for s in dict.fromkeys(source_of[i] for i in ids)]
        body.append({"id": " ".join(ids), "label": label_text(report, row, shown), "value": cite_row(report, row),
                     "qualifier": fmt.qualifier_label(str(row["qualifier"]), lang),
                     "status_key": str(row["status"]), "status": fmt.status_label(str(row["status"]), lang),
                     "period": period_text(report, row) if len(ids) > 1 else _table_period(report, row),
                     "source": text.join(cells, lang, sep="list.semi")})
    head = [text.t(f"col.{c}", lang) for c in ("figure", "value", "qualifier", "status", "period", "source")]
    return block("figure_table", head=head, rows=body, empty=text.t("no_figures", lang))


# ---------------------------------------------------------------- derived figures (data/derived.yml)

def _declared(report: Report, what: str) -> tuple:
    """The entries of data/checks.yml or data/derived.yml this report shows: all in the audit and the
    overview, those involving the programme in its brief."""
    declared = report.tables.definitions
    return declared.concerning(what, report.programme) if declared is not None else ()


def _missing(report: Report, ids) -> str:
    return text.plain("list.sep", report.lang).join(report.tables.definitions.label(i, report.lang) for i in ids)


def _computed(report: Report, result: metrics.Derived) -> Markup:
    content, how, ids = metrics.shown(result, report.lang)
    return report.notes.computed(result.key, ids, content, how)


def derived_value(report: Report, derived_id: str) -> Markup:
    """One derived figure of data/derived.yml by id, written in house style, said to be computed and
    cited with the figures it comes from (for glue); a ValueError when its figures are not in scope."""
    result = metrics.compute(report.tables.definitions.get("derived", derived_id), report.tables.figures)
    if result.value is None:
        raise ValueError(f"derived figure {derived_id!r} cannot be computed in this report: no data for "
                         + ", ".join(result.missing))
    return _computed(report, result)


def _derived_body(report: Report, entry) -> Markup:
    lang, result = report.lang, metrics.compute(entry, report.tables.figures)
    if result.value is None:
        return text.t("metric.missing", lang, name=entry.name[lang], figures=_missing(report, result.missing))
    values = {role: (lambda fid=fid: cite_figure(report, fid)) for role, fid in entry.figures.items()}
    total = result.rows.get("total")
    values.update(value=lambda: _computed(report, result), period=lambda: text.period(
        {"period_start": total["period_start"], "period_end": total["period_end"], "period_basis": "cumulative"},
        lang) if total is not None else "")
    return text.fill(entry.wording["text"][lang], values, html=True)


def metrics_section(report: Report) -> Block:
    """Derived figures (all, or those involving the programme), each with its caveat in words."""
    lang = report.lang
    items = [{"key": e.id, "body": _derived_body(report, e), "caveat": e.wording["caveat"][lang]}
             for e in _declared(report, "derived")]
    return block("metrics", items=items, empty=text.t("no_metrics", lang))


# ---------------------------------------------------------------- checks

def _rows_used(report: Report, figure_ids) -> Markup:
    """The rows a check used, by label (ids stay in data-figure-ids); rows sharing a label are told
    apart by their source."""
    figs = report.tables.figures.set_index(report.tables.figures["figure_id"].astype(str))
    sources = _sources_by_id(report)
    labels = [str(figs.loc[i, f"label_{report.lang}"]) for i in figure_ids]
    shown = []
    for fid, label in zip(figure_ids, labels):
        if labels.count(label) > 1:
            src = sources[str(figs.loc[fid, "source_id"])]
            label = text.plain("row.named", report.lang, label=label, source=text.plain(
                "source.cell", report.lang, source=credit(src, report.lang), date=source_date_text(src, report.lang)))
        shown.append(label)
    return text.join(shown, report.lang, sep="list.semi")


def checks_section(report: Report) -> Block:
    """Every check (or those involving the programme) with its verdict in words, its finding and the
    rows it used."""
    lang = report.lang
    rows = []
    for entry in _declared(report, "check"):
        res = checks.run(entry, report.tables.figures, report.tables.sources, report.tables.definitions.label)
        # the finding carries its rows' ids; it is not a quote (it may hold computed numbers), so it is not
        # styled as one
        message = wrap_ids(res.figure_ids, res.message[lang]) if res.figure_ids else escape(res.message[lang])
        used = text.t("rows_used", lang, rows=_rows_used(report, res.figure_ids) or text.t("none", lang))
        rows.append({"status": res.status, "key": res.key, "ids": res.figure_ids, "name": entry.name[lang],
                     "label": text.t(f"status.{res.status}", lang), "message": message, "used": used})
    head = [text.t(f"col.{c}", lang) for c in ("check", "result", "message")]
    return block("checks", head=head, rows=rows, empty=text.t("no_checks", lang))


# ---------------------------------------------------------------- audit coverage

def _count(report: Report, ids) -> Markup:
    """How many rows, and how many of them restate another row (the same plan reported again)."""
    figs = report.tables.figures
    restating = figs["figure_id"].astype(str).isin(set(ids)) & figs["restates"].notna() \
        & figs["restates"].astype(str).isin(set(figs["figure_id"].astype(str)))
    n = fmt.format_number(len(ids), report.lang)
    if not restating.any():
        return escape(n)
    return text.t("count.restated", report.lang, n=n, restated=fmt.format_number(int(restating.sum()), report.lang))


def coverage(report: Report) -> Block:
    """Figures per source and per programme, each count carrying the ids it counts."""
    lang, figs = report.lang, report.tables.figures
    source_rows = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        ids = _source_figure_ids(report, str(src["source_id"]))
        source_rows.append({"title": _maybe_ids(ids, source_title(src, lang)), "outlet": outlet(src, lang),
                            "date": source_date(src, lang), "ids": ids, "n": _count(report, ids)})
    programme_rows = []
    for prog in report.tables.programmes.to_dict("records"):
        ids = list(figs.loc[figs["programme_id"].astype(str) == str(prog["programme_id"]), "figure_id"].astype(str))
        owner = prog["owner"] if lang == "en" else prog[f"owner_{lang}"]
        programme_rows.append({"name": _maybe_ids(ids, prog[f"name_{lang}"]), "owner": _maybe_ids(ids, owner),
                               "ids": ids, "n": _count(report, ids)})
    col = lambda c: text.t(f"col.{c}", lang)
    return block("coverage", source_head=[col("source"), col("outlet"), col("date"), col("count")],
                 source_rows=source_rows, programme_head=[col("programme"), col("owner"), col("count")],
                 programme_rows=programme_rows, by_source=text.t("h.by_source", lang),
                 by_programme=text.t("h.by_programme", lang), nothing=text.t("none", lang))
