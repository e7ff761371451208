"""Does the read recorder earn its code? Recorded reads against the simpler key (issue 23).

usage: python benchmarks/bench_key.py

The simpler key: every report keyed on all of data/ and notebooks/ and the root's own files
(`digests.conservative_hash`) plus the report side (notebook, src/, lock, parameters), i.e. what the
recorder falls back to for a read it cannot attribute. For each key, on a fresh temporary copy: a
full build, then three ordinary edits, each followed by a timed `talentbrief build` (how many reports
it rebuilt, wall and CPU seconds of the process tree): one figure's label in data/figures.csv, a
sentence in a Markdown cell of notebooks/programme.ipynb, a new notes file in notebooks/ that no
report reads. Then what recording costs the kernel: every catalogue report's data reads (its
`scope.select` and the tables it takes) with recording on and off, best of 5. Prints a table and,
last, one JSON line. See benchmarks/README.md (bench_key.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project
from bench_cache_layers import build, edit_label

# Run in the build's process before `talentbrief build`: the simpler key replaces the recorded reads.
SIMPLE = """
import sys, talentbrief.hashing as h
_root = sys.argv[sys.argv.index("--root") + 1]
def current_key(spec, entry, context):
    if not entry or not isinstance(entry.get("reads"), list):
        return None
    return h.key({**context.static(spec), "data": h.conservative_hash(_root)})
def recorded_key(static, inputs):
    if not inputs:
        return None, dict(static), None
    components = {**static, "notebook": inputs.get("notebook", static["notebook"]),
                  "data": h.conservative_hash(_root)}
    return h.key(components), components, []
h.current_key, h.recorded_key = current_key, recorded_key
"""
KEYS = {"recorded reads": "", "simple key (data/ + notebooks/)": SIMPLE}


def edit_notebook(root: Path) -> None:
    path = root / "notebooks" / "programme.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown")
    cell.source += "\n\nEdited for the benchmark."
    nbformat.write(nb, path)


def add_unread_file(root: Path) -> None:
    (root / "notebooks" / "notes.txt").write_text("an analyst's notes, read by no report\n", encoding="utf-8")


EDITS = {"one data row": lambda root: edit_label(root, 1), "programme notebook": edit_notebook,
         "unread file": add_unread_file}

# Every report's data reads, recorded or not (the recorder's cost beyond the audit hook's).
READS = """
import os, sys, tempfile, time
from talentbrief import catalogue, load, paths, reads, scope
root = sys.argv[1]
specs = catalogue.load(paths.get(root))
if sys.argv[2] == "on":
    os.environ.update(TALENTBRIEF_ROOT=root, TALENTBRIEF_READS=tempfile.mktemp())
    reads.install()
best = None
for _ in range(5):
    start = time.perf_counter()
    for spec in specs:
        if sys.argv[2] == "on":
            reads.begin()
        p = spec.parameters
        tables = load.load(root)
        chosen = scope.select(tables, as_of=p.get("as_of") or "2026-11-01", programme=p.get("programme"))
        chosen.figures, chosen.sources, chosen.programmes
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(best)
"""


def recording_cost(root: Path, mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", READS, str(root), mode], capture_output=True, text=True,
                         check=True).stdout
    return round(float(out.strip()), 3)


def built(last_line: str) -> int:
    found = re.search(r"(\d+) built", last_line)
    return int(found.group(1)) if found else 0


def main() -> None:
    results: dict = {}
    for name, patch in KEYS.items():
        with tempfile.TemporaryDirectory(prefix="bench-key-") as tmp:
            root = copy_project(Path(tmp) / "project")
            wall, cpu, last = build(root, patch)
            results[name] = {"full": {"built": built(last), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}}
            for edit, change in EDITS.items():
                change(root)
                wall, cpu, last = build(root, patch)
                results[name][edit] = {"built": built(last), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
            if not patch:
                results["recording"] = {mode: recording_cost(root, mode) for mode in ("off", "on")}
    print(f"{'key':34} {'edit':20} {'built':>5} {'wall s':>7} {'CPU s':>6}")
    for name in KEYS:
        for edit, r in results[name].items():
            print(f"{name:34} {edit:20} {r['built']:5d} {r['wall_s']:7.2f} {r['cpu_s']:6.2f}")
    cost = results["recording"]
    print(f"every report's data reads: {cost['off']:.3f} s unrecorded, {cost['on']:.3f} s recorded")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
