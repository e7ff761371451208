"""fingerprint: what a worker runs is named by content, so a stale worker is recognised."""

from __future__ import annotations

import shutil
import sys

import pytest

from talentbrief import fingerprint

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

MODULES = ("engine.py", "render.py")


def test_code_changes_with_a_module_or_a_template_but_not_with_bytecode(tmp_path, monkeypatch):
    package = tmp_path / "talentbrief"
    shutil.copytree(fingerprint.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "PACKAGE", package)
    before = fingerprint.code(MODULES)
    assert before == fingerprint.code(MODULES)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "render.cpython-311.pyc").write_bytes(b"\0")
    (package / "templates" / "__pycache__").mkdir()
    (package / "templates" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert fingerprint.code(MODULES) == before
    (package / "checks.py").write_text("# not a worker module\n", encoding="utf-8")
    assert fingerprint.code(MODULES) == before
    with open(package / "render.py", "a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    edited = fingerprint.code(MODULES)
    assert edited != before
    css = next((package / "templates").rglob("*.css"))
    css.write_text(css.read_text(encoding="utf-8") + "\n/* edited */\n", encoding="utf-8")
    assert fingerprint.code(MODULES) not in (before, edited)


def test_environment_changes_when_a_distribution_is_installed(tmp_path, monkeypatch):
    site = tmp_path / "lib" / "site-packages"
    (site / "demo-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    before = fingerprint.environment()
    assert before == fingerprint.environment()
    (site / "demo-1.0.dist-info").rename(site / "demo-1.1.dist-info")
    assert fingerprint.environment() != before
