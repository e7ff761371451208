"""The one loader: validated, typed DataFrames of the curated tables.

Types come from data/datapackage.json (enum -> categorical in vocabulary order, integer -> Int64,
date -> datetime64, everything else str), so the schema stays the single source of truth.
Results are cached per process, keyed by each data file's (path, mtime, size).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from talentbrief import paths as tb_paths
from talentbrief.validate import DataError, ensure_valid

__all__ = ["DataError", "Tables", "fingerprint", "load"]

TABLES = ("sources", "programmes", "figures")


@dataclass(frozen=True)
class Tables:
    """The three tables; build a filtered copy with Tables(sources=..., programmes=..., figures=...)."""

    sources: pd.DataFrame
    programmes: pd.DataFrame
    figures: pd.DataFrame


_cache: dict[tuple, Tables] = {}


def _resources(paths: tb_paths.Paths) -> list[dict]:
    return json.loads(paths.datapackage.read_text(encoding="utf-8"))["resources"]


def _cache_key(paths: tb_paths.Paths) -> tuple:
    files = [paths.datapackage] + [paths.data / r["path"] for r in _resources(paths)]
    return tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def _read(path: Path, schema: dict) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    for field in schema["fields"]:
        name, kind = field["name"], field["type"]
        enum = field.get("constraints", {}).get("enum")
        if enum:
            frame[name] = frame[name].astype(pd.CategoricalDtype(enum))
        elif kind == "integer":
            frame[name] = pd.to_numeric(frame[name]).astype("Int64")
        elif kind == "date":
            frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d")
    return frame


def _copy(tables: Tables) -> Tables:
    return Tables(**{name: getattr(tables, name).copy() for name in TABLES})


def load(root: Path | str | None = None) -> Tables:
    """Validated, typed tables; raises DataError listing every problem if the data is invalid."""
    paths = tb_paths.get(root)
    key = _cache_key(paths)
    if key not in _cache:
        ensure_valid(paths)
        frames = {r["name"]: _read(paths.data / r["path"], r["schema"]) for r in _resources(paths)}
        _cache[key] = Tables(**{name: frames[name] for name in TABLES})
    return _copy(_cache[key])


def _cell(value) -> object:
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value if isinstance(value, int | float) else str(value)


def _canonical(frame: pd.DataFrame) -> dict:
    columns = sorted(frame.columns)
    rows = sorted(
        json.dumps([_cell(v) for v in row], ensure_ascii=False)
        for row in frame[columns].itertuples(index=False, name=None)
    )
    return {"columns": columns, "rows": rows}


def fingerprint(tables: Tables) -> str:
    """sha256 of the rows of the given (possibly filtered) tables; row and column order do not matter."""
    payload = {f.name: _canonical(getattr(tables, f.name)) for f in fields(tables)}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
