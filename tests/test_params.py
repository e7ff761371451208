"""Notebook parameters: read from the parameters cell, and the build's type/name check."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from talentbrief import params
from talentbrief.catalogue import ReportSpec
from tests.support.project import run_cli

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

HERE = Path(__file__).parent
HELLO = "tests/data/notebooks/hello.ipynb"


def notebook(tmp_path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def spec(notebook: str, **parameters) -> ReportSpec:
    return ReportSpec("r1", notebook, parameters)


ROOT = HERE.parent


def test_inspect_reads_types_defaults_and_help():
    infos = params.inspect(HERE / "data" / "notebooks" / "hello.ipynb")
    assert list(infos) == ["lang", "as_of", "count", "programme"]
    assert infos["lang"].type == "str" and infos["lang"].default == '"en"'
    assert infos["lang"].help == "language of the report; one of: en, zh"
    assert infos["lang"].choices == ("en", "zh")
    assert infos["count"].type == "int"
    assert infos["programme"].type == "None"


def test_annotations_win_over_defaults(tmp_path):
    infos = params.inspect(
        notebook(tmp_path, "a: float = 1\nb: str | None = None\nc: list[str] = []\nd = 0.5")
    )
    assert (infos["a"].type, infos["b"].type, infos["b"].optional, infos["c"].type) == (
        "float",
        "str",
        True,
        "list",
    )
    assert infos["d"].type == "float"


def test_inspect_cache_follows_content(tmp_path):
    path = notebook(tmp_path, "x = 1")
    assert params.inspect(path)["x"].type == "int"
    path.unlink()
    path = notebook(tmp_path, 'x = "one"')
    assert params.inspect(path)["x"].type == "str"


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"langauge": "en"}, "unknown parameter 'langauge'"),
        ({"count": "3"}, "parameter 'count' expects int"),
        ({"count": True}, "parameter 'count' expects int"),
        ({"count": 1.5}, "parameter 'count' expects int"),
        ({"lang": 1}, "parameter 'lang' expects str"),
        ({"lang": None}, "parameter 'lang' expects str"),
        ({"lang": "fr"}, "parameter 'lang' must be one of en, zh, got 'fr'"),
    ],
)
def test_check_rejects_naming_report_and_parameter(values, fragment):
    problems = params.check(spec(HELLO, **values), ROOT)
    assert len(problems) == 1
    assert "report 'r1'" in problems[0] and fragment in problems[0]


def test_check_accepts_matching_values():
    ok = spec(HELLO, lang="zh", as_of="2026-11-01", count=3, programme="sme-management")
    assert params.check(ok, ROOT) == []


def test_check_float_takes_int_and_optional_takes_none(tmp_path):
    path = notebook(tmp_path, "a: float = 1.0\nb: int | None = 3\nflag = False")
    assert params.check(spec(str(path), a=2, b=None, flag=True), tmp_path) == []
    assert params.check(spec(str(path), flag=1), tmp_path)[0].endswith("got int 1")


def test_domains_are_declared_in_the_help_comment(tmp_path):
    path = notebook(
        tmp_path,
        'mode = None  # how to draw; one of: 1, 2.5, "x y", plain\nlang = "en"  # en or zh, free text\n',
    )
    infos = params.inspect(path)
    assert infos["mode"].choices == (1, 2.5, "x y", "plain")
    assert infos["lang"].choices == ()
    assert params.check(spec(str(path), mode="plain", lang="fr"), tmp_path) == []
    assert "must be one of 1, 2.5, x y, plain, got 3" in params.check(spec(str(path), mode=3), tmp_path)[0]


def test_params_command_prints_name_type_default_help(project):
    result = run_cli(project, "params", str(HERE / "data" / "notebooks" / "hello.ipynb"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "type", "default", "help"]
    assert lines[1].split(None, 3) == ["lang", "str", '"en"', "language of the report; one of: en, zh"]
    assert lines[3].split(None, 3) == ["count", "int", "1", "a number shown in the report"]


def test_params_command_missing_notebook_exits_2(project):
    result = run_cli(project, "params", "notebooks/nope.ipynb")
    assert result.returncode == 2
    assert "no notebook notebooks/nope.ipynb" in result.stdout
