"""`talentbrief diff [REV]`: what a change to the data or the notebooks does to the briefings.

Both sides are built by the normal build into the user cache folder, never reports/, so a second diff
against the same revision builds nothing new. Exit codes, for cron or CI: 0 same, 1 differences, 2 bad input.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from talentbrief import build, catalogue, errors, store, tablediff, textview
from talentbrief import paths as paths_mod
from talentbrief.errors import TalentbriefError
from talentbrief.jobs import Limits

CONTEXT = 1  # unchanged lines shown around each change of a report's text
FAILED = re.compile(r"^talentbrief: (\S+) failed: (.*)$", re.MULTILINE)


class DiffError(TalentbriefError):
    """Bad input for a diff (exit 2); the message is one line."""


@dataclass(frozen=True)
class Side:
    label: str  # "HEAD~1 (1a2b3c4)" or "working tree"
    paths: paths_mod.Paths


@dataclass
class ChartChange:
    kind: str  # added, removed, changed
    title: str
    figure_ids: tuple[str, ...]


@dataclass
class ReportChange:
    id: str
    kind: str  # added, removed, changed, unchanged
    lang: str
    title: str
    old: list[str] = field(default_factory=list)  # visible lines, REV
    new: list[str] = field(default_factory=list)  # visible lines, working tree
    charts: list[ChartChange] = field(default_factory=list)


@dataclass
class Result:
    old: Side
    new: Side
    tables: list[tablediff.TableChange]
    reports: list[ReportChange]

    @property
    def changed(self) -> bool:
        return bool(self.tables) or any(r.kind != "unchanged" for r in self.reports)


def _git(root: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, **kw)


def resolve(root: Path, rev: str) -> tuple[str, str]:
    """(commit sha, the project's folder inside the repository) of `rev`; DiffError if there is none."""
    prefix = _git(root, "rev-parse", "--show-prefix", text=True)
    if prefix.returncode != 0:
        raise DiffError(f"{root} is not in a git checkout (diff compares with a git revision)")
    if not rev or rev.startswith("-"):
        raise DiffError(f"unknown revision {rev!r}")
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", text=True)
    if sha.returncode != 0:
        raise DiffError(f"unknown revision {rev!r} (see: git log --oneline)")
    return sha.stdout.strip(), prefix.stdout.strip().rstrip("/")


def export(root: Path, sha: str, prefix: str, cache: Path) -> Path:
    """The project as it was at `sha`, exported once into the cache (keyed by sha and folder)."""
    name = sha + (f"-{hashlib.sha256(prefix.encode()).hexdigest()[:8]}" if prefix else "")
    tree = cache / name
    if tree.is_dir():
        return tree
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=f".{name}."))
    try:
        archive = subprocess.Popen(
            ["git", "-C", str(root), "archive", "--format=tar", f"{sha}:{prefix}" if prefix else sha],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        untar = subprocess.run(["tar", "-x", "-C", str(tmp)], stdin=archive.stdout, capture_output=True, check=False)
        archive.stdout.close()
        if archive.wait() != 0 or untar.returncode != 0:
            raise DiffError(f"cannot export {sha[:12]}: {untar.stderr.decode(errors='replace').strip() or 'git archive failed'}")
        if not paths_mod.Paths(tmp).datapackage.is_file() or not paths_mod.Paths(tmp).catalogue.is_file():
            raise DiffError(f"{sha[:12]} holds no talentbrief project (reports.yml + data/datapackage.json)")
        os.replace(tmp, tree)  # whole or not at all: a second diff finds it complete
    except OSError as exc:
        if not tree.is_dir():
            raise DiffError(f"cannot export {sha[:12]} into {cache}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tree


def sides(paths: paths_mod.Paths, rev: str) -> tuple[Side, Side]:
    """REV's exported copy and the working tree, each building into its own cached folder."""
    sha, prefix = resolve(paths.root, rev)
    cache = paths_mod.cache_dir() / "diff"
    tree = export(paths.root, sha, prefix, cache)
    here = hashlib.sha256(str(paths.root.resolve()).encode()).hexdigest()[:16]
    return (
        Side(f"{rev} ({sha[:7]})", paths_mod.Paths(tree)),
        Side("working tree", paths_mod.Paths(paths.root, out=cache / f"tree-{here}" / "reports")),
    )


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "no reason given"
    return " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]


def build_side(side: Side, *, jobs: int | None, limits: Limits) -> int:
    """Build one side's HTML with the normal build; the number of reports it had to build."""
    before = store.read_manifest(side.paths)["reports"]
    log = io.StringIO()
    code = build.run_build(side.paths, jobs=jobs, quiet=True, wait=True, limits=limits, formats=("html",),
                           out=log, err=log)
    if code != 0:
        failed = FAILED.search(log.getvalue())
        why = f"report {failed[1]} failed: {failed[2]}" if failed else _one_line(log.getvalue())
        raise DiffError(f"{side.label} does not build: {why}")
    after = store.read_manifest(side.paths)["reports"]
    return sum(1 for rid, e in after.items() if before.get(rid, {}).get("built_at") != e.get("built_at"))


def _reports(side: Side) -> dict[str, dict]:
    """The side's catalogue, in order, with each report's manifest entry."""
    entries = store.read_manifest(side.paths)["reports"]
    return {s.id: entries[s.id] for s in catalogue.load(side.paths) if s.id in entries}


def _page(side: Side, entry: dict) -> tuple[list[str], list[textview.Chart]]:
    html = (side.paths.reports / entry["outputs"]["html"]["file"]).read_text(encoding="utf-8")
    return textview.read(html)


def compare_charts(old: list[textview.Chart], new: list[textview.Chart]) -> list[ChartChange]:
    """Charts matched by title (in order when titles repeat): added, removed, or redrawn/replotted."""
    def keyed(charts):  # (title, n) for the n-th chart of that title
        return {(c.title, [d.title for d in charts[: i + 1]].count(c.title)): c for i, c in enumerate(charts)}

    before, after = keyed(old), keyed(new)
    changes = []
    for key, c in after.items():
        b = before.get(key)
        if b is None:
            changes.append(ChartChange("added", c.title, c.figure_ids))
        elif (b.figure_ids, b.image) != (c.figure_ids, c.image):
            changes.append(ChartChange("changed", c.title, tuple(dict.fromkeys(b.figure_ids + c.figure_ids))))
    changes += [ChartChange("removed", c.title, c.figure_ids) for k, c in before.items() if k not in after]
    return changes


def compare_reports(old: Side, new: Side) -> list[ReportChange]:
    before, after = _reports(old), _reports(new)
    changes = []
    for rid in dict.fromkeys([*after, *before]):
        entry = after.get(rid) or before[rid]
        old_lines, old_charts = _page(old, before[rid]) if rid in before else ([], [])
        new_lines, new_charts = _page(new, after[rid]) if rid in after else ([], [])
        charts = compare_charts(old_charts, new_charts)
        if rid in before and rid in after:
            kind = "changed" if old_lines != new_lines or charts else "unchanged"
        else:
            kind = "added" if rid in after else "removed"
        changes.append(ReportChange(rid, kind, entry.get("lang") or "", entry.get("title") or rid,
                                    old_lines, new_lines, charts))
    return changes


def run_diff(paths: paths_mod.Paths, rev: str = "HEAD", *, jobs: int | None = None,
             limits: Limits | None = None, err: TextIO | None = None) -> Result:
    """Build what is missing on both sides and compare them; DiffError for bad input."""
    err = err or sys.stderr
    started = time.monotonic()
    old, new = sides(paths, rev)
    built = [build_side(s, jobs=jobs, limits=limits or Limits()) for s in (old, new)]
    result = Result(old, new, tablediff.compare(old.paths.data, new.paths.data), compare_reports(old, new))
    print(f"talentbrief: diff: built {built[0]} reports of {old.label} and {built[1]} of the working tree "
          f"in {time.monotonic() - started:.1f} s", file=err)
    return result


def _q(value: str) -> str:
    return '""' if value == "" else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _refs(refs: dict[str, str]) -> str:
    return f"  ({', '.join(f'{k} {v}' for k, v in refs.items())})" if refs else ""


def write_text(result: Result, out: TextIO) -> None:
    """Data first, then the reports (status of each, then each changed one's text diff and charts)."""
    print(f"talentbrief diff: {result.old.label} -> {result.new.label}", file=out)
    print("\nData:" + ("" if result.tables else " no change"), file=out)
    for t in result.tables:
        counts = {k: sum(r.kind == k for r in t.rows) for k in ("added", "removed", "changed")}
        what = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        print(f"  {t.name}: " + (f"table {t.kind}, " if t.kind != "changed" else "") + what, file=out)
        for r in t.rows:
            print(f"    {r.kind:<8} {r.key}{_refs(r.refs)}", file=out)
            for name, before, after in r.fields:
                print(f"        {name}: {_q(before)} -> {_q(after)}", file=out)
    print("\nReports:", file=out)
    for r in result.reports:
        print(f"  {r.kind:<9} {r.id} ({r.lang})", file=out)
    for r in result.reports:
        if r.kind == "unchanged":
            continue
        print(f"\n{r.kind} report {r.id} ({r.lang}): {r.title}", file=out)
        for line in difflib.unified_diff(r.old, r.new, f"{r.id} @ {result.old.label}",
                                         f"{r.id} @ {result.new.label}", n=CONTEXT, lineterm=""):
            print(line, file=out)  # the report's visible text, REV first
        for c in r.charts:
            print(f"chart {c.kind}: {c.title} (figures: {', '.join(c.figure_ids) or 'none'})", file=out)


def _diff_cmd(args: argparse.Namespace) -> int:
    paths = paths_mod.get(args.root)
    try:
        result = run_diff(paths, args.rev, jobs=args.jobs, limits=build.limits_from(args))
        if args.html:
            from talentbrief import review

            review.write(Path(args.html), result)
    except DiffError as exc:
        return errors.report(exc, sys.stderr, prefix="talentbrief: diff: ")
    except OSError as exc:  # --html FILE not writable
        print(f"talentbrief: diff: cannot write {exc.filename or args.html}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    write_text(result, sys.stdout)
    return 1 if result.changed else 0


def register(subparsers) -> None:
    d = subparsers.add_parser("diff", help="what the working tree changes in the data and reports, against REV")
    d.add_argument("rev", nargs="?", default="HEAD", metavar="REV", help="git revision to compare with (default HEAD)")
    d.add_argument("--html", metavar="FILE", help="also write a self-contained review page")
    d.add_argument("-j", "--jobs", type=build.jobs_option, help="reports built at once (default: CPU count)")
    build.add_limit_options(d)
    d.set_defaults(func=_diff_cmd)
