"""The text a reader sees in a report's HTML, one line per block: what `talentbrief diff` compares.

Headings keep their level as "#"s, list items start with "- ", table cells are joined by " | ", a chart
is "[chart] <title>". Deterministic, so the lines can be diffed and kept as text snapshots.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

SKIP = frozenset({"script", "style", "head", "template", "noscript"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl",
    "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
    "tr", "ul",
})
SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Chart:
    """A report chart: its title, the figure ids it plots and a digest of its image bytes."""

    title: str
    figure_ids: tuple[str, ...]
    image: str


def chart_title(alt: str) -> str:
    """The title `figures.bar_figure` puts first in a chart's alt text ("Title. Bars..." / "标题。...")."""
    alt = alt.strip()
    cut = [i for i in (alt.find(". "), alt.find("。")) if i >= 0]
    return alt[: min(cut)] if cut else alt.rstrip(".")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.charts: list[Chart] = []
        self.parts: list[str] = []
        self.prefix = ""
        self.skipping: list[str] = []  # open elements whose content is not shown
        self.cells = 0  # cells seen in the current table row
        self.figure_ids: list[str | None] = []  # data-figure-ids of each open <figure class="tb-chart">

    def flush(self) -> None:
        line = SPACE.sub(" ", "".join(self.parts)).strip()
        if line:
            self.lines.append(self.prefix + line)
        self.parts, self.prefix = [], ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.skipping or tag in SKIP or "hidden" in a:
            if tag not in VOID:
                self.skipping.append(tag)
            return
        if tag == "figure":
            chart = "tb-chart" in (a.get("class") or "").split()
            self.figure_ids.append(a.get("data-figure-ids") or "" if chart else None)
        if tag in BLOCKS:
            self.flush()
        if tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.parts.append(" | ")
            self.cells += 1
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.prefix = "#" * int(tag[1]) + " "
        elif tag == "li":
            self.prefix = "- "
        elif tag == "img":
            self.image(a)

    def image(self, a: dict[str, str | None]) -> None:
        ids = self.figure_ids[-1] if self.figure_ids else None
        alt = a.get("alt") or ""
        if ids is None:  # not a report chart: its alt text stands for it
            if alt.strip():
                self.parts.append(f" [image] {alt} ")
            return
        title = chart_title(alt)
        digest = hashlib.sha256((a.get("src") or "").encode()).hexdigest()
        self.charts.append(Chart(title, tuple(ids.split()), digest))
        self.flush()
        self.lines.append(f"[chart] {title}")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if self.skipping[-1] == tag:
                self.skipping.pop()
            return
        if tag == "figure" and self.figure_ids:
            self.figure_ids.pop()
        if tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def read(html: str) -> tuple[list[str], list[Chart]]:
    """The visible lines of a page and its charts, in document order."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.flush()
    return reader.lines, reader.charts


def visible_text(html: str) -> list[str]:
    """The lines a reader sees, for snapshots and diffs."""
    return read(html)[0]
