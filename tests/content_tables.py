"""Small Tables fixtures for the report-content tests (scope, metrics, checks, trace, text, briefing).

Values are written by hand from the sources (issue 5), not copied from data/: tests never read data/.
`make_tables(**overrides)` lets a test alter one figure row to make a check fail. The checks and derived
figures are those of data/ with these figure ids (tests/data/content/data/checks.yml, derived.yml).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from talentbrief import definitions
from talentbrief.load import Tables
from talentbrief.paths import Paths

DECLARED = Paths(Path(__file__).parent / "data" / "content")  # its data/checks.yml and data/derived.yml

SOURCES = [
    # source_id, publisher, title, title_en, date_published, language
    ("chemnews-2022-miit-talent", "China Chemical Newspaper", "工信部：我国培养智能制造等领域人才252万余",
     "MIIT: more than 2.52 million talents trained", "2022-08-04", "en"),
    ("gmw-2023-digital-engineers", "Guangming Daily", "加快推进数字技术工程师培育项目",
     "Accelerate the digital technology engineer training project", "2023-10-07", "en"),
    ("miit-2025-advanced-manufacturing-training", "MIIT", "工信部举办先进制造技术人才培训班",
     "MIIT holds training for advanced manufacturing technology talents", "2025-11-06", "en"),
    ("cmrs-2023-vocational-training", "Chinese Materials Research Society", "工业和信息化职业技能提升培训项目取得新进展",
     "New progress in vocational skills training projects", "2023-10-18", "en"),
    ("cn-2021-knowledge-update", "", "我国启动新一轮专业技术人才知识更新工程",
     "China launches a new round of the knowledge update project", "2021-10-14", "zh"),
]

PROGRAMMES = [
    ("vocational-skills", "Vocational skills improvement plan", "职业技能提升行动", "MIIT"),
    ("knowledge-update", "Knowledge update project", "专业技术人才知识更新工程", "MOHRSS"),
    ("digital-engineers", "Digital technology engineers", "数字技术工程师培育项目", "MOHRSS"),
    ("software-exams", "Software qualification exams", "计算机技术与软件专业资格考试", "MIIT"),
    ("advanced-manufacturing-training", "Advanced manufacturing training", "先进制造技术人才培训", "MIIT"),
    ("cmrs-materials-training", "New materials vocational training", "新材料职业技能培训", "CMRS"),
]

FIGURES = [
    # figure_id, source_id, programme_id, indicator, value, unit, qualifier, status, basis, start, end
    ("f-voc", "chemnews-2022-miit-talent", "vocational-skills", "skilled-talents-trained",
     2_520_000, "persons", "lower_bound", "achieved", "cumulative", "2012-11-08", None),
    ("f-ku-1", "cn-2021-knowledge-update", "knowledge-update", "first-round-training",
     12_643_000, "person_times", "exact", "achieved", "cumulative", "2011-01-01", "2020-12-31"),
    ("f-ku-task", "cn-2021-knowledge-update", "knowledge-update", "first-round-yearly-training-task",
     1_000_000, "person_times", "exact", "achieved", "per_year", "2011-01-01", "2020-12-31"),
    ("f-ku-total", "cn-2021-knowledge-update", "knowledge-update", "new-round-trainees-per-year",
     1_000_000, "persons", "exact", "planned", "per_year", None, None),
    ("f-ku-adv", "cn-2021-knowledge-update", "knowledge-update", "advanced-seminar-trainees-per-year",
     20_000, "persons", "approx", "planned", "per_year", None, None),
    ("f-ku-cap", "cn-2021-knowledge-update", "knowledge-update", "capacity-improvement-trainees-per-year",
     900_000, "persons", "approx", "planned", "per_year", None, None),
    ("f-de-2021", "cn-2021-knowledge-update", "digital-engineers", "digital-talents-trained-per-year",
     80_000, "persons", "approx", "planned", "per_year", None, None),
    ("f-de-2023", "gmw-2023-digital-engineers", "digital-engineers", "digital-talents-trained-per-year",
     80_000, "persons", "approx", "planned", "per_year", None, None),
    ("f-ex-app", "chemnews-2022-miit-talent", "software-exams", "exam-applicants",
     4_850_000, "persons", "lower_bound", "achieved", "cumulative", "2012-11-08", None),
    ("f-ex-pass", "chemnews-2022-miit-talent", "software-exams", "exam-passes",
     920_000, "persons", "lower_bound", "achieved", "cumulative", "2012-11-08", None),
    ("f-cmrs", "cmrs-2023-vocational-training", "cmrs-materials-training", "individual-members",
     100_000, "persons", "exact", "achieved", "point", None, "2023-10-18"),
]


# The later report of the 8万 plan restates the earlier one (figures.restates); starts the text does not
# state are inferred (figures.inferred).
RESTATES = {"f-de-2023": "f-de-2021"}
INFERRED = {"f-ex-app": "period_start", "f-ex-pass": "period_start"}
OUTLETS_ZH = {"China Chemical Newspaper": "中国化工报", "Guangming Daily": "光明日报", "MIIT": "工业和信息化部",
              "Chinese Materials Research Society": "中国材料研究学会网站"}


def _figure_row(row):
    fid, sid, pid, ind, value, unit, qual, status, basis, start, end = row
    return {
        "figure_id": fid, "source_id": sid, "programme_id": pid, "indicator": ind,
        "label_en": f"label {ind}", "label_zh": f"标签 {ind}",
        "value": value, "unit": unit, "qualifier": qual, "status": status, "period_basis": basis,
        "period_start": start, "period_end": end,
        "quote": f"quote for {fid}", "restates": RESTATES.get(fid), "inferred": INFERRED.get(fid), "note": "",
    }


def make_tables(figures: list[dict] | None = None, *, change: dict[str, dict] | None = None,
                drop: tuple[str, ...] = (), declared_in: Paths = DECLARED) -> Tables:
    """Typed fixture tables; `change={figure_id: {column: value}}` alters rows, `drop` removes them (a
    dropped row is like one published after the report's date: the checks still name it)."""
    sources = pd.DataFrame(
        [{"source_id": s, "producer": p or "MoHRSS and five other bodies",
          "producer_zh": OUTLETS_ZH.get(p, "人力资源社会保障部等六部门"),
          "publisher": p or None, "publisher_zh": OUTLETS_ZH.get(p), "title": t, "title_en": te, "title_zh": t,
          "date_published": d, "language": lang, "url_main": "https://example.org/" + s,
          "citation_full": "", "sha256": "", "inferred": "date_published" if s.startswith("miit-2025") else None,
          "note": ""} for s, p, t, te, d, lang in SOURCES]
    )
    sources["date_published"] = pd.to_datetime(sources["date_published"])
    programmes = pd.DataFrame(
        [{"programme_id": i, "name_en": en, "name_zh": zh, "owner": o, "owner_zh": f"{zh}主管单位",
          "description_en": f"About {en}.", "description_zh": f"关于{zh}。"} for i, en, zh, o in PROGRAMMES]
    )
    rows = figures if figures is not None else [_figure_row(r) for r in FIGURES]
    rows = [dict(r, **(change or {}).get(r["figure_id"], {})) for r in rows]
    declared, problems = definitions.load(declared_in, pd.DataFrame(rows))  # labels of dropped rows too
    assert not problems, problems
    figs = pd.DataFrame([r for r in rows if r["figure_id"] not in drop])
    figs["value"] = figs["value"].astype("Int64")
    for col in ("period_start", "period_end"):
        figs[col] = pd.to_datetime(figs[col])
    for col, cats in (("qualifier", ["exact", "approx", "lower_bound", "upper_bound"]),
                      ("status", ["achieved", "planned"]),
                      ("period_basis", ["cumulative", "per_year", "point"])):
        figs[col] = pd.Categorical(figs[col], categories=cats)
    return Tables(sources=sources, programmes=programmes, figures=figs, definitions=declared)
