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


@pytest.fixture(scope="session", autouse=True)
def _private_memo(tmp_path_factory):
    """The suite's own talentbrief.memo cache (inherited by every build it starts), never the user's."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
