"""talentbrief.load: typed tables, the DataError gate, the per-process cache and fingerprints."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from talentbrief.load import DataError, Tables, fingerprint, load

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def schema_fields(root) -> dict[str, dict]:
    package = json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: {f["name"]: f for f in r["schema"]["fields"]} for r in package["resources"]}


def test_columns_are_typed_from_the_schema(data_root):
    tables = load(data_root)
    for name, fields in schema_fields(data_root).items():
        frame = getattr(tables, name)
        assert list(frame.columns) == list(fields)
        for column, field in fields.items():
            dtype = frame[column].dtype
            enum = field.get("constraints", {}).get("enum")
            if enum:
                assert isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == enum, column
            elif field["type"] == "integer":
                assert dtype == "Int64", column
            elif field["type"] == "date":
                assert pd.api.types.is_datetime64_dtype(dtype), column
            else:
                assert pd.api.types.is_string_dtype(dtype), column


def test_rows_match_the_csv(data_root):
    figures = load(data_root).figures.set_index("figure_id")
    raw = pd.read_csv(data_root / "data" / "figures.csv", dtype=str, keep_default_na=False).set_index(
        "figure_id"
    )
    assert len(figures) == len(raw)
    first = raw.index[0]
    assert figures.loc[first, "value"] == int(raw.loc[first, "value"])
    assert figures.loc[first, "period_start"] == pd.Timestamp(raw.loc[first, "period_start"])
    empty_end = raw.index[raw["period_end"] == ""]
    assert figures.loc[empty_end, "period_end"].isna().all()


def test_invalid_data_raises_data_error_listing_the_problems(data_root):
    path = data_root / "data" / "figures.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",persons,", ",people,", 1), encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load(data_root)
    assert [str(p).split(": ")[0] for p in raised.value.problems] == ["data/figures.csv:2:unit"]
    assert "data/figures.csv:2:unit:" in str(raised.value)


def test_every_load_sees_the_files_as_they_are_now(data_root):
    """No cache keyed by mtime and size: an edit that keeps both is still seen."""
    first = load(data_root)
    path = data_root / "data" / "programmes.csv"
    stat = path.stat()
    path.write_text(
        path.read_text(encoding="utf-8").replace("Digital technology engineer", "Digital technology enginear"),
        encoding="utf-8",
    )
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert fingerprint(load(data_root)) != fingerprint(first)


def test_callers_cannot_change_what_the_next_load_returns(data_root):
    tables = load(data_root)
    tables.figures.loc[0, "value"] = -1
    assert load(data_root).figures.loc[0, "value"] != -1


def test_fingerprint_ignores_row_and_column_order(data_root):
    t = load(data_root)
    shuffled = Tables(
        sources=t.sources.iloc[::-1],
        programmes=t.programmes[t.programmes.columns[::-1]],
        figures=t.figures.sample(frac=1, random_state=1).reset_index(drop=True),
    )
    assert fingerprint(shuffled) == fingerprint(t)


def test_fingerprint_changes_with_any_cell_and_with_filtering(data_root):
    t = load(data_root)
    edited = t.figures.copy()
    edited.loc[edited.index[-1], "quote"] = edited.loc[edited.index[-1], "quote"] + " "
    filtered = Tables(sources=t.sources, programmes=t.programmes, figures=t.figures.iloc[1:])
    prints = {fingerprint(t), fingerprint(Tables(t.sources, t.programmes, edited)), fingerprint(filtered)}
    assert len(prints) == 3
    assert all(len(p) == 64 for p in prints)
