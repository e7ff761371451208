"""Repository hygiene: notebooks are committed clean, and the pre-commit hooks that keep them so work."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.project import CHECKOUT

NOTEBOOKS = ("overview", "programme", "audit")
VENV_BIN = CHECKOUT / ".venv" / "bin"


def _committed_notebooks() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "notebooks/*.ipynb"], cwd=CHECKOUT, capture_output=True, text=True, check=True
    ).stdout
    return [CHECKOUT / line for line in out.splitlines() if line.strip()]


def _load(path: Path) -> dict:
    # the committed version, not whatever is in the working tree
    rel = path.relative_to(CHECKOUT).as_posix()
    blob = subprocess.run(
        ["git", "show", f"HEAD:{rel}"], cwd=CHECKOUT, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(blob)


def test_report_notebooks_are_committed():
    names = {p.stem for p in _committed_notebooks()}
    missing = [n for n in NOTEBOOKS if n not in names]
    assert not missing, f"notebooks not committed under notebooks/: {missing}"


def test_committed_notebooks_have_no_outputs():
    notebooks = _committed_notebooks()
    assert notebooks, "no notebook is committed under notebooks/"
    for path in notebooks:
        nb = _load(path)
        for n, cell in enumerate(nb["cells"], start=1):
            if cell["cell_type"] != "code":
                continue
            assert cell.get("outputs") == [], f"{path.name} cell {n} is committed with outputs"
            assert cell.get("execution_count") is None, (
                f"{path.name} cell {n} is committed with an execution count"
            )
        assert "papermill" not in nb.get("metadata", {}), f"{path.name} is an executed (papermill) notebook"


def test_every_notebook_has_a_parameters_cell():
    notebooks = _committed_notebooks()
    assert notebooks, "no notebook is committed under notebooks/"
    for path in notebooks:
        nb = _load(path)
        tagged = [
            c
            for c in nb["cells"]
            if c["cell_type"] == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
        ]
        assert len(tagged) == 1, (
            f"{path.name}: expected one code cell tagged 'parameters', found {len(tagged)}"
        )


def test_pre_commit_config_has_ruff_and_nbstripout():
    config = yaml.safe_load((CHECKOUT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {h["id"]: (repo["repo"], h) for repo in config["repos"] for h in repo["hooks"]}
    for hook_id in ("ruff", "nbstripout"):
        assert hook_id in hooks, f".pre-commit-config.yaml has no {hook_id} hook"
        repo, hook = hooks[hook_id]
        # local hooks running the pinned tools from .venv: no network needed
        assert repo == "local" and hook.get("language") == "system", f"{hook_id}: use a local, system hook"
        tool = hook["entry"].split()[0]
        assert (CHECKOUT / tool).name in {"ruff", "nbstripout"}


def test_pre_commit_hooks_strip_outputs_and_lint(tmp_path: Path):
    """Run the real hooks in a scratch repository: a notebook with outputs is stripped, a lint error caught."""
    for tool in ("pre-commit", "ruff", "nbstripout"):
        if not (VENV_BIN / tool).exists():
            pytest.fail(f"{tool} is missing from .venv; install it with: make bootstrap")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    shutil.copy2(CHECKOUT / ".pre-commit-config.yaml", repo / ".pre-commit-config.yaml")
    shutil.copy2(CHECKOUT / "pyproject.toml", repo / "pyproject.toml")
    (repo / ".venv").symlink_to(CHECKOUT / ".venv")
    (repo / ".gitignore").write_text(".venv\n")
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 3,
                "id": "a1",
                "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["secret output\n"]}],
                "source": ["print('secret output')"],
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (repo / "dirty.ipynb").write_text(json.dumps(nb, indent=1) + "\n")
    (repo / "bad.py").write_text("import os\n")  # F401: unused import
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True, env=env)
    result = subprocess.run(
        [str(VENV_BIN / "pre-commit"), "run", "--all-files"],
        check=False,
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"pre-commit passed a dirty notebook and a lint error:\n{out}"
    stripped = json.loads((repo / "dirty.ipynb").read_text())
    assert stripped["cells"][0]["outputs"] == [], f"nbstripout did not strip outputs:\n{out}"
    assert stripped["cells"][0]["execution_count"] is None
    assert "F401" in out, f"ruff did not report the unused import:\n{out}"


def _pinned(lock: str) -> dict[str, str]:
    out = {}
    for line in (CHECKOUT / lock).read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            out[name.strip().lower().replace("_", "-")] = version.split(";")[0].strip()
    return out


def test_the_runtime_lock_holds_only_what_a_build_needs():
    runtime = _pinned("requirements.lock")
    for tool in ("pytest", "playwright", "nbval", "ruff", "pre-commit", "dask", "distributed", "jupyterlab",
                 "pyinstrument", "axe-playwright-python"):
        assert tool not in runtime, f"requirements.lock (make reports, cron) installs {tool}"
    for needed in ("pandas", "matplotlib", "seaborn", "papermill", "nbconvert", "weasyprint", "frictionless"):
        assert needed in runtime, f"requirements.lock lacks {needed}"


@pytest.mark.parametrize("lock, extra", [("requirements-lab.lock", "jupyterlab"), ("requirements-dask.lock", "dask"),
                                         ("requirements-test.lock", "pytest")])
def test_each_extra_lock_adds_its_packages_at_the_runtime_versions(lock, extra):
    runtime, pinned = _pinned("requirements.lock"), _pinned(lock)
    assert extra in pinned
    moved = {name: (version, pinned.get(name)) for name, version in runtime.items() if pinned.get(name) != version}
    assert not moved, f"{lock} pins runtime packages at other versions: {moved}"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root / "src")}  # this copy's talentbrief, not the installed one
    return subprocess.run([str(exe), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_import_contracts_hold_and_catch_a_reverse_import(tmp_path: Path):
    root = tmp_path / "copy"
    shutil.copytree(CHECKOUT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CHECKOUT / "pyproject.toml", root / "pyproject.toml")
    kept = _lint_imports(root)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    text = root / "src" / "talentbrief" / "text.py"  # the report side's words module importing the build
    text.write_text(text.read_text(encoding="utf-8") + "\n\ndef _reverse():\n    from talentbrief import build  # noqa\n",
                    encoding="utf-8")
    broken = _lint_imports(root)
    assert broken.returncode != 0
    assert "talentbrief.text is not allowed to import talentbrief.build" in broken.stdout, broken.stdout
    assert "No import cycles between the modules BROKEN" in broken.stdout  # build imports text's users
