"""What a browser would build from served HTML, read with the standard library's parser: the title,
the headings and the figure elements as elements, and the first text of the body. A page served as
its own escaped source has none of them (its `<` are text), so tests that read these cannot pass on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

HEADINGS = {"h1", "h2", "h3"}


@dataclass
class Dom:
    title: str = ""
    headings: list[tuple[str, str]] = field(default_factory=list)  # (tag, text)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (data-figure-ids, text)
    body_start: str = ""  # the first non-blank text inside <body>

    def figure_texts(self) -> list[str]:
        return [text for _, text in self.figures]


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.dom = Dom()
        self.open: list[list] = []  # [tag, kind, text parts, ids] of elements whose text we collect
        self.in_body = False
        self.skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.in_body = True
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "title":
            self.open.append([tag, "title", [], None])
        elif tag in HEADINGS:
            self.open.append([tag, "heading", [], None])
        elif "data-figure-ids" in attrs:
            self.open.append([tag, "figure", [], attrs["data-figure-ids"]])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                name, kind, parts, ids = self.open.pop(i)
                text = " ".join("".join(parts).split())
                if kind == "title":
                    self.dom.title = text
                elif kind == "heading":
                    self.dom.headings.append((name, text))
                else:
                    self.dom.figures.append((ids, text))
                break

    def handle_data(self, data):
        if self.skip:
            return
        for element in self.open:
            element[2].append(data)
        if self.in_body and not self.dom.body_start and data.strip():
            self.dom.body_start = data.strip()[:200]


def read(html: str) -> Dom:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.dom


def assert_renders(html: str, *, title: str | None = None) -> Dom:
    """The page parses as a report: a <title> (equal to `title` when given), an <h1>, figure
    elements, and no escaped markup at the top of the body."""
    assert "&lt;!DOCTYPE" not in html[:2000] and "&lt;html" not in html[:2000], html[:300]
    dom = read(html)
    assert dom.title, f"no <title> element: {html[:300]!r}"
    if title is not None:
        assert dom.title == title
    assert any(tag == "h1" for tag, _ in dom.headings), dom.headings
    assert dom.figures, "no [data-figure-ids] element"
    assert not dom.body_start.startswith("<"), dom.body_start
    return dom
