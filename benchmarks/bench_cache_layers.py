"""Does each cache layer earn its place? `talentbrief build` no-op and one-row edit, with and without it.

usage: python benchmarks/bench_cache_layers.py [--repeat N]

On a temporary copy: one full build, then for each variant N times (a settling build, a timed no-op,
one `label_en` edited, a timed build). A variant switches one layer off in the build's own process (the
snapshot, the memo via TALENTBRIEF_MEMO=0) or puts the deleted in-process table cache back; `--force` stands for "no per-report keys". Prints a table (median wall and
CPU seconds of the whole process tree) and, last, one JSON line. See docs/architecture.md (Cache layers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project

# Python run in the build's process before `talentbrief build`, one layer changed per variant.
VARIANTS = {
    "all layers": "",
    "no snapshot": "import talentbrief.snapshot as s; s.unchanged = lambda *a, **k: None; s.record = lambda *a, **k: None",
    "no memo": "import os; os.environ['TALENTBRIEF_MEMO'] = '0'",
    "+ load in-process cache (mtime)": (
        "import talentbrief.load as l\n"
        "_real, _tables = l.load, {}\n"
        "def load(root=None):\n"
        "    files = sorted(l.tb_paths.get(root).data.iterdir())\n"
        "    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)\n"
        "    if key not in _tables:\n"
        "        _tables[key] = _real(root)\n"
        "    return l.Loaded(**{n: object.__getattribute__(_tables[key], n).copy() for n in l.TABLES})\n"
        "l.load = load\n"
    ),
}
MAIN = "\nimport sys\nfrom talentbrief.cli import main\nsys.exit(main(sys.argv[1:]))"


def build(root: Path, patch: str, *extra: str) -> tuple[float, float, str]:
    """(wall s, CPU s of the whole process tree, last line) of one `talentbrief build`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", patch + MAIN, "--root", str(root), "build", "--executor", "local", *extra],
        capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "TALENTBRIEF_ROOT"},
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{result.stdout}\n{result.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, result.stdout.strip().splitlines()[-1]


def edit_label(root: Path, n: int) -> None:
    figures = root / "data" / "figures.csv"
    lines = figures.read_text(encoding="utf-8").split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith("chemnews22-exam-passes,"))
    cells = lines[i].split(",")
    cells[4] = f"Exam passes {n}"  # label_en
    lines[i] = ",".join(cells)
    figures.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as tmp:
        root = copy_project(Path(tmp) / "project")
        build(root, "")
        results, n = {}, 0
        for name, patch in VARIANTS.items():
            runs = {"noop": [], "noop_cpu": [], "one_row": [], "one_row_cpu": []}
            for _ in range(args.repeat):
                build(root, patch)  # settle: the snapshot is recorded where the variant keeps one
                wall, cpu, _ = build(root, patch)
                runs["noop"].append(wall), runs["noop_cpu"].append(cpu)
                n += 1
                edit_label(root, n)
                wall, cpu, _ = build(root, patch)
                runs["one_row"].append(wall), runs["one_row_cpu"].append(cpu)
            results[name] = {k: round(statistics.median(v), 3) for k, v in runs.items()}
        wall, cpu, _ = build(root, "", "--force")
        results["no per-report keys (--force)"] = {"noop": round(wall, 3), "noop_cpu": round(cpu, 3),
                                                   "one_row": round(wall, 3), "one_row_cpu": round(cpu, 3)}
    print(f"{'variant':34} {'no-op s':>8} {'CPU s':>7} {'one row s':>10} {'CPU s':>7}")
    for name, r in results.items():
        print(f"{name:34} {r['noop']:8.3f} {r['noop_cpu']:7.3f} {r['one_row']:10.3f} {r['one_row_cpu']:7.3f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
