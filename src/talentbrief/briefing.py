"""Report components a notebook shows, from one report's scope, rendered by Jinja2 macros.

A notebook makes a `Report` with `start(scope.select(load.load(), ...), lang=..., as_of=...)`, shows
`header(report, title=...)` first (its output carries the display metadata the renderer reads), then
writes its narrative in Markdown cells ({fig} and {glue}, see talentbrief.narrative), its analysis in
pandas cells and its charts with `figures.bar_figure`; the components below are the parts written once
for every report (cited figure lists and tables, checks, sources, notes). Each returns a `Block` that
a cell displays as its result. Every number goes through `report.notes.cite` (or sits in an element
carrying figure ids), dates sit in <time>, and everything that comes from the data is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup, escape

import figures as fmt
from talentbrief import checks, metrics, narrative, scope, text
from talentbrief.macros import Block, block
from talentbrief.trace import Notes, outlet, reporter, source_title, wrap_ids

HEADLINE_UNITS = ("persons", "person_times")  # people counts lead; other units show when a programme has none
_DIGIT = re.compile(r"\d")


@dataclass
class Report:
    tables: object  # talentbrief.load.Tables, already restricted by scope.select
    lang: str
    as_of: pd.Timestamp
    programme: str | None
    notes: Notes
    title: str = field(default="")


def start(tables, *, lang: str, as_of, programme: str | None = None) -> Report:
    """A report over these (already selected) tables; a ValueError for a bad lang, date or programme.
    Markdown cells below refer to it ({fig}, {glue})."""
    text.check_lang(lang)
    stamp = scope.parse_as_of(as_of)
    if programme is not None and programme not in set(tables.programmes["programme_id"].astype(str)):
        raise ValueError(f"unknown programme {programme!r}")
    report = Report(tables, lang, stamp, programme, Notes(tables, lang))
    narrative.use(report)
    glue("as_of", text.time_tag(stamp, lang))  # {glue}`as_of`: the report's date, in words
    return report


def glue(name: str, value) -> None:
    """Store `value` (text, or Markup such as `report.notes.cite(...)`) for {glue}`name` in the
    Markdown cells below: derived numbers reach the prose from code, never typed by hand."""
    narrative.glue(name, value)


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


def cite_row(report: Report, row) -> Markup:
    return report.notes.cite(str(row["figure_id"]), figure_text(row, report.lang))


def cite_figure(report: Report, figure_id: str) -> Markup:
    """One figure by id, as {fig}`figure-id` writes it: the house phrase, cited."""
    figs = report.tables.figures
    rows = figs[figs["figure_id"].astype(str) == figure_id]
    if rows.empty:
        raise KeyError(f"figure {figure_id!r} is not in this report's scope (talentbrief.scope.select)")
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
                 as_of=text.t("as_of", report.lang, date=date))
    display(HTML(str(html)), metadata=metadata(report, report.title))


# ---------------------------------------------------------------- headline figures

def headline_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """A programme's people counts, or all its figures when it has none."""
    people = figures[figures["unit"].astype(str).isin(HEADLINE_UNITS)]
    return people if not people.empty else figures


def headlines(report: Report) -> Block:
    """Per programme with figures: its headline figures with qualifier, status and period."""
    lang = report.lang
    programmes = []
    for pid in scope.programmes_with_figures(report.tables):
        items = [{"id": str(r["figure_id"]),
                  "text": text.t("figure.item", lang, label=Markup('<span class="tb-label">{}</span>').format(
                      r[f"label_{lang}"]), value=cite_row(report, r),
                      status=fmt.status_label(str(r["status"]), lang), period=text.period(r, lang))}
                 for r in headline_rows(_figures_of(report, pid)).to_dict("records")]
        programmes.append({"name": programme_name(report, pid), "figures": items})
    return block("headlines", programmes=programmes)


# ---------------------------------------------------------------- chart data

def chart_rows(report: Report, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows for figures.bar_figure: a `chart_label` column that tells apart same-label rows from two
    sources, and `per_year`."""
    lang = report.lang
    rows = rows.copy()
    dates = {k: v["date_published"] for k, v in _sources_by_id(report).items()}
    labels = rows[f"label_{lang}"].astype(str)
    repeated = labels.duplicated(keep=False)
    rows["chart_label"] = [
        text.plain("chart.dup_label", lang, label=label, year=pd.Timestamp(dates[str(sid)]).year) if dup else label
        for label, sid, dup in zip(labels, rows["source_id"], repeated)
    ]
    rows["per_year"] = rows["period_basis"].astype(str) == "per_year"
    rows["value"] = rows["value"].astype("int64")
    return rows


def source_note(report: Report, rows: pd.DataFrame) -> str:
    """"Source: outlet (date), ..." for the sources of these rows, oldest first (a chart's caption)."""
    sources = _sources_by_id(report)
    used = sorted({str(s) for s in rows["source_id"]}, key=lambda s: sources[s]["date_published"])
    listed = text.plain("list.sep", report.lang).join(
        f"{reporter(sources[s], report.lang)} ({text.format_date(sources[s]['date_published'], report.lang)})"
        for s in used)
    return text.plain("chart.source_note", report.lang, sources=listed)


def bar_chart(report: Report, rows: pd.DataFrame, *, title, **style):
    """figures.bar_figure over these figure rows, with labels and source note for this report
    (`style`: colours, order, log). None when there are no rows."""
    if rows.empty:
        return None
    data = chart_rows(report, rows)
    return fmt.bar_figure(data, lang=report.lang, title=title, source_note=source_note(report, data),
                          label_key="chart_label", **style)


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
        body = text.t("dev.item", lang, date=text.time_tag(src["date_published"], lang),
                      outlet=reporter(src, lang), title=source_title(src, lang)) + Markup(" ") + what
        items.append({"ids": ids, "body": body})
    return block("developments", items=items)


def sources_list(report: Report) -> Block:
    """The sources in date order: producer, title (linked when there is an address), outlet, date."""
    lang = report.lang
    items = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        url = src.get("url_main")
        link = url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
        shown = block("link", href=link, content=source_title(src, lang))
        body = text.t("source.item", lang, producer=src["producer"], title=shown,
                      outlet=outlet(src, lang), date=text.time_tag(src["date_published"], lang))
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
        span = {"period_start": starts.min() if len(starts) else pd.NaT,
                "period_end": pd.NaT if open_ended or not len(ends) else ends.max(), "period_basis": "cumulative"}
        if len(starts) or len(ends):
            extra = block("period", ids=list(achieved["figure_id"].astype(str)),
                          content=text.t("period", lang, period=text.period(span, lang)))
    return block("summary", owner=text.t("owner", lang, owner=prog["owner"]),
                 description=_maybe_ids(list(figs["figure_id"].astype(str)), prog[f"description_{lang}"]),
                 extra=extra)


def figure_table(report: Report, rows: pd.DataFrame | None = None) -> Block:
    """A table of figure rows (default: the programme's): label, cited value (qualifier kept),
    qualifier, status, period and source; each row carries its figure id."""
    lang = report.lang
    rows = _figures_of(report, report.programme) if rows is None else rows
    sources = _sources_by_id(report)
    body = []
    for row in rows.to_dict("records"):
        src = sources[str(row["source_id"])]
        body.append({"id": str(row["figure_id"]), "label": row[f"label_{lang}"], "value": cite_row(report, row),
                     "qualifier": fmt.qualifier_label(str(row["qualifier"]), lang),
                     "status_key": str(row["status"]), "status": fmt.status_label(str(row["status"]), lang),
                     "period": text.period(row, lang), "source": reporter(src, lang),
                     "date": text.time_tag(src["date_published"], lang)})
    head = [text.t(f"col.{c}", lang) for c in ("figure", "value", "qualifier", "status", "period", "source")]
    return block("figure_table", head=head, rows=body, empty=text.t("no_figures", lang))


# ---------------------------------------------------------------- derived metrics

def metric_value(report: Report, metric: metrics.Metric) -> Markup:
    """A derived figure written in house style and cited with the ids it is computed from (for glue)."""
    lang = report.lang
    if metric.key == "exam_ratio":
        return report.notes.cite(metric.figure_ids, fmt.format_percent(metric.value, lang))
    if metric.key == "first_round_average":
        return report.notes.cite(metric.extra["total_id"], text.plain(
            "metric.average", lang, average=fmt.format_derived(metric.value, lang, unit=metric.unit, per_year=True),
            years=fmt.format_derived(metric.extra["years"], lang, qualifier="exact")))
    raise KeyError(f"no wording for metric {metric.key!r}")


def _metric_body(report: Report, metric: metrics.Metric) -> Markup:
    lang = report.lang
    if metric.value is None:
        return text.t("metric.missing", lang, name=text.plain(f"metric.name.{metric.key}", lang),
                      indicators=", ".join(metric.missing))
    if metric.key == "first_round_average":
        return text.t(
            "metric.first_round_average", lang,
            period=text.period({"period_start": metric.extra["start"], "period_end": metric.extra["end"],
                                "period_basis": "cumulative"}, lang),
            total=cite_figure(report, metric.extra["total_id"]), average=metric_value(report, metric),
            plan=cite_figure(report, metric.extra["plan_id"]))
    passes, applicants = metric.figure_ids
    return text.t("metric.exam_ratio", lang, passes=cite_figure(report, passes),
                  applicants=cite_figure(report, applicants), ratio=metric_value(report, metric))


def metrics_section(report: Report) -> Block:
    """Derived figures (all, or the programme's), each with its caveat in words."""
    lang = report.lang
    items = [{"key": m.key, "body": _metric_body(report, m), "caveat": text.t(f"caveat.{m.caveat}", lang)}
             for m in metrics.compute(report.tables.figures, report.programme)]
    return block("metrics", items=items, empty=text.t("no_metrics", lang))


# ---------------------------------------------------------------- checks

def checks_section(report: Report) -> Block:
    """Every check (or the programme's) with status in words, its finding and the rows it used."""
    lang = report.lang
    rows = []
    for res in checks.run(report.tables.figures, report.tables.sources, report.programme):
        message = report.notes.cite(res.figure_ids, res.message[lang]) if res.figure_ids else escape(res.message[lang])
        used = text.t("rows_used", lang, rows=Markup(" ").join(block("code", value=i) for i in res.figure_ids)
                      or text.t("none", lang))
        rows.append({"status": res.status, "key": res.key, "ids": res.figure_ids,
                     "name": text.t(f"check.name.{res.key}", lang), "label": text.t(f"status.{res.status}", lang),
                     "message": message, "used": used})
    head = [text.t(f"col.{c}", lang) for c in ("check", "result", "message")]
    return block("checks", head=head, rows=rows, empty=text.t("no_checks", lang))


# ---------------------------------------------------------------- audit coverage

def coverage(report: Report) -> Block:
    """Figures per source and per programme, each count carrying the ids it counts."""
    lang, figs = report.lang, report.tables.figures
    source_rows = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        ids = _source_figure_ids(report, str(src["source_id"]))
        source_rows.append({"title": _maybe_ids(ids, source_title(src, lang)), "outlet": outlet(src, lang),
                            "date": text.time_tag(src["date_published"], lang), "ids": ids,
                            "n": fmt.format_number(len(ids), lang)})
    programme_rows = []
    for prog in report.tables.programmes.to_dict("records"):
        ids = list(figs.loc[figs["programme_id"].astype(str) == str(prog["programme_id"]), "figure_id"].astype(str))
        programme_rows.append({"name": _maybe_ids(ids, prog[f"name_{lang}"]), "owner": _maybe_ids(ids, prog["owner"]),
                               "ids": ids, "n": fmt.format_number(len(ids), lang)})
    col = lambda c: text.t(f"col.{c}", lang)
    return block("coverage", source_head=[col("source"), col("outlet"), col("date"), col("count")],
                 source_rows=source_rows, programme_head=[col("programme"), col("owner"), col("count")],
                 programme_rows=programme_rows, by_source=text.t("h.by_source", lang),
                 by_programme=text.t("h.by_programme", lang), nothing=text.t("none", lang))


# ---------------------------------------------------------------- notes

def notes(report: Report) -> Block:
    """The numbered notes of everything cited so far, code and Markdown cells alike (call last)."""
    return block("notes", heading=text.t("h.notes", report.lang), items=report.notes.items())
