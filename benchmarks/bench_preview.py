"""Save → reloaded HTML with `talentbrief preview`, against the naive papermill + nbconvert CLIs, one run.

    .venv/bin/python benchmarks/bench_preview.py [--report ID] [--repeat N] [--keep]

On a temporary copy of the project, for one report (default: the catalogue's first English programme
brief), in this order:
  naive          the `papermill` CLI with the report's parameters, then `jupyter nbconvert --to html
                 --no-input`: what re-running one report by hand costs after each save;
  edit data      `talentbrief preview ID` runs (started and warmed untimed) with the report open in
                 headless Chromium; one row of data/figures.csv is saved with a new label the report
                 shows; timed from the save until the open page has reloaded itself and shows it
                 (the end is the reloaded page's load event, read from its Navigation Timing on
                 the same clock; the probe's own polling delay, also printed, is not counted);
  edit notebook  the same after saving the notebook with one more cell printing a new word.
Each edit is made `--repeat` times (new text each time; the preview is idle before each) and the
median kept. Prints a table, then as its last line the JSON
{"edit_data_ratio", "edit_notebook_ratio", "edit_data_s", "edit_notebook_s", ...}.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
from bench_build import naive_commands


def first_programme_report(specs) -> object:
    return next(s for s in specs if s.parameters.get("programme") and s.parameters.get("lang") == "en")


class Preview:
    """A `talentbrief preview` process for the copy, its output in a log."""

    def __init__(self, root: Path, report_id: str, log: Path):
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                c.talentbrief(root, "preview", report_id), cwd=root, env=c.child_env(),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 (Ctrl-C below)
            )
        deadline = time.monotonic() + 120
        while not (m := re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text(errors="replace"))):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise c.CommandFailed(f"preview did not start; see {log}")
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{m.group(1)}"

    def status(self) -> dict:
        with urllib.request.urlopen(self.base + "/__preview__/status", timeout=10) as r:
            return json.load(r)

    def settle(self, builds: int = 0, timeout: float = 600) -> None:
        """Until at least `builds` builds ran and it stayed idle (PDFs included) for half a second."""
        deadline, quiet = time.monotonic() + timeout, None
        while True:
            status = self.status()
            if status["phase"] == "idle" and status["builds"] >= builds:
                quiet = quiet or (time.monotonic(), status["builds"])
                if quiet[1] != status["builds"]:
                    quiet = None
                elif time.monotonic() - quiet[0] > 0.5:
                    return
            else:
                quiet = None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise c.CommandFailed(f"preview not idle ({status}); see {self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def set_label(figures: Path, old: str, new: str) -> None:
    with open(figures, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["label_en"] == old:
            row["label_en"] = new
    with open(figures, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def shown_label(root: Path, spec) -> str:
    page = (root / "reports" / f"{spec.id}.html").read_text(encoding="utf-8")
    with open(root / "data" / "figures.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["programme_id"] == spec.parameters["programme"]]
    for row in rows:
        if row["label_en"] and row["label_en"] in page:
            return row["label_en"]
    raise c.CommandFailed(f"{spec.id} shows none of its figures' labels")


# When the reloaded page finished loading, on the same clock as time.time() (the page's own timestamp,
# so the probe's polling and its re-attaching to the new page after a reload are not counted).
_LOADED_AT = "() => performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd"


def timed_edit(page, edit, expected: str, selector: str = "[data-figure-ids]") -> tuple[float, float]:
    """Seconds from the save (`edit()`) until the page had reloaded itself and showed `expected` inside
    an element matching `selector` (its load event; a page served as its escaped source has no such
    element), and until this probe saw it (that plus the probe's own delay)."""
    page.evaluate("window.__bench = true")
    t0, t0_clock = time.perf_counter(), time.time()
    edit()
    page.wait_for_function(
        "([t, sel]) => window.__bench === undefined"
        " && Array.from(document.querySelectorAll(sel)).some(e => e.textContent.includes(t))"
        " && performance.getEntriesByType('navigation')[0].loadEventEnd > 0",
        arg=[expected, selector], timeout=300_000, polling=10,
    )
    seen = time.perf_counter() - t0
    loaded = page.evaluate(_LOADED_AT) / 1000 - t0_clock
    if not 0 < loaded <= seen + 0.01:
        raise c.CommandFailed(f"page load time {loaded:.3f} s is not within the {seen:.3f} s observed")
    return loaded, seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", help="report id (default: the first English programme brief)")
    parser.add_argument("--repeat", type=int, default=3, help="edits of each kind; the median is kept")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)

    with c.Workdir("talentbrief-bench-preview-", args.keep) as work:
        root = c.copy_project(work / "project")
        specs = c.load_specs(root)
        spec = next(s for s in specs if s.id == args.report) if args.report else first_programme_report(specs)
        env = c.child_env()
        c.warm_up(root)

        naive = []
        (work / "naive").mkdir()
        for label, cmd in naive_commands(root, work / "naive", spec, work / "chromium-profile"):
            if label != "chromium":  # the preview's number is HTML; its PDF comes afterwards
                naive.append(c.run(f"naive {label}", cmd, cwd=root, env=env, log=work / "naive.log"))
        naive_s = sum(t.seconds for t in naive)
        print(f"  naive {naive_s:.2f} s ({', '.join(f'{t.label} {t.seconds:.2f}' for t in naive)})",
              file=sys.stderr)

        from playwright.sync_api import sync_playwright

        preview = Preview(root, spec.id, work / "preview.log")
        data_s, notebook_s, data_seen, notebook_seen = [], [], [], []
        try:
            t0 = time.perf_counter()
            preview.settle(builds=2)  # HTML, then the PDF pass
            ready_s = time.perf_counter() - t0
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=c.chromium(), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page()
                page.goto(f"{preview.base}/{spec.id}.html", wait_until="load")
                label = shown_label(root, spec)
                notebook = root / spec.notebook
                for n in range(args.repeat):
                    new = f"Benchmark label {n} {time.time_ns()}"
                    loaded, seen = timed_edit(page, partial(set_label, root / "data" / "figures.csv", label, new), new)
                    data_s.append(loaded)
                    data_seen.append(seen)
                    label = new
                    preview.settle()
                    word = f"benchmark-{n}-{time.time_ns()}"
                    nb = json.loads(notebook.read_text(encoding="utf-8"))
                    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                                        "outputs": [], "source": f"print({word!r})"})
                    loaded, seen = timed_edit(
                        page, partial(notebook.write_text, json.dumps(nb, indent=1), encoding="utf-8"), word,
                        "pre")  # the cell's printed output
                    notebook_s.append(loaded)
                    notebook_seen.append(seen)
                    preview.settle()
                    print(f"  edit {n + 1}: data {data_s[-1]:.2f} s (probe saw it at {data_seen[-1]:.2f}), "
                          f"notebook {notebook_s[-1]:.2f} s ({notebook_seen[-1]:.2f})", file=sys.stderr)
                browser.close()
        finally:
            preview.stop()

    data, notebook_med = statistics.median(data_s), statistics.median(notebook_s)
    rows = [
        ("naive: papermill + nbconvert CLIs", f"{naive_s:.2f}", "1"),
        (f"preview, data row saved (median of {len(data_s)})", f"{data:.2f}", f"{data / naive_s:.3f}"),
        (f"preview, notebook saved (median of {len(notebook_s)})", f"{notebook_med:.2f}",
         f"{notebook_med / naive_s:.3f}"),
    ]
    print(f"report {spec.id}; preview started and warm in {ready_s:.1f} s (once, not timed below)")
    print(c.table(rows, ("save -> reloaded HTML", "seconds", "vs naive")))
    print("target: both ratios <= 0.15")
    print(json.dumps({"report": spec.id, "naive_s": round(naive_s, 2), "preview_ready_s": round(ready_s, 2),
                      "edit_data_runs_s": [round(s, 3) for s in data_s],
                      "edit_notebook_runs_s": [round(s, 3) for s in notebook_s],
                      "edit_data_seen_by_probe_s": [round(s, 3) for s in data_seen],
                      "edit_notebook_seen_by_probe_s": [round(s, 3) for s in notebook_seen], "machine": c.machine()}))
    c.emit({
        "edit_data_ratio": round(data / naive_s, 3), "edit_notebook_ratio": round(notebook_med / naive_s, 3),
        "edit_data_s": round(data, 3), "edit_notebook_s": round(notebook_med, 3),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
