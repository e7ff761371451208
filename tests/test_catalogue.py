"""reports.yml: grids expand into the reports we expect, and every kind of bad entry is refused by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from talentbrief import catalogue, paths
from talentbrief.catalogue import CatalogueError

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

HERE = Path(__file__).parent
BAD = sorted((HERE / "data" / "catalogues").glob("*.yml"))
PROGRAMMES = [
    "vocational-skills",
    "knowledge-update",
    "digital-engineers",
    "software-exams",
    "sme-management",
    "online-learning",
    "skills-competitions",
    "talent-needs-research",
    "cmrs-materials-training",
]


def expectation(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ")


def with_fixture_notebooks(root: Path) -> paths.Paths:
    (root / "notebooks").mkdir(exist_ok=True)
    for nb in (HERE / "data" / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, root / "notebooks" / nb.name)
    return paths.get(root)


def write(root: Path, text: str) -> None:
    (root / "reports.yml").write_text(text, encoding="utf-8")


def test_real_catalogue_expands_to_every_report(project):
    for name in ("overview", "programme", "audit"):  # only expansion is under test here
        target = project / "notebooks" / f"{name}.ipynb"
        if not target.exists():
            nbformat.write(nbformat.v4.new_notebook(), target)
    specs = catalogue.load(paths.get(project))
    ids = [s.id for s in specs]
    expected = (
        ["overview-en", "overview-zh"]
        + [f"programme-{p}-{lang}" for p in PROGRAMMES for lang in ("en", "zh")]
        + ["audit-en", "audit-zh"]
    )
    assert ids == expected
    by_id = {s.id: s for s in specs}
    assert by_id["programme-sme-management-zh"].parameters == {
        "as_of": "2026-11-01",
        "programme": "sme-management",
        "lang": "zh",
    }
    assert by_id["overview-en"].notebook == "notebooks/overview.ipynb"
    assert all(s.formats == ("html", "pdf") for s in specs)


def test_grid_expands_in_order_with_shared_and_fixed_parameters(project):
    p = with_fixture_notebooks(project)
    write(
        project,
        """
parameters: {as_of: 2026-11-01, count: 1}
reports:
  - id: a-{lang}-{count}
    notebook: notebooks/hello.ipynb
    parameters: {count: 7}
    grid: {lang: [en, zh]}
    formats: [pdf]
  - id: b
    notebook: notebooks/hello.ipynb
""",
    )
    specs = catalogue.load(p)
    assert [s.id for s in specs] == ["a-en-7", "a-zh-7", "b"]
    assert specs[1].parameters == {"as_of": "2026-11-01", "count": 7, "lang": "zh"}
    assert specs[0].formats == ("pdf",)
    assert specs[2].formats == ("html", "pdf")
    assert specs[2].parameters == {"as_of": "2026-11-01", "count": 1}  # unquoted YAML date -> ISO str


@pytest.mark.parametrize("bad", [b for b in BAD if not b.name.startswith("param_")], ids=lambda b: b.stem)
def test_bad_catalogue_is_refused_naming_the_problem(project, bad):
    p = with_fixture_notebooks(project)
    shutil.copy(bad, project / "reports.yml")
    with pytest.raises(CatalogueError) as info:
        catalogue.load(p)
    assert expectation(bad) in str(info.value)


def test_every_problem_is_reported_at_once(project):
    p = with_fixture_notebooks(project)
    write(
        project,
        """
reports:
  - id: BAD
    notebook: notebooks/hello.ipynb
  - id: fine
    notebook: notebooks/missing.ipynb
  - id: other
    notebook: notebooks/hello.ipynb
    colour: red
""",
    )
    with pytest.raises(CatalogueError) as info:
        catalogue.load(p)
    text = str(info.value)
    assert len(info.value.messages) == 3
    assert "entry 1 ('BAD')" in text and "bad id 'BAD'" in text
    assert "entry 2 ('fine')" in text and "does not exist" in text
    assert "entry 3 ('other')" in text and "unknown key 'colour'" in text


@pytest.mark.parametrize("bad_id", ["../../etc/x", "a/b", "a..b", "-lead", "", "UPPER", "sp ace", "a\\b"])
def test_check_id_refuses_unsafe_ids(bad_id):
    assert catalogue.check_id(bad_id) is not None


@pytest.mark.parametrize("good_id", ["a", "overview-en", "programme-sme-management-zh", "2026-report"])
def test_check_id_accepts_slugs(good_id):
    assert catalogue.check_id(good_id) is None


def test_as_of_override_replaces_every_as_of(project):
    p = with_fixture_notebooks(project)
    write(
        project,
        """
parameters: {as_of: "2026-11-01"}
reports:
  - {id: a, notebook: notebooks/hello.ipynb}
  - {id: b, notebook: notebooks/hello.ipynb, parameters: {as_of: "2025-01-01"}}
""",
    )
    specs = catalogue.with_as_of(catalogue.load(p), "2027-01-31")
    assert [s.parameters["as_of"] for s in specs] == ["2027-01-31", "2027-01-31"]
