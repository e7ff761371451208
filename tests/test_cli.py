"""The CLI's own contract: a folder that is not a project is bad input for every command (exit 2)."""

import pytest

from tests.support.project import run_cli


@pytest.mark.parametrize("command", [["validate"], ["build"], ["list"], ["diff"]])
def test_not_a_project_exits_2_with_a_message(tmp_path, command):
    result = run_cli(tmp_path, *command)
    assert result.returncode == 2, result.stderr
    assert "no talentbrief project" in result.stderr
    assert "Traceback" not in result.stderr
