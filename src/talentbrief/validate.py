"""Validate the tables (Frictionless, then talentbrief.rules, then talentbrief.definitions).

Every problem is reported as `file:row:column: message`, row being the editor's line, so an analyst
can jump straight to the cell.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the CLI registers this command without paying for it
    import frictionless

from talentbrief import memo, rules
from talentbrief import paths as tb_paths
from talentbrief.errors import TalentbriefError


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{'' if self.row is None else self.row}:{self.column}: {self.message}"


class DataError(TalentbriefError):
    """Invalid data (exit 2): `.problems` lists every problem found, `.messages` one line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__([str(p) for p in self.problems])


@dataclass
class _Table:
    """One CSV as the editor shows it: its header and each record with the line it starts on."""

    file: str  # relative to the project root, e.g. data/figures.csv
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lines: dict[int, int] = field(default_factory=dict)  # frictionless row position -> editor line


def _rel(paths: tb_paths.Paths, path: Path) -> str:
    try:
        return path.resolve().relative_to(paths.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _read_descriptor(paths: tb_paths.Paths) -> tuple[dict | None, list[Problem]]:
    import frictionless

    file = _rel(paths, paths.datapackage)
    try:
        descriptor = json.loads(paths.datapackage.read_bytes().decode("utf-8"))
        frictionless.Package(copy.deepcopy(descriptor), basepath=str(paths.data))
    except FileNotFoundError:
        return None, [Problem(file, None, "", "file not found")]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [Problem(file, getattr(exc, "lineno", None), "", f"not a valid UTF-8 JSON file: {exc}")]
    except frictionless.FrictionlessException as exc:
        return None, [Problem(file, None, "", f"not a valid Data Package: {exc.error.message}")]
    return descriptor, []


def _records(text: str):
    """(start line, cells) for each CSV record; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def _read_table(paths: tb_paths.Paths, resource: dict) -> tuple[_Table, list[Problem]]:
    path = paths.data / resource["path"]
    table = _Table(_rel(paths, path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return table, [Problem(table.file, None, "", "file not found")]
    if data.startswith(b"\xef\xbb\xbf"):
        why = "file starts with a byte-order mark: save it as UTF-8 without BOM"
        return table, [Problem(table.file, 1, "", why)]
    text = data.decode("utf-8", errors="surrogateescape")
    problems = []
    for position, (line, cells) in enumerate(_records(text), start=1):
        if position == 1:
            table.header = cells
        for i, cell in enumerate(cells):
            bad = [c for c in cell if "\udc80" <= c <= "\udcff"]
            if bad:
                column = table.header[i] if i < len(table.header) and position > 1 else ""
                why = f"not valid UTF-8 (byte 0x{ord(bad[0]) - 0xDC00:02X}): save the file as UTF-8"
                problems.append(Problem(table.file, line, column, why))
        table.lines[position] = line
        if position > 1:
            table.rows.append((line, dict(zip(table.header, cells))))
    return table, problems


def _header_problems(table: _Table, schema: dict) -> list[Problem]:
    names = [f["name"] for f in schema["fields"]]
    problems = [Problem(table.file, 1, n, "missing column") for n in names if n not in table.header]
    seen = set()
    for label in table.header:
        if label in seen:
            problems.append(Problem(table.file, 1, label, "duplicate column"))
        elif label not in names:
            problems.append(Problem(table.file, 1, label, "unknown column"))
        seen.add(label)
    if table.header and not table.rows:  # every report built from it would be published empty
        why = "no rows (only a header): refusing to build empty reports"
        problems.append(Problem(table.file, 2, "", why))
    return problems


def _schema_for_header(schema: dict, header: list[str], headers: dict[str, list[str]]) -> dict:
    """The schema in the file's column order, so a missing or extra column (already reported) does not
    shift every cell; keys on missing columns are dropped rather than failing every row."""
    by_name = {f["name"]: f for f in schema["fields"]}
    fields = [by_name.get(label, {"name": label, "type": "any"}) for label in dict.fromkeys(header)]
    synced = {**schema, "fields": fields}
    if not set(schema.get("primaryKey", [])) <= set(header):
        synced.pop("primaryKey", None)
    synced["foreignKeys"] = [
        fk
        for fk in schema.get("foreignKeys", [])
        if set(fk["fields"]) <= set(header)
        and set(fk["reference"]["fields"]) <= set(headers.get(fk["reference"]["resource"], []))
    ]
    return synced


def _message(error: frictionless.errors.Error, table: _Table, schema: dict) -> str:
    """A short message in the analyst's terms; frictionless' own wording is the fallback."""
    cell = getattr(error, "cell", None)
    fields = {f["name"]: f for f in schema["fields"]}
    if error.type == "type-error":
        kind = fields.get(error.field_name, {}).get("type", "value")
        return f'"{cell}" is not {"an" if kind[0] in "aeiou" else "a"} {kind}'
    if error.type == "constraint-error":
        constraints = fields.get(error.field_name, {}).get("constraints", {})
        if cell == "" or "required" in error.note:
            return "a value is required"
        if '"enum"' in error.note:
            return f'"{cell}" is not one of: {", ".join(constraints["enum"])}'
        if '"minimum"' in error.note:
            return f"{cell} is below the minimum {constraints['minimum']}"
        if '"pattern"' in error.note:
            return f'"{cell}" does not match the pattern {constraints["pattern"]}'
    if error.type in ("primary-key", "unique-error"):
        row = dict(table.rows).get(table.lines.get(error.row_number), {})
        names = schema.get("primaryKey", []) if error.type == "primary-key" else [error.field_name]
        return f'duplicate {",".join(names)} "{",".join(row.get(n, "") for n in names)}" ({_same_as(error.note, table)})'
    if error.type == "foreign-key":
        values = ",".join(map(str, error.field_cells))
        return f'"{values}" is not in {error.reference_name}.csv {",".join(error.reference_field_names)}'
    return error.message


def _same_as(note: str, table: _Table) -> str:
    """frictionless says 'the same as in the row at position N': translate N into an editor line."""
    tail = note.rsplit(" ", 1)[-1]
    return f"same as line {table.lines.get(int(tail), tail)}" if tail.isdigit() else note


def _frictionless_problems(
    paths: tb_paths.Paths, descriptor: dict, tables: dict[str, _Table]
) -> list[Problem]:
    import frictionless

    descriptor = copy.deepcopy(descriptor)
    headers = {name: t.header for name, t in tables.items()}
    for resource in descriptor["resources"]:
        resource["schema"] = _schema_for_header(resource["schema"], tables[resource["name"]].header, headers)
    schemas = {r["name"]: r["schema"] for r in descriptor["resources"]}
    report = frictionless.Package(descriptor, basepath=str(paths.data)).validate()
    problems = []
    for task in report.tasks:
        table = tables[task.name]
        for error in task.errors:
            if error.type in ("missing-label", "extra-label", "duplicate-label", "incorrect-label"):
                continue  # reported by _header_problems, by column name
            position = getattr(error, "row_number", None)
            column = getattr(error, "field_name", "") or ""
            if error.type == "foreign-key":
                column = ",".join(error.field_names)
            elif error.type == "primary-key":
                column = ",".join(schemas[task.name].get("primaryKey", []))
            row = table.lines.get(position, position) if position else None
            problems.append(Problem(table.file, row, column, _message(error, table, schemas[task.name])))
    problems += [Problem("data/datapackage.json", None, "", e.message) for e in report.errors]
    return problems


def _rule_problems(tables: dict[str, _Table]) -> list[Problem]:
    sources = tables["sources"].rows if "sources" in tables else []
    published = {row.get("source_id"): row.get("date_published", "") for _, row in sources}
    language = {row.get("source_id"): row.get("language") for _, row in sources}
    by_id = {row.get("figure_id"): row for _, row in tables["figures"].rows} if "figures" in tables else {}

    def figure(row: dict[str, str]) -> list[tuple[str, str]]:
        quoted_in = language.get(row.get("source_id"))
        return (rules.check_figure(row) + rules.check_restates(row, by_id, published)
                + rules.check_part_of(row, by_id) + rules.check_translations(row, quoted_in))

    checks = {"sources": lambda row: rules.check_inferred(row) + rules.check_publisher(row),
              "programmes": rules.check_inferred, "figures": figure}
    return [Problem(table.file, line, column, message)
            for name, check in checks.items() if (table := tables.get(name)) is not None
            for line, row in table.rows for column, message in check(row)]


def _source_problems(tables: dict[str, _Table], sources_dir: Path) -> list[Problem]:
    """sha256 of every source names a file in sources_dir; every quote is a span of its source."""
    if not sources_dir.is_dir():
        return [Problem(str(sources_dir), None, "", "sources directory not found")]
    by_hash = {}
    for path in sorted(p for p in sources_dir.iterdir() if p.is_file()):
        by_hash.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path)
    sources, figures = tables["sources"], tables["figures"]
    problems, text_of = [], {}
    for line, row in sources.rows:
        sha = row.get("sha256", "")
        if sha in by_hash:
            path = by_hash[sha]
            text_of[row.get("source_id")] = (path.name, path.read_bytes().decode("utf-8", errors="replace"))
        elif sha:
            why = f"no file in {sources_dir} has sha256 {sha}"
            problems.append(Problem(sources.file, line, "sha256", why))
    for line, row in figures.rows:
        name, text = text_of.get(row.get("source_id"), (None, None))
        if text is not None and row.get("quote") and not rules.quote_in_text(row["quote"], text):
            why = f"quote is not a verbatim span of source {name}"
            problems.append(Problem(figures.file, line, "quote", why))
    return problems


def validate(paths: tb_paths.Paths, sources_dir: Path | str | None = None) -> list[Problem]:
    """Every problem in the data (empty list: valid). With sources_dir, also check provenance."""
    descriptor, problems = _read_descriptor(paths)
    if descriptor is None:
        return problems
    tables = {}
    for resource in descriptor["resources"]:
        tables[resource["name"]], found = _read_table(paths, resource)
        problems += found
    if problems:  # unreadable files: their cells cannot be checked meaningfully
        return _ordered(problems)
    for resource in descriptor["resources"]:
        problems += _header_problems(tables[resource["name"]], resource["schema"])
    problems += _frictionless_problems(paths, descriptor, tables)
    problems += _rule_problems(tables)
    if not problems:  # the checks and derived figures beside the data, against valid figures
        from talentbrief import definitions

        figures = {row.get("figure_id"): row for _, row in tables["figures"].rows} if "figures" in tables else {}
        problems += [Problem(file, line, "", message) for file, line, message in definitions.problems(paths, figures)]
    if sources_dir is not None:
        problems += _source_problems(tables, Path(sources_dir))
    return _ordered(problems)


def _ordered(problems: list[Problem]) -> list[Problem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file, p.row or 0, p.column))


def ensure_valid(paths: tb_paths.Paths, sources_dir: Path | str | None = None) -> None:
    """Raise DataError listing every problem; data found valid is remembered (talentbrief.memo) by the
    bytes of the data and of the checking code, so the same bytes are not checked twice."""
    stored = _memo_key(paths) if sources_dir is None else None
    if stored is not None and memo.get("valid", stored) is not None:
        return
    if problems := validate(paths, sources_dir):
        raise DataError(problems)
    if stored is not None:
        memo.put("valid", stored, b"valid\n")


def _memo_key(paths: tb_paths.Paths) -> str | None:
    try:
        descriptor = paths.datapackage.read_bytes()
        files = sorted(r["path"] for r in json.loads(descriptor)["resources"])
        declared = [p.read_bytes() if p.is_file() else b"absent" for p in (paths.checks, paths.derived)]
        checking = ("validate", "rules", "definitions", "checks", "metrics")  # the definitions' kinds too
        code = [Path(__file__).with_name(f"{m}.py") for m in checking]
        return memo.key(descriptor, *(f.encode() for f in files), *(paths.data / f for f in files),
                        *declared, *code)
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: let validate() say what is wrong
        return None


def row_counts(paths: tb_paths.Paths) -> dict[str, int]:
    resources = json.loads(paths.datapackage.read_text(encoding="utf-8"))["resources"]
    texts = {r["name"]: (paths.data / r["path"]).read_text(encoding="utf-8") for r in resources}
    return {name: sum(1 for _ in _records(text)) - 1 for name, text in texts.items()}
