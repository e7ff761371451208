"""Traceable numbers: every cited number carries its figure ids, a tooltip quote and a footnote.

One `Notes` registry per report. `cite(ids, text)` wraps text in
`<span class="tb-fig" data-figure-ids="..." title="quote — title, outlet, date">` and adds a footnote
marker; citing the same ids again reuses the footnote. `items()` gives the numbered notes, each with
the verbatim quote, source title, outlet, date and id (`briefing.notes` renders them). The HTML comes
from the macros in templates/talentbrief/sections.html.j2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

from talentbrief import macros, text

_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_LATIN_GLOSS = re.compile(r"\(([^()\u3000-\u9fff]+)\)")


def _ids(figure_ids) -> tuple[str, ...]:
    ids = (figure_ids,) if isinstance(figure_ids, str) else tuple(figure_ids)
    return tuple(dict.fromkeys(str(i) for i in ids))


def _gloss(value: str, lang: str) -> str:
    """English reports use the English gloss of a Chinese name: "六部门 (MoHRSS ...)" -> "MoHRSS ..."."""
    found = _LATIN_GLOSS.search(value) if lang == "en" and _CJK.search(value) else None
    return found.group(1) if found else value


def outlet(source, lang: str) -> str:
    """The outlet that printed a source, or words saying the text names none."""
    value = source.get("publisher")
    if isinstance(value, str) and value.strip():
        return _gloss(value, lang)
    return text.plain("outlet.unknown", lang)


def reporter(source, lang: str) -> str:
    """Who a source speaks for in running text: its outlet, else the body whose statement it reports."""
    for column in ("publisher", "producer"):
        value = source.get(column)
        if isinstance(value, str) and value.strip():
            return _gloss(value, lang)
    return str(source.get("source_id", ""))


def source_title(source, lang: str) -> str:
    """English title in English reports, the original title in Chinese ones (when present)."""
    order = ("title_en", "title") if lang == "en" else ("title", "title_en")
    for column in order:
        value = source.get(column)
        if isinstance(value, str) and value.strip():
            return value
    return str(source["source_id"])


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
        """Plain text: “quote” — title, outlet, date, for each figure."""
        parts = []
        for fid in _ids(figure_ids):
            row = self._row(fid)
            source = self._sources.get(str(row["source_id"]), {"source_id": row["source_id"]})
            date = source.get("date_published")
            when = text.format_date(date, self.lang) if date is not None and not pd.isna(date) else ""
            parts.append(f"“{row['quote']}” — " + ", ".join(
                p for p in (source_title(source, self.lang), outlet(source, self.lang), when) if p))
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
        return macros.render("cite", ids=key, title=self.tooltip(key), content=content, n=n)

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
                    "note.item", self.lang, quote=row["quote"], title=source_title(source, self.lang),
                    outlet=outlet(source, self.lang),
                    date=text.time_tag(date, self.lang) if date is not None and not pd.isna(date) else "",
                    figure_id=macros.render("code", value=fid)))
            items.append({"n": n, "ids": key, "entries": entries})
        return items


def wrap_ids(figure_ids, content) -> Markup:
    """A span carrying figure ids without a footnote (titles and descriptions with digits)."""
    return macros.render("wrap", ids=_ids(figure_ids), content=content)
