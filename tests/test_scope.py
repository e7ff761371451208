"""scope.select: the rows a report reads, and nothing else (the build's incremental hashing relies on it)."""

import dataclasses

import pytest

from talentbrief import load, rules, scope
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def ids(tables):
    return set(tables.figures["figure_id"])


def test_as_of_drops_later_sources_and_their_figures():
    selected = scope.select(make_tables(), as_of="2023-01-01")
    assert "gmw-2023-digital-engineers" not in set(selected.sources["source_id"])
    assert "cmrs-2023-vocational-training" not in set(selected.sources["source_id"])
    assert "f-de-2023" not in ids(selected) and "f-cmrs" not in ids(selected)
    assert {"f-voc", "f-ku-1", "f-de-2021"} <= ids(selected)


def test_as_of_keeps_a_source_published_that_day():
    selected = scope.select(make_tables(), as_of="2023-10-07")
    assert "f-de-2023" in ids(selected)


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01", "", None])
def test_bad_as_of_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="ISO date"):
        scope.select(make_tables(), as_of=bad)


def test_programme_scope_has_its_rows_and_not_other_programmes():
    selected = scope.select(make_tables(), as_of="2026-11-01", programme="software-exams")
    assert ids(selected) == {"f-ex-app", "f-ex-pass"}
    assert set(selected.sources["source_id"]) == {"chemnews-2022-miit-talent"}
    assert "vocational-skills" not in set(selected.programmes["programme_id"])


def test_programme_scope_includes_rows_its_checks_use_from_other_programmes():
    selected = scope.select(make_tables(), as_of="2026-11-01", programme="knowledge-update")
    # the composition check reads the digital-engineers part from the plan's own source
    assert "f-de-2021" in ids(selected)
    assert "f-de-2023" not in ids(selected)
    assert "digital-engineers" in set(selected.programmes["programme_id"])
    assert "gmw-2023-digital-engineers" not in set(selected.sources["source_id"])


def test_digital_engineers_scope_has_the_rows_of_every_check_involving_its_figures():
    selected = scope.select(make_tables(), as_of="2026-11-01", programme="digital-engineers")
    # its two reports of the plan (the restated-plan check), and the composition its 2021 plan is a part of
    assert ids(selected) == {"f-de-2021", "f-de-2023", "f-ku-total", "f-ku-adv", "f-ku-cap"}


def test_a_programme_no_check_or_derived_figure_involves_has_its_own_rows_only():
    assert ids(scope.select(make_tables(), as_of="2026-11-01", programme="vocational-skills")) == {"f-voc"}
    bare = dataclasses.replace(make_tables(), definitions=None)  # tables built without definitions
    assert ids(scope.select(bare, as_of="2026-11-01", programme="digital-engineers")) == {"f-de-2021", "f-de-2023"}


def test_a_check_declared_in_the_yaml_brings_its_rows_into_the_briefs_it_involves(tmp_path):
    import shutil

    from talentbrief.paths import Paths
    from tests.content_tables import DECLARED

    shutil.copytree(DECLARED.data, tmp_path / "data")
    with open(tmp_path / "data" / "checks.yml", "a", encoding="utf-8") as f:
        f.write("""
- id: voc-within-exams
  kind: at-most
  figures: {figure: f-voc, limit: f-ex-app}
  name: {en: Skilled workers within applications, zh: 技能人才不超过报考人次}
  finding:
    plausible: {en: "{figure} within {limit}.", zh: "{figure}不超过{limit}。"}
    fail: {en: "{figure} above {limit}.", zh: "{figure}超过{limit}。"}
""")
    tables = make_tables(declared_in=Paths(tmp_path))
    assert ids(scope.select(tables, as_of="2026-11-01", programme="vocational-skills")) == {"f-voc", "f-ex-app"}
    assert ids(scope.select(tables, as_of="2026-11-01", programme="software-exams")) == {"f-ex-app", "f-ex-pass", "f-voc"}


def test_unknown_programme_names_the_allowed_ones():
    with pytest.raises(ValueError, match="vocational-skills") as error:
        scope.select(make_tables(), as_of="2026-11-01", programme="no-such-programme")
    assert "advanced-manufacturing-training" not in str(error.value)  # it has no figures, so no brief


def test_changing_a_row_changes_only_the_scopes_that_read_it():
    before, after = make_tables(), make_tables(change={"f-voc": {"value": 2_600_000}})

    def fp(tables, programme):
        return load.fingerprint(scope.select(tables, as_of="2026-11-01", programme=programme))

    assert fp(before, "vocational-skills") != fp(after, "vocational-skills")
    assert fp(before, "software-exams") == fp(after, "software-exams")
    assert fp(before, "knowledge-update") == fp(after, "knowledge-update")
    assert fp(before, None) != fp(after, None)


def test_changing_a_component_row_rebuilds_the_programme_whose_check_reads_it():
    before, after = make_tables(), make_tables(change={"f-de-2021": {"value": 90_000}})

    def fp(tables, programme):
        return load.fingerprint(scope.select(tables, as_of="2026-11-01", programme=programme))

    assert fp(before, "knowledge-update") != fp(after, "knowledge-update")
    assert fp(before, "software-exams") == fp(after, "software-exams")


def test_programme_scope_includes_the_row_a_restatement_restates():
    # the later report of a plan, filed under another programme, still shows with the plan it restates
    tables = make_tables(change={"f-de-2023": {"programme_id": "vocational-skills"}})
    ids = set(scope.select(tables, as_of="2026-11-01", programme="vocational-skills").figures["figure_id"])
    assert {"f-de-2023", "f-de-2021"} <= ids
    sources = set(scope.select(tables, as_of="2026-11-01", programme="vocational-skills").sources["source_id"])
    assert "cn-2021-knowledge-update" in sources


def test_load_reads_inferred_and_restated_ids():
    tables = make_tables()
    row = tables.figures.set_index("figure_id").loc["f-ex-app"].to_dict()
    assert rules.inferred(row) == {"period_start"}
    assert rules.inferred({"inferred": float("nan")}) == frozenset()
    assert rules.restated_ids(tables.figures, ["f-de-2023", "f-voc"]) == {"f-de-2021"}
