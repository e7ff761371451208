"""talentbrief.rules: spellings of numbers, qualifier wording, periods, verbatim quotes."""

from __future__ import annotations

import pytest

from talentbrief import rules

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (2520000, ["2.52 million", "2,520,000", "2520000", "252万"]),
        (12643000, ["1264.3万", "12,643,000"]),
        (1000000, ["100万", "百万", "1 million"]),
        (80000, ["80000", "80,000", "8万"]),
        (10149, ["10,149"]),
        (14, ["14"]),
    ],
)
def test_spellings_cover_how_sources_write_numbers(value, written):
    assert set(written) <= set(rules.spellings(value))


@pytest.mark.parametrize(
    ("value", "quote"),
    [
        (20000, "培养12万名"),
        (14, "in 140 key areas"),
        (14, "in 1.4 key areas"),
        (80000, "80,0000"),
        (1000000, "10 million"),
    ],
)
def test_a_number_inside_a_longer_number_does_not_count(value, quote):
    assert rules.number_spans(value, quote) == []


def figure(**cells) -> dict[str, str]:
    row = {
        "value": "2520000",
        "qualifier": "lower_bound",
        "period_basis": "cumulative",
        "period_start": "2012-11-08",
        "period_end": "",
        "quote": "trained more than 2.52 million talents",
    }
    return {**row, **cells}


def test_a_consistent_row_passes():
    assert rules.check_figure(figure()) == []


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"period_start": ""}, "period_start"),
        ({"period_basis": "per_year", "period_start": ""}, "period_start"),
        ({"period_basis": "point", "period_start": "", "period_end": ""}, "period_end"),
        ({"period_end": "2012-11-07"}, "period_end"),
        ({"quote": "trained more than 2.5 million talents"}, "quote"),
        ({"qualifier": "exact"}, "qualifier"),
        ({"qualifier": "approx"}, "qualifier"),
        ({"qualifier": "upper_bound"}, "qualifier"),
        (
            {"value": "80000", "qualifier": "exact", "quote": "每年培养培训数字技术技能人才8万人左右"},
            "qualifier",
        ),
        ({"value": "1000000", "qualifier": "approx", "quote": "每年培训100万名"}, "qualifier"),
    ],
)
def test_each_rule_names_the_column_to_fix(cells, column):
    assert [c for c, _ in rules.check_figure(figure(**cells))] == [column]


@pytest.mark.parametrize(
    ("value", "qualifier", "quote"),
    [
        (4850000, "lower_bound", "The cumulative number of applicants exceeds 4.85 million"),
        (80000, "approx", "train about 80000 digital technology technicians every year"),
        (900000, "approx", "每年培养培训各类专业技术人才90万人左右"),
        (15000, "lower_bound", "cultivate more than 15,000 leading talents"),
        (12643000, "exact", "累计开展1264.3万人次知识更新继续教育活动"),
        (1000000, "exact", "完成每年百万人次高层次急需紧缺专业技术人才培训任务"),
        (50, "lower_bound", "50余个"),
        (1000, "upper_bound", "不到1000人"),
    ],
)
def test_wording_next_to_the_number_fits_the_qualifier(value, qualifier, quote):
    assert rules.check_quote({"value": str(value), "qualifier": qualifier, "quote": quote}) == []


def test_cells_with_type_errors_are_left_to_the_schema_check():
    assert rules.check_figure(figure(value="abc", period_end="2020-13-01")) == []


def test_quote_in_text_forgives_only_whitespace():
    text = "Last week,\n  the Ministry  held\ta press conference."
    assert rules.quote_in_text("the Ministry held a press conference", text)
    assert not rules.quote_in_text("the ministry held a press conference", text)
    assert not rules.quote_in_text("the Ministry held the press conference", text)
