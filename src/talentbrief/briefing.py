"""The sections a report shows, as escaped HTML (markupsafe.Markup) built from one report's scope.

A notebook makes a `Report` from `scope.select(load.load(), ...)`, calls `show_header` first (its
output carries the display metadata the renderer reads), then `show(section(report))` per section, and
`notes` last. Every number goes through `report.notes.cite` (or sits in an element carrying figure
ids), dates sit in <time>, and everything that comes from the data is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup, escape

import figures as fmt
from talentbrief import checks, metrics, scope, text
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


def start(tables, *, lang: str, as_of, programme: str | None = None) -> Report:
    """A report over these (already selected) tables; a ValueError for a bad lang, date or programme."""
    text.check_lang(lang)
    stamp = scope.parse_as_of(as_of)
    if programme is not None and programme not in set(tables.programmes["programme_id"].astype(str)):
        raise ValueError(f"unknown programme {programme!r}")
    return Report(tables, lang, stamp, programme, Notes(tables, lang))


def show(markup) -> None:
    """Display one section as HTML output (what nbconvert exports)."""
    from IPython.display import HTML, display

    display(HTML(str(markup)))


# ---------------------------------------------------------------- small helpers

def _section(cls: str, heading: Markup | str, body, level: int = 2) -> Markup:
    return Markup('<section class="tb-section {cls}"><h{n}>{heading}</h{n}>{body}</section>').format(
        cls=cls, n=Markup(str(level)), heading=heading, body=body)


def _programme_name(report: Report, programme_id: str) -> str:
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


def _maybe_ids(figure_ids, content) -> Markup:
    """Content that may contain digits (titles, descriptions) wrapped with the ids it relates to."""
    if figure_ids and _DIGIT.search(str(content)):
        return wrap_ids(figure_ids, content)
    return escape(content)


def _status(status: str, lang: str) -> Markup:
    return Markup('<span class="tb-status tb-status-{s}">{label}</span>').format(
        s=status, label=fmt.status_label(status, lang))


# ---------------------------------------------------------------- header

def title(report: Report, kind: str) -> str:
    if kind == "programme":
        return text.plain("title.programme", report.lang, name=_programme_name(report, report.programme))
    return text.plain(f"title.{kind}", report.lang)


def header(report: Report, kind: str) -> Markup:
    """Kicker, title, "as of" date and lede of a report of this kind (overview | programme | audit)."""
    date = text.time_tag(report.as_of, report.lang)
    return Markup(
        '<header class="tb-header"><p class="tb-kicker">{kicker}</p><h1>{title}</h1>'
        '<p class="tb-asof">{as_of}</p><p class="tb-lede">{lede}</p></header>'
    ).format(kicker=text.t("kicker", report.lang), title=title(report, kind),
             as_of=text.t("as_of", report.lang, date=date), lede=text.t(f"lede.{kind}", report.lang, date=date))


def metadata(report: Report, kind: str) -> dict:
    """The display metadata the renderer reads for <title>, <html lang>, the PDF and the index."""
    return {"talentbrief": {"title": title(report, kind), "lang": report.lang,
                            "as_of": report.as_of.strftime("%Y-%m-%d")}}


def show_header(report: Report, kind: str) -> None:
    """Display the header as the report's first output, carrying the talentbrief metadata."""
    from IPython.display import HTML, display

    display(HTML(str(header(report, kind))), metadata=metadata(report, kind))


# ---------------------------------------------------------------- headline figures

def _figure_item(report: Report, row) -> Markup:
    """<li> with label, cited value, status and period; the item carries the figure id."""
    lang = report.lang
    item = text.t("figure.item", lang, label=Markup('<span class="tb-label">{}</span>').format(row[f"label_{lang}"]),
                  value=cite_row(report, row), status=fmt.status_label(str(row["status"]), lang),
                  period=text.period(row, lang))
    return Markup('<li data-figure-ids="{id}">{item}</li>').format(id=str(row["figure_id"]), item=item)


def headline_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """A programme's people counts, or all its figures when it has none."""
    people = figures[figures["unit"].astype(str).isin(HEADLINE_UNITS)]
    return people if not people.empty else figures


def headlines(report: Report) -> Markup:
    """Per programme with figures: its headline figures with qualifier, status and period."""
    blocks = []
    for pid in scope.programmes_with_figures(report.tables):
        rows = headline_rows(_figures_of(report, pid))
        items = Markup("").join(_figure_item(report, r) for r in rows.to_dict("records"))
        blocks.append(Markup('<div class="tb-programme"><h3>{name}</h3><ul class="tb-figures">{items}</ul></div>')
                      .format(name=_programme_name(report, pid), items=items))
    return _section("tb-headlines", text.t("h.headlines", report.lang), Markup("").join(blocks))


# ---------------------------------------------------------------- charts

def _chart_rows(report: Report, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows for figures.bar_chart: a label column that tells apart same-label rows from two sources."""
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


def _source_note(report: Report, rows: pd.DataFrame) -> str:
    sources = _sources_by_id(report)
    used = sorted({str(s) for s in rows["source_id"]}, key=lambda s: sources[s]["date_published"])
    listed = text.plain("list.sep", report.lang).join(
        f"{reporter(sources[s], report.lang)} ({text.format_date(sources[s]['date_published'], report.lang)})"
        for s in used)
    return text.plain("chart.source_note", report.lang, sources=listed)


def chart(report: Report, rows: pd.DataFrame, chart_title: str) -> Markup:
    """One chart via figures.bar_chart (a panel per unit), or nothing when there are no rows."""
    if rows.empty:
        return Markup("")
    data = _chart_rows(report, rows)
    made = fmt.bar_chart(data, lang=report.lang, title=chart_title, source_note=_source_note(report, data),
                         label_key="chart_label")
    return Markup(made.to_html())


def achieved_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """Cumulative achieved people counts: what the overview's results chart plots."""
    return figures[(figures["status"].astype(str) == "achieved")
                   & (figures["period_basis"].astype(str) == "cumulative")
                   & figures["unit"].astype(str).isin(HEADLINE_UNITS)]


def planned_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """Planned annual targets in people."""
    return figures[(figures["status"].astype(str) == "planned")
                   & (figures["period_basis"].astype(str) == "per_year")
                   & (figures["unit"].astype(str) == "persons")]


def charts(report: Report) -> Markup:
    """The overview's two charts: achieved results, planned annual targets."""
    figs = report.tables.figures
    body = chart(report, achieved_rows(figs), text.plain("chart.achieved", report.lang)) + \
        chart(report, planned_rows(figs), text.plain("chart.planned", report.lang))
    return _section("tb-charts", text.t("h.charts", report.lang), body)


# ---------------------------------------------------------------- recent developments and sources

def _source_figure_ids(report: Report, source_id: str) -> list[str]:
    figs = report.tables.figures
    return list(figs.loc[figs["source_id"].astype(str) == source_id, "figure_id"].astype(str))


def developments(report: Report) -> Markup:
    """Every dated source, newest first: what it reports, and on which programmes (or that it is qualitative)."""
    lang = report.lang
    items = []
    for src in report.tables.sources.sort_values("date_published", ascending=False).to_dict("records"):
        sid = str(src["source_id"])
        ids = _source_figure_ids(report, sid)
        figs = report.tables.figures[report.tables.figures["source_id"].astype(str) == sid]
        names = [_programme_name(report, p) for p in dict.fromkeys(figs["programme_id"].astype(str))]
        what = text.t("dev.figures", lang, programmes=text.join(names, lang, sep="list.semi")) if ids \
            else text.t("dev.qualitative", lang)
        body = text.t("dev.item", lang, date=text.time_tag(src["date_published"], lang),
                      outlet=reporter(src, lang), title=source_title(src, lang)) + Markup(" ") + what
        attr = Markup(' data-figure-ids="{}"').format(" ".join(ids)) if ids else Markup("")
        items.append(Markup("<li{attr}>{body}</li>").format(attr=attr, body=body))
    return _section("tb-developments", text.t("h.developments", lang),
                    Markup('<ul class="tb-dev">{}</ul>').format(Markup("").join(items)))


def sources_list(report: Report) -> Markup:
    """The sources in date order: producer, title (linked when there is an address), outlet, date."""
    lang = report.lang
    items = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        ids = _source_figure_ids(report, str(src["source_id"]))
        title_text = source_title(src, lang)
        url = src.get("url_main")
        shown = Markup('<a href="{}">{}</a>').format(url, title_text) \
            if isinstance(url, str) and url.startswith(("http://", "https://")) else escape(title_text)
        body = text.t("source.item", lang, producer=src["producer"], title=shown,
                      outlet=outlet(src, lang), date=text.time_tag(src["date_published"], lang))
        attr = Markup(' data-figure-ids="{}"').format(" ".join(ids)) if ids else Markup("")
        items.append(Markup('<li id="src-{sid}"{attr}>{body}</li>').format(
            sid=str(src["source_id"]), attr=attr, body=body))
    return _section("tb-sources", text.t("h.sources", lang),
                    Markup('<ol class="tb-source-list">{}</ol>').format(Markup("").join(items)))


# ---------------------------------------------------------------- programme brief

def programme_summary(report: Report) -> Markup:
    """Owner, description and the period the programme's figures cover."""
    lang, pid = report.lang, report.programme
    prog = report.tables.programmes[report.tables.programmes["programme_id"].astype(str) == pid].iloc[0]
    figs = _figures_of(report, pid)
    ids = list(figs["figure_id"].astype(str))
    parts = [Markup('<p class="tb-owner">{}</p>').format(text.t("owner", lang, owner=prog["owner"])),
             Markup('<p class="tb-desc">{}</p>').format(_maybe_ids(ids, prog[f"description_{lang}"]))]
    if figs.empty:
        parts.append(Markup("<p>{}</p>").format(text.t("no_figures", lang)))
    else:
        achieved = figs[figs["status"].astype(str) == "achieved"]
        starts, ends = achieved["period_start"].dropna(), achieved["period_end"].dropna()
        open_ended = achieved["period_end"].isna().any()
        span = {"period_start": starts.min() if len(starts) else pd.NaT,
                "period_end": pd.NaT if open_ended or not len(ends) else ends.max(), "period_basis": "cumulative"}
        if len(starts) or len(ends):
            ids = list(achieved["figure_id"].astype(str))
            parts.append(Markup('<p class="tb-period" data-figure-ids="{ids}">{p}</p>').format(
                ids=" ".join(ids), p=text.t("period", lang, period=text.period(span, lang))))
    return Markup('<section class="tb-section tb-summary">{}</section>').format(Markup("").join(parts))


def figure_table(report: Report, rows: pd.DataFrame | None = None) -> Markup:
    """Every figure with its value (qualifier kept), qualifier, status, period and source."""
    lang = report.lang
    rows = _figures_of(report, report.programme) if rows is None else rows
    if rows.empty:
        return _section("tb-figures", text.t("h.figures", lang), Markup("<p>{}</p>").format(text.t("no_figures", lang)))
    sources = _sources_by_id(report)
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(text.t(f"col.{c}", lang))
                           for c in ("figure", "value", "qualifier", "status", "period", "source"))
    body = []
    for row in rows.to_dict("records"):
        src = sources[str(row["source_id"])]
        body.append(Markup(
            '<tr data-figure-ids="{id}"><th scope="row">{label}</th><td class="tb-num">{value}</td>'
            "<td>{qual}</td><td>{status}</td><td>{period}</td><td>{source}, {date}</td></tr>"
        ).format(id=str(row["figure_id"]), label=row[f"label_{lang}"], value=cite_row(report, row),
                 qual=fmt.qualifier_label(str(row["qualifier"]), lang), status=_status(str(row["status"]), lang),
                 period=text.period(row, lang), source=reporter(src, lang),
                 date=text.time_tag(src["date_published"], lang)))
    table = Markup('<table class="tb-table tb-figure-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>')\
        .format(head, Markup("").join(body))
    return _section("tb-figures", text.t("h.figures", lang), table)


def programme_chart(report: Report) -> Markup:
    """The programme's figures in one chart (a panel per unit)."""
    name = _programme_name(report, report.programme)
    return chart(report, _figures_of(report, report.programme), text.plain("chart.programme", report.lang, name=name))


# ---------------------------------------------------------------- derived metrics

def _metric_body(report: Report, metric: metrics.Metric) -> Markup:
    lang, cite = report.lang, report.notes.cite
    if metric.value is None:
        return text.t("metric.missing", lang, name=text.plain(f"metric.name.{metric.key}", lang),
                      indicators=", ".join(metric.missing))
    figs = report.tables.figures.set_index(report.tables.figures["figure_id"].astype(str))
    if metric.key == "first_round_average":
        total = figs.loc[metric.extra["total_id"]]
        plan = figs.loc[metric.extra["plan_id"]]
        tid = metric.extra["total_id"]
        average = text.plain("metric.average", lang,
                             average=fmt.format_derived(metric.value, lang, unit=metric.unit, per_year=True),
                             years=fmt.format_derived(metric.extra["years"], lang, qualifier="exact"))
        return text.t(
            "metric.first_round_average", lang,
            period=text.period({"period_start": metric.extra["start"], "period_end": metric.extra["end"],
                                "period_basis": "cumulative"}, lang),
            total=cite(tid, figure_text(total, lang)),
            average=cite(tid, average),
            plan=cite(metric.extra["plan_id"], figure_text(plan, lang)))
    if metric.key == "exam_ratio":
        passes, applicants = (figs.loc[i] for i in metric.figure_ids)
        return text.t("metric.exam_ratio", lang, passes=cite(metric.figure_ids[0], figure_text(passes, lang)),
                      applicants=cite(metric.figure_ids[1], figure_text(applicants, lang)),
                      ratio=cite(metric.figure_ids, fmt.format_percent(metric.value, lang)))
    raise KeyError(f"no text for metric {metric.key!r}")


def metrics_section(report: Report) -> Markup:
    """Derived figures (all, or the programme's), each with its caveat in words."""
    lang = report.lang
    found = metrics.compute(report.tables.figures, report.programme)
    if not found:
        return _section("tb-metrics", text.t("h.metrics", lang), Markup("<p>{}</p>").format(text.t("no_metrics", lang)))
    items = Markup("").join(
        Markup('<div class="tb-metric" data-metric="{key}"><p>{body}</p><p class="tb-caveat">{caveat}</p></div>')
        .format(key=m.key, body=_metric_body(report, m), caveat=text.t(f"caveat.{m.caveat}", lang))
        for m in found)
    return _section("tb-metrics", text.t("h.metrics", lang), items)


# ---------------------------------------------------------------- checks

def checks_section(report: Report) -> Markup:
    """Every check (or the programme's) with status in words, its finding and the rows it used."""
    lang = report.lang
    results = checks.run(report.tables.figures, report.tables.sources, report.programme)
    if not results:
        return _section("tb-checks", text.t("h.checks", lang), Markup("<p>{}</p>").format(text.t("no_checks", lang)))
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(text.t(f"col.{c}", lang))
                           for c in ("check", "result", "message"))
    rows = []
    for res in results:
        message = report.notes.cite(res.figure_ids, res.message[lang]) if res.figure_ids else escape(res.message[lang])
        used = text.t("rows_used", lang, rows=Markup(" ").join(
            Markup("<code>{}</code>").format(i) for i in res.figure_ids) or text.t("none", lang))
        rows.append(Markup(
            '<tr class="tb-check tb-check-{status}" data-check="{key}" data-figure-ids="{ids}">'
            '<th scope="row">{name}</th><td class="tb-check-status">{label}</td>'
            '<td>{message}<p class="tb-rows">{used}</p></td></tr>'
        ).format(status=res.status, key=res.key, ids=" ".join(res.figure_ids),
                 name=text.t(f"check.name.{res.key}", lang), label=text.t(f"status.{res.status}", lang),
                 message=message, used=used))
    table = Markup('<table class="tb-table tb-checks-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>')\
        .format(head, Markup("").join(rows))
    return _section("tb-checks", text.t("h.checks", lang), table)


# ---------------------------------------------------------------- audit coverage

def _count_cell(ids: list[str], lang: str) -> Markup:
    """A count carries the ids it counts; zero is written as a word (a digit would carry no id)."""
    if not ids:
        return Markup('<td class="tb-num">{}</td>').format(text.t("none", lang))
    return Markup('<td class="tb-num" data-figure-ids="{ids}">{n}</td>').format(
        ids=" ".join(ids), n=fmt.format_number(len(ids), lang))


def coverage(report: Report) -> Markup:
    """Figures per source and per programme, each count carrying the ids it counts."""
    lang, figs = report.lang, report.tables.figures
    src_rows = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        ids = _source_figure_ids(report, str(src["source_id"]))
        src_rows.append(Markup('<tr><th scope="row">{title}</th><td>{outlet}</td><td>{date}</td>{count}</tr>').format(
            title=_maybe_ids(ids, source_title(src, lang)), outlet=outlet(src, lang),
            date=text.time_tag(src["date_published"], lang), count=_count_cell(ids, lang)))
    prog_rows = []
    for prog in report.tables.programmes.to_dict("records"):
        ids = list(figs.loc[figs["programme_id"].astype(str) == str(prog["programme_id"]), "figure_id"].astype(str))
        prog_rows.append(Markup('<tr><th scope="row">{name}</th><td>{owner}</td>{count}</tr>').format(
            name=_maybe_ids(ids, prog[f"name_{lang}"]), owner=_maybe_ids(ids, prog["owner"]),
            count=_count_cell(ids, lang)))

    def table(cols, rows):
        head = Markup("").join(Markup('<th scope="col">{}</th>').format(c) for c in cols)
        return Markup('<table class="tb-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>').format(
            head, Markup("").join(rows))

    col = lambda c: text.t(f"col.{c}", lang)
    body = Markup("<h3>{}</h3>{}<h3>{}</h3>{}").format(
        text.t("h.by_source", lang), table([col("source"), col("outlet"), col("date"), col("count")], src_rows),
        text.t("h.by_programme", lang), table([col("programme"), col("owner"), col("count")], prog_rows))
    return _section("tb-coverage", text.t("h.coverage", lang), body)


# ---------------------------------------------------------------- notes

def notes(report: Report) -> Markup:
    """The numbered notes of everything cited so far (call last)."""
    return _section("tb-notes-section", text.t("h.notes", report.lang), report.notes.render())
