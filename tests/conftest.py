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


@pytest.fixture(scope="module")
def built_tables(built_project):
    """The data of the whole-catalogue build (`built_project`), loaded."""
    from talentbrief import load

    return load.load(built_project)


@pytest.fixture(scope="module")
def built_pages(built_project) -> dict[str, str]:
    """{report id: html} of every report of the whole-catalogue build (index.html left out)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((built_project / "reports").glob("*.html"))
            if p.stem != "index"}
