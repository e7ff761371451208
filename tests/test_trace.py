"""Traceable numbers: cite() marks text with its figure ids, a tooltip quote and a keyed footnote whose note
travels with it; assemble_notes() numbers the notes in page order when the page is built."""

import re

import pytest

from talentbrief import textview
from talentbrief.trace import Notes, assemble_notes, computed_key, note_key, outlet, reporter, wrap_ids
from tests.content_tables import make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier


def test_cite_wraps_text_with_ids_tooltip_and_a_keyed_footnote_marker():
    notes = Notes(make_tables(), "en")
    out = str(notes.cite("f-voc", "more than 2.52 million people"))
    assert out.startswith('<span class="tb-fig" data-figure-ids="f-voc" title="')
    assert "“quote for f-voc” — “MIIT: more than 2.52 million talents trained”, China Chemical Newspaper, " \
           "4 August 2022" in out
    zh = str(Notes(make_tables(), "zh").cite("f-voc", "252万余人"))
    assert "“quote for f-voc”——《工信部：我国培养智能制造等领域人才252万余》，中国化工报，2022年8月4日" in zh
    # the marker names the note by key, not by a number; the note's text travels beside it, hidden
    assert '>more than 2.52 million people</span><sup class="tb-fnref" data-note="f.f-voc"><a href="#fn-f.f-voc" ' \
           'aria-label="note">*</a></sup><span class="tb-note" data-note="f.f-voc" data-figure-ids="f-voc" hidden>' in out
    assert re.search(r"hidden>“<span class=\"tb-quote\" lang=\"en\">quote for f-voc</span>”: “MIIT: more than 2\.52 "
                     r"million talents trained”, China Chemical Newspaper, <time[^>]*>4 August 2022</time>\.</span>$", out)


def test_a_citation_is_the_same_whatever_was_cited_before():
    first, later = Notes(make_tables(), "en"), Notes(make_tables(), "en")
    later.cite(["f-ex-pass", "f-ex-app"], "b")
    later.computed("exam_ratio", ["f-ex-pass", "f-ex-app"], "c", "how")
    assert first.cite("f-voc", "a") == later.cite("f-voc", "a") == later.cite("f-voc", "a")


def test_keys_are_stable_safe_and_tell_id_sets_apart():
    assert note_key("f-voc") == note_key(["f-voc"]) == "f.f-voc"
    assert note_key(("f-ex-pass", "f-ex-app")) == "f.f-ex-pass_f-ex-app"
    assert computed_key("exam_ratio") == "c.exam_ratio"
    odd = [note_key(["a_b"]), note_key(["a", "b"]), note_key(["a.b"]), note_key(['a"b c<'])]
    assert len(set(odd)) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", k) for k in odd)


def page(*cells) -> str:
    return "<main>" + "".join(f"<p>{c}</p>" for c in cells) + "</main>"


def test_same_ids_share_a_note_and_numbers_follow_the_page():
    notes = Notes(make_tables(), "en")
    a, b, c = notes.cite("f-voc", "a"), notes.cite(["f-ex-pass", "f-ex-app"], "b"), notes.cite("f-voc", "c")
    out = assemble_notes(page(a, b, c), "en")
    assert re.findall(r'<sup class="tb-fnref"><a aria-label="note (\d+)" href="#fn-(\d+)">(\d+)</a></sup>', out) == \
        [("1", "1", "1"), ("2", "2", "2"), ("1", "1", "1")]
    # the order of the page, not the order of citation: the cell that shows b first gets note 1
    out = assemble_notes(page(b, a, c), "en")
    assert re.findall(r'<li id="fn-(\d+)" data-figure-ids="([^"]+)">', out) == [("1", "f-ex-pass f-ex-app"),
                                                                                 ("2", "f-voc")]
    assert 'class="tb-note"' not in out and "data-note" not in out and "hidden" not in out
    assert out.endswith("</ol>\n</section>\n</main>")  # the notes close the report's content


def test_assembly_lists_each_note_with_quote_source_date_and_ids():
    notes = Notes(make_tables(), "zh")
    out = assemble_notes(page(notes.cite("f-ku-1", "x"), notes.cite(["f-ex-pass", "f-ex-app"], "y")), "zh")
    items = re.findall(r'<li id="fn-(\d+)" data-figure-ids="([^"]+)">', out)
    assert items == [("1", "f-ku-1"), ("2", "f-ex-pass f-ex-app")]
    assert "<h2>注释</h2>" in out and 'aria-label="注释2"' in out
    assert '“<span class="tb-quote" lang="zh">quote for f-ku-1</span>”——《我国启动新一轮专业技术人才知识更新工程》' in out
    assert '<span class="tb-quote" lang="en">quote for f-ex-app</span>' in out  # an English source's words
    assert "<code>" not in out  # Chinese notes carry ids in data-figure-ids only
    assert '<time datetime="2021-10-14">2021年10月14日</time>' in out
    assert "quote for f-ex-pass" in out and "quote for f-ex-app" in out


def test_a_computed_number_names_its_inputs_notes_which_are_numbered_even_when_cited_nowhere_else():
    notes = Notes(make_tables(), "en")
    ratio = notes.computed("exam_ratio", ["f-ex-pass", "f-ex-app"], "about 19%", "the first divided by the second")
    out = assemble_notes(page(notes.cite("f-voc", "a"), ratio, notes.cite("f-ex-app", "b")), "en")
    marks = re.findall(r'href="#fn-(\d+)">', out)
    assert marks == ["1", "2", "3"]  # markers in page order: f-voc, the ratio, f-ex-app
    items = re.findall(r'<li id="fn-(\d+)" data-figure-ids="([^"]+)">(.*?)</li>', out)
    assert [(n, ids) for n, ids, _ in items] == [("1", "f-voc"), ("2", "f-ex-pass f-ex-app"), ("3", "f-ex-app"),
                                                ("4", "f-ex-pass")]
    assert items[1][2] == ("Computed by this report, not reported by a source: the first divided by the second, "
                           "from label exam-passes (note 4), label exam-applicants (note 3).")


def test_nothing_cited_lists_nothing():
    assert assemble_notes(page("no numbers"), "en") == page("no numbers")


def test_assembly_is_reproducible_and_survives_nbconverts_reserialisation():
    from bs4 import BeautifulSoup

    notes = Notes(make_tables(), "en")
    raw = page(notes.cite("f-ku-1", "x"), notes.computed("first_round_average", ["f-ku-1"], "y", "how"))
    out = assemble_notes(raw, "en")
    assert out == assemble_notes(raw, "en")
    again = assemble_notes(str(BeautifulSoup(raw, features="html.parser")), "en")  # as nbconvert writes it
    assert textview.visible_text(again) == textview.visible_text(out)
    assert re.findall(r'href="#fn-(\d+)"', again) == re.findall(r'href="#fn-(\d+)"', out) == ["1", "2"]
    assert "hidden" not in again and "data-note" not in again


def test_a_marker_without_its_note_or_two_texts_for_one_note_are_errors():
    notes = Notes(make_tables(), "en")
    cited = str(notes.cite("f-voc", "a"))
    with pytest.raises(ValueError, match="not on the page"):
        assemble_notes(re.sub(r'<span class="tb-note".*', "", cited), "en")
    other = notes.computed("k", ["f-voc"], "b", "one way") + notes.computed("k", ["f-voc"], "c", "another way")
    with pytest.raises(ValueError, match="two different texts"):
        assemble_notes(page(other), "en")


def test_data_is_escaped_in_text_tooltip_and_notes():
    evil = '"><img src=x onerror=alert(1)>'
    tables = make_tables(change={"f-voc": {"quote": evil}})
    notes = Notes(tables, "en")
    cited = str(notes.cite("f-voc", "<script>alert(1)</script>"))
    assembled = assemble_notes(page(cited), "en")
    for out in (cited, assembled):
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
