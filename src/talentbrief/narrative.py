"""Narrative in Markdown cells: language tags and MyST's {eval} role, the same in JupyterLab and the report.

`problems` refuses what cannot be built before any kernel starts; `prepare` turns each Markdown cell into a
code cell calling `show`, whose output records every value it wrote (docs/authoring.md)."""

from __future__ import annotations

import ast
import datetime
import difflib
import re

from markupsafe import Markup, escape

from figures import LANGS
from talentbrief import macros

LANG_TAGS = {f"lang-{lang}": lang for lang in LANGS}
NARRATIVE_TAG = "tb-narrative"  # a Markdown cell run as code by `prepare`
OMIT_TAG = "tb-omit"  # a cell in the other language: the page leaves it out
ROLE = re.compile(r"\{([A-Za-z][\w-]*)\}`([^`]*)`")


# -- before the kernel: checks and the executed form ---------------------------------------------------
def _tags(cell) -> list[str]:
    return [str(t) for t in cell.get("metadata", {}).get("tags", ())]


def cell_lang(cell) -> str | None:
    """The language a cell is tagged with, or None (shown in every language)."""
    return next((LANG_TAGS[t] for t in _tags(cell) if t in LANG_TAGS), None)


def problems(nb, notebook: str, *, lang: str, known_ids, scoped_ids, dates: dict[str, str], as_of: str) -> list[str]:
    """Why the narrative of `nb` cannot be built for this report, a line each. `dates` (figure id → its
    source's publication date) says why an id of `known_ids` is not among the `scoped_ids` it may cite."""
    found = []
    for n, cell in enumerate(nb["cells"], start=1):
        where = f"{notebook}: cell {n}"
        for tag in _tags(cell):
            if tag.startswith("lang-") and tag not in LANG_TAGS:
                found.append(f"{where}: unknown language tag {tag!r} (use {' or '.join(LANG_TAGS)})")
        if cell.get("cell_type") != "markdown" or cell_lang(cell) not in (None, lang):
            continue
        for role, value in ROLE.findall(_source(cell)):
            if role != "eval":
                found.append(f"{where}: unknown role {{{role}}} (write {{eval}}`fig(\"figure-id\")`, "
                             f"{{eval}}`name` or {{eval}}`date(\"2022-08\")`)")
                continue
            try:
                tree = ast.parse(value.strip(), mode="eval")
            except SyntaxError:
                found.append(f"{where}: {{eval}}`{value}` is not a Python expression")
                continue
            for call, literal in _literal_calls(tree):
                if call == "date" and date_parts(literal) is None:
                    found.append(f"{where}: date({literal!r}) is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)")
                elif call == "fig" and literal not in known_ids:
                    found.append(f"{where}: unknown figure id {literal!r}{did_you_mean(literal, known_ids)}")
                elif call == "fig" and literal not in scoped_ids and dates.get(literal, "") > as_of:
                    found.append(f"{where}: figure {literal!r} was published on {dates[literal]}, after the "
                                 f"report's as-of date {as_of}")
                elif call == "fig" and literal not in scoped_ids:
                    found.append(f"{where}: figure {literal!r} is not in this report's scope")
    return found


def _literal_calls(tree):
    """(name, text) of each `fig("…")` / `date("…")` call (or `report.fig("…")`) with a literal argument."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("fig", "date"):
                yield name, node.args[0].value


def date_parts(value: str) -> tuple[int, ...] | None:
    """(year,), (year, month) or (year, month, day) of a written date, or None when it is not one."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", str(value).strip())
    if not m:
        return None
    parts = tuple(int(p) for p in m.groups() if p is not None)
    try:
        datetime.date(parts[0], *(parts[1:] + (1,) * (3 - len(parts))))
    except ValueError:
        return None
    return parts


def did_you_mean(value: str, known) -> str:
    """"; did you mean 'a' or 'b'?" naming the closest known ids, or "" when none is close."""
    close = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def has_roles(notebook_text: str) -> bool:
    """Cheap test on the notebook's JSON text: does any cell use a role at all (then data is needed)."""
    return bool(re.search(r"\{[A-Za-z][\w-]*\}`", notebook_text))


def prepare(nb, lang: str):
    """The notebook as run for `lang`: Markdown cells call `show`, the other language's are emptied (kept, so
    cell numbers match the analyst's notebook) and tagged `OMIT_TAG`."""
    import nbformat

    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        source = _source(cell)
        meta = {**cell.get("metadata", {}), "talentbrief": {"markdown": source}}
        omit = cell_lang(cell) not in (None, lang)
        meta["tags"] = [*_tags(cell), OMIT_TAG if omit else NARRATIVE_TAG]
        code = f"__import__('talentbrief.narrative').narrative.show({source!r})"
        new = (nbformat.v4.new_markdown_cell("", metadata=meta) if omit
               else nbformat.v4.new_code_cell(code, metadata=meta))
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
def _html(value) -> Markup:
    """A value as the lab shows it: its HTML when it has one (citations, dates), else escaped text."""
    return Markup(value._repr_html_()) if hasattr(value, "_repr_html_") else escape(value)


def render(source: str, namespace: dict) -> tuple[Markup, dict[str, str]]:
    """CommonMark (with tables) to HTML, each {eval} valued in `namespace`; also each expression's HTML."""
    from markdown_it import MarkdownIt

    values: dict[str, Markup] = {}
    held: list[Markup] = []

    def hold(match: re.Match) -> str:
        expression = match.group(2).strip()
        try:
            value = eval(compile(expression, "<markdown>", "eval"), namespace)  # the analyst's own cell, as in the lab
        except Exception as error:  # noqa: BLE001  (re-raised naming the expression; the kernel shows it)
            raise RuntimeError(f"{{eval}}`{expression}`: {type(error).__name__}: {error}") from None
        held.append(values.setdefault(expression, _html(value)))
        return f"TBROLE{len(held) - 1}TBEND"

    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(ROLE.sub(hold, source))
    for n, value in enumerate(held):  # the analyst's own Markdown is trusted; values are escaped unless HTML
        body = body.replace(f"TBROLE{n}TBEND", str(value))
    return macros.render("prose", content=Markup(body)), {k: str(v) for k, v in values.items()}


def show(source: str) -> None:
    """Display a Markdown cell as the report does, recording its {eval} values in the executed notebook."""
    from IPython import get_ipython
    from IPython.display import HTML, display

    html, values = render(source, get_ipython().user_ns)
    display(HTML(str(html)), metadata={"talentbrief": {"eval": values}})
