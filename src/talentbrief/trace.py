"""Traceable numbers: every cited number carries its figure ids, a tooltip quote and a footnote.

One `Notes` registry per report. `cite(ids, text)` wraps text in
`<span class="tb-fig" data-figure-ids="..." title="quote — title, outlet, date">` and adds a footnote
marker; citing the same ids again reuses the footnote. `items()` gives the numbered notes, each with
the verbatim quote (marked with its source's language) and, when that is not the report's language,
the data's translation beside it (`quote_en` / `quote_zh`, marked as a translation), the source title
and outlet in the report's language and the date (marked when inferred); figure ids stay in
`data-figure-ids`, never in the text. `computed(...)` marks a number the report computed: styled
apart from quoted numbers, with a note saying how and from which figures (`briefing.notes` renders
them). The HTML comes from the macros in templates/talentbrief/sections.html.j2.
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


def translation(row, source, lang: str) -> str | None:
    """The data's translation of a row's quote into `lang`, when the source is in another language."""
    if str(source.get("language", lang)) == lang:
        return None
    value = row.get(f"quote_{lang}")
    return value.strip() if isinstance(value, str) and value.strip() else None


def quoted(row, source, lang: str) -> Markup:
    """“quote” in the source's language, and beside it its translation into the report's language,
    marked as a translation (never as the quote): “计划每年培训100万名” (translation: “plans to …”)."""
    shown = translation(row, source, lang)
    if shown is None:
        return text.t("quote.plain", lang, quote=quote(row, source))
    return text.t("quote.translated", lang, quote=quote(row, source),
                  translation=macros.render("translation", lang=lang, content=shown))


def quoted_text(row, source, lang: str) -> str:
    """quoted() as plain text (tooltips)."""
    shown = translation(row, source, lang)
    if shown is None:
        return text.plain("quote.plain", lang, quote=row["quote"])
    return text.plain("quote.translated", lang, quote=row["quote"], translation=shown)


@dataclass
class Notes:
    """Footnotes of one report, numbered in the order numbers are first cited."""

    tables: object
    lang: str
    _order: list[tuple[str, ...]] = field(default_factory=list)
    _computed: dict[tuple[str, ...], tuple[tuple[str, ...], Markup]] = field(default_factory=dict)

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
            parts.append(text.plain("tooltip.item", self.lang, quote=quoted_text(row, source, self.lang), source=text.plain(
                "list.comma", self.lang).join(p for p in (title, outlet(source, self.lang), when) if p)))
        return " | ".join(parts)

    def number(self, figure_ids) -> int:
        """The footnote number for these ids (registering them on first use)."""
        key = _ids(figure_ids)
        for fid in key if key not in self._computed else ():
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

    def label(self, figure_id: str) -> str:
        return str(self._row(figure_id)[f"label_{self.lang}"])

    def computed(self, key: str, figure_ids, content, how) -> Markup:
        """A number this report computed (`content`, which says so in words) from these figures: set
        apart from quoted numbers (class tb-computed, no quote as tooltip) and with its own note, which
        says how (`how`) and names each input figure with its note number."""
        inputs = _ids(figure_ids)
        for fid in inputs:
            self.number((fid,))
        note_key = (f"={key}",)
        listed = text.join([text.t("note.input", self.lang, label=self.label(fid), n=self.number((fid,)))
                            for fid in inputs], self.lang)
        self._computed[note_key] = (inputs, text.t("note.computed", self.lang, how=how, inputs=listed))
        n = self.number(note_key)
        return macros.render("computed", key=key, ids=inputs, title=text.plain("computed.title", self.lang),
                             content=content, n=n, label=text.plain("note.ref", self.lang, n=n))

    def items(self) -> list[dict]:
        """The notes, one per cited id set in citation order: number, ids, entries (Markup)."""
        items = []
        for n, key in enumerate(self._order, start=1):
            if key in self._computed:
                ids, entry = self._computed[key]
                items.append({"n": n, "ids": ids, "entries": [entry]})
                continue
            entries = []
            for fid in key:
                row = self._row(fid)
                source = self._sources.get(str(row["source_id"]), {"source_id": row["source_id"]})
                date = source.get("date_published")
                entries.append(text.t(
                    "note.item", self.lang, quote=quoted(row, source, self.lang),
                    title=source_title(source, self.lang), outlet=outlet(source, self.lang),
                    date=source_date(source, self.lang) if date is not None and not pd.isna(date) else ""))
            items.append({"n": n, "ids": key, "entries": entries})
        return items


def wrap_ids(figure_ids, content) -> Markup:
    """A span carrying figure ids without a footnote (titles and descriptions with digits)."""
    return macros.render("wrap", ids=_ids(figure_ids), content=content)
