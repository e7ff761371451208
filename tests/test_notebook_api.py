"""The notebooks are analyses written against a small, documented API.

docs/authoring.md's "The notebook API" section lists every name a notebook may use; the notebooks use
no other, nothing else is public, and the programme and audit notebooks carry their narrative in
Markdown cells in both languages and their selections in pandas cells shown as tables.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from talentbrief import briefing

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("overview", "programme", "audit")

pytestmark = pytest.mark.quick


def documented() -> set[str]:
    """Every `module.name` / `report.name` listed in docs/authoring.md's notebook API section."""
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text[text.index("## The notebook API"):]
    section = section[:section.find("\n## ", 3)] if "\n## " in section[3:] else section
    return set(re.findall(r"`((?:report|briefing|figures)\.\w+)", section))


def cells(name: str) -> list[dict]:
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]


def used_names(name: str) -> set[str]:
    """`report.x`, `briefing.x` and `figures.x` in a notebook's code cells."""
    found = set()
    for cell in cells(name):
        if cell["cell_type"] == "code":
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in ("report", "briefing", "figures"):
                    found.add(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_uses_only_documented_names(name):
    assert used_names(name) - documented() == set()


def test_what_is_documented_exists_and_nothing_else_is_public():
    names = documented()
    report = {n.split(".", 1)[1] for n in names if n.startswith("report.")}
    public = {n for n in dir(briefing.Report) if not n.startswith("_")}
    fields = {"tables", "lang", "as_of", "programme", "notes", "title"}  # the record itself, not for cells
    assert report == public - fields
    assert set(briefing.__all__) == {n.split(".", 1)[1] for n in names if n.startswith("briefing.")} | {"Report"}


@pytest.mark.parametrize("name", ["programme", "audit"])
def test_programme_and_audit_notebooks_are_analyses(name):
    nb = cells(name)
    prose = {lang: [c for c in nb if c["cell_type"] == "markdown" and f"lang-{lang}" in c["metadata"].get("tags", ())
                    and not "".join(c["source"]).lstrip().startswith("#")] for lang in ("en", "zh")}
    assert prose["en"] and len(prose["en"]) == len(prose["zh"])  # narrative paragraphs, in both languages
    code = ["".join(c["source"]) for c in nb if c["cell_type"] == "code"]
    selections = [c for c in code if re.search(r"figs\[|\.groupby\(|\.sort_values\(", c)]
    assert selections, "no pandas selection"
    assert any(re.search(r"report\.(figure_table|coverage)\(", c) or c.rstrip().split("\n")[-1].isidentifier()
               for c in selections), "no selection shown as a table"


def test_the_notebooks_are_mostly_analysis_not_calls():
    """Lines per notebook: Markdown narrative and pandas code outweigh bare component calls."""
    for name in NOTEBOOKS:
        nb = cells(name)
        markdown = sum(len(c["source"]) for c in nb if c["cell_type"] == "markdown")
        calls = sum(1 for c in nb if c["cell_type"] == "code"
                    and re.fullmatch(r"report\.\w+\(\)", "".join(c["source"]).strip()))
        code = sum(len(c["source"]) for c in nb if c["cell_type"] == "code")
        assert markdown + code > 4 * calls, (name, markdown, code, calls)
