"""Traceable numbers: every cited number carries its figure ids, a tooltip quote and a footnote.

One `Notes` registry per report. `cite(ids, text)` wraps text in
`<span class="tb-fig" data-figure-ids="..." title="quote — title, outlet, date">` and adds a footnote
marker; citing the same ids again reuses the footnote. `items()` gives the numbered notes, each with
the verbatim quote (marked with its source's language), source title and outlet in the report's
language, date (marked when inferred) and, in English, the id (`briefing.notes` renders them). The
HTML comes from the macros in templates/talentbrief/sections.html.j2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

from talentbrief import macros, text
from talentbrief.rules import inferred


def _ids(figure_ids) -> tuple[str, ...]:
    ids = (figure_ids,) if isinstance(figure_ids, str) else tuple(figure_ids)
    return tuple(dict.fromkeys(str(i) for i in ids))


def _text(source, column: str) -> str | None:
    value = source.get(column)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _named(source, column: str, lang: str) -> str | None:
    """A name column in the report's language: `publisher` in English, `publisher_zh` in Chinese."""
    return _text(source, column if lang == "en" else f"{column}_{lang}")


def outlet(source, lang: str) -> str:
    """The outlet that printed a source, or words saying the text names none."""
    return _named(source, "publisher", lang) or text.plain("outlet.unknown", lang)


def producer(source, lang: str) -> str:
    """The official body (or bodies) whose statement or plan the source reports."""
    return _named(source, "producer", lang) or str(source.get("source_id", ""))


def reporter(source, lang: str) -> str:
    """Who a source is, named as what it is: its outlet, or the bodies it reports on as reported by an
    unnamed outlet (a news report is never credited to the ministry it reports on)."""
    return _named(source, "publisher", lang) or text.plain("reporter.unnamed", lang, producer=producer(source, lang))


def credit(source, lang: str) -> str:
    """A short credit for chart notes: the outlet, or the title in quotes when the text names none."""
    return _named(source, "publisher", lang) or text.plain("title.quoted", lang, title=source_title(source, lang))


def source_title(source, lang: str) -> str:
    """The title in the report's language (`title_en` / `title_zh`), else the original title."""
    for column in (f"title_{lang}", "title"):
        value = _text(source, column)
        if value:
            return value
    return str(source["source_id"])


def title_translated(source, lang: str) -> bool:
    """Whether the title a report shows is a translation (the article is in the other language)."""
    return str(source.get("language", lang)) != lang and bool(_text(source, f"title_{lang}"))


def date_inferred(source) -> bool:
    """Whether the source's publication date is inferred rather than stated (sources.inferred)."""
    return "date_published" in inferred(source)


def source_date(source, lang: str) -> Markup:
    """The publication date in <time>, marked "(date inferred)" when the text does not state it."""
    tag = text.time_tag(source["date_published"], lang)
    return text.t("date.inferred", lang, date=tag) if date_inferred(source) else tag


def source_date_text(source, lang: str) -> str:
    """source_date as plain text (tooltips, chart notes, check messages)."""
    date = text.format_date(source["date_published"], lang)
    return text.plain("date.inferred", lang, date=date) if date_inferred(source) else date


def quote(row, source) -> Markup:
    """A verbatim quote marked with the language of its source, so readers (and tests) know it is quoted."""
    return macros.render("quote", lang=str(source.get("language", "")), content=row["quote"])


@dataclass
class Notes:
    """Footnotes of one report, numbered in the order numbers are first cited."""

    tables: object
    lang: str
    _order: list[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self):
        text.check_lang(self.lang)
        figures = self.tables.figures
        self._figures = {str(r["figure_id"]): r for r in figures.to_dict("records")}
        self._sources = {str(r["source_id"]): r for r in self.tables.sources.to_dict("records")}

    def _row(self, figure_id: str) -> dict:
        if figure_id not in self._figures:
            raise KeyError(f"figure {figure_id!r} is not in this report's scope (talentbrief.scope.select)")
        return self._figures[figure_id]

    def tooltip(self, figure_ids) -> str:
        """Plain text: “quote” — “title”, outlet, date (“quote”——《title》，outlet，date), for each figure."""
        parts = []
        for fid in _ids(figure_ids):
            row = self._row(fid)
            source = self._sources.get(str(row["source_id"]), {"source_id": row["source_id"]})
            date = source.get("date_published")
            when = source_date_text(source, self.lang) if date is not None and not pd.isna(date) else ""
            title = text.plain("title.quoted", self.lang, title=source_title(source, self.lang))
            parts.append(text.plain("tooltip.item", self.lang, quote=row["quote"], source=text.plain(
                "list.comma", self.lang).join(p for p in (title, outlet(source, self.lang), when) if p)))
        return " | ".join(parts)

    def number(self, figure_ids) -> int:
        """The footnote number for these ids (registering them on first use)."""
        key = _ids(figure_ids)
        for fid in key:
            self._row(fid)
        if key not in self._order:
            self._order.append(key)
        return self._order.index(key) + 1

    def cite(self, figure_ids, content) -> Markup:
        """`content` (escaped unless Markup) marked with its figure ids, tooltip and footnote marker."""
        key = _ids(figure_ids)
        n = self.number(key)
        return macros.render("cite", ids=key, title=self.tooltip(key), content=content, n=n,
                             label=text.plain("note.ref", self.lang, n=n))

    def items(self) -> list[dict]:
        """The notes, one per cited id set in citation order: number, ids, entries (Markup)."""
        items = []
        for n, key in enumerate(self._order, start=1):
            entries = []
            for fid in key:
                row = self._row(fid)
                source = self._sources.get(str(row["source_id"]), {"source_id": row["source_id"]})
                date = source.get("date_published")
                entries.append(text.t(
                    "note.item", self.lang, quote=quote(row, source), title=source_title(source, self.lang),
                    outlet=outlet(source, self.lang),
                    date=source_date(source, self.lang) if date is not None and not pd.isna(date) else "",
                    figure_id=macros.render("code", value=fid)))
            items.append({"n": n, "ids": key, "entries": entries})
        return items


def wrap_ids(figure_ids, content) -> Markup:
    """A span carrying figure ids without a footnote (titles and descriptions with digits)."""
    return macros.render("wrap", ids=_ids(figure_ids), content=content)
