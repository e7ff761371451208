"""Plain-text snapshots of what a reader of each built report reads, kept under tests/snapshots/.

`visible_text(html)` turns a report page into its visible text: one line per block (heading,
paragraph, list item, table row with cells joined by " | ", caption), footnote markers as [n], and
each chart as "[chart: alt text]" (the words a screen reader reads, which list every bar). Styles,
scripts and attributes such as data-figure-ids are left out: the snapshot is what a reader meets, so
a change of wording shows in its diff. tests/test_snapshots.py compares every built report with its
snapshot; after a deliberate change of wording, update them with

    make snapshots

(`talentbrief build`, then `python -m tests.support.snapshots reports tests/snapshots`), and review
the diff of tests/snapshots/ like any other change.
"""

from __future__ import annotations

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
BLOCKS = frozenset({"p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "header",
                    "figure", "figcaption", "table", "thead", "tbody", "ul", "ol", "br", "footer", "main",
                    "article", "caption", "blockquote", "pre", "dt", "dd"})
HIDDEN = frozenset({"style", "script", "head", "title", "template"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


class _Walker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.hidden = 0
        self.stack: list[str] = []

    def _break(self):
        text = re.sub(r"\s+", " ", "".join(self.line)).strip()
        if text:
            self.lines.append(text)
        self.line = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in HIDDEN:
            self.hidden += 1
        if tag not in VOID:
            self.stack.append(tag)
        if self.hidden:
            return
        if tag in BLOCKS:
            self._break()
        elif tag in ("td", "th") and self.line and "".join(self.line).strip():
            self.line.append(" | ")
        elif tag == "sup":
            self.line.append("[")
        elif tag == "img" and attrs.get("alt"):
            self._break()
            self.lines.append(f"[chart: {' '.join(attrs['alt'].split())}]")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            name = self.stack.pop()
            if name in HIDDEN:
                self.hidden -= 1
            elif not self.hidden and name == "sup":
                self.line.append("]")
            elif not self.hidden and name in BLOCKS:
                self._break()
            if name == tag:
                break

    def handle_data(self, data):
        if not self.hidden:
            self.line.append(data)


def visible_text(html: str) -> str:
    """The visible text of a report page, one block per line (see the module docstring)."""
    walker = _Walker()
    walker.feed(html)
    walker.close()
    walker._break()
    return "\n".join(walker.lines) + "\n"


def report_pages(reports_dir: Path) -> dict[str, Path]:
    """{report id: html} of the built reports (index.html and failure pages are not reports)."""
    return {p.stem: p for p in sorted(Path(reports_dir).glob("*.html")) if p.stem != "index"}


def write(reports_dir: Path, snapshots_dir: Path = SNAPSHOTS) -> list[str]:
    """Write one snapshot per built report and delete those of reports no longer built; the changed ids."""
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    pages = report_pages(reports_dir)
    changed = []
    for rid, page in pages.items():
        target = snapshots_dir / f"{rid}.txt"
        text = visible_text(page.read_text(encoding="utf-8"))
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed.append(rid)
    for stale in snapshots_dir.glob("*.txt"):
        if stale.stem not in pages:
            stale.unlink()
            changed.append(stale.stem)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Update the text snapshots of the built reports.")
    parser.add_argument("reports", nargs="?", default="reports", type=Path, help="folder of built reports")
    parser.add_argument("snapshots", nargs="?", default=SNAPSHOTS, type=Path, help="folder of snapshots")
    args = parser.parse_args(argv)
    if not report_pages(args.reports):
        print(f"no built reports in {args.reports}: run `talentbrief build` first", file=sys.stderr)
        return 2
    changed = write(args.reports, args.snapshots)
    print(f"{len(changed)} snapshot(s) changed: {', '.join(changed) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
