"""Traceable numbers: every cited number carries its figure ids, a tooltip quote and a footnote.

A citation's marker is keyed by its ids and its note hidden beside it, so a cell's output stands alone
whatever ran before; `assemble_notes` numbers and lists the notes on the built page."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import NamedTuple

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
    """Its outlet, or its bodies "as reported by an unnamed outlet": news is never credited to a ministry."""
    return _named(source, "publisher", lang) or text.plain("reporter.unnamed", lang, producer=producer(source, lang))


def credit(source, lang: str) -> str:
    """A short credit for chart notes: the outlet, or the title in quotes when the text names none."""
    return _named(source, "publisher", lang) or text.plain("title.quoted", lang, title=source_title(source, lang))


def source_title(source, lang: str) -> str:
    """The title in the report's language (`title_en` / `title_zh`), else the original title."""
    return _text(source, f"title_{lang}") or _text(source, "title") or str(source["source_id"])


def title_translated(source, lang: str) -> bool:
    """Whether the title a report shows is a translation (the article is in the other language)."""
    return str(source.get("language", lang)) != lang and bool(_text(source, f"title_{lang}"))


def source_date(source, lang: str) -> Markup:
    """The publication date in <time>, marked "(date inferred)" when the text does not state it."""
    tag = text.time_tag(source["date_published"], lang)
    return text.t("date.inferred", lang, date=tag) if "date_published" in inferred(source) else tag


def source_date_text(source, lang: str) -> str:
    """source_date as plain text (tooltips, chart notes, check messages)."""
    return macros.plain(source_date(source, lang))


def quoted(row, source, lang: str) -> Markup:
    """“quote” marked with its source's language, so readers (and tests) know it is quoted, and, from another
    language, the data's translation marked as one: “计划每年培训100万名” (translation: “…”)."""
    quote = macros.render("quote", lang=str(source.get("language", "")), content=row["quote"])
    translated = None if str(source.get("language", lang)) == lang else _text(row, f"quote_{lang}")
    if translated is None:
        return text.t("quote.plain", lang, quote=quote)
    return text.t("quote.translated", lang, quote=quote,
                  translation=macros.render("translation", lang=lang, content=translated))


def note_key(figure_ids) -> str:
    """`f.` + the ids joined by `_`, any other than [A-Za-z0-9-] as `.<hex>.`: an HTML id, one per id set."""
    return "f." + "_".join(_safe(i) for i in _ids(figure_ids))


def computed_key(key: str) -> str:
    """The stable key of the note of the computed number `key` (`Notes.computed`)."""
    return "c." + _safe(str(key), keep="_")


def _safe(value: str, keep: str = "") -> str:
    return re.sub(rf"[^A-Za-z0-9{keep}-]", lambda m: f".{ord(m.group()):x}.", value)


@dataclass
class Notes:
    """Footnotes of one report: each citation carries its note; `assemble_notes` numbers them later."""

    tables: object
    lang: str

    def __post_init__(self):
        text.check_lang(self.lang)
        self._figures = {str(r["figure_id"]): r for r in self.tables.figures.to_dict("records")}
        self._sources = {str(r["source_id"]): r for r in self.tables.sources.to_dict("records")}

    def _row(self, figure_id: str) -> dict:
        if figure_id not in self._figures:
            raise KeyError(f"figure {figure_id!r} is not in this report's scope (talentbrief.scope.select)")
        return self._figures[figure_id]

    def source(self, figure_id: str) -> dict:
        """A figure's source row (scope.select keeps the source of every figure it keeps)."""
        return self._sources[str(self._row(figure_id)["source_id"])]

    def _cited(self, figure_ids) -> list[tuple[dict, dict]]:
        return [(self._row(fid), self.source(fid)) for fid in _ids(figure_ids)]

    def tooltip(self, figure_ids) -> str:
        """Plain text: “quote” — “title”, outlet, date (“quote”——《title》，outlet，date), for each figure."""
        lang = self.lang
        return " | ".join(
            text.plain("tooltip.item", lang, quote=macros.plain(quoted(row, source, lang)),
                       source=text.plain("list.comma", lang).join((
                           text.plain("title.quoted", lang, title=source_title(source, lang)),
                           outlet(source, lang), source_date_text(source, lang))))
            for row, source in self._cited(figure_ids))

    def body(self, figure_ids) -> Markup:
        """The note of these ids: each figure's quote (and translation), source title, outlet and date."""
        return Markup(" ").join(
            text.t("note.item", self.lang, quote=quoted(row, source, self.lang),
                   title=source_title(source, self.lang), outlet=outlet(source, self.lang),
                   date=source_date(source, self.lang))
            for row, source in self._cited(figure_ids))

    def cite(self, figure_ids, content) -> Markup:
        """`content` (escaped unless Markup) with its figure ids, tooltip, marker and note beside it."""
        key = _ids(figure_ids)
        return macros.render("cite", ids=key, title=self.tooltip(key), content=content, key=note_key(key),
                             label=text.plain("note.pending", self.lang), body=self.body(key))

    def label(self, figure_id: str) -> str:
        return str(self._row(figure_id)[f"label_{self.lang}"])

    def computed(self, key: str, figure_ids, content, how) -> Markup:
        """A computed number, set apart; its note says `how`, its inputs' notes carried so they are listed."""
        inputs = _ids(figure_ids)
        listed = text.join([text.t("note.input", self.lang, label=self.label(fid),
                                   n=macros.render("noteref", key=note_key((fid,)))) for fid in inputs], self.lang)
        own = macros.render("note", key=computed_key(key), ids=inputs,
                            body=text.t("note.computed", self.lang, how=how, inputs=listed))
        carried = Markup("").join([own, *(macros.render("note", key=note_key((fid,)), ids=(fid,),
                                                        body=self.body((fid,))) for fid in inputs)])
        return macros.render("computed", key=key, ids=inputs, title=text.plain("computed.title", self.lang),
                             content=content, note_key=computed_key(key),
                             label=text.plain("note.pending", self.lang), notes=carried)


def wrap_ids(figure_ids, content) -> Markup:
    """A span carrying figure ids without a footnote (titles and descriptions with digits)."""
    return macros.render("wrap", ids=_ids(figure_ids), content=content)


# -- numbering, when the page is built -------------------------------------------------------------
# What the kernel wrote (sections.html.j2: fnref, note, noteref), as it reaches us after nbconvert
# (which re-serialises the page: attributes may come in another order, `hidden` as `hidden=""`).
_ATTR = re.compile(r'([^\s=/>"\']+)(?:\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s"\'=<>`]+)))?')
_MARKER = re.compile(r"<sup\b([^>]*)>\s*<a\b[^>]*>[^<]*</a>\s*</sup>")
_SPAN = re.compile(r"<(/?)span\b([^>]*)>")
_NOTEREF = re.compile(r"<span\b([^>]*)>[^<]*</span>")


def _attrs(source: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(next((g for g in m.group(2, 3, 4) if g is not None), ""))
            for m in _ATTR.finditer(source)}


def _keyed(attrs: str, cls: str) -> str | None:
    """The data-note key of a tag of class `cls` (one of ours), else None."""
    found = _attrs(attrs)
    return found.get("data-note") if cls in found.get("class", "").split() else None


class _Carried(NamedTuple):
    ids: tuple[str, ...]
    body: str


def _take_notes(page: str) -> tuple[str, dict[str, _Carried]]:
    """The page without the notes beside citations, and those notes by key (two texts for a key: an error)."""
    notes: dict[str, _Carried] = {}
    kept, pos = [], 0
    spans = list(_SPAN.finditer(page))
    for i, m in enumerate(spans):
        key = None if m.group(1) else _keyed(m.group(2), "tb-note")
        if key is None or m.start() < pos:  # not a note, or inside one taken already
            continue
        depth, j = 1, i + 1
        while j < len(spans) and depth:
            depth += -1 if spans[j].group(1) else 1
            j += 1
        if depth:
            raise ValueError(f"note {key!r}: its text is not closed")
        close = spans[j - 1]
        carried = _Carried(tuple(_attrs(m.group(2)).get("data-figure-ids", "").split()),
                           page[m.end():close.start()])
        if notes.setdefault(key, carried) != carried:
            raise ValueError(f"note {key!r} is cited with two different texts")
        kept.append(page[pos:m.start()])
        pos = close.end()
    kept.append(page[pos:])
    return "".join(kept), notes


def assemble_notes(page: str, lang: str) -> str:
    """Number a page's notes by first marker, then those only notes refer to (a computed number's inputs),
    and move them to a section closing the content. Same page, same bytes; a marker without its note fails."""
    page, notes = _take_notes(page)
    keys = (_keyed(m.group(1), "tb-fnref") for m in _MARKER.finditer(page))
    order = {key: n for n, key in enumerate(dict.fromkeys(k for k in keys if k is not None), start=1)}
    queue = list(order)
    for key in queue:  # grows while it is walked: the notes referred to from inside notes
        if key not in notes:
            raise ValueError(f"a footnote marker refers to note {key!r}, which is not on the page")
        for ref in (_keyed(m.group(1), "tb-noteref") for m in _NOTEREF.finditer(notes[key].body)):
            if ref is not None and ref not in order:
                order[ref] = len(order) + 1
                queue.append(ref)

    def marker(m: re.Match) -> str:
        key = _keyed(m.group(1), "tb-fnref")
        if key is None:
            return m.group(0)
        return str(macros.render("fnref_numbered", n=order[key], label=text.plain("note.ref", lang, n=order[key])))

    def ref(m: re.Match) -> str:
        key = _keyed(m.group(1), "tb-noteref")
        return m.group(0) if key is None else str(order[key])

    page = _MARKER.sub(marker, page)
    if not order:
        return page
    items = [{"n": n, "ids": notes[key].ids, "entries": [Markup(_NOTEREF.sub(ref, notes[key].body))]}
             for key, n in order.items()]
    section = str(macros.render("notes", heading=text.t("h.notes", lang), items=items))
    end = page.rfind("</main>")
    end = len(page) if end < 0 else end
    return page[:end] + section + "\n" + page[end:]
