"""Every built report's visible text matches its snapshot in tests/snapshots/ (issue 22).

A change of wording then shows in the diff of tests/snapshots/, where a reviewer reads it. After a
deliberate change, update the snapshots with `make snapshots` and commit them with the change.
"""

from __future__ import annotations

import difflib

from tests.support.snapshots import SNAPSHOTS, report_pages, visible_text

UPDATE = "run `make snapshots` to update them, and review the diff of tests/snapshots/"


def test_every_report_has_a_snapshot_and_no_snapshot_is_stale(built_project):
    built = set(report_pages(built_project / "reports"))
    kept = {p.stem for p in SNAPSHOTS.glob("*.txt")}
    assert len(built) >= 22
    assert built == kept, f"reports without a snapshot: {sorted(built - kept)}; stale snapshots: " \
                          f"{sorted(kept - built)}; {UPDATE}"


def test_every_report_reads_as_its_snapshot(built_project):
    differ = {}
    for rid, page in report_pages(built_project / "reports").items():
        snapshot = SNAPSHOTS / f"{rid}.txt"
        if not snapshot.is_file():
            continue  # the test above names it
        want, got = snapshot.read_text(encoding="utf-8"), visible_text(page.read_text(encoding="utf-8"))
        if want != got:
            differ[rid] = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                       f"tests/snapshots/{rid}.txt", f"reports/{rid}.html", n=1))
    assert not differ, f"{len(differ)} report(s) read differently from their snapshot; {UPDATE}\n" \
                       + "\n".join(differ.values())[:6000]


def test_the_snapshot_is_the_visible_text():
    page = ('<html><head><title>T</title><style>p{}</style></head><body><h1>Title</h1>'
            '<p>Trained <span class="tb-fig" data-figure-ids="x-1" title="quote">2 people</span>'
            '<sup class="tb-fnref"><a href="#fn-1">1</a></sup>.</p>'
            '<table><tr><th>a</th><td>b</td></tr></table><figure><img alt="A chart" src="data:x">'
            '<figcaption>Source: S.</figcaption></figure><script>x()</script></body></html>')
    assert visible_text(page) == "Title\nTrained 2 people[1].\na | b\n[chart: A chart]\nSource: S.\n"
