"""The no-op fast path must never hide a change: any input or output difference falls through."""

import json
import os

import pytest

from talentbrief import paths as paths_mod
from talentbrief import snapshot

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def _fake_build(root):
    """A project copy with one 'built' report and its manifest, recorded as up to date."""
    paths = paths_mod.get(root)
    (paths.reports / "a.html").write_bytes(b"<html>a</html>")
    (paths.reports / "index.html").write_bytes(b"<html>index</html>")
    manifest = {"reports": {"a": {"outputs": {"html": {"file": "a.html"}}}}}
    paths.manifest.write_text(json.dumps(manifest))
    key = snapshot.key(["a"], "2026-11-01")
    snapshot.record(paths, key, ["a"], manifest, snapshot.inputs_digest(paths))
    return paths, key


def test_unchanged_project_is_recognised(project):
    paths, key = _fake_build(project)
    assert snapshot.unchanged(paths, key) == 1


def test_edited_data_row_falls_through(project):
    paths, key = _fake_build(project)
    csv = paths.data / "figures.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n", 1))
    assert snapshot.unchanged(paths, key) is None


def test_edited_notebook_src_or_catalogue_falls_through(project):
    for rel in ("notebooks/overview.ipynb", "src/figures.py", "reports.yml", "requirements.lock"):
        paths, key = _fake_build(project)
        target = paths.root / rel
        target.write_bytes(target.read_bytes() + b"\n")
        assert snapshot.unchanged(paths, key) is None, rel


def test_touched_or_deleted_output_falls_through(project):
    paths, key = _fake_build(project)
    out = paths.reports / "a.html"
    st = out.stat()
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert snapshot.unchanged(paths, key) is None
    paths, key = _fake_build(project)
    out.unlink()
    assert snapshot.unchanged(paths, key) is None


def test_other_arguments_or_forgotten_snapshot_fall_through(project):
    paths, key = _fake_build(project)
    assert snapshot.unchanged(paths, snapshot.key(["a"], "2026-11-02")) is None
    assert snapshot.unchanged(paths, snapshot.key([], "2026-11-01")) is None
    snapshot.forget(paths)
    assert snapshot.unchanged(paths, key) is None
