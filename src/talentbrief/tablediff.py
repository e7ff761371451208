"""Row-by-row, field-by-field differences between two versions of the tables in data/.

Plain csv reads with each side's own datapackage.json, so data the current schema would refuse can still
be compared. A row carries its references to other tables, so a reader knows whose number changed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Table:
    name: str
    fields: list[str]
    key: list[str]
    refs: list[str]  # fields referencing another table (shown with each row)
    rows: dict[tuple[str, ...], dict[str, str]]


@dataclass(frozen=True)
class RowChange:
    kind: str  # "added", "removed", "changed"
    key: str
    refs: dict[str, str]
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)


@dataclass(frozen=True)
class TableChange:
    name: str
    kind: str  # "added", "removed", "changed"
    rows: list[RowChange]


def _resources(data: Path) -> list[dict]:
    package = data / "datapackage.json"
    found = json.loads(package.read_text(encoding="utf-8")).get("resources", []) if package.is_file() else []
    listed = {r.get("path") for r in found}
    extra = [{"name": p.stem, "path": p.name} for p in sorted(data.glob("*.csv")) if p.name not in listed]
    return [r for r in found if isinstance(r.get("path"), str)] + extra


def read_tables(data: Path) -> dict[str, Table]:
    """Every table of a data/ folder by name (missing files are left out)."""
    tables = {}
    for res in _resources(Path(data)):
        path = Path(data) / res["path"]
        if not path.is_file():
            continue
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            names = list(reader.fieldnames or [])
            raw = list(reader)
        schema = res.get("schema") or {}
        key = schema.get("primaryKey") or names[:1]
        key = [key] if isinstance(key, str) else list(key)
        refs = [
            f for fk in schema.get("foreignKeys", [])
            if (fk.get("reference") or {}).get("resource") not in ("", res.get("name"))
            for f in ([fk["fields"]] if isinstance(fk.get("fields"), str) else fk.get("fields", []))
        ]
        rows = {tuple((r.get(k) or "") for k in key): {n: r.get(n) or "" for n in names} for r in raw}
        tables[res.get("name") or path.stem] = Table(res.get("name") or path.stem, names, key, refs, rows)
    return tables


def _row_refs(table: Table, row: dict[str, str]) -> dict[str, str]:
    return {f: row.get(f, "") for f in table.refs if row.get(f)}


def compare_table(old: Table | None, new: Table | None) -> TableChange | None:
    """What changed in one table; None if nothing did."""
    if old is None or new is None:
        table = new or old
        kind = "added" if old is None else "removed"
        rows = [RowChange(kind, "/".join(k), _row_refs(table, r)) for k, r in table.rows.items()]
        return TableChange(table.name, kind, rows)
    changes = []
    for key, row in new.rows.items():
        before = old.rows.get(key)
        if before is None:
            changes.append(RowChange("added", "/".join(key), _row_refs(new, row)))
            continue
        names = list(dict.fromkeys([*old.fields, *new.fields]))
        fields = [(n, before.get(n, ""), row.get(n, "")) for n in names if before.get(n, "") != row.get(n, "")]
        if fields:
            changes.append(RowChange("changed", "/".join(key), _row_refs(new, row), fields))
    changes += [RowChange("removed", "/".join(k), _row_refs(old, r)) for k, r in old.rows.items()
                if k not in new.rows]
    return TableChange(new.name, "changed", changes) if changes else None


def compare(old_data: Path, new_data: Path) -> list[TableChange]:
    """The changed tables of two data/ folders, in the new side's order, then the removed ones."""
    old, new = read_tables(old_data), read_tables(new_data)
    names = list(dict.fromkeys([*new, *old]))
    return [c for n in names if (c := compare_table(old.get(n), new.get(n))) is not None]
