"""talentbrief build against the naive shell loop (papermill + nbconvert + one Chromium per PDF), one run.

    .venv/bin/python benchmarks/bench_build.py [--naive-sample K] [--jobs N] [--keep]

On a temporary copy of the project it times, in this order:
  naive       for every report of the expanded catalogue, sequentially: the `papermill` CLI with the
              report's parameters, `jupyter nbconvert --to html --no-input`, then (if the report has a
              PDF) a fresh headless Chromium `--print-to-pdf`; what a shell loop over the catalogue does;
  full        `talentbrief build --force` (default --jobs);
  no-op       `talentbrief build` again, nothing changed;
  one change  one data row edited (the note of one programme's figure), then `talentbrief build`;
  alone       the report(s) that change rebuilt, built by themselves: `talentbrief build --force IDS`.
(Edit-to-page times with warm workers are bench_preview.py's.)
Prints a table, which PDF font-subsetting path WeasyPrint took and which fonts the PDFs embed (so a
slow or wrong fallback shows next to the numbers), then as its last line one JSON object (see
benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

EDIT_MARK = " Benchmark edit."


def naive_commands(root: Path, out: Path, spec, profile: Path) -> list[tuple[str, list[str]]]:
    """The shell loop's three commands for one report."""
    executed = out / f"{spec.id}.ipynb"
    pm = [c.tool("papermill"), str(root / spec.notebook), str(executed), "--cwd", str(root)]
    for name, value in spec.parameters.items():
        if isinstance(value, str):
            pm += ["-r", name, value]  # raw: papermill must not read an ISO date or "1" as another type
        else:
            pm += ["-p", name, json.dumps(value)]
    cmds = [("papermill", pm)]
    cmds.append(
        (
            "nbconvert",
            [
                c.tool("jupyter"),
                "nbconvert",
                "--to",
                "html",
                "--no-input",
                str(executed),
                "--output-dir",
                str(out),
                "--output",
                spec.id,
            ],
        )
    )
    if "pdf" in spec.formats:
        cmds.append(
            (
                "chromium",
                [
                    c.chromium(),
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    f"--user-data-dir={profile}",
                    f"--print-to-pdf={out / (spec.id + '.pdf')}",
                    (out / f"{spec.id}.html").as_uri(),
                ],
            )
        )
    return cmds


def pdf_fonts(reports: Path, specs: list) -> dict[str, list[str]]:
    """{lang: the font names (subset prefix dropped) pdffonts lists in that language's PDFs}."""
    fonts: dict[str, set[str]] = {}
    for spec in specs:
        pdf = reports / f"{spec.id}.pdf"
        if not pdf.is_file():
            continue
        out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        names = {re.sub(r"^[A-Z]{6}\+", "", line.split()[0]) for line in out.splitlines()[2:] if line.strip()}
        fonts.setdefault(str(spec.parameters.get("lang", "?")), set()).update(names)
    return {lang: sorted(names) for lang, names in sorted(fonts.items())}


def subsetting_path() -> str:
    """WeasyPrint's choice here, by its own test (talentbrief.fonts.subsetting)."""
    from talentbrief import fonts

    return fonts.subsetting()[1]


def sample(specs: list, k: int | None) -> list:
    """K reports spread evenly over the catalogue (so every notebook kind is represented)."""
    if not k or k >= len(specs):
        return specs
    step = len(specs) / k
    return [specs[int(i * step)] for i in range(k)]


def time_naive(root: Path, work: Path, specs: list) -> tuple[float, float, float, dict]:
    out = work / "naive"
    out.mkdir()
    env = c.child_env(root)
    total, peak, cpu = 0.0, 0.0, 0.0
    per_tool: dict[str, float] = {}
    for spec in specs:
        for label, argv in naive_commands(root, out, spec, work / "chromium-profile"):
            t = c.run(
                f"naive {label} {spec.id}", argv, cwd=root, env=env, log=work / "naive.log", timeout=600
            )
            total += t.seconds
            cpu += t.cpu_s
            peak = max(peak, t.peak_rss_mb)
            per_tool[label] = per_tool.get(label, 0.0) + t.seconds
        if "pdf" in spec.formats and not (out / f"{spec.id}.pdf").exists():
            raise c.CommandFailed(f"naive: Chromium wrote no PDF for {spec.id}")
    return total, peak, cpu, per_tool


def outputs_state(reports: Path) -> dict[str, tuple]:
    """Per report, what changes when it is rebuilt: its manifest entry's input hash and build time,
    and the (inode, mtime) of its output files (an atomic replace changes both)."""
    state: dict[str, tuple] = {}
    try:
        entries = json.loads((reports / "manifest.json").read_text(encoding="utf-8")).get("reports", {})
    except (OSError, ValueError):
        entries = {}
    for report_id, entry in entries.items():
        state[report_id] = (entry.get("input_sha256"), entry.get("built_at"), entry.get("duration_s"))
    for path in sorted(reports.glob("*")):
        if path.suffix in (".html", ".pdf") and path.name != "index.html":
            st = path.stat()
            state[path.stem] = (*state.get(path.stem, ()), path.suffix, st.st_ino, st.st_mtime_ns)
    return state


def rebuilt_ids(before: dict, after: dict) -> list[str]:
    return sorted(report_id for report_id, st in after.items() if before.get(report_id) != st)


def edit_one_row(root: Path, specs: list) -> tuple[str, str]:
    """Append a sentence to the note of one figure of a programme that has a brief; returns (figure, programme)."""
    figures = root / "data" / "figures.csv"
    text = figures.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    col = {name: i for i, name in enumerate(header)}
    programmes = [s.parameters["programme"] for s in specs if "programme" in s.parameters]
    for programme in dict.fromkeys(programmes):
        for n, line in enumerate(lines[1:], start=1):
            body = line.rstrip("\r\n")
            rows = list(csv.reader(io.StringIO(body)))
            if len(rows) != 1 or len(rows[0]) != len(header):  # skip rows spread over several lines
                continue
            row = rows[0]
            if row[col["programme_id"]] != programme or header[-1] != "note":
                continue
            ending = line[len(body) :]
            if body.endswith('"'):
                new = body[:-1] + EDIT_MARK + '"'
            elif "," in EDIT_MARK or '"' in EDIT_MARK:
                continue
            else:
                new = body + EDIT_MARK
            lines[n] = new + ending
            figures.write_text("".join(lines), encoding="utf-8")
            return row[col["figure_id"]], programme
    raise SystemExit("bench_build: found no figure row of a catalogued programme to edit")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--naive-sample",
        type=int,
        metavar="K",
        help="time the naive loop on K reports and extrapolate to the catalogue (default: all)",
    )
    ap.add_argument("--jobs", type=int, help="pass --jobs N to talentbrief build (default: its own default)")
    ap.add_argument(
        "--source", type=Path, default=c.CHECKOUT, help="project to copy (default: this checkout)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy and print its path")
    args = ap.parse_args(argv)

    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    with c.Workdir("talentbrief-bench-build-", keep=args.keep) as work:
        root = c.copy_project(work / "project", args.source)
        specs = c.load_specs(root)
        n = len(specs)
        naive_specs = sample(specs, args.naive_sample)
        extrapolated = len(naive_specs) < n
        log = work / "build.log"
        env = c.child_env()
        print(
            f"bench_build: {n} reports ({sum('pdf' in s.formats for s in specs)} with PDF) in {root}",
            file=sys.stderr,
        )
        c.warm_up(root)
        load_start = [round(x, 2) for x in os.getloadavg()]

        t0 = time.perf_counter()
        naive_measured, naive_peak, naive_cpu, per_tool = time_naive(root, work, naive_specs)
        naive_s = naive_measured * n / len(naive_specs)
        naive_cpu = naive_cpu * n / len(naive_specs)
        print(
            f"  naive      {naive_measured:8.1f} s for {len(naive_specs)} reports"
            + (f" -> {naive_s:.1f} s extrapolated" if extrapolated else ""),
            file=sys.stderr,
        )

        full = c.run("full", c.talentbrief(root, "build", "--force", *jobs), cwd=root, env=env, log=log)
        print(f"  full       {full.seconds:8.1f} s", file=sys.stderr)
        fonts = pdf_fonts(root / "reports", specs)
        fallback_warnings = sorted(
            {ln for ln in log.read_text(encoding="utf-8").splitlines() if ln.startswith("talentbrief: warning:")}
        )
        noop = c.run("no-op", c.talentbrief(root, "build", *jobs), cwd=root, env=env, log=log)
        print(f"  no-op      {noop.seconds:8.2f} s", file=sys.stderr)

        before = outputs_state(root / "reports")
        figure, _programme = edit_one_row(root, specs)
        one = c.run("one change", c.talentbrief(root, "build", *jobs), cwd=root, env=env, log=log)
        changed = rebuilt_ids(before, outputs_state(root / "reports"))
        print(
            f"  one change {one.seconds:8.2f} s (figure {figure}: rebuilt {', '.join(changed) or 'nothing'})",
            file=sys.stderr,
        )
        if changed:
            alone = c.run(
                "alone", c.talentbrief(root, "build", "--force", *jobs, *changed), cwd=root, env=env, log=log
            )
            alone_s = alone.seconds
        else:
            alone_s = float("nan")
        total = time.perf_counter() - t0

    def r(x: float, d: int = 2) -> float:
        return round(x, d)

    rows = [
        (
            "naive (papermill + nbconvert + chromium)" + (" *" if extrapolated else ""),
            f"{naive_s:.1f}",
            f"{naive_s / n:.2f}",
            "1.000",
            f"{naive_peak:.0f}",
        ),
        (
            "talentbrief build --force",
            f"{full.seconds:.1f}",
            f"{full.seconds / n:.2f}",
            f"{full.seconds / naive_s:.3f}",
            f"{full.peak_rss_mb:.0f}",
        ),
        (
            "talentbrief build (no-op)",
            f"{noop.seconds:.2f}",
            "",
            f"{noop.seconds / naive_s:.4f}",
            f"{noop.peak_rss_mb:.0f}",
        ),
        (
            f"one row edited -> {len(changed)} rebuilt",
            f"{one.seconds:.2f}",
            "",
            f"{one.seconds / naive_s:.4f}",
            f"{one.peak_rss_mb:.0f}",
        ),
        (f"those {len(changed)} alone (--force IDS)", f"{alone_s:.2f}", "", f"{alone_s / naive_s:.4f}", ""),
    ]
    print()
    print(c.table(rows, ("", "seconds", "s/report", "vs naive", "peak RSS MB")))
    if extrapolated:
        print(
            f"* naive measured on {len(naive_specs)} of {n} reports ({naive_measured:.1f} s) and extrapolated"
        )
    print(
        "naive time by tool: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in per_tool.items())
        + (" (sample)" if extrapolated else "")
    )
    print(
        f"ratio full/naive {full.seconds / naive_s:.3f} (target <= 0.20); "
        f"no-op/full {noop.seconds / full.seconds:.4f} (target <= 0.02); "
        f"one change / alone {one.seconds / alone_s:.2f} (target <= 1.2)"
    )
    print(
        f"CPU seconds (user + system, all processes): naive {naive_cpu:.1f}, full {full.cpu_s:.1f}, "
        f"ratio {full.cpu_s / naive_cpu:.3f} (less sensitive to other load on the machine than wall time)"
    )
    subset = subsetting_path()
    print(f"PDF font subsetting: {subset}")
    for lang, names in fonts.items():
        print(f"PDF fonts ({lang}): {', '.join(names)}")
    for line in fallback_warnings:
        print(line)
    m = c.machine()
    print(
        f"machine: {m['cpus']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}; "
        f"load average {load_start[0]} at start, {m['loadavg'][0]} at end; benchmark wall time {total:.0f} s"
    )
    result = {
        "reports": n,
        "naive_s": r(naive_s, 1),
        "full_s": r(full.seconds),
        "ratio": r(full.seconds / naive_s, 3),
        "noop_s": r(noop.seconds),
        "noop_ratio": r(noop.seconds / full.seconds, 4),
        "one_change_s": r(one.seconds),
        "one_alone_s": r(alone_s),
        "one_change_ratio": r(one.seconds / alone_s),
        "one_change_reports": changed,
        "naive_cpu_s": r(naive_cpu, 1),
        "full_cpu_s": r(full.cpu_s, 1),
        "cpu_ratio": r(full.cpu_s / naive_cpu, 3),
        "peak_rss_mb": r(full.peak_rss_mb, 0),
        "naive_peak_rss_mb": r(naive_peak, 0),
        "naive_extrapolated": extrapolated,
        "naive_sampled": len(naive_specs),
        "jobs": args.jobs,
        "subsetting": subset,
        "pdf_fonts": fonts,
        "fallback_warnings": fallback_warnings,
        "machine": {**m, "loadavg_start": load_start},
    }
    c.emit(result)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except c.CommandFailed as exc:
        print(f"bench_build: {exc}", file=sys.stderr)
        sys.exit(1)
