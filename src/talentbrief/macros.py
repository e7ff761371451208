"""Report HTML comes from Jinja2 templates (templates/talentbrief/), never from strings joined in Python:
`render("headlines", programmes=...)` fills a macro of sections.html.j2, `page(...)` a page. Autoescaped,
so data text is escaped and Markup values (citations, <time> tags) are kept."""

from __future__ import annotations

import functools
import html as html_lib
import re
from pathlib import Path

from markupsafe import Markup

FOLDER = Path(__file__).resolve().parent / "templates" / "talentbrief"


class Block(Markup):
    """HTML a notebook cell displays as its result (JupyterLab and the report show the same)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:
        """Its words without markup, where only text is shown (a console, an untrusted notebook)."""
        printer.text(plain(self))


def plain(html: str) -> str:
    """The words of our own HTML: hidden parts (<template>) and tags dropped, entities decoded."""
    shown = re.sub(r"<template\b.*?</template>", "", str(html), flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", shown))


@functools.cache
def _env():
    import jinja2

    from talentbrief import memo

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(FOLDER)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              bytecode_cache=memo.templates())


@functools.cache
def _macros(template: str = "sections.html.j2"):
    return _env().get_template(template).module


def page(template: str, **values) -> str:
    """A whole page from a template of this folder (reports/index.html, the plain failure page)."""
    return _env().get_template(template).render(**values)


def render(name: str, template: str = "sections.html.j2", **values) -> Markup:
    """One macro of a template of this folder (sections.html.j2 unless named), filled."""
    return Markup(str(getattr(_macros(template), name)(**values)).strip())


def block(name: str, **values) -> Block:
    return Block(render(name, **values))
