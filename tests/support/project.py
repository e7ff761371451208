"""Shared fixtures: every test works on a temporary copy of the project, never on the checkout.

Loaded for the whole suite through pyproject's `-p tests.support.project`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
SEEDS = CHECKOUT.parent / "shared" / "seeds"
# What a project copy needs: inputs only, never reports/ or the virtualenv.
PROJECT_ITEMS = ("data", "notebooks", "src", "reports.yml", "requirements.lock", "pyproject.toml")


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")
    for item in PROJECT_ITEMS:
        src = CHECKOUT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / item)
    (dest / "reports").mkdir(exist_ok=True)
    return dest


def run_cli(root: Path, *args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `talentbrief --root ROOT ARGS...` as a user would, in a separate process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TALENTBRIEF_ROOT", None)
    return subprocess.run(
        [sys.executable, "-m", "talentbrief", "--root", str(root), *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, cwd=root,
    )


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
