"""Markdown cells: language tags and the {eval} role, checked before a kernel and rendered in it."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from talentbrief import briefing, narrative
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

AS_OF = "2026-11-01"


def md(text, *tags):
    cell = new_markdown_cell(text)
    cell.metadata["tags"] = list(tags)
    return cell


def test_prepare_runs_this_languages_markdown_and_omits_the_other_keeping_positions():
    nb = new_notebook(cells=[md("both"), md("only en", "lang-en"), md("只有中文", "lang-zh"), new_code_cell("1")])
    out = narrative.prepare(nb, "en")
    assert [c.cell_type for c in out.cells] == ["code", "code", "markdown", "code"]
    assert "narrative.show('only en')" in out.cells[1].source and narrative.NARRATIVE_TAG in out.cells[1].metadata.tags
    assert out.cells[2].source == "" and narrative.OMIT_TAG in out.cells[2].metadata.tags
    assert [c.source for c in narrative.as_written(out).cells[:3]] == ["both", "only en", "只有中文"]


def test_problems_name_cell_and_id():
    nb = {"cells": [md("x"), md('{eval}`fig("nope")` {eval}`fig("late")` {eval}`report.fig("far")` {eval}`fig("ok")`', "lang-zh"),
                    md('{eval}`fig("nope")`', "lang-en"), md("{term}`x`"), md("", "lang-fr"),
                    md('{eval}`date("2022-13")` {eval}`date("Aug 2022")` {eval}`date("2022-08")` {eval}`fig("okk")`'),
                    md("{eval}`exam ratio` {eval}`ratio`")]}
    found = narrative.problems(nb, "nb.ipynb", lang="zh", known_ids={"late", "far", "ok"}, scoped_ids={"ok"},
                               dates={"late": "2027-01-01", "far": "2020-01-01"}, as_of="2026-11-01")
    assert found == [
        "nb.ipynb: cell 2: unknown figure id 'nope'",
        "nb.ipynb: cell 2: figure 'late' was published on 2027-01-01, after the report's as-of date 2026-11-01",
        "nb.ipynb: cell 2: figure 'far' is not in this report's scope",
        ('nb.ipynb: cell 4: unknown role {term} (write {eval}`fig("figure-id")`, {eval}`name` or '
        '{eval}`date("2022-08")`)'),
        "nb.ipynb: cell 5: unknown language tag 'lang-fr' (use lang-en or lang-zh)",
        "nb.ipynb: cell 6: date('2022-13') is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)",
        "nb.ipynb: cell 6: date('Aug 2022') is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)",
        "nb.ipynb: cell 6: unknown figure id 'okk'; did you mean 'ok'?",
        "nb.ipynb: cell 7: {eval}`exam ratio` is not a Python expression",
    ]  # cell 3 is English: not checked for a Chinese report


def test_render_cites_figures_writes_kernel_values_and_escapes_data():
    tables = make_tables(change={"f-ex-pass": {"quote": '"><script>x</script>'}})
    report = briefing.start(tables=tables, lang="zh", as_of=AS_OF)
    namespace = {"fig": report.fig, "date": report.date, "as_of": AS_OF, "plain": "<b>not html</b>"}
    html, values = narrative.render('**通过**{eval}`fig("f-ex-pass")`，{eval}`plain`，截至{eval}`date(as_of)`。',
                                    namespace)
    html = str(html)
    assert html.startswith('<div class="tb-prose"><p><strong>通过</strong><span class="tb-fig" '
                           'data-figure-ids="f-ex-pass"')
    assert "92万余人</span>" in html
    assert "&lt;b&gt;not html&lt;/b&gt;" in html and "<script>" not in html
    assert '<time datetime="2026-11-01">2026年11月1日</time>' in html
    # what each expression wrote is kept (the executed notebook records it)
    assert values["plain"] == "&lt;b&gt;not html&lt;/b&gt;" and values["date(as_of)"].startswith("<time")
    assert 'data-figure-ids="f-ex-pass"' in values['fig("f-ex-pass")']


def test_an_unknown_figure_id_names_the_closest_known_ones():
    known = {"chemnews22-exam-passes", "chemnews22-exam-applicants", "gmw23-new-digital-occupations"}
    nb = {"cells": [md('{eval}`fig("chemnews22-exam-pass")`'), md('{eval}`fig("unrelated")`')]}
    found = narrative.problems(nb, "nb.ipynb", lang="en", known_ids=known, scoped_ids=known, dates={},
                               as_of="2026-11-01")
    assert found[0].startswith("nb.ipynb: cell 1: unknown figure id 'chemnews22-exam-pass'; did you mean "
                               "'chemnews22-exam-passes'")
    assert found[1] == "nb.ipynb: cell 2: unknown figure id 'unrelated'"  # nothing close: no guess


@pytest.mark.parametrize("lang, written, shown", [
    ("en", "2022-08", '<time datetime="2022-08">August 2022</time>'),
    ("zh", "2022-08", '<time datetime="2022-08">2022年8月</time>'),
    ("en", "2012-11-08", '<time datetime="2012-11-08">8 November 2012</time>'),
    ("zh", "2020", '<time datetime="2020">2020年</time>'),
])
def test_date_writes_a_date_in_the_reports_language(lang, written, shown):
    report = briefing.start(tables=make_tables(), lang=lang, as_of=AS_OF)
    assert shown in str(narrative.render(f'x {{eval}}`date("{written}")` y', {"date": report.date})[0])


def test_a_value_the_kernel_does_not_have_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"\{eval\}`missing`: NameError: name 'missing' is not defined"):
        narrative.render("{eval}`missing`", {})


def test_figure_and_date_values_show_as_words_where_only_text_is_shown():
    from IPython.lib.pretty import pretty

    report = briefing.start(tables=make_tables(), lang="en", as_of=AS_OF)
    assert pretty(report.date("2022-08")) == "August 2022"
    assert pretty(report.fig("f-ex-pass")).startswith("more than 920,000 people")


def test_failure_page_shows_the_markdown_as_written(tmp_path):
    from talentbrief import render

    nb = narrative.prepare(new_notebook(cells=[md('Prose with {eval}`fig("x")`', "lang-en"), new_code_cell("1/0")]), "en")
    page = render.failure_html(nbformat.writes(nb).encode(), title="t").decode()
    assert "Prose with {eval}" in page and "narrative.show" not in page
