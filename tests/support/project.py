"""Shared fixtures: every test works on a temporary copy of the project, never on the checkout.

Loaded for the whole suite through pyproject's `-p tests.support.project`.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from talentbrief.paths import copy_inputs

CHECKOUT = Path(__file__).resolve().parents[2]
SEEDS = CHECKOUT.parent / "shared" / "seeds"
def copy_project(dest: Path) -> Path:
    return copy_inputs(CHECKOUT, dest)


def run_cli(root: Path, *args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `talentbrief --root ROOT ARGS...` as a user would, in a separate process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TALENTBRIEF_ROOT", None)
    return subprocess.run(
        [sys.executable, "-m", "talentbrief", "--root", str(root), *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, cwd=root, check=False,
    )


def rewrite_csv(path: Path, change) -> None:
    """Edit a data CSV the way an analyst would: `change(rows)` mutates a list of dicts in place."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        rows = list(reader)
    change(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project's inputs (data, notebooks, src, catalogue) in a temp dir."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """The whole catalogue built once (HTML + PDF) in a temp copy; shared by browser and PDF tests."""
    root = copy_project(tmp_path_factory.mktemp("built") / "project")
    result = run_cli(root, "build", "--quiet", timeout=1200)
    if result.returncode != 0:
        pytest.fail(f"building the catalogue failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return root
