"""`talentbrief diff --html FILE`: one self-contained review page (review.html.j2, autoescaped, no
scripts) a reviewer opens offline: the data changes, then each changed report's text side by side.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from talentbrief import macros, store

if TYPE_CHECKING:
    from talentbrief.diff import Result

CONTEXT = 2  # unchanged lines shown around each change
# Latin words and numbers stay whole; any other character (a CJK character, punctuation) is a token.
TOKEN = re.compile(r"[A-Za-z0-9_.,%'-]+|\s+|.", re.DOTALL)


def _words(before: str, after: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both lines as (text, changed) segments, changed = the tokens this edit removed or added."""
    a, b = TOKEN.findall(before), TOKEN.findall(after)
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(("".join(b[j1:j2]), tag != "equal"))
    return left, right


def side_by_side(old: list[str], new: list[str], context: int = CONTEXT) -> list[dict]:
    """Rows of {kind, left, right, old_no, new_no}; kind "skip" stands for unchanged lines left out."""
    rows: list[dict] = []
    group: list = []
    for group in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_grouped_opcodes(context):
        if rows or group[0][1] > 0:
            rows.append({"kind": "skip"})
        for tag, i1, i2, j1, j2 in group:
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                left = old[i] if i < i2 else None
                right = new[j] if j < j2 else None
                if tag == "equal":
                    segs = ([(left, False)], [(right, False)])
                elif left is not None and right is not None:
                    segs = _words(left, right)
                else:
                    segs = ([(left, True)] if left is not None else None, [(right, True)] if right is not None else None)
                rows.append({"kind": tag, "left": segs[0], "right": segs[1],
                             "old_no": i + 1 if left is not None else None,
                             "new_no": j + 1 if right is not None else None})
    if group and (group[-1][2] < len(old) or group[-1][4] < len(new)):
        rows.append({"kind": "skip"})
    return rows


def _table_rows(result: Result) -> list[dict]:
    rows = []
    for table in result.tables:
        for r in table.rows:
            refs = ", ".join(f"{k} {v}" for k, v in r.refs.items())
            base = {"table": table.name, "key": r.key, "kind": r.kind, "refs": refs}
            rows += [{**base, "field": n, "before": b, "after": a} for n, b, a in r.fields or [("", "", "")]]
    return rows


def page(result: Result) -> str:
    reports = [
        {"id": r.id, "kind": r.kind, "lang": r.lang, "title": r.title, "charts": r.charts,
         "rows": side_by_side(r.old, r.new) if r.kind != "unchanged" else []}
        for r in result.reports
    ]
    return macros.page("review.html.j2", old=result.old.label, new=result.new.label,
                       figures=_table_rows(result), reports=reports, changed=result.changed)


def write(path: Path, result: Result) -> None:
    """Write the page atomically (a reviewer's open copy is never half-written)."""
    store.atomic_write(Path(path), page(result).encode())
