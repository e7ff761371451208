"""The CLI's own contract: a folder that is not a project is bad input for every command (exit 2)."""

import pytest

from tests.support.project import run_cli

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


@pytest.mark.parametrize("command", [["validate"], ["build"], ["list"], ["diff"]])
def test_not_a_project_exits_2_with_a_message(tmp_path, command):
    result = run_cli(tmp_path, *command)
    assert result.returncode == 2, result.stderr
    assert "no talentbrief project" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_one_report_end_to_end(project):
    """The quick tier's end-to-end check: one report built from the CLI, HTML and PDF, then up to date."""
    result = run_cli(project, "build", "programme-vocational-skills-en")
    assert result.returncode == 0, result.stdout + result.stderr
    html = (project / "reports" / "programme-vocational-skills-en.html").read_text(encoding="utf-8")
    assert "<h1>" in html and 'data-figure-ids="' in html
    assert (project / "reports" / "programme-vocational-skills-en.pdf").read_bytes().startswith(b"%PDF")
    again = run_cli(project, "build", "programme-vocational-skills-en")
    assert again.returncode == 0 and "0 built, 1 up to date" in again.stdout + again.stderr
