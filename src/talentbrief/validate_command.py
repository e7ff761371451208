"""`talentbrief validate`: the data's own checks (talentbrief.validate), with --sources the sha256 and
quotes against the source files, then the catalogue reports the data cannot fill. Exit 2 on any problem."""

from __future__ import annotations

import argparse
import sys

from talentbrief import catalogue, validate
from talentbrief import paths as tb_paths


def reports_without_figures(tables, specs) -> list[str]:
    """Catalogue reports whose programme has no row in figures.csv (they would be empty briefings)."""
    have = set(tables.figures["programme_id"].dropna())
    return [
        f"report {s.id!r}: programme {p!r} has no figures in data/figures.csv"
        for s in specs
        if (p := s.parameters.get("programme")) is not None and p not in have
    ]


def run(args: argparse.Namespace) -> int:
    paths = tb_paths.get(args.root)
    problems = validate.validate(paths, args.sources) or _catalogue_problems(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"talentbrief validate: {len(problems)} problem(s)", file=sys.stderr)
        return 2
    counts = ", ".join(f"{n} {name}" for name, n in validate.row_counts(paths).items())
    checked = f"; quotes and sha256 checked against {args.sources}" if args.sources else ""
    print(f"OK: {counts}{checked}")
    return 0


def _catalogue_problems(paths: tb_paths.Paths) -> list[str]:
    """Reports of the catalogue the data cannot fill; a broken catalogue is the build's to report."""
    from talentbrief import load

    try:
        specs = catalogue.load(paths)
    except catalogue.CatalogueError:
        return []
    return reports_without_figures(load.load(paths.root), specs)


def register(subparsers) -> None:
    parser = subparsers.add_parser("validate", help="check data/ against its schema and curation rules")
    parser.add_argument("--sources", metavar="DIR", help="folder of source files: check sha256 and quotes")
    parser.set_defaults(func=run)
