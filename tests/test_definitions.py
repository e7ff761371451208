"""Checks and derived figures declared beside the data (data/checks.yml, data/derived.yml): the project's
entries evaluate on its data; an entry that cannot be evaluated is refused naming file and id before any
kernel starts; and a new check is a data-only change (the recipe of docs/authoring.md)."""

from __future__ import annotations

import re
import subprocess

import pytest

from talentbrief import checks, definitions, load, paths, validate
from tests.support.project import run_cli

GOOD = """
- id: exam-bounds
  kind: at-most
  figures:
    figure: chemnews22-exam-passes
    limit: chemnews22-exam-applicants
  name: {en: Passes within applications, zh: 通过人数不超过报考人次}
  finding:
    plausible: {en: "Passes ({figure}) within applications ({limit}).", zh: "通过人数（{figure}）不超过报考人次（{limit}）。"}
    fail: {en: "Passes ({figure}) above applications ({limit}).", zh: "通过人数（{figure}）超过报考人次（{limit}）。"}
"""

# a competition promotes only employees who take part: the recipe's check (docs/authoring.md)
RECIPE = """
- id: competition-promotions
  kind: at-most
  figures:
    figure: chemnews22-competition-skill-promotions
    limit: chemnews22-competition-participants
  name:
    en: "Plausibility: promotions within competition participants"
    zh: 合理性检查：晋级人数不超过参赛人数
  finding:
    plausible:
      en: >-
        Employees who moved up a skill level through competitions ({figure}) do not exceed those taking
        part ({limit}). Both are lower bounds, so this shows only that the two figures fit together.
      zh: "通过竞赛提升技能等级的职工（{figure}）不超过参加竞赛的职工（{limit}），两者都是下限，只能说明两个数据并无矛盾。"
    fail:
      en: "More employees moved up a skill level ({figure}) than took part ({limit}): the figures contradict each other."
      zh: "通过竞赛提升技能等级的职工（{figure}）多于参加竞赛的职工（{limit}），两个数据相互矛盾。"
"""


def problems(project, checks_yml=None, derived_yml=None) -> list[str]:
    if checks_yml is not None:
        (project / "data" / "checks.yml").write_text(checks_yml, encoding="utf-8")
    if derived_yml is not None:
        (project / "data" / "derived.yml").write_text(derived_yml, encoding="utf-8")
    return [str(p) for p in validate.validate(paths.get(project))]


@pytest.mark.quick
def test_the_project_entries_are_valid_and_give_their_verdicts_on_its_data(project):
    assert problems(project) == []
    tables = load.load(project)
    results = {e.id: checks.run(e, tables.figures, tables.sources) for e in tables.definitions.of("check")}
    assert {k: r.status for k, r in results.items()} == {
        "composition": "consistent", "restated-plan": "restatement", "exam-bounds": "plausible",
        "first-round-task": "consistent"}
    assert [e.id for e in tables.definitions.of("derived")] == ["first-round-average", "exam-ratio"]


@pytest.mark.quick
def test_no_figure_id_programme_or_indicator_is_left_in_the_library():
    import figures

    ids = set(load.load(paths.get().root).figures[["figure_id", "programme_id", "indicator"]].astype(str).stack())
    ids -= set(figures.UNITS)  # "journals" is an indicator and a unit of the vocabulary
    source = "\n".join(p.read_text(encoding="utf-8") for p in paths.get().src.rglob("*.py"))
    assert sorted(i for i in ids if re.search(rf"[\"'`]{re.escape(i)}[\"'`]", source)) == []
    assert "cn21-first-round-training" in ids  # the test can fail


BAD = [
    # (what to change in GOOD, the message validate gives, naming file, line and check id)
    (("chemnews22-exam-passes", "chemnews22-exam-passess"),
     ("data/checks.yml:2:: check 'exam-bounds': unknown figure id 'chemnews22-exam-passess' "
      "(did you mean 'chemnews22-exam-passes'?)")),
    (("kind: at-most", "kind: at-least"), "check 'exam-bounds': unknown kind 'at-least' (did you mean 'at-most'?)"),
    ((', zh: "通过人数（{figure}）不超过报考人次（{limit}）。"', ""), "check 'exam-bounds': finding.plausible: missing the zh text"),
    (("({limit}).\", zh: \"通过人数（{figure}）不超过", "({limits}).\", zh: \"通过人数（{figure}）不超过"),
     ("check 'exam-bounds': finding.plausible.en: placeholder {limits} is not one this kind provides "
      "({figure}, {limit}, {ratio})")),
    (("  name: {en: Passes within applications, zh: 通过人数不超过报考人次}\n", ""), "check 'exam-bounds': missing required field 'name'"),
    (("  finding:", "  findings:"), "check 'exam-bounds': unknown field 'findings' (did you mean 'finding'?)"),
    (("    fail: {en", "    failed: {en"), "check 'exam-bounds': finding: missing the wording for 'fail'"),
    (("    fail: {en", "    consistent: {en"), "check 'exam-bounds': finding: 'consistent' is not a verdict this kind gives"),
    (("within applications ({limit})", "within 2 applications ({limit})"), "finding.plausible.en: a digit typed"),
    (("figure: chemnews22-exam-passes", "figure: [chemnews22-exam-passes]"), "figures.figure: one figure id"),
    (("limit: chemnews22-exam-applicants", "limits: chemnews22-exam-applicants"),
     "check 'exam-bounds': figures: missing 'limit'"),
    (("id: exam-bounds", "id: Exam bounds"), "id must be a slug"),
    (("{figure}) within", "{figure!r}) within"), "write {figure} without a format or conversion"),
]


@pytest.mark.quick
@pytest.mark.parametrize("change, message", BAD, ids=[m.split(": ")[-1][:40] for _, m in BAD])
def test_an_entry_that_cannot_be_evaluated_is_refused_naming_file_and_id(project, change, message):
    assert problems(project, GOOD) == []
    bad = GOOD.replace(*change)
    assert bad != GOOD
    found = problems(project, bad)
    assert any(message in p and p.startswith("data/checks.yml:") for p in found), found


@pytest.mark.quick
@pytest.mark.parametrize("yml, message", [
    (GOOD + GOOD, "data/checks.yml:12:: check 'exam-bounds': duplicate id"),
    ("- &a {id: x}\n- *a\n", "YAML aliases (*name) are not allowed"),
    ("checks: []\n", "expected a list of entries"),
    ("- id: [x\n", "not valid YAML"),
    ("- just a string\n", "check at this line: an entry must be a mapping"),
])
def test_a_file_that_is_not_a_list_of_entries_is_refused(project, yml, message):
    found = problems(project, yml)
    assert any(message in p for p in found), found


@pytest.mark.quick
@pytest.mark.parametrize("entry, message", [
    # parts in different units (people and applications)
    ("{id: s, kind: parts-sum, figures: {total: chemnews22-exam-passes, parts: [chemnews22-exam-applicants]}",
     "check 's': figures in different units (applications, persons) cannot be compared"),
    # a restatement the data does not link (figures.csv `restates`)
    ("{id: r, kind: restatement, figures: {original: chemnews22-exam-passes, restated: chemnews22-exam-applicants}",
     "check 'r': figure 'chemnews22-exam-applicants' does not restate 'chemnews22-exam-passes'"),
    # a yearly average of a total whose period has no end
    ("{id: a, kind: average-meets-task, figures: {total: chemnews22-exam-passes, task: chemnews22-exam-passes}",
     "check 'a': figure 'chemnews22-exam-passes' (total) has no period_end"),
])
def test_figures_a_kind_cannot_use_are_refused(project, entry, message):
    kind = re.search(r"kind: ([\w-]+)", entry).group(1)
    wording = ", ".join(f'{v}: {{en: "x", zh: "x"}}' for v in checks.KINDS[kind].wording)
    found = problems(project, f"- {entry}, name: {{en: x, zh: x}}, finding: {{{wording}}}}}\n")
    assert any(message in p for p in found), found


@pytest.mark.quick
def test_derived_figures_are_validated_the_same_way(project):
    text = (project / "data" / "derived.yml").read_text(encoding="utf-8")
    found = problems(project, derived_yml=text.replace("{plan}.", "{planned}.").replace("kind: ratio", "kind: ratios"))
    assert any("data/derived.yml:" in p and "derived 'first-round-average': text.en: placeholder {planned} is not "
               "one this kind provides ({value}, {total}, {period}, {plan})" in p for p in found), found
    assert any("derived 'exam-ratio': unknown kind 'ratios'" in p for p in found), found
    found = problems(project, derived_yml=text.replace("  caveat:\n    en: >-\n      Person", "  caveats:\n    en: >-\n      Person"))
    assert any("derived 'first-round-average': missing required field 'caveat'" in p for p in found), found


@pytest.mark.quick
def test_validate_command_refuses_with_exit_2_naming_file_and_check(project):
    checks_yml = project / "data" / "checks.yml"
    checks_yml.write_text(checks_yml.read_text(encoding="utf-8").replace(
        "figure: chemnews22-exam-passes", "figure: chemnews22-exam-passess"), encoding="utf-8")
    result = run_cli(project, "validate")
    assert result.returncode == 2
    assert re.search(r"data/checks\.yml:\d+:: check 'exam-bounds': unknown figure id 'chemnews22-exam-passess'",
                     result.stderr), result.stderr


@pytest.mark.quick
def test_the_reader_reports_lines_and_a_missing_file_has_no_entries(tmp_path):
    (tmp_path / "c.yml").write_text("# a comment\n\n- id: a\n  kind: x\n\n- id: b\n", encoding="utf-8")
    entries, found, sha = definitions.read(tmp_path / "c.yml")
    assert [line for line, _ in entries] == [3, 6] and found == [] and len(sha) == 64
    assert definitions.read(tmp_path / "none.yml") == ([], [], None)


# ---------------------------------------------------------------- the recipe (docs/authoring.md)

def git(root, *args) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root,
                          capture_output=True, text=True, check=True).stdout


def test_recipe_add_a_consistency_check_is_a_data_only_change(project):
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "the project as it is")
    reports = ["audit-en", "audit-zh", "programme-skills-competitions-en", "programme-skills-competitions-zh",
               "overview-en"]
    first = run_cli(project, "build", *reports)
    assert first.returncode == 0, first.stdout + first.stderr

    with open(project / "data" / "checks.yml", "a", encoding="utf-8") as f:
        f.write(RECIPE)
    assert run_cli(project, "validate").returncode == 0
    second = run_cli(project, "build", *reports)
    assert second.returncode == 0, second.stdout + second.stderr
    # the reports that show the new check are rebuilt; the overview shows no check and is not
    assert re.search(r"\b4 built, 1 up to date\b", second.stdout + second.stderr), second.stdout + second.stderr

    said = {"en": ("Plausibility: promotions within competition participants", "≈ Plausible",
                   ("Employees who moved up a skill level through competitions (more than 1.5 million people) "
                    "do not exceed those taking part (more than 10 million people).")),
            "zh": ("合理性检查：晋级人数不超过参赛人数", "≈ 合理",
                   "通过竞赛提升技能等级的职工（150万余人）不超过参加竞赛的职工（1000万余人），")}
    for rid in reports[:4]:
        html = (project / "reports" / f"{rid}.html").read_text(encoding="utf-8")
        row = re.search(r'<tr class="tb-check tb-check-plausible" data-check="competition-promotions"'
                        r' data-figure-ids="chemnews22-competition-skill-promotions chemnews22-competition-participants"'
                        r">(.*?)</tr>", html, re.DOTALL)
        assert row, rid
        text = re.sub(r"<[^>]+>", "", row.group(1))
        assert all(s in text for s in said[rid[-2:]]), (rid, text)
    assert git(project, "diff", "--stat", "src/") == ""
    assert git(project, "status", "--porcelain", "--", "src/") == ""


DERIVED_RECIPE = """
- id: competition-promotion-share
  kind: ratio
  figures:
    numerator: chemnews22-competition-skill-promotions
    denominator: chemnews22-competition-participants
  name:
    en: The share of competition participants promoted
    zh: 竞赛晋级人数与参赛人数之比
  text:
    en: "Employees promoted through competitions ({numerator}) set against those taking part ({denominator}) give {value}."
    zh: "通过竞赛提升技能等级的职工（{numerator}）与参加竞赛的职工（{denominator}）相比，为{value}。"
  caveat:
    en: "Both figures are lower bounds, so this is not the share of participants who were promoted."
    zh: "两个数据都是下限，此比值并非参赛职工的晋级比例。"
"""

SENTENCE = {"en": "Competitions promoted about {eval}`promotion_share` of the employees who took part.",
            "zh": "参加竞赛的职工中，通过竞赛提升技能等级的比例约为{eval}`promotion_share`。"}


def test_recipe_add_a_derived_figure_used_in_a_sentence_is_a_data_and_notebook_change(project):
    import nbformat

    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "the project as it is")
    with open(project / "data" / "derived.yml", "a", encoding="utf-8") as f:
        f.write(DERIVED_RECIPE)
    nb = nbformat.read(project / "notebooks" / "overview.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if 'report.derived("exam-ratio")' in c.source) + 1
    nb.cells[at:at] = [nbformat.v4.new_code_cell('promotion_share = report.derived("competition-promotion-share")')]
    for lang in ("en", "zh"):
        cell = nbformat.v4.new_markdown_cell(SENTENCE[lang])
        cell.metadata["tags"] = [f"lang-{lang}"]
        nb.cells.insert(at + 1 + (lang == "zh"), cell)
    nbformat.write(nb, project / "notebooks" / "overview.ipynb")

    result = run_cli(project, "build", "overview-en", "overview-zh", "audit-en")
    assert result.returncode == 0, result.stdout + result.stderr
    value = {"en": "15% (computed: 1.5 million ÷ 10 million)", "zh": "15%（据此计算：150万÷1000万）"}
    for lang in ("en", "zh"):
        html = (project / "reports" / f"overview-{lang}.html").read_text(encoding="utf-8")
        shown = re.sub(r"<template\b.*?</template>|<[^>]+>", "", html, flags=re.DOTALL)
        before = SENTENCE[lang].split("{eval}")[0]
        assert before + value[lang] in shown, lang
        # set apart as computed, carrying its inputs' ids, with a note saying how
        assert re.search(r'<span class="tb-computed" data-computed="competition-promotion-share" data-figure-ids='
                         r'"chemnews22-competition-skill-promotions chemnews22-competition-participants"', html)
    audit = (project / "reports" / "audit-en.html").read_text(encoding="utf-8")
    assert "Employees promoted through competitions" in re.sub(r"<[^>]+>", "", audit)  # its sentence, in the audit
    # the executed notebook records what each {eval} wrote, as the report shows it
    executed = nbformat.read(project / "reports" / "_executed" / "overview-en.ipynb", as_version=4)
    written = [o.metadata["talentbrief"]["eval"] for c in executed.cells for o in c.get("outputs", ())
               if "eval" in o.get("metadata", {}).get("talentbrief", {})]
    shared = next(w["promotion_share"] for w in written if "promotion_share" in w)
    assert 'data-computed="competition-promotion-share"' in shared and value["en"] in shared
    assert git(project, "diff", "--stat", "src/") == ""
    assert git(project, "status", "--porcelain", "--", "src/") == ""
