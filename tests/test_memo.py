"""memo: answers kept by content; a change to any input, or an invalid answer, is never served stale."""

from __future__ import annotations

import pytest

from talentbrief import memo, params, validate
from talentbrief import paths as paths_mod
from talentbrief.load import DataError
from tests.support.project import SEEDS, rewrite_csv

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "talentbrief"


def test_roundtrip_keys_and_switch(cache, monkeypatch, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"one")
    k = memo.key(f, "x")
    assert k == memo.key(f, "x") == memo.key("one", "x") and k != memo.key(f, "y")  # files by content
    f.write_bytes(b"two")
    assert memo.key(f, "x") != k
    assert memo.get("t", k) is None
    memo.put("t", k, b"answer")
    assert memo.get("t", k) == b"answer" and (cache / "t" / k).is_file()
    monkeypatch.setenv("TALENTBRIEF_MEMO", "0")
    assert memo.get("t", k) is None


def test_an_unwritable_cache_is_not_used(cache, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    memo.put("t", "k", b"x")  # no error
    assert memo.get("t", "k") is None


def test_valid_data_is_checked_once_per_content(cache, data_root, monkeypatch):
    paths = paths_mod.Paths(data_root)
    calls = []
    real = validate.validate
    monkeypatch.setattr(validate, "validate", lambda *a, **k: calls.append(1) or real(*a, **k))
    validate.ensure_valid(paths)
    validate.ensure_valid(paths)
    assert len(calls) == 1
    rewrite_csv(data_root / "data" / "figures.csv", lambda rows: rows[0].update(note=rows[0]["note"] + " Edited."))
    validate.ensure_valid(paths)
    assert len(calls) == 2  # new bytes: checked again
    validate.ensure_valid(paths, sources_dir=SEEDS)  # provenance checks are never skipped
    assert len(calls) == 3


def test_invalid_data_is_never_remembered(cache, data_root):
    rewrite_csv(data_root / "data" / "figures.csv", lambda rows: rows[0].update(unit="furlongs"))
    for _ in range(2):
        with pytest.raises(DataError) as raised:
            validate.ensure_valid(paths_mod.Paths(data_root))
        assert any(p.column == "unit" for p in raised.value.problems)
    assert not (cache / "valid").exists()


def test_parameters_come_from_the_memo_without_papermill(cache, monkeypatch):
    notebook = paths_mod.get().notebooks / "programme.ipynb"
    first = params.inspect(notebook)
    monkeypatch.setattr(params, "_inspect", lambda path: pytest.fail("inspected again"))
    assert params.inspect(notebook) == first


def test_compiled_templates_are_kept_and_follow_their_source(cache, monkeypatch, tmp_path):
    import jinja2

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.j2").write_text("one {{ x }}", encoding="utf-8")

    def render():  # a new environment each time, as each notebook run has
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), bytecode_cache=memo.templates())
        return env.get_template("page.j2").render(x=1)

    assert render() == "one 1"
    kept = list((cache / "jinja").iterdir())
    assert len(kept) == 1  # compiled once and kept
    monkeypatch.setattr(jinja2.Environment, "compile", lambda *a, **k: pytest.fail("compiled again"))
    assert render() == "one 1"  # served from the cache
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache.parent))
    (folder / "page.j2").write_text("two {{ x }}", encoding="utf-8")
    assert render() == "two 1"  # an edited template is never served stale
    monkeypatch.setenv("TALENTBRIEF_MEMO", "0")
    assert memo.templates() is None
