"""Narrative written in Markdown cells: language tags, the {fig} role and values glued from code.

A Markdown cell tagged ``lang-en`` shows only in English reports, ``lang-zh`` only in Chinese ones;
untagged cells show in both. Inside a cell, two MyST roles:

* {fig}`figure-id` writes that figure as the house formatter does ("more than 920,000 people" /
  "92万余人"), cited: tooltip quote, footnote, ``data-figure-ids``;
* {glue}`name` writes a value a code cell stored with ``glue("name", value)`` (a derived number, already
  formatted and cited, so prose never types a number by hand);
* {date}`2022-08` writes a date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) in the report's language inside
  ``<time>`` ("August 2022" / "2022年8月"): the one way for a number that is not a figure into prose.

`check` refuses unknown ids, figures published after the report's as-of date, ids outside the report's
scope, unknown roles and unknown language tags before any kernel starts. `prepare` turns each
Markdown cell into a code cell that renders it in the kernel (`show`), so its citations share the
footnotes of the report's code cells; cells in the other language are marked to be left out.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from talentbrief import macros

LANG_TAGS = {"lang-en": "en", "lang-zh": "zh"}
NARRATIVE_TAG = "tb-narrative"  # a Markdown cell run as code by `prepare`
OMIT_TAG = "tb-omit"  # a cell in the other language: the page leaves it out
ROLE = re.compile(r"\{([A-Za-z][\w-]*)\}`([^`]*)`")
ROLES = ("fig", "glue", "date")

_state: dict = {"report": None, "glue": {}}


# -- before the kernel: checks and the executed form ---------------------------------------------------
def _tags(cell) -> list[str]:
    return [str(t) for t in cell.get("metadata", {}).get("tags", ())]


def cell_lang(cell) -> str | None:
    """The language a cell is tagged with, or None (shown in every language)."""
    langs = [LANG_TAGS[t] for t in _tags(cell) if t in LANG_TAGS]
    return langs[0] if langs else None


def problems(nb, notebook: str, *, lang: str, known_ids, scoped_ids, dates: dict[str, str], as_of: str) -> list[str]:
    """Why the narrative of `nb` cannot be built for this report: one line per problem (empty when fine).

    `known_ids`: every figure id in the data; `scoped_ids`: the ids this report may cite; `dates`: figure id
    → its source's publication date (to say why an id is out of scope).
    """
    found = []
    for n, cell in enumerate(nb["cells"], start=1):
        where = f"{notebook}: cell {n}"
        for tag in _tags(cell):
            if tag.startswith("lang-") and tag not in LANG_TAGS:
                found.append(f"{where}: unknown language tag {tag!r} (use {' or '.join(LANG_TAGS)})")
        if cell.get("cell_type") != "markdown" or cell_lang(cell) not in (None, lang):
            continue
        for role, value in ROLE.findall(_source(cell)):
            if role not in ROLES:
                found.append(f"{where}: unknown role {{{role}}} (use {{fig}}, {{glue}} or {{date}})")
            elif role == "date" and _date_parts(value) is None:
                found.append(f"{where}: {{date}}`{value}` is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)")
            elif role == "fig" and value not in known_ids:
                found.append(f"{where}: unknown figure id {value!r}{did_you_mean(value, known_ids)}")
            elif role == "fig" and value not in scoped_ids:
                date = dates.get(value)
                if date and date > as_of:
                    found.append(f"{where}: figure {value!r} was published on {date}, after the report's "
                                 f"as-of date {as_of}")
                else:
                    found.append(f"{where}: figure {value!r} is not in this report's scope")
    return found


def _date_parts(value: str):
    from talentbrief import text  # pandas: only where a {date} role is checked

    return text.date_parts(value)


def did_you_mean(value: str, known) -> str:
    """"; did you mean 'a' or 'b'?" naming the closest known ids, or "" when none is close."""
    import difflib

    close = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def has_roles(notebook_text: str) -> bool:
    """Cheap test on the notebook's JSON text: does any cell use a role at all (then data is needed)."""
    return bool(re.search(r"\{[A-Za-z][\w-]*\}`", notebook_text))


def prepare(nb, lang: str):
    """The notebook as it runs for `lang`: Markdown cells in this language become code cells calling
    `show`; those in the other language become empty cells tagged `OMIT_TAG`. Cell positions are kept,
    so cell numbers in messages match the notebook the analyst edits."""
    import nbformat

    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        source = _source(cell)
        meta = {**cell.get("metadata", {}), "talentbrief": {"markdown": source}}
        if cell_lang(cell) not in (None, lang):
            meta["tags"] = [*_tags(cell), OMIT_TAG]
            new = nbformat.v4.new_markdown_cell("", metadata=meta)
        else:
            meta["tags"] = [*_tags(cell), NARRATIVE_TAG]
            new = nbformat.v4.new_code_cell(f"__import__('talentbrief.narrative').narrative.show({source!r})",
                                            metadata=meta)
        if "id" in cell:
            new["id"] = cell["id"]
        nb.cells[i] = new
    return nb


def as_written(nb):
    """Undo `prepare` for display (the failure page shows the analyst's Markdown, not our code)."""
    import nbformat

    for i, cell in enumerate(nb.cells):
        original = cell.get("metadata", {}).get("talentbrief", {}).get("markdown")
        if original is not None:
            nb.cells[i] = nbformat.v4.new_markdown_cell(original)
    return nb


# -- in the kernel ---------------------------------------------------------------------------------
def use(report) -> None:
    """The report that {fig} and {glue} refer to from now on (briefing.start calls this)."""
    _state["report"], _state["glue"] = report, {}


def glue(name: str, value) -> None:
    """Store a value (text, or Markup such as a citation) for {glue}`name` in later Markdown cells."""
    if not re.fullmatch(r"[\w-]+", str(name)):
        raise ValueError(f"glue name {name!r}: use letters, digits, - and _")
    _state["glue"][str(name)] = value


def _expand(role: str, value: str):
    from talentbrief import text

    report = _state["report"]
    if role in ("fig", "date") and report is None:
        raise RuntimeError(f"{{{role}}}`{value}` needs the report: call briefing.start(...) in a cell above")
    if role == "date":
        return text.date_tag(value, report.lang)
    if role == "fig":
        return report.cite_figure(value)
    if value not in _state["glue"]:
        raise KeyError(f"{{glue}}`{value}`: no value glued under that name in a cell above "
                       f"(glued: {', '.join(_state['glue']) or 'none'})")
    return _state["glue"][value]


def render(source: str) -> Markup:
    """Markdown to HTML (CommonMark with tables), roles replaced by their cited, escaped values."""
    from markdown_it import MarkdownIt

    values: list = []

    def hold(match: re.Match) -> str:
        values.append(_expand(match.group(1), match.group(2)))
        return f"TBROLE{len(values) - 1}TBEND"

    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(ROLE.sub(hold, source))
    for n, value in enumerate(values):  # the analyst's own Markdown is trusted; values are escaped unless Markup
        body = body.replace(f"TBROLE{n}TBEND", str(escape(value)))
    return macros.render("prose", content=Markup(body))


def show(source: str) -> None:
    """Display one Markdown cell as the report shows it (what `prepare` puts in its place)."""
    from IPython.display import HTML, display

    display(HTML(str(render(source))))
