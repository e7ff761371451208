"""`talentbrief build` and `talentbrief list`: from the catalogue to reports/, incrementally and safely.

Bad input of any kind is refused (exit 2) before the lock is taken or a kernel starts. Under the lock, a
report whose recorded reads, code and parameters hash the same and whose outputs match the manifest is
skipped; the rest go to an executor, `f(jobs, root, *, workers) -> Iterator[(Job, Outputs | JobFailure)]`,
which pulls `jobs` lazily: ending that iterable is how a build stops scheduling after a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import fnmatch
import functools
import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from talentbrief import catalogue, errors, hashing, narrative, params, snapshot, store
from talentbrief import paths as paths_mod
from talentbrief.catalogue import CatalogueError, ReportSpec
from talentbrief.errors import TalentbriefError
from talentbrief.jobs import DASK_INSTALL, Job, JobFailure, Limits, Outputs, default_workers

Executor = Callable[..., Iterator[tuple[Job, "Outputs | JobFailure"]]]


class BadInput(TalentbriefError):
    """Refused before anything runs (exit 2); `.messages` says why."""


def check_data(paths: paths_mod.Paths, context: hashing.Context | None = None):
    """The validated tables; invalid data is bad input (every problem as file:row:column: message)."""
    from talentbrief import load

    try:
        return (context or hashing.Context(paths)).tables()
    except load.DataError as exc:
        raise BadInput(["invalid data, nothing built:", *(str(p) for p in exc.problems)]) from None


def as_of_option(value: str | None) -> str | None:
    """--as-of as an ISO date, or 'today'; a day-first 31/01/2027 is refused, not guessed."""
    from talentbrief import scope

    try:
        date = None if value is None else str(scope.parse_as_of(value).date())
    except ValueError:
        date = ""
    if value not in (None, "today", date):
        raise BadInput([f"--as-of {value!r}: use a date like 2026-11-01, or 'today'"])
    return date


def select(specs: list[ReportSpec], ids: Iterable[str]) -> list[ReportSpec]:
    """The reports named by ids (exact or shell patterns such as 'programme-*-en'); all if none."""
    ids = list(ids)
    if not ids:
        return specs
    unknown = [i for i in ids if not any(fnmatch.fnmatchcase(s.id, i) for s in specs)]
    if unknown:
        raise BadInput([f"no report {i!r} in the catalogue (see: talentbrief list)" for i in unknown])
    return [s for s in specs if any(fnmatch.fnmatchcase(s.id, i) for i in ids)]


def check_narrative(root: Path, specs: list[ReportSpec], tables) -> list[str]:
    """`narrative.problems` of every report, its {eval} fig("…") and date("…") checked against `tables`."""
    from talentbrief import scope

    dated = tables.figures.merge(tables.sources[["source_id", "date_published"]], on="source_id")
    known = set(tables.figures["figure_id"].astype(str))
    dates = {str(f): str(d.date()) for f, d in zip(dated["figure_id"], dated["date_published"])}
    found = []
    for spec in specs:
        text = (root / spec.notebook).read_text(encoding="utf-8")
        if "lang-" not in text and not narrative.has_roles(text):
            continue
        lang, as_of = params.value(spec, root, "lang") or "en", params.value(spec, root, "as_of")
        kw = {"known_ids": (), "scoped_ids": (), "dates": {}, "as_of": str(as_of or "")}
        if narrative.has_roles(text) and as_of is not None:
            scoped = scope.select(tables, as_of=as_of, programme=params.value(spec, root, "programme"))
            kw = {"known_ids": known, "scoped_ids": set(scoped.figures["figure_id"].astype(str)),
                  "dates": dates, "as_of": str(scope.parse_as_of(as_of).date())}
        problems = narrative.problems(json.loads(text), spec.notebook, lang=lang, **kw)
        found += [f"report {spec.id!r}: {line}" for line in problems]
    return found


def check_scope(tables, specs: list[ReportSpec]) -> list[str]:
    """Each report's as_of as the data layer reads it (scope.parse_as_of); its programme has figures."""
    from talentbrief import scope
    from talentbrief.validate_command import reports_without_figures

    problems = reports_without_figures(tables, specs)
    for spec in (s for s in specs if "as_of" in s.parameters):
        try:
            scope.parse_as_of(spec.parameters["as_of"])
        except ValueError as exc:
            problems.append(f"report {spec.id!r}: {exc}")
    return problems


def resolve_executor(name: str | Executor, scheduler: str | None = None) -> Executor:
    """`local` (worker processes of the build's own), `dask` (imported only when asked for) or a callable."""
    if callable(name):
        return name
    if name == "local":
        from talentbrief.executor import run_local

        return run_local
    if name == "dask":
        if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
            raise BadInput([f"--executor dask needs dask and distributed; install them with: {DASK_INSTALL}"])
        from talentbrief import dask_executor

        try:
            dask_executor.check_scheduler(scheduler)
        except dask_executor.SchedulerUnreachable as exc:
            raise BadInput([str(exc)]) from None
        return functools.partial(dask_executor.run_dask, scheduler=scheduler)
    raise BadInput([f"unknown executor {name!r}: use local or dask"])


def prepare(paths: paths_mod.Paths, ids: Iterable[str] = (), as_of: str | None = None) -> list[ReportSpec]:
    """Data, catalogue, selection and parameters, all checked; raises BadInput or CatalogueError."""
    as_of = as_of_option(as_of)
    tables = check_data(paths)
    specs = catalogue.load(paths)
    if as_of is not None:
        specs = catalogue.with_as_of(specs, as_of)
    chosen = select(specs, ids)
    problems = [p for spec in chosen for p in params.check(spec, paths.root)]
    problems = problems or check_scope(tables, chosen)
    problems = problems or check_narrative(paths.root, chosen, tables)  # with valid parameters only
    if problems:
        raise BadInput(problems)
    return chosen


def up_to_date(paths: paths_mod.Paths, manifest: dict[str, Any], spec: ReportSpec, ctx: hashing.Context) -> bool:
    """What this report read when it was built hashes the same now, and its outputs are untouched."""
    entry = manifest["reports"].get(spec.id)
    return store.up_to_date(paths, entry, hashing.current_key(spec, entry, ctx), spec.formats)


def status(paths: paths_mod.Paths, manifest: dict[str, Any], spec: ReportSpec, ctx: hashing.Context) -> str:
    entry = manifest["reports"].get(spec.id)
    if up_to_date(paths, manifest, spec, ctx):
        return "up to date"
    if store.has_failed(paths, spec.id):
        return "failed"
    if not store.outputs_match(paths, entry, spec.formats, hashes=False):
        return "missing"
    return "stale"


class Progress:
    """One plain line per finished report (cron mail); a tqdm bar on top of them on a terminal."""

    def __init__(self, total: int, out: TextIO, quiet: bool):
        self.out, self.quiet = out, quiet
        self.bar = None
        if not quiet and total and out.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=out, unit="report", leave=False, dynamic_ncols=True)

    def line(self, text: str, step: bool = True) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.out)
            if step:
                self.bar.update(1)
        else:
            print(text, file=self.out, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(failure: JobFailure) -> str:
    """'cell 5: ValueError: ...' (the renderer's 'cell 5 raised ...' would name the cell twice)."""
    lines = [ln for ln in failure.message.strip().splitlines() if ln.strip()]
    where, text = failure.where, lines[-1] if lines else "failed"
    text = text if len(text) <= 200 else text[:199] + "…"
    return f"{where}: {text.removeprefix(f'{where} raised ').removeprefix(f'{where}: ')}"


def run_build(paths: paths_mod.Paths, ids: Iterable[str] = (), *, jobs: int | None = None,
              force: bool = False, keep_going: bool = False, quiet: bool = False, as_of: str | None = None,
              executor: str | Executor = "local", scheduler: str | None = None, wait: bool = False,
              lock_timeout: float | None = None, limits: Limits | None = None,
              formats: tuple[str, ...] | None = None, out: TextIO | None = None,
              err: TextIO | None = None) -> int:
    """Build the selected reports; the exit code. `limits` are defaults a catalogue entry may override;
    `formats` builds only those (the preview's HTML first), without the no-op snapshot of complete builds."""
    out, err = out or sys.stdout, err or sys.stderr
    started = time.monotonic()
    try:
        workers = jobs if jobs is not None else default_workers()
        if workers < 1:
            raise BadInput([f"--jobs {workers}: must be at least 1"])
        ids = list(ids)
        today = dt.date.today().isoformat() if as_of == "today" else as_of  # no pandas for a no-op build
        build_key = snapshot.key(ids, today) if formats is None else None
        if not force and build_key and (fresh := snapshot.unchanged(paths, build_key)) is not None:
            if not quiet:
                took = time.monotonic() - started
                print(f"talentbrief: 0 built, {fresh} up to date in {took:.1f} s", file=out)
            return 0
        specs = prepare(paths, ids, as_of)
        if formats is not None:
            specs = [dataclasses.replace(s, formats=tuple(f for f in s.formats if f in formats)) for s in specs]
        run = resolve_executor(executor, scheduler)
    except TalentbriefError as exc:
        return errors.report(exc, err)

    def waiting() -> None:
        print(f"talentbrief: another build holds {paths.build_lock}; waiting for it", file=err, flush=True)

    locked = False
    try:
        with store.build_lock(
            paths, wait=wait or lock_timeout is not None, timeout=lock_timeout, on_wait=waiting
        ):
            locked = True
            code = _build_locked(
                paths, specs, limits or Limits(), run, workers, force, keep_going, quiet, out, err, started
            )
            if code == 0 and build_key:
                _record_snapshot(paths, build_key, specs)
            return code
    except BadInput as exc:  # the data became invalid while this build waited for the lock
        return errors.report(exc, err)
    except store.LockBusy as exc:
        print(f"talentbrief: {exc}; another build is running (use --wait to wait for it)", file=err)
        return 1
    except (store.StoreError, OSError) as exc:  # reports/ unusable: refused (2), or broke mid-build (1)
        message = str(exc)
        if isinstance(exc, OSError) and exc.strerror:
            message = f"cannot write {exc.filename or 'reports/'}: {exc.strerror}"
        print(f"talentbrief: {message}", file=err)
        return 1 if locked else 2


def _warn(err: TextIO) -> Callable[[str], None]:
    return lambda message: print(f"talentbrief: warning: {message}", file=err, flush=True)


def _record_snapshot(paths: paths_mod.Paths, build_key: str, specs: list[ReportSpec]) -> None:
    """Let the next build skip everything, if every report is up to date with the inputs as they are
    now (checked afresh, between two digests of all inputs: what ran may have seen an edit since)."""
    from talentbrief.validate import DataError

    before = snapshot.inputs_digest(paths)
    ctx, manifest = hashing.Context(paths), store.read_manifest(paths)
    try:
        clean = all(up_to_date(paths, manifest, s, ctx) for s in specs)
    except (DataError, OSError):  # the data made invalid, or a file removed, meanwhile: nothing to record
        return
    if clean and snapshot.inputs_digest(paths) == before:
        snapshot.record(paths, build_key, [s.id for s in specs], manifest, before)


def _build_locked(paths, specs, defaults, run, workers, force, keep_going, quiet, out, err, started) -> int:
    manifest = store.reconcile(paths, store.read_manifest(paths, warn=_warn(err)))
    try:  # the index in the whole catalogue's order, so building a subset keeps it stable
        order = [s.id for s in catalogue.load(paths)]
    except CatalogueError:
        order = [s.id for s in specs]
    ctx = hashing.Context(paths)  # the inputs as they are now, under the lock
    check_data(paths, ctx)
    static = {s.id: ctx.static(s) for s in specs}
    stale = [s for s in specs if force or not up_to_date(paths, manifest, s, ctx)]
    fresh = len(specs) - len(stale)
    for s in specs:  # up to date again (e.g. a broken edit undone): an older failure no longer applies
        if s not in stale:
            store.clear_failure(paths, s.id)
    if stale:
        snapshot.forget(paths)  # outputs are about to change
    by_id = {s.id: s for s in stale}
    progress = Progress(len(stale), out, quiet)
    built: list[str] = []
    failed: list[tuple[str, str]] = []
    fallbacks: set[str] = set()  # slow or wrong font fallbacks the workers met (render.FALLBACKS)
    stopped = False

    def feed() -> Iterator[Job]:
        for s in stale:
            if stopped:
                return
            limits = dataclasses.replace(defaults, **s.limits)
            yield Job(s.id, s.notebook, dict(s.parameters), s.formats, limits)

    def fail(report_id: str, summary: str) -> None:
        nonlocal stopped
        failed.append((report_id, summary))
        progress.line(f"{report_id}  FAILED  {summary}")
        stopped = stopped or not keep_going

    if stale:
        results = run(feed(), paths.root, workers=max(1, min(workers, len(stale))))
        try:
            for job, result in results:
                spec = by_id[job.report_id]
                if isinstance(result, JobFailure):
                    store.store_failure(paths, result)
                    fail(spec.id, _summary(result))
                    continue
                key, components, reads = hashing.recorded_key(static[spec.id], result.inputs)
                if hashing.Context(paths).static(spec) != static[spec.id]:
                    key = None  # an input hashed before the run changed while it ran: never "up to date"
                try:
                    store.store_success(paths, manifest, spec, result, key, components, reads)
                except ValueError as exc:  # the renderer broke the contract (e.g. no pdf)
                    store.store_failure(paths, JobFailure(spec.id, str(exc)))
                    fail(spec.id, str(exc))
                    continue
                built.append(spec.id)
                fallbacks.update(result.fallbacks)
                progress.line(f"{spec.id}  built  {result.duration_s:.1f} s")
                for line in result.unshown:  # never silently dropped
                    print(f"talentbrief: warning: {spec.id}: {line}", file=out)
        except Exception as exc:  # noqa: BLE001 - the executor itself broke (not a notebook): report, keep what was stored
            done, why = {*built, *(r for r, _ in failed)}, f"executor error: {type(exc).__name__}: {exc}"
            failed += [(s.id, why) for s in stale if s.id not in done]
            progress.line(why, step=False)
        finally:
            close = getattr(results, "close", None)
            if close:
                close()
    progress.close()
    store.write_index(paths, manifest, order)

    if fallbacks:  # once per build, whatever --quiet says: the PDFs are slow or set in the wrong face
        print(f"talentbrief: warning: {'; '.join(sorted(fallbacks))} (see `talentbrief doctor`)", file=out)
    not_run = len(stale) - len(built) - len(failed)
    parts = [f"{len(built)} built", f"{fresh} up to date"]
    if failed:
        parts.append(f"{len(failed)} failed")
    if not_run:
        parts.append(f"{not_run} not run (stopped after a failure; --keep-going builds the rest)")
    if not quiet or failed:
        print(f"talentbrief: {', '.join(parts)} in {time.monotonic() - started:.1f} s", file=out)
    for report_id, summary in failed:
        where = paths.failed / f"{report_id}.html"
        shown = where.relative_to(paths.root) if where.is_relative_to(paths.root) else where  # out may lie elsewhere
        see = f" (see {shown})" if where.is_file() else ""
        print(f"talentbrief: {report_id} failed: {summary}{see}", file=out)
    return 1 if failed else 0


# run_build's keyword arguments that are `build` options of the same name
OPTIONS = ("jobs", "force", "keep_going", "quiet", "as_of", "executor", "scheduler", "wait", "lock_timeout")


def _build_cmd(args: argparse.Namespace) -> int:
    kw = {name: getattr(args, name) for name in OPTIONS}
    return run_build(paths_mod.get(args.root), args.ids, limits=limits_from(args), **kw)


def run_list(paths: paths_mod.Paths, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    ctx = hashing.Context(paths)
    try:
        check_data(paths, ctx)
        specs = catalogue.load(paths)
    except TalentbriefError as exc:
        return errors.report(exc, err)
    manifest = store.read_manifest(paths, warn=_warn(err))
    width = max((len(s.id) for s in specs), default=0)
    for s in specs:
        problems = params.check(s, paths.root)  # an entry build would refuse is invalid, not missing
        shown = f"invalid: {'; '.join(problems)}" if problems else status(paths, manifest, s, ctx)
        print(f"{s.id.ljust(width)}  {shown}", file=out)
    return 0


def _positive(text: str) -> float:
    with contextlib.suppress(ValueError):
        if 0 <= (value := float(text)) < math.inf:
            return value
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of at least 0")


def jobs_option(text: str) -> int:
    """-j/--jobs of build, diff and preview: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return int(text)


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """--timeout, --max-output, --max-memory: every report's limits (build and diff share them)."""
    default = Limits()
    for name, unit, what in (
        ("timeout", "SECONDS", "stop a report whose notebook runs longer"),
        ("max_output", "MB", "fail a report whose cells print or display more"),
        ("max_memory", "MB", "memory (address space) of each report's kernel"),
    ):
        value = getattr(default, name)
        parser.add_argument("--" + name.replace("_", "-"), type=_positive, default=value, metavar=unit,
                            help=f"{what} (default {value:g}; 0: no limit; reports.yml entries may set "
                                 "their own)")


def limits_from(args: argparse.Namespace) -> Limits:
    return Limits(args.timeout, args.max_output, args.max_memory)


def register(subparsers) -> None:
    b = subparsers.add_parser("build", help="build reports (only those whose inputs changed)")
    b.add_argument("ids", nargs="*", metavar="ID", help="report ids or patterns (default: all)")
    b.add_argument("-j", "--jobs", type=jobs_option, help="reports built at once (default: CPU count)")
    b.add_argument("--force", action="store_true", help="rebuild even up-to-date reports")
    b.add_argument("-k", "--keep-going", action="store_true", help="after a failure, still build the others")
    b.add_argument("-q", "--quiet", action="store_true", help="print only failures")
    b.add_argument("--as-of", metavar="DATE|today", help="override every report's as_of (e.g. for cron)")
    b.add_argument("--executor", default="local", choices=("local", "dask"),
                   help="where reports run: local worker processes (default) or a Dask cluster "
                        "(docs/distributed.md)")
    b.add_argument("--scheduler", default=os.environ.get("TALENTBRIEF_DASK_SCHEDULER"), metavar="ADDR",
                   help="dask scheduler address (default: $TALENTBRIEF_DASK_SCHEDULER)")
    b.add_argument("--wait", action="store_true", help="if another build is running, wait for it")
    b.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                   help="wait at most this long (implies --wait)")
    add_limit_options(b)
    b.set_defaults(func=_build_cmd)
    ls = subparsers.add_parser("list", help="the expanded catalogue with each report's status")
    ls.set_defaults(func=lambda args: run_list(paths_mod.get(args.root)))
