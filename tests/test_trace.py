"""Traceable numbers: cite() marks text with its figure ids, a tooltip quote and a footnote."""

import re

import pytest

from talentbrief import macros
from talentbrief.trace import Notes, outlet, reporter, wrap_ids
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def test_cite_wraps_text_with_ids_tooltip_and_footnote_marker():
    notes = Notes(make_tables(), "en")
    out = str(notes.cite("f-voc", "more than 2.52 million people"))
    assert out.startswith('<span class="tb-fig" data-figure-ids="f-voc" title="')
    assert "“quote for f-voc” — “MIIT: more than 2.52 million talents trained”, China Chemical Newspaper, " \
           "4 August 2022" in out
    zh = str(Notes(make_tables(), "zh").cite("f-voc", "252万余人"))
    assert "“quote for f-voc”——《工信部：我国培养智能制造等领域人才252万余》，中国化工报，2022年8月4日" in zh
    assert '>more than 2.52 million people</span><sup class="tb-fnref"><a href="#fn-1"' in out


def _rendered(notes) -> str:
    return str(macros.render("notes", heading="Notes", items=notes.items()))


def test_same_ids_reuse_a_footnote_and_new_ids_get_the_next():
    notes = Notes(make_tables(), "en")
    assert 'href="#fn-1"' in notes.cite("f-voc", "a")
    assert 'href="#fn-2"' in notes.cite(["f-ex-pass", "f-ex-app"], "b")
    assert 'href="#fn-1"' in notes.cite("f-voc", "c")
    assert 'data-figure-ids="f-ex-pass f-ex-app"' in notes.cite(("f-ex-pass", "f-ex-app"), "d")


def test_render_lists_each_note_with_quote_source_date_and_ids():
    notes = Notes(make_tables(), "zh")
    notes.cite("f-ku-1", "x")
    notes.cite(["f-ex-pass", "f-ex-app"], "y")
    out = str(_rendered(notes))
    items = re.findall(r'<li id="fn-(\d+)" data-figure-ids="([^"]+)">', out)
    assert items == [("1", "f-ku-1"), ("2", "f-ex-pass f-ex-app")]
    assert '“<span class="tb-quote" lang="zh">quote for f-ku-1</span>”——《我国启动新一轮专业技术人才知识更新工程》' in out
    assert '<span class="tb-quote" lang="en">quote for f-ex-app</span>' in out  # an English source's words
    assert "<code>" not in out  # Chinese notes carry ids in data-figure-ids only
    assert '<time datetime="2021-10-14">2021年10月14日</time>' in out
    assert "quote for f-ex-pass" in out and "quote for f-ex-app" in out


def test_nothing_cited_lists_nothing():
    assert Notes(make_tables(), "en").items() == []
    assert "<ol" not in _rendered(Notes(make_tables(), "en"))


def test_data_is_escaped_in_text_tooltip_and_notes():
    evil = '"><img src=x onerror=alert(1)>'
    tables = make_tables(change={"f-voc": {"quote": evil}})
    notes = Notes(tables, "en")
    cited = str(notes.cite("f-voc", "<script>alert(1)</script>"))
    rendered = str(_rendered(notes))
    for out in (cited, rendered):
        assert "<img" not in out and "<script>" not in out
    assert "&lt;script&gt;" in cited and "&#34;&gt;&lt;img" in cited


def test_unknown_figure_id_is_an_error_not_a_silent_note():
    with pytest.raises(KeyError, match="not in this report's scope"):
        Notes(make_tables(), "en").cite("no-such-figure", "1")


def test_outlet_says_when_the_text_names_none_and_reporter_never_credits_the_bodies_reported_on():
    sources = make_tables().sources.set_index("source_id")
    source = sources.loc["cn-2021-knowledge-update"].to_dict()
    assert outlet(source, "en") == "outlet not named"
    assert outlet(source, "zh") == "未注明发布媒体"
    assert reporter(source, "en") == "MoHRSS and five other bodies, as reported by an unnamed outlet"
    assert reporter(source, "zh") == "人力资源社会保障部等六部门（据未注明名称的媒体报道）"
    named = sources.loc["chemnews-2022-miit-talent"].to_dict()
    assert (reporter(named, "en"), reporter(named, "zh")) == ("China Chemical Newspaper", "中国化工报")


def test_wrap_ids_carries_ids_and_escapes():
    assert str(wrap_ids(["a", "b"], "<2>")) == '<span data-figure-ids="a b">&lt;2&gt;</span>'
