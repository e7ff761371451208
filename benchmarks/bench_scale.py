"""How `talentbrief build` grows with the catalogue: synthetic catalogues of 25, 50, 100, 200 reports.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 25,50,100,200] [--jobs N] [--dask] [--repeat N] [--keep]

The synthetic catalogue sweeps the project's own reports (every notebook, programme and language of
reports.yml) over as-of dates, one week apart, from the catalogue's as-of date back towards the latest
source publication (so every report has the same data to show): report k of a size-N catalogue is the
same at every N, and every size has the same mix of notebooks. For each size the copy's reports.yml
is replaced, reports/ emptied, and `talentbrief build --force` timed with the peak RSS of its process
tree. With --dask each size is built again with `--executor dask --scheduler ADDR` against a fresh
LocalCluster of 2 worker processes (1 thread each) started by this script.

The growth exponent is the least-squares slope of log(seconds) against log(reports): 1 is linear; fixed
start-up costs make it slightly below 1 for small catalogues. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import functools
import math
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c


def sweep_dates(root: Path, base: str, count: int) -> list[str]:
    """`count` as-of dates a week apart from `base` backwards, none before the latest source."""
    latest = dt.date.min
    with open(root / "data" / "sources.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            try:
                latest = max(latest, dt.date.fromisoformat(row.get("date_published") or ""))
            except ValueError:
                pass
    start = dt.date.fromisoformat(base)
    backwards = [start - dt.timedelta(days=7 * k) for k in range(count)]
    dates = [d for d in backwards if d >= latest]
    k = 1
    while len(dates) < count:  # not enough weeks since the latest source: continue after the base date
        dates.append(start + dt.timedelta(days=7 * k))
        k += 1
    return [d.isoformat() for d in dates]


def synthetic_catalogue(root: Path, base_specs: list, size: int) -> dict:
    """reports.yml with `size` explicit reports: the base catalogue swept over as-of dates."""
    base_as_of = next((s.parameters["as_of"] for s in base_specs if "as_of" in s.parameters), None)
    if base_as_of is None:
        raise SystemExit("bench_scale: no report in reports.yml takes as_of; nothing to sweep")
    per_date = [s for s in base_specs if "as_of" in s.parameters]
    dates = sweep_dates(root, str(base_as_of), math.ceil(size / len(per_date)))
    entries = []
    for date in dates:
        for spec in per_date:
            if len(entries) == size:
                break
            entries.append(
                {
                    "id": f"{spec.id}-{date}",
                    "notebook": spec.notebook,
                    "parameters": {**spec.parameters, "as_of": date},
                    "formats": list(spec.formats),
                }
            )
    return {"reports": entries}


def fit_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) on log(size)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")


def fit_linear(sizes: list[int], seconds: list[float]) -> tuple[float, float]:
    """Least-squares seconds = fixed + per_report * size: the start-up and the marginal cost."""
    if len(sizes) < 2:
        return float("nan"), float("nan")
    mx, my = sum(sizes) / len(sizes), sum(seconds) / len(seconds)
    sxx = sum((x - mx) ** 2 for x in sizes)
    slope = sum((x - mx) * (y - my) for x, y in zip(sizes, seconds)) / sxx
    return my - slope * mx, slope


def reset(root: Path, catalogue: dict) -> None:
    (root / "reports.yml").write_text(
        "# synthetic catalogue written by benchmarks/bench_scale.py\n"
        + yaml.safe_dump(catalogue, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    shutil.rmtree(root / "reports", ignore_errors=True)
    (root / "reports").mkdir()


def check_outputs(root: Path, catalogue: dict) -> None:
    missing = [
        e["id"]
        for e in catalogue["reports"]
        for fmt in e["formats"]
        if not (root / "reports" / f"{e['id']}.{fmt}").exists()
    ]
    if missing:
        raise c.CommandFailed(f"{len(missing)} outputs missing after the build, e.g. {missing[:3]}")


def timed_build(
    label: str, args: list[str], *, size, root, catalogue, env, log, repeat=1, extra_pids=()
) -> c.Timing:
    """`build --force --quiet ARGS` of the size-`size` catalogue, `repeat` times; the fastest run (with the
    highest peak memory of all runs), outputs checked after each, one line printed per run."""
    best = None
    peak = 0.0
    for _ in range(repeat):
        reset(root, catalogue)
        argv = c.talentbrief(root, "build", "--force", "--quiet", *args)
        t = c.run(f"{label} {size}", argv, cwd=root, env=env, log=log, extra_pids=extra_pids)
        check_outputs(root, catalogue)
        print(
            f"  {size:4d} reports  {label:6s} {t.seconds:7.1f} s  {t.seconds / size:5.2f} s/report  "
            f"peak {t.peak_rss_mb:5.0f} MB",
            file=sys.stderr,
            flush=True,
        )
        peak = max(peak, t.peak_rss_mb)
        if best is None or t.seconds < best.seconds:
            best = t
    best.peak_rss_mb = peak
    return best


class Cluster:
    """A LocalCluster of 2 worker processes for the --dask column (fresh per size)."""

    def __init__(self, workers: int):
        try:
            from dask.distributed import LocalCluster
        except ImportError:
            raise SystemExit(
                "bench_scale --dask needs the dask extra: make dask"
            )
        import psutil

        before = {p.pid for p in psutil.Process().children(recursive=True)}
        self.cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        self.pids = [p.pid for p in psutil.Process().children(recursive=True) if p.pid not in before]

    @property
    def address(self) -> str:
        return self.cluster.scheduler_address

    def close(self) -> None:
        self.cluster.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes", default="25,50,100,200", help="comma-separated catalogue sizes (default %(default)s)"
    )
    ap.add_argument("--jobs", type=int, help="pass --jobs N to the local build (default: its own default)")
    ap.add_argument(
        "--dask", action="store_true", help="also build each size through a 2-worker LocalCluster"
    )
    ap.add_argument("--dask-workers", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="build each size N times per column and keep the fastest (less noise from other load)",
    )
    ap.add_argument(
        "--source", type=Path, default=c.CHECKOUT, help="project to copy (default: this checkout)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy and print its path")
    args = ap.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})

    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    seconds, peaks, dask_seconds, dask_peaks = [], [], [], []
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(c.Workdir("talentbrief-bench-scale-", keep=args.keep))
        root = c.copy_project(work / "project", args.source)
        base_specs = c.load_specs(root)
        env = c.child_env()
        log = work / "build.log"
        c.warm_up(root)
        for size in sizes:
            catalogue = synthetic_catalogue(root, base_specs, size)
            if len(catalogue["reports"]) != size:
                raise SystemExit(f"bench_scale: could only make {len(catalogue['reports'])} reports")
            build = functools.partial(
                timed_build, size=size, root=root, catalogue=catalogue, env=env, log=log, repeat=args.repeat
            )
            t = build("local", ["--executor", "local", *jobs])
            seconds.append(t.seconds)
            peaks.append(t.peak_rss_mb)
            if args.dask:
                cluster = Cluster(args.dask_workers)
                try:
                    t = build(
                        "dask",
                        ["--executor", "dask", "--scheduler", cluster.address],
                        extra_pids=cluster.pids,
                    )
                finally:
                    cluster.close()
                dask_seconds.append(t.seconds)
                dask_peaks.append(t.peak_rss_mb)

    spr = [t / n for t, n in zip(seconds, sizes)]
    exponent = fit_exponent(sizes, seconds) if len(sizes) > 1 else float("nan")
    headers = ["reports", "seconds", "s/report", "vs first", "peak RSS MB"]
    if args.dask:
        headers += ["dask s", "dask s/report", "dask/local", "dask peak MB"]
    rows = []
    for i, n in enumerate(sizes):
        row = [n, f"{seconds[i]:.1f}", f"{spr[i]:.3f}", f"{spr[i] / spr[0]:.2f}", f"{peaks[i]:.0f}"]
        if args.dask:
            row += [
                f"{dask_seconds[i]:.1f}",
                f"{dask_seconds[i] / n:.3f}",
                f"{dask_seconds[i] / seconds[i]:.2f}",
                f"{dask_peaks[i]:.0f}",
            ]
        rows.append(tuple(row))
    print()
    print(c.table(rows, tuple(headers)))
    print(
        f"growth exponent (log-log slope of seconds vs reports): {exponent:.3f} (1 = linear); "
        f"s/report at {sizes[-1]} vs {sizes[0]}: {spr[-1] / spr[0]:.3f} (target within 10 %); "
        f"max peak RSS {max(peaks):.0f} MB (target < 2048)"
    )
    fixed, marginal = fit_linear(sizes, seconds)
    print(f"linear fit (local): {fixed:.2f} s start-up + {marginal:.3f} s per report")
    m = c.machine()
    print(
        f"machine: {m['cpus']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}; "
        f"local build jobs: {args.jobs or 'default'}"
    )
    result = {
        "sizes": sizes,
        "seconds": [round(s, 2) for s in seconds],
        "s_per_report": [round(s, 4) for s in spr],
        "growth_exponent": round(exponent, 3),
        "spr_ratio_last_first": round(spr[-1] / spr[0], 3),
        "peak_rss_mb": [round(p) for p in peaks],
    }
    result["linear_fit"] = {"fixed_s": round(fixed, 3), "per_report_s": round(marginal, 4)}
    if args.dask:
        result["dask_seconds"] = [round(s, 2) for s in dask_seconds]
        result["dask_peak_rss_mb"] = [round(p) for p in dask_peaks]
        result["dask_over_local"] = [round(d / s, 3) for d, s in zip(dask_seconds, seconds)]
    result["jobs"] = args.jobs
    result["repeat"] = args.repeat
    result["machine"] = m
    c.emit(result)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except c.CommandFailed as exc:
        print(f"bench_scale: {exc}", file=sys.stderr)
        sys.exit(1)
