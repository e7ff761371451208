"""reports/ is only ever changed atomically, under one lock, and the index stays self-contained."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from talentbrief import paths, store
from talentbrief.catalogue import ReportSpec
from talentbrief.jobs import JobFailure, Outputs


def test_atomic_write_creates_and_replaces(tmp_path):
    target = tmp_path / "sub" / "a.html"
    store.atomic_write(target, b"one")
    store.atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["a.html"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


@pytest.mark.parametrize("breaking", ["fsync", "replace"])
def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch, breaking):
    target = tmp_path / "a.html"
    target.write_bytes(b"old good report")

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(store.os, breaking, boom)
    with pytest.raises(OSError, match="disk on fire"):
        store.atomic_write(target, b"new half-written report" * 1000)
    monkeypatch.undo()
    assert target.read_bytes() == b"old good report"
    assert [p.name for p in tmp_path.iterdir()] == ["a.html"]


def test_write_if_changed_keeps_mtime_for_same_bytes(tmp_path):
    target = tmp_path / "a"
    assert store.write_if_changed(target, b"x")
    os.utime(target, (1_000_000, 1_000_000))
    assert not store.write_if_changed(target, b"x")
    assert target.stat().st_mtime == 1_000_000
    assert store.write_if_changed(target, b"y")
    assert target.read_bytes() == b"y"


HOLDER = """
import sys, time
from talentbrief import paths, store
with store.build_lock(paths.get(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(root: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_busy_without_wait_and_taken_after_release(project):
    p = paths.get(project)
    holder = hold_lock(project, 1.5)
    try:
        with pytest.raises(store.LockBusy), store.build_lock(p, wait=False):
            pass
        waited = []
        t0 = time.monotonic()
        with store.build_lock(p, wait=True, on_wait=lambda: waited.append(True)):
            elapsed = time.monotonic() - t0
        assert waited == [True] and elapsed > 0.5
    finally:
        holder.wait(timeout=10)


def test_lock_timeout(project):
    p = paths.get(project)
    holder = hold_lock(project, 5)
    try:
        with pytest.raises(store.LockBusy, match="after 0.3 s"), store.build_lock(p, wait=True, timeout=0.3):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_build_is_taken_over(project):
    p = paths.get(project)
    holder = hold_lock(project, 60)
    holder.kill()  # SIGKILL: no cleanup runs
    holder.wait()
    assert p.build_lock.exists()
    with store.build_lock(p, wait=False):
        pass


@pytest.mark.parametrize("text", ["{ half a manif", '{"version": 1, "reports": []}', "[]", "\xff"])
def test_corrupt_manifest_reads_as_empty_with_a_warning(project, text):
    p = paths.get(project)
    p.reports.mkdir(exist_ok=True)
    p.manifest.write_bytes(text.encode("latin-1"))
    warnings = []
    assert store.read_manifest(p, warn=warnings.append) == {"version": store.MANIFEST_VERSION, "reports": {}}
    assert len(warnings) == 1 and "manifest.json is unreadable" in warnings[0]


def test_lock_path_that_is_a_folder_is_refused(project):
    p = paths.get(project)
    p.build_lock.mkdir(parents=True)
    with pytest.raises(store.StoreError, match="is a folder"), store.build_lock(p):
        pass


def test_lock_path_that_is_a_symlink_is_not_followed(project, tmp_path):
    p = paths.get(project)
    p.reports.mkdir(exist_ok=True)
    target = tmp_path / "outside" / "created-by-the-build"
    target.parent.mkdir()
    p.build_lock.symlink_to(target)
    with pytest.raises(store.StoreError, match="is a symlink"), store.build_lock(p):
        pass
    assert not target.exists()


def test_pending_entries_are_adopted_only_when_their_files_match(project):
    p = paths.get(project)
    spec = ReportSpec("r", "notebooks/x.ipynb", {}, ("html", "pdf"))
    manifest = store.read_manifest(p)
    entry = store.store_success(p, manifest, spec, outputs(), "abc", {})
    other = {**entry, "id": "s", "outputs": {"html": {"file": "s.html", "sha256": "0" * 64}}}
    # as a kill between the store's steps leaves it: r written but not yet recorded, s never written
    stuck = {"version": store.MANIFEST_VERSION, "reports": {}, "pending": {"r": entry, "s": other}}
    store.write_manifest(p, stuck)
    (p.reports / ".r.html.123.tmp").write_bytes(b"half")
    fixed = store.reconcile(p, store.read_manifest(p))
    assert fixed == {"version": store.MANIFEST_VERSION, "reports": {"r": entry}}
    assert json.loads(p.manifest.read_text()) == fixed
    assert not list(p.reports.glob(".*.tmp"))


STORER = """
import sys
from pathlib import Path
from talentbrief import paths, store
from talentbrief.catalogue import ReportSpec
from talentbrief.jobs import Outputs

p = paths.get(sys.argv[1])
spec = ReportSpec("r", "notebooks/x.ipynb", {}, ("html", "pdf"))
manifest = store.reconcile(p, store.read_manifest(p))
for n in range(10**6):
    body = str(n).encode() * 200_000  # a few hundred KB: writing and fsyncing take a while
    out = Outputs("r", b"<html>" + body, b"%PDF-" + body, b"{}", "T", "en", "2026-11-01", 0.1)
    store.store_success(p, manifest, spec, out, str(n), {})
    if n == 0:
        print("stored", flush=True)
"""


def recorded_files_match(p: paths.Paths) -> None:
    manifest = json.loads(p.manifest.read_text())
    for rid, entry in manifest["reports"].items():
        for out in entry["outputs"].values():
            assert store.sha256_file(p.reports / out["file"]) == out["sha256"], (rid, out["file"])


def test_kills_in_the_store_never_leave_a_manifest_that_disagrees_with_the_files(project):
    """20 SIGKILLs of a process that does nothing but store reports: after each, every file the
    manifest vouches for is on disk as recorded, and the next start reconciles and sweeps."""
    p = paths.get(project)
    rng = random.Random(16)
    for _ in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-c", STORER, str(project)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "stored"
        time.sleep(rng.uniform(0.0, 0.3))
        proc.kill()
        proc.wait()
        proc.stdout.close()
        recorded_files_match(p)
        with store.build_lock(p):
            store.reconcile(p, store.read_manifest(p))
        recorded_files_match(p)
        assert not list(p.reports.glob(".*.tmp"))
        assert "pending" not in json.loads(p.manifest.read_text())


def outputs(rid="r", title="Title", lang="en"):
    return Outputs(rid, b"<html>h</html>", b"%PDF-p", b"{}", title, lang, "2026-11-01", 1.25)


def test_store_success_then_failure_then_success(project):
    p = paths.get(project)
    spec = ReportSpec("r", "notebooks/x.ipynb", {"lang": "en"}, ("html", "pdf"))
    manifest = store.read_manifest(p)
    store.store_success(p, manifest, spec, outputs(), "abc", {"notebook": "n"})
    on_disk = json.loads(p.manifest.read_text())["reports"]["r"]
    assert on_disk["input_sha256"] == "abc" and on_disk["inputs"] == {"notebook": "n"}
    assert on_disk["outputs"]["html"] == {"file": "r.html", "sha256": store.sha256_bytes(b"<html>h</html>")}
    assert store.up_to_date(p, on_disk, "abc", spec.formats)
    assert not store.up_to_date(p, on_disk, "abd", spec.formats)

    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    store.store_failure(p, JobFailure("r", "ValueError: boom", cell=3, executed=json.dumps(nb).encode()))
    assert (
        "cell 3" in (p.failed / "r.txt").read_text()
        and "ValueError: boom" in (p.failed / "r.txt").read_text()
    )
    assert (p.failed / "r.ipynb").is_file() and (p.failed / "r.html").is_file()
    assert (p.reports / "r.html").read_bytes() == b"<html>h</html>"  # the good report stays

    store.store_success(p, manifest, spec, outputs(), "abc", {"notebook": "n"})
    assert not any(p.failed.iterdir())


def test_up_to_date_notices_a_tampered_output(project):
    p = paths.get(project)
    spec = ReportSpec("r", "notebooks/x.ipynb", {}, ("html", "pdf"))
    entry = store.store_success(p, store.read_manifest(p), spec, outputs(), "abc", {})
    (p.reports / "r.pdf").write_bytes(b"%PDF-other")
    assert not store.up_to_date(p, entry, "abc", spec.formats)
    (p.reports / "r.pdf").unlink()
    assert not store.up_to_date(p, entry, "abc", spec.formats)


def test_index_is_escaped_self_contained_and_stable():
    manifest = {"version": 1, "reports": {}}
    for rid, title, lang in [
        ("b-zh", "人才 <b>简报</b>", "zh"),
        ("a-en", '<script>alert(1)</script>"', "en"),
    ]:
        manifest["reports"][rid] = {
            "title": title,
            "lang": lang,
            "as_of": "2026-11-01",
            "outputs": {"html": {"file": f"{rid}.html"}, "pdf": {"file": f"{rid}.pdf"}},
        }
    page = store.index_bytes(manifest, order=["b-zh", "a-en"]).decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in page  # Jinja2 autoescape
    assert "人才 &lt;b&gt;简报&lt;/b&gt;" in page
    assert page.index("b-zh.html") < page.index("a-en.html")
    assert '<html lang="en">' in page and '<td lang="zh">' in page
    assert 'href="a-en.pdf"' in page and "2026-11-01" in page
    assert "http" not in page and "<link" not in page and "src=" not in page
    assert store.index_bytes(manifest, order=["b-zh", "a-en"]).decode() == page
