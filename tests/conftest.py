"""Suite-wide fixtures beyond tests/support/project.py (which provides `project`, `run_cli`, SEEDS)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.project import CHECKOUT


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A minimal project (data/ and reports.yml) in a temp dir: enough for validate and load, and fast."""
    root = tmp_path / "project"
    shutil.copytree(CHECKOUT / "data", root / "data")
    shutil.copy2(CHECKOUT / "reports.yml", root / "reports.yml")
    return root
