"""Traceable numbers: every cited number carries its figure ids, a tooltip quote and a footnote.

One `Notes` registry per report. `cite(ids, text)` wraps text in
`<span class="tb-fig" data-figure-ids="..." title="quote — title, outlet, date">` and adds a footnote
marker keyed by the ids (`note_key`), not numbered, with the note's text beside it in a hidden
`<span class="tb-note">`: the verbatim quote (marked with its source's language) and, when that is not
the report's language, the data's translation beside it (`quote_en` / `quote_zh`, marked as a
translation), the source title and outlet in the report's language and the date (marked when
inferred); figure ids stay in `data-figure-ids`, never in the text. `computed(...)` marks a number the
report computed: styled apart from quoted numbers, with a note saying how and from which figures
(their notes travel along). So a cell's output stands alone: what ran before, or how often, does not
change it. `assemble_notes(page, lang)`, called by the renderer on the built page, numbers the notes
in page order, fills in the markers and lists the notes last. The HTML comes from the macros in
templates/talentbrief/sections.html.j2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def note_key(figure_ids) -> str:
    """The stable key of the note citing these figure ids: `f.` and the ids joined by `_`, each kept to
    [A-Za-z0-9-] (anything else, `_` and `.` included, written `.<hex>.`), so it is safe in an HTML id
    and two different id sets never share a key. It never depends on what was cited before."""
    return "f." + "_".join(_safe(i) for i in _ids(figure_ids))


def computed_key(key: str) -> str:
    """The stable key of the note of the computed number `key` (`Notes.computed`)."""
    return "c." + _safe(str(key), keep="_")


def _safe(value: str, keep: str = "") -> str:
    return re.sub(rf"[^A-Za-z0-9{keep}-]", lambda m: f".{ord(m.group()):x}.", value)


@dataclass
class Notes:
    """Footnotes of one report. A citation carries its note (marker keyed by `note_key`, body beside
    it, hidden), so a cell's output stands alone, whatever ran before; `assemble_notes` numbers the
    notes when the page is built."""

    tables: object
    lang: str

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

    def body(self, figure_ids) -> Markup:
        """The note of these ids: per figure the verbatim quote (and its translation), the source title,
        outlet and date."""
        entries = []
        for fid in _ids(figure_ids):
            row = self._row(fid)
            source = self._sources.get(str(row["source_id"]), {"source_id": row["source_id"]})
            date = source.get("date_published")
            entries.append(text.t(
                "note.item", self.lang, quote=quoted(row, source, self.lang),
                title=source_title(source, self.lang), outlet=outlet(source, self.lang),
                date=source_date(source, self.lang) if date is not None and not pd.isna(date) else ""))
        return Markup(" ").join(entries)

    def _note(self, figure_ids) -> Markup:
        """The hidden note of these ids, as it travels beside a citation."""
        ids = _ids(figure_ids)
        return macros.render("note", key=note_key(ids), ids=ids, body=self.body(ids))

    def cite(self, figure_ids, content) -> Markup:
        """`content` (escaped unless Markup) marked with its figure ids, tooltip and footnote marker
        (keyed, numbered when the page is built), its note beside it."""
        key = _ids(figure_ids)
        return macros.render("cite", ids=key, title=self.tooltip(key), content=content, key=note_key(key),
                             label=text.plain("note.pending", self.lang), body=self.body(key))

    def label(self, figure_id: str) -> str:
        return str(self._row(figure_id)[f"label_{self.lang}"])

    def computed(self, key: str, figure_ids, content, how) -> Markup:
        """A number this report computed (`content`, which says so in words) from these figures: set
        apart from quoted numbers (class tb-computed, no quote as tooltip) and with its own note, which
        says how (`how`) and names each input figure with a reference to its note (whose body travels
        along, so it is numbered and listed even when nothing else cites it)."""
        inputs = _ids(figure_ids)
        listed = text.join([text.t("note.input", self.lang, label=self.label(fid),
                                   n=macros.render("noteref", key=note_key((fid,)))) for fid in inputs], self.lang)
        own = macros.render("note", key=computed_key(key), ids=inputs,
                            body=text.t("note.computed", self.lang, how=how, inputs=listed))
        carried = Markup("").join([own, *(self._note((fid,)) for fid in inputs)])
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
    import html as _html

    return {m.group(1).lower(): _html.unescape(next((g for g in m.group(2, 3, 4) if g is not None), ""))
            for m in _ATTR.finditer(source)}


def _keyed(attrs: str, cls: str) -> str | None:
    """The data-note key of a tag of class `cls` (one of ours), else None."""
    found = _attrs(attrs)
    return found.get("data-note") if cls in found.get("class", "").split() else None


@dataclass(frozen=True)
class _Carried:
    ids: tuple[str, ...]
    body: str


def _take_notes(page: str) -> tuple[str, dict[str, _Carried]]:
    """The page without the notes that travel beside citations, and those notes by key (the first of
    each key; another carrying a different text for the same key is an error)."""
    notes: dict[str, _Carried] = {}
    kept, pos = [], 0
    spans = list(_SPAN.finditer(page))
    i = 0
    while i < len(spans):
        m = spans[i]
        key = None if m.group(1) else _keyed(m.group(2), "tb-note")
        if key is None or m.start() < pos:
            i += 1
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
        i = j
    kept.append(page[pos:])
    return "".join(kept), notes


def _refs(body: str) -> list[str]:
    return [k for m in _NOTEREF.finditer(body) if (k := _keyed(m.group(1), "tb-noteref")) is not None]


def assemble_notes(page: str, lang: str) -> str:
    """Number a built page's notes (`page`: the HTML nbconvert made of the executed notebook).

    A note's number is the position of its first marker in the page (document order); notes that only
    another note refers to (the inputs of a computed number) follow, in the order the notes naming them
    come. The markers get their numbers and labels ("note 3" / "注释3", linking to `#fn-3`), the notes
    travelling beside the citations are taken out, and the numbered notes section (heading `h.notes`)
    closes the report's content. A page without citations is returned without a notes section. Same
    page, same bytes; a marker whose note is nowhere on the page is a ValueError."""
    lang = lang if lang in text.LANGS else "en"
    page, notes = _take_notes(page)
    order: dict[str, int] = {}
    for m in _MARKER.finditer(page):
        key = _keyed(m.group(1), "tb-fnref")
        if key is not None:
            order.setdefault(key, len(order) + 1)
    queue = list(order)
    for key in queue:  # grows while it is walked: the notes referred to from inside notes
        if key not in notes:
            raise ValueError(f"a footnote marker refers to note {key!r}, which is not on the page")
        for ref in _refs(notes[key].body):
            if ref not in order:
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
