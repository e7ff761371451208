"""Hostile text in the data is rendered as text; hostile ids and notebook paths in the catalogue are refused.

Works on temporary copies of the project (`project` fixture); never on the checkout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.support.browser import browser, close, open_file  # noqa: F401  (browser is a fixture)
from tests.support.project import rewrite_csv, run_cli

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TARGET_PROGRAMME = "vocational-skills"


def _inject(rows: list[dict]) -> None:
    hit = 0
    for row in rows:
        if row["programme_id"] == TARGET_PROGRAMME:
            row["label_en"] = f"{row['label_en']} {SCRIPT} {IMG}"
            row["label_zh"] = f"{row['label_zh']} {SCRIPT} {IMG}"
            row["note"] = f"{row['note']} {IMG} {SCRIPT}".strip()
            hit += 1
    assert hit, f"no figure of programme {TARGET_PROGRAMME} to inject into"


def _dom_findings(page) -> dict:
    return page.evaluate(
        """() => ({
            scripts: Array.from(document.querySelectorAll('script')).map(s => s.textContent)
                .filter(t => t.includes('alert(1)')),
            handlers: Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)
                .filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name + '=' + a.value)),
            badImages: Array.from(document.images).filter(i => i.getAttribute('src') === 'x').length,
            figures: Array.from(document.querySelectorAll('[data-figure-ids]'), e => e.textContent).join('\\n'),
        })"""
    )


def test_hostile_figure_text_is_escaped(project, browser):  # noqa: F811
    rewrite_csv(project / "data" / "figures.csv", _inject)
    ids = [f"programme-{TARGET_PROGRAMME}-en", f"programme-{TARGET_PROGRAMME}-zh", "overview-en"]
    result = run_cli(project, "build", *ids, "--jobs", "2", "--quiet", timeout=600)
    assert result.returncode == 0, f"build with hostile labels failed:\n{result.stdout}\n{result.stderr}"
    shown_somewhere = False
    for rid in ids:
        path = project / "reports" / f"{rid}.html"
        raw = path.read_text(encoding="utf-8")
        assert SCRIPT not in raw, f"{rid}.html contains the raw {SCRIPT!r}"
        assert "<img src=x onerror" not in raw, f"{rid}.html contains the raw injected <img>"
        visit = open_file(path=path, browser=browser)
        try:
            found = _dom_findings(visit.page)
        finally:
            close(visit)
        assert not found["scripts"], f"{rid}: injected <script> in the DOM: {found['scripts']}"
        assert not found["handlers"], f"{rid}: event-handler attributes in the DOM: {found['handlers'][:5]}"
        assert not found["badImages"], f"{rid}: injected <img src=x> in the DOM"
        assert not visit.dialogs, f"{rid}: an alert ran: {visit.dialogs}"
        if SCRIPT in found["figures"] or IMG in found["figures"]:  # as text of a figure element
            shown_somewhere = True
    assert shown_somewhere, "the hostile label is not shown as text in any of the reports (was it dropped?)"


def _snapshot(folder: Path, skip: Path) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and Path(dirpath, d) != skip]
        for name in filenames:
            out.add(str(Path(dirpath, name).relative_to(folder)))
    return out


def _with_entry(root: Path, entry: dict) -> None:
    path = root / "reports.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["reports"].append(entry)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    "entry, named",
    [
        (
            {"id": "../../etc/x", "notebook": "notebooks/overview.ipynb", "parameters": {"lang": "en"}},
            "../../etc/x",
        ),
        ({"id": "/etc/x", "notebook": "notebooks/overview.ipynb", "parameters": {"lang": "en"}}, "/etc/x"),
        (
            {"id": "x-{lang}", "notebook": "notebooks/overview.ipynb", "grid": {"lang": ["../../etc"]}},
            "../../etc",
        ),
        ({"id": "outside", "notebook": "../outside.ipynb", "parameters": {"lang": "en"}}, "../outside.ipynb"),
        ({"id": "outside-abs", "notebook": "OUTSIDE_ABS", "parameters": {"lang": "en"}}, "outside.ipynb"),
    ],
    ids=["dotdot-id", "absolute-id", "grid-expands-to-dotdot", "notebook-dotdot", "notebook-absolute"],
)
def test_catalogue_path_escapes_are_refused(project, entry, named):
    outside = project.parent / "outside.ipynb"
    shutil.copy2(project / "notebooks" / "overview.ipynb", outside)
    if entry["notebook"] == "OUTSIDE_ABS":
        entry = {**entry, "notebook": str(outside)}
    _with_entry(project, entry)
    before = _snapshot(project.parent, project / "reports")
    before_reports = _snapshot(project / "reports", project / "reports" / "_none")
    result = run_cli(project, "build", "--quiet", timeout=300)
    assert result.returncode == 2, f"exit {result.returncode}, expected 2:\n{result.stdout}\n{result.stderr}"
    assert named in result.stderr + result.stdout, f"the message does not name {named!r}:\n{result.stderr}"
    assert _snapshot(project.parent, project / "reports") == before, "files appeared outside reports/"
    new_reports = _snapshot(project / "reports", project / "reports" / "_none") - before_reports
    assert not [n for n in new_reports if n.endswith((".html", ".pdf", ".ipynb"))], (
        f"a refused catalogue still built something: {sorted(new_reports)}"
    )
    assert not Path("/etc/x.html").exists()


def test_command_line_id_cannot_escape(project):
    result = run_cli(project, "build", "../../etc/x", "--quiet", timeout=300)
    assert result.returncode == 2, f"exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    assert "../../etc/x" in result.stderr
    assert not list((project / "reports").glob("*.html"))
