"""The notebook API (docs/authoring.md): `start` gives a notebook's `Report`; its methods are the components.

Each returns a `Block`, shown alike in JupyterLab and the report: numbers cited (or in an element carrying
figure ids), dates in <time>, data escaped."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup, escape

import figures as fmt
from talentbrief import checks, load, metrics, narrative, scope, text, trace
from talentbrief.macros import Block, block
from talentbrief.rules import inferred

__all__ = ("Report", "start")

HEADLINE_UNITS = ("persons", "person_times", "applications")  # people counts lead; other units show when a programme has none
RESULT_BASES = ("cumulative", "per_year")  # results and targets; a stock at a date (members) is context
_DIGIT = re.compile(r"\d")


def _where(table: pd.DataFrame, column: str, value) -> pd.DataFrame:
    return table[table[column].astype(str) == value]


def programme_name(report: Report, programme_id: str | None = None) -> str:
    """A programme's name in the report's language (default: the report's programme)."""
    programme_id = programme_id or report.programme
    rows = _where(report.tables.programmes, "programme_id", programme_id)
    return str(rows.iloc[0][f"name_{report.lang}"]) if not rows.empty else programme_id


def _figures_of(report: Report, programme_id: str) -> pd.DataFrame:
    return _where(report.tables.figures, "programme_id", programme_id)


def _figure_ids(report: Report, column: str, value: str) -> list[str]:
    return list(_where(report.tables.figures, column, value)["figure_id"].astype(str))


def _sources_of(report: Report, figure_ids) -> list[dict]:  # each once, in the figures' order
    return list({str(s["source_id"]): s for s in map(report.notes.source, figure_ids)}.values())


def restatements(figures: pd.DataFrame) -> dict[str, list[str]]:
    """figure id -> ids of the rows (present here) that restate it (figures.restates)."""
    ids = figures["figure_id"].astype(str)
    present, found = set(ids), {}
    for fid, target in zip(ids, figures.get("restates", ())):  # columns: no row dicts
        if isinstance(target, str) and target in present:
            found.setdefault(target, []).append(fid)
    return found


def _restating(restated: dict[str, list[str]]) -> set[str]:
    return {fid for ids in restated.values() for fid in ids}


def without_restatements(figures: pd.DataFrame) -> pd.DataFrame:
    """The rows minus those restating another row present: a restated plan is shown once, citing both."""
    return figures[~figures["figure_id"].astype(str).isin(_restating(restatements(figures)))]


def row_ids(report: Report, row) -> tuple[str, ...]:
    """A row's id followed by the ids of the rows restating it: what citing the row cites."""
    fid = str(row["figure_id"])
    return (fid, *report._restated.get(fid, ()))


def _shown_ids(report: Report, rows: pd.DataFrame) -> list[str]:
    ids = rows["figure_id"].astype(str)
    return list(dict.fromkeys(i for fid in ids for i in row_ids(report, {"figure_id": fid})))


def total_of(report: Report, row) -> str | None:
    """The id of the total a row is a part of (figures.part_of), directly or through the row it restates."""
    part = row.get("part_of")
    if not (isinstance(part, str) and part):
        rows = _where(report.tables.figures, "figure_id", row.get("restates"))
        part = rows.iloc[0].get("part_of") if not rows.empty else None
    return part if isinstance(part, str) and part else None


def label_text(report: Report, row, shown) -> Markup:
    """A row's label; a part whose total is `shown` too says whose part it is, so no one adds them up."""
    label, total = row[f"label_{report.lang}"], total_of(report, row)
    if total is None or total not in set(shown):
        return escape(label)
    return text.t("label.part", report.lang, label=label, total=report.notes.label(total))


def cite_row(report: Report, row) -> Markup:
    """The row as a phrase that keeps its qualifier ("more than 2.52 million people"), cited."""
    phrase = fmt.format_figure(int(row["value"]), str(row["unit"]), str(row["qualifier"]), report.lang,
                               per_year=str(row["period_basis"]) == "per_year")
    return report.notes.cite(row_ids(report, row), phrase)


def period_text(report: Report, row, *, restates: bool = False) -> Markup:
    """The row's period; a restated plan's first and later reports (a table: which plan a row restates)."""
    ids, lang = row_ids(report, row), report.lang
    if len(ids) > 1:
        dates = [trace.source_date(report.notes.source(i), lang) for i in ids]
        more = text.t("restated", lang, first=dates[0], later=text.join(dates[1:], lang))
    elif restates and row.get("restates") in set(report.figures["figure_id"].astype(str)):
        more = text.t("restates", lang, date=trace.source_date(report.notes.source(row["restates"]), lang))
    else:
        return text.period(row, lang)
    return text.period(row, lang) + text.t("list.semi", lang) + more


def cite_figure(report: Report, figure_id: str) -> Markup:
    """One figure by id, as {eval}`fig("figure-id")` writes it: the house phrase, cited."""
    rows = _where(report.tables.figures, "figure_id", figure_id)
    if rows.empty:
        raise KeyError(f"figure {figure_id!r} is not in this report's scope (talentbrief.scope.select)"
                       + narrative.did_you_mean(figure_id, report.tables.figures["figure_id"].astype(str)))
    return cite_row(report, rows.iloc[0])


def _maybe_ids(figure_ids, content) -> Markup:
    """Content that may contain digits (titles, descriptions) wrapped with the ids it relates to."""
    if figure_ids and _DIGIT.search(str(content)):
        return trace.wrap_ids(figure_ids, content)
    return escape(content)


def header(report: Report, *, title) -> None:
    """Kicker, title ("..." or {"en": ..., "zh": ...}) and date: the first output, carrying the metadata."""
    from IPython.display import HTML, display

    title = title[report.lang] if isinstance(title, dict) else str(title)
    date = text.time_tag(report.as_of, report.lang)
    html = block("header", kicker=text.t("kicker", report.lang), title=title,
                 as_of=text.t("as_of", report.lang, date=date), lang=report.lang)
    # what the renderer reads for <title>, <html lang>, the PDF and the index
    meta = {"title": title, "lang": report.lang, "as_of": report.as_of.strftime("%Y-%m-%d")}
    display(HTML(str(html)), metadata={"talentbrief": meta})


def headline_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """Results and targets (people counts first), a restated plan once; a stock at a date is not a result."""
    figures = without_restatements(figures)
    results = figures[figures["period_basis"].astype(str).isin(RESULT_BASES)
                      & (figures["status"].astype(str) != "context")]
    people = results[results["unit"].astype(str).isin(HEADLINE_UNITS)]
    return people if not people.empty else results


def headlines(report: Report) -> Block:
    """Per programme with results or targets: its headline figures with qualifier, status and period."""
    lang = report.lang
    rows = {p: headline_rows(_figures_of(report, p)) for p in scope.programmes_with_figures(report.tables)}
    shown = {i for figs in rows.values() for i in _shown_ids(report, figs)}

    def item(r) -> dict:
        label = Markup('<span class="tb-label">{}</span>').format(label_text(report, r, shown))
        return {"ids": row_ids(report, r), "text": text.t(
            "figure.item", lang, label=label, value=cite_row(report, r),
            status=fmt.status_label(str(r["status"]), lang), period=period_text(report, r))}

    programmes = [{"name": programme_name(report, pid), "figures": [item(r) for r in figs.to_dict("records")]}
                  for pid, figs in rows.items() if not figs.empty]
    return block("headlines", programmes=programmes)


def chart_rows(report: Report, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows for figures.bar_figure: `per_year`, and a `chart_label` that tells apart same-label rows."""
    lang = report.lang
    restated = report._restated
    rows = without_restatements(rows).copy()
    shown = _shown_ids(report, rows)
    totals = {str(r["figure_id"]): total_of(report, r) for r in rows.to_dict("records")}
    parts = {fid: t for fid, t in totals.items() if t in shown}
    ids = list(rows["figure_id"].astype(str))  # each part right after its total, marked "of which"
    at = {i: (ids.index(parts.get(fid, fid)), fid in parts) for i, fid in enumerate(ids)}
    rows = rows.iloc[sorted(at, key=at.get)].reset_index(drop=True)
    year = lambda fid: pd.Timestamp(report.notes.source(fid)["date_published"]).year
    labels = rows[f"label_{lang}"].astype(str)
    repeated = labels.duplicated(keep=False)

    def label(fid, shown, dup):
        if restated.get(fid):  # one mark for a restated plan, labelled with both years
            later = text.plain("list.sep", lang).join(str(year(i)) for i in restated[fid])
            shown = text.plain("chart.restated_label", lang, label=shown, first=year(fid), later=later)
        elif dup:
            shown = text.plain("chart.dup_label", lang, label=shown, year=year(fid))
        return text.plain("chart.part_label", lang, label=shown) if fid in parts else shown

    rows["chart_label"] = [label(str(f), n, dup) for f, n, dup in zip(rows["figure_id"], labels, repeated)]
    rows["per_year"] = rows["period_basis"].astype(str) == "per_year"
    rows["period_basis"] = rows["period_basis"].astype(str)  # one panel per unit and period basis
    rows["value"] = rows["value"].astype("int64")
    return rows


def source_note(report: Report, figure_ids) -> str:
    """A chart's caption, "Source: China Chemical News (4 August 2022); ...", oldest first."""
    lang = report.lang
    listed = text.plain("list.semi", lang).join(
        text.plain("chart.source_item", lang, source=trace.credit(s, lang),
                   date=trace.source_date_text(s, lang))
        for s in sorted(_sources_of(report, figure_ids), key=lambda s: s["date_published"]))
    return text.plain("chart.source_note", lang, sources=listed)


def bar_chart(report: Report, rows: pd.DataFrame, *, title, **style):
    """figures.bar_figure over the rows, or None for none; a restated plan is one mark citing both rows."""
    if rows.empty:
        return None
    data = chart_rows(report, rows)
    ids = _shown_ids(report, data)
    fig = fmt.bar_figure(data, lang=report.lang, title=title, source_note=source_note(report, ids),
                         label_key="chart_label", **style)
    return fmt.describe(fig, figure_ids=ids)


def developments(report: Report) -> Block:
    """Every dated source, newest first: what it reports, on which programmes (or that it is qualitative)."""
    lang = report.lang
    items = []
    for src in report.tables.sources.sort_values("date_published", ascending=False).to_dict("records"):
        rows = _where(report.tables.figures, "source_id", str(src["source_id"]))
        names = [programme_name(report, p) for p in dict.fromkeys(rows["programme_id"].astype(str))]
        what = text.t("dev.figures", lang, programmes=text.join(names, lang, sep="list.semi")) if len(rows) \
            else text.t("dev.qualitative", lang)
        # a report whose outlet the text does not name: credited to no one, about its bodies
        named = isinstance(src.get("publisher"), str) and src["publisher"].strip()
        said = text.t("dev.item" if named else "dev.item.unnamed", lang, date=trace.source_date(src, lang),
                      outlet=trace.outlet(src, lang), producer=trace.producer(src, lang),
                      title=trace.source_title(src, lang))
        body = said + text.t("sentence.sep", lang) + what
        items.append({"ids": list(rows["figure_id"].astype(str)), "body": body})
    return block("developments", items=items)


def sources_list(report: Report) -> Block:
    """The sources by date: title (linked), outlet, date, the bodies reported on, a translation said so."""
    lang = report.lang
    items = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        url = src.get("url_main")
        link = url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
        shown = block("link", href=link, content=trace.source_title(src, lang))
        body = text.t("source.item", lang, producer=trace.producer(src, lang), title=shown,
                      outlet=trace.outlet(src, lang), date=trace.source_date(src, lang))
        if trace.title_translated(src, lang):
            body += text.t("sentence.sep", lang) + text.t("source.translated", lang)
        sid = str(src["source_id"])
        items.append({"id": sid, "ids": _figure_ids(report, "source_id", sid), "body": body})
    return block("sources", items=items)


def programme_summary(report: Report) -> Block:
    """Owner, description and the period the programme's figures cover."""
    lang, pid = report.lang, report.programme
    prog = _where(report.tables.programmes, "programme_id", pid).iloc[0]
    figs = _figures_of(report, pid)
    extra = Markup("")
    if figs.empty:
        extra = block("paragraph", content=text.t("no_figures", lang))
    else:
        achieved = figs[figs["status"].astype(str) == "achieved"]
        starts, ends = achieved["period_start"].dropna(), achieved["period_end"].dropna()
        open_ended = achieved["period_end"].isna().any()
        earliest = achieved[achieved["period_start"] == starts.min()].to_dict("records")
        # the span's start is inferred when every row starting then infers it, and a year when stated as one
        guessed = earliest and all("period_start" in inferred(r) for r in earliest)
        in_years = earliest and all(text.whole_years(r["period_start"], r["period_end"]) for r in earliest)
        span = {"period_start": starts.min(), "period_end": pd.NaT if open_ended else ends.max(),
                "period_basis": "cumulative",
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


def figure_table(report: Report, rows: pd.DataFrame | None = None) -> Block:
    """Figure rows (default: the programme's) as a table, a restated plan once, citing both sources."""
    lang = report.lang
    rows = without_restatements(_figures_of(report, report.programme) if rows is None else rows)
    shown = _shown_ids(report, rows)
    body = []
    for row in rows.to_dict("records"):
        ids = row_ids(report, row)
        cells = [text.t("source.cell", lang, source=trace.credit(s, lang), date=trace.source_date(s, lang))
                 for s in _sources_of(report, ids)]
        body.append({"id": " ".join(ids), "label": label_text(report, row, shown), "value": cite_row(report, row),
                     "qualifier": fmt.qualifier_label(str(row["qualifier"]), lang),
                     "status_key": str(row["status"]), "status": fmt.status_label(str(row["status"]), lang),
                     "period": period_text(report, row, restates=True),
                     "source": text.join(cells, lang, sep="list.semi")})
    head = [text.t(f"col.{c}", lang) for c in ("figure", "value", "qualifier", "status", "period", "source")]
    return block("figure_table", head=head, rows=body, empty=text.t("no_figures", lang))


def _declared(report: Report, what: str) -> tuple:
    """The entries of data/checks.yml or derived.yml shown: all, or in a brief those on its programme."""
    declared = report.tables.definitions
    return declared.concerning(what, report.programme) if declared is not None else ()


def _computed(report: Report, result: metrics.Derived) -> Markup:
    content, how, ids = metrics.shown(result, report.lang)
    return report.notes.computed(result.key, ids, content, how)


def derived_value(report: Report, derived_id: str) -> Markup:
    """A derived figure of data/derived.yml, computed and cited; a ValueError when its figures are absent."""
    result = metrics.compute(report.tables.definitions.get("derived", derived_id), report.tables.figures)
    if result.value is None:
        raise ValueError(f"derived figure {derived_id!r} cannot be computed in this report: no data for "
                         + ", ".join(result.missing))
    return _computed(report, result)


def _derived_body(report: Report, entry) -> Markup:
    lang, result = report.lang, metrics.compute(entry, report.tables.figures)
    if result.value is None:
        missing = text.plain("list.sep", lang).join(
            report.tables.definitions.label(i, lang) for i in result.missing)
        return text.t("metric.missing", lang, name=entry.name[lang], figures=missing)
    values = {role: (lambda fid=fid: cite_figure(report, fid)) for role, fid in entry.figures.items()}
    total = result.rows.get("total")
    values.update(value=lambda: _computed(report, result), period=lambda: text.period(
        {"period_start": total["period_start"], "period_end": total["period_end"], "period_basis": "cumulative"},
        lang) if total is not None else "")
    return text.fill(entry.wording["text"][lang], values, html=True)


def metrics_section(report: Report) -> Block:
    """Derived figures (all, or those involving the programme), each with its caveat in words."""
    items = [{"key": e.id, "body": _derived_body(report, e), "caveat": e.wording["caveat"][report.lang]}
             for e in _declared(report, "derived")]
    return block("metrics", items=items, empty=text.t("no_metrics", report.lang))


def _rows_used(report: Report, figure_ids) -> Markup:
    """The rows a check used, by label (ids stay in data-figure-ids), a shared label with its source."""
    lang = report.lang
    labels = [report.notes.label(i) for i in figure_ids]
    shown = []
    for fid, label in zip(figure_ids, labels):
        if labels.count(label) > 1:
            src = report.notes.source(fid)
            label = text.plain("row.named", lang, label=label, source=text.plain(
                "source.cell", lang, source=trace.credit(src, lang), date=trace.source_date_text(src, lang)))
        shown.append(label)
    return text.join(shown, lang, sep="list.semi")


def checks_section(report: Report) -> Block:
    """Every check (or those involving the programme): verdict in words, finding and the rows it used."""
    lang = report.lang
    rows = []
    for entry in _declared(report, "check"):
        res = checks.run(entry, report.tables.figures, report.tables.sources, report.tables.definitions.label)
        # the finding carries its rows' ids, but is not styled as a quote: it may hold computed numbers
        message = res.message[lang]
        message = trace.wrap_ids(res.figure_ids, message) if res.figure_ids else escape(message)
        used = text.t("rows_used", lang, rows=_rows_used(report, res.figure_ids) or text.t("none", lang))
        rows.append({"status": res.status, "key": res.key, "ids": res.figure_ids, "name": entry.name[lang],
                     "label": text.t(f"status.{res.status}", lang), "message": message, "used": used})
    head = [text.t(f"col.{c}", lang) for c in ("check", "result", "message")]
    return block("checks", head=head, rows=rows, empty=text.t("no_checks", lang))


def _count(report: Report, ids) -> Markup:
    """How many rows, and how many of them restate another row (the same plan reported again)."""
    n, restating = fmt.format_number(len(ids), report.lang), set(ids) & _restating(report._restated)
    if not restating:
        return escape(n)
    return text.t("count.restated", report.lang, n=n, restated=fmt.format_number(len(restating), report.lang))


def coverage(report: Report) -> Block:
    """Figures per source and per programme, each count carrying the ids it counts."""
    lang = report.lang
    source_rows = []
    for src in report.tables.sources.sort_values("date_published").to_dict("records"):
        ids = _figure_ids(report, "source_id", str(src["source_id"]))
        source_rows.append({"title": _maybe_ids(ids, trace.source_title(src, lang)),
                            "outlet": trace.outlet(src, lang), "date": trace.source_date(src, lang),
                            "ids": ids, "n": _count(report, ids)})
    programme_rows = []
    for prog in report.tables.programmes.to_dict("records"):
        ids = _figure_ids(report, "programme_id", str(prog["programme_id"]))
        owner = prog["owner"] if lang == "en" else prog[f"owner_{lang}"]
        programme_rows.append({"name": _maybe_ids(ids, prog[f"name_{lang}"]), "owner": _maybe_ids(ids, owner),
                               "ids": ids, "n": _count(report, ids)})
    col = lambda c: text.t(f"col.{c}", lang)
    return block("coverage", source_head=[col("source"), col("outlet"), col("date"), col("count")],
                 source_rows=source_rows, programme_head=[col("programme"), col("owner"), col("count")],
                 programme_rows=programme_rows, by_source=text.t("h.by_source", lang),
                 by_programme=text.t("h.by_programme", lang), nothing=text.t("none", lang))


@dataclass
class Report:
    """One report: its tables (already narrowed by scope.select), language, date, programme and notes."""

    tables: object  # talentbrief.load.Tables
    lang: str
    as_of: pd.Timestamp
    programme: str | None
    notes: trace.Notes
    _restated: dict[str, list[str]]  # restatements(tables.figures), found once: every citation asks

    # -- the tables, for pandas cells (figures: one row per reported figure), and the programme's name
    figures = property(lambda self: self.tables.figures)
    sources = property(lambda self: self.tables.sources)
    programmes = property(lambda self: self.tables.programmes)
    name = property(programme_name)

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

    # -- the components above, each shown as a cell's result
    header = header
    headlines = headlines
    figure_table = figure_table
    chart = bar_chart
    developments = developments
    source_list = sources_list
    summary = programme_summary
    coverage = coverage
    computed_figures = metrics_section
    checks = checks_section


def start(*, lang: str, as_of, programme: str | None = None, tables=None) -> Report:
    """The data (default: load.load()) narrowed to what the report may use; ValueError for a bad parameter."""
    text.check_lang(lang)
    stamp = scope.parse_as_of(as_of)
    # select refuses a programme without figures (scope.check_programme, the one programme check)
    tables = scope.select(load.load() if tables is None else tables, as_of=as_of, programme=programme)
    fmt.use_style(lang)
    return Report(tables, lang, stamp, programme, trace.Notes(tables, lang), restatements(tables.figures))
