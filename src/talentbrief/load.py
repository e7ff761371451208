"""The one loader: validated DataFrames typed by data/datapackage.json (the schema stays the one source
of truth), and what a report read of them. A table taken from `load()` is a read of the whole table; a
`query` called on it records only its answer, so an edited row rebuilds only the reports that read it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from talentbrief import definitions, reads
from talentbrief import paths as tb_paths
from talentbrief.definitions import Definitions
from talentbrief.validate import DataError, Problem, ensure_valid

__all__ = ["DataError", "Loaded", "Tables", "fingerprint", "load", "plain", "query"]

TABLES = ("sources", "programmes", "figures")


@dataclass(frozen=True)
class Tables:
    """The three tables and their definitions; filter with dataclasses.replace(tables, figures=...)."""

    sources: pd.DataFrame
    programmes: pd.DataFrame
    figures: pd.DataFrame
    definitions: Definitions | None = None  # data/checks.yml, data/derived.yml (talentbrief.definitions)


class Loaded(Tables):
    """What load() returns: a table taken from it is a read of that whole table (talentbrief.reads)."""

    def __getattribute__(self, name: str):
        if name in TABLES:
            frame = object.__getattribute__(self, name)
            reads.record({"table": name}, lambda: table_digest(frame))
            return frame
        if name == "__dict__":  # every table at once
            for table in TABLES:
                getattr(self, table)
        return object.__getattribute__(self, name)


def plain(tables: Tables) -> Tables:
    """The same frames, with nothing recorded when they are read (for queries, which record themselves)."""
    return Tables(**{name: object.__getattribute__(tables, name) for name in TABLES},
                  definitions=object.__getattribute__(tables, "definitions"))


QUERIES: dict[str, Callable[..., Any]] = {}


def query(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `func(tables, **args)` as a pure query: called on load()'s tables it records its name, its
    arguments and its answer's digest, which a build replays on the current tables (read_digest)."""
    signature = inspect.signature(func)
    QUERIES[func.__name__] = func

    @functools.wraps(func)
    def recorded(tables, *args, **kwargs):
        if not isinstance(tables, Loaded):
            return func(tables, *args, **kwargs)
        answer = func(plain(tables), *args, **kwargs)
        bound = signature.bind(tables, *args, **kwargs)
        bound.apply_defaults()
        named = json.loads(json.dumps(dict(list(bound.arguments.items())[1:]), default=str))
        reads.record({"query": func.__name__, "args": named}, lambda: answer_digest(answer))
        return answer

    return recorded


def _read(path: Path, schema: dict) -> pd.DataFrame:
    """Enum -> categorical in vocabulary order, integer -> Int64, date -> datetime64, else str; empty: NaN."""
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


def load(root: Path | str | None = None) -> Loaded:
    """Validated, typed tables; raises DataError listing every problem if the data is invalid."""
    paths = tb_paths.get(root)
    with reads.quiet():  # the loader's own reads: what the report takes from the tables is recorded
        ensure_valid(paths)
        resources = json.loads(paths.datapackage.read_text(encoding="utf-8"))["resources"]
        frames = {r["name"]: _read(paths.data / r["path"], r["schema"]) for r in resources}
        found, problems = definitions.load(paths, frames["figures"])
    if problems:
        raise DataError([Problem(file, line, "", message) for file, line, message in problems])
    return Loaded(**{name: frames[name] for name in TABLES}, definitions=found)


def _cell(value) -> object:
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value if isinstance(value, int | float) else str(value)


def _canonical(frame: pd.DataFrame) -> dict:
    """Rows and column types (a categorical's vocabulary order included), in a stable order."""
    columns = sorted(frame.columns)
    rows = sorted(json.dumps([_cell(v) for v in row], ensure_ascii=False)
                  for row in frame[columns].itertuples(index=False, name=None))
    return {"columns": columns, "types": [repr(frame[c].dtype) for c in columns], "rows": rows}


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def fingerprint(tables: Tables) -> str:
    """sha256 of the rows of the given (possibly filtered) tables; row and column order do not matter."""
    tables = plain(tables)
    return _digest({name: _canonical(getattr(tables, name)) for name in TABLES})


def table_digest(frame: pd.DataFrame) -> str:
    """sha256 of one whole table as the loader gives it."""
    return _digest(_canonical(frame))


def answer_digest(answer: Any) -> str:
    """sha256 of a query's answer: tables by their rows, anything else as JSON."""
    if isinstance(answer, Tables):
        return fingerprint(answer)
    return _digest(json.loads(json.dumps(answer, default=str)))
