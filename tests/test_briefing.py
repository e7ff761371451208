"""Report components (the library's part of a report): every digit a reader sees carries the figure ids
it comes from; data is escaped. What the notebooks add around them is tested on built reports
(tests/test_notebooks.py)."""

import re
from html.parser import HTMLParser

import pytest

from talentbrief import briefing
from tests.content_tables import FIGURES, make_tables

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

AS_OF = "2026-11-01"
FIXTURE_IDS = {row[0] for row in FIGURES}


def overview(tables, lang):
    r = briefing.start(tables=tables, lang=lang, as_of=AS_OF)
    parts = [briefing.headlines(r), briefing.metrics_section(r), briefing.developments(r), briefing.sources_list(r)]
    return "".join(map(str, parts)) + str(briefing.notes(r))


def programme(tables, lang, pid):
    r = briefing.start(tables=tables, lang=lang, as_of=AS_OF, programme=pid)
    parts = [briefing.programme_summary(r), briefing.figure_table(r), briefing.metrics_section(r),
             briefing.checks_section(r), briefing.sources_list(r)]
    return "".join(map(str, parts)) + str(briefing.notes(r))


def audit(tables, lang):
    r = briefing.start(tables=tables, lang=lang, as_of=AS_OF)
    parts = [briefing.checks_section(r), briefing.coverage(r),
             briefing.metrics_section(r), briefing.sources_list(r)]
    return "".join(map(str, parts)) + str(briefing.notes(r))


class DigitWalker(HTMLParser):
    """Finds visible digits outside elements carrying data-figure-ids, <time> and footnote markers."""

    VOID = frozenset({"img", "br", "hr", "meta", "link", "input", "wbr", "source"})

    def __init__(self):
        super().__init__()
        self.stack, self.orphans, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-figure-ids" in attrs:
            self.ids |= set(attrs["data-figure-ids"].split())
        if tag in self.VOID:
            return
        covered = bool(attrs.get("data-figure-ids", "").strip()) or tag in ("time", "style", "script") \
            or "tb-fnref" in attrs.get("class", "").split()
        self.stack.append((tag, covered))

    def handle_endtag(self, tag):
        if tag in self.VOID or tag not in (t for t, _ in self.stack):
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if re.search(r"\d", data) and not any(covered for _, covered in self.stack):
            self.orphans.append(data.strip())


def walk(html):
    walker = DigitWalker()
    walker.feed(html)
    return walker


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("build", [
    overview, audit,
    *[lambda t, lang, p=p: programme(t, lang, p) for p in
      ("vocational-skills", "knowledge-update", "digital-engineers", "software-exams", "cmrs-materials-training")],
])
def test_every_visible_digit_carries_existing_figure_ids(build, lang):
    walker = walk(build(make_tables(), lang))
    assert walker.orphans == []
    assert walker.ids and walker.ids <= FIXTURE_IDS


def test_the_walker_catches_an_uncited_digit():
    walker = walk('<p>about <span data-figure-ids="x">1<br/></span> and 2 more <time>2022</time>'
                  '<sup class="tb-fnref">3</sup><img src="x"/> 4</p>')
    assert walker.orphans == ["and 2 more", "4"]
    assert walker.ids == {"x"}


def test_english_overview_keeps_qualifiers():
    html = overview(make_tables(), "en")
    for phrase in ("more than 2.52 million", "12.643 million", "more than 4.85 million", "about 80,000",
                   "about 19%", "not a pass rate", "not exam-takers", "person-times"):
        assert phrase in html, phrase


def test_chinese_overview_keeps_qualifiers():
    html = overview(make_tables(), "zh")
    for phrase in ("252万余", "1264.3万", "485万余", "约8万", "约19%", "并非通过率", "实际参考人数", "人次"):
        assert phrase in html, phrase


def test_overview_first_round_average_cites_its_input_and_says_units_differ():
    html = overview(make_tables(), "en")
    assert re.search(r'class="tb-computed" data-computed="first_round_average" data-figure-ids="f-ku-1"[^>]*>'
                     r'about 1\.26 million person-times a year on average over 10 years '
                     r'\(computed: 12\.643 million ÷ 10\)</span>', html)
    assert "not in the same unit" in html


def test_exam_ratio_carries_both_input_ids():
    html = overview(make_tables(), "en")
    assert re.search(r'class="tb-computed" data-computed="exam_ratio" data-figure-ids="f-ex-pass f-ex-app"[^>]*>'
                     r'about 19% \(computed: 920,000 ÷ 4\.85 million\)</span>', html)


def test_developments_include_the_qualitative_source_with_its_date_and_no_number():
    html = overview(make_tables(), "en")
    item = re.search(r"<li>(.*?MIIT holds training.*?)</li>", html).group(1)
    assert '<time datetime="2025-11-06">6 November 2025</time>' in item
    assert "qualitative" in item
    assert re.sub(r"<time.*?</time>", "", item).count("1") == 0  # no invented numbers


def test_audit_shows_every_check_with_its_verdict_on_good_data():
    html = audit(make_tables(), "en")
    statuses = dict(re.findall(r'class="tb-check tb-check-(\w+)" data-check="(\w+)"', html))
    assert set(statuses) == {"consistent", "plausible", "restatement"}
    assert len(re.findall(r'data-check="', html)) == 4


@pytest.mark.parametrize("change, key", [
    ({"f-ku-cap": {"value": 500_000}}, "composition"),
    ({"f-de-2023": {"value": 200_000}}, "agreement"),
    ({"f-ex-pass": {"value": 9_000_000}}, "exam_bounds"),
    ({"f-ku-task": {"value": 5_000_000}}, "first_round_task"),
])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_audit_shows_a_failed_check_as_failed(change, key, lang):
    html = audit(make_tables(change=change), lang)
    assert f'class="tb-check tb-check-fail" data-check="{key}"' in html
    assert ("✗ Fail" if lang == "en" else "✗ 未通过") in html


def test_audit_shows_a_check_with_missing_rows_as_failed():
    html = audit(make_tables(drop=("f-ex-app", "f-ex-pass")), "en")
    assert 'tb-check-fail" data-check="exam_bounds"' in html
    assert "no data for exam-applicants, exam-passes" in html


def test_data_is_escaped_everywhere():
    evil_label, evil_quote = "<script>alert(1)</script>", '"><img onerror=alert(1)>'
    tables = make_tables(change={"f-voc": {"label_en": evil_label, "label_zh": evil_label, "quote": evil_quote},
                                 "f-ex-app": {"label_en": evil_label, "quote": evil_quote}})
    for html in (overview(tables, "en"), overview(tables, "zh"), audit(tables, "en"),
                 programme(tables, "en", "vocational-skills")):
        assert "<script>alert" not in html
        assert "<img onerror" not in html
        assert "&#34;&gt;&lt;img onerror=alert(1)&gt;" in html  # the quote, in a tooltip and a note
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in overview(tables, "en")  # the label, in the headlines


def test_header_shows_the_title_in_the_report_language_with_metadata_for_the_renderer(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, metadata=None: shown.append((obj, metadata)))
    r = briefing.start(tables=make_tables(), lang="zh", as_of="2026-11-01", programme="knowledge-update")
    briefing.header(r, title={"en": "<Brief>", "zh": f"{briefing.programme_name(r)}：项目简报"})
    (html, meta), = shown
    assert meta == {"talentbrief": {"title": "专业技术人才知识更新工程：项目简报", "lang": "zh", "as_of": "2026-11-01"}}
    assert '<time datetime="2026-11-01">2026年11月1日</time>' in html.data
    assert "<h1>专业技术人才知识更新工程：项目简报</h1>" in html.data
    briefing.header(briefing.start(tables=make_tables(), lang="en", as_of=AS_OF), title={"en": "<Brief>", "zh": "x"})
    assert "<h1>&lt;Brief&gt;</h1>" in shown[-1][0].data


def test_programme_brief_lists_every_figure_with_qualifier_and_status():
    html = programme(make_tables(), "en", "knowledge-update")
    rows = re.findall(r'<tr data-figure-ids="([^"]+)">', html)
    assert set(rows) == {"f-ku-1", "f-ku-task", "f-ku-total", "f-ku-adv", "f-ku-cap"}
    assert "approximate" in html and "planned" in html and "achieved" in html
    assert 'data-check="composition"' in html and 'data-check="agreement"' not in html


@pytest.mark.parametrize("bad", [{"lang": "fr"}, {"as_of": "soon"}, {"programme": "nope"}])
def test_bad_parameters_are_clear_errors(bad):
    kwargs = {"lang": "en", "as_of": AS_OF, **bad}
    with pytest.raises(ValueError):
        briefing.start(tables=make_tables(), **kwargs)


def test_charts_carry_the_ids_they_plot_and_show_a_restated_plan_once():
    import figures

    r = briefing.start(tables=make_tables(), lang="en", as_of=AS_OF)
    figs = r.tables.figures
    planned = figs[(figs["status"] == "planned") & (figs["unit"] == "persons")]
    _png, meta = figures.figure_png(briefing.bar_chart(r, planned, title={"en": "Planned", "zh": "计划"}))
    assert set(meta["figure_ids"]) == {"f-ku-total", "f-ku-adv", "f-ku-cap", "f-de-2021", "f-de-2023"}
    assert meta["alt"].count("label digital-talents-trained-per-year") == 1  # one mark for the plan
    assert "label digital-talents-trained-per-year (reported 2021, restated 2023)" in meta["alt"]
    assert meta["caption"].startswith("Source: ")
    assert briefing.bar_chart(r, figs.iloc[0:0], title="empty") is None


def test_cite_figure_writes_the_house_phrase_with_its_footnote():
    r = briefing.start(tables=make_tables(), lang="zh", as_of=AS_OF)
    cited = str(briefing.cite_figure(r, "f-ex-pass"))
    assert 'data-figure-ids="f-ex-pass"' in cited and "92万余人" in cited and 'href="#fn-1"' in cited
    with pytest.raises(KeyError, match="nope"):
        briefing.cite_figure(r, "nope")
    with pytest.raises(KeyError, match="did you mean 'f-ex-pass'"):
        briefing.cite_figure(r, "f-ex-passes")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_restated_plan_is_one_headline_citing_both(lang):
    html = overview(make_tables(), lang)
    headlines = re.search(r'class="tb-section tb-headlines">(.*?)</section>', html, re.DOTALL).group(1)
    items = re.findall(r'<li data-figure-ids="([^"]+)">', headlines)
    assert "f-de-2021 f-de-2023" in items and "f-de-2023" not in items


def test_partner_size_is_not_a_headline_and_an_inferred_start_is_marked():
    html = overview(make_tables(), "en")
    headlines = re.search(r'class="tb-section tb-headlines">(.*?)</section>', html, re.DOTALL).group(1)
    assert "f-cmrs" not in headlines  # members of a partner organisation: a stock, not a programme result
    applicants = re.search(r'<li data-figure-ids="f-ex-app">(.*?)</li>', headlines, re.DOTALL).group(1)
    assert "start not stated; taken as the Eighteenth National Congress" in applicants
    assert "since" not in applicants


def test_chinese_check_rows_name_the_rows_by_label_not_id():
    html = programme(make_tables(), "zh", "software-exams")
    used = re.findall(r'<p class="tb-rows">(.*?)</p>', html)
    assert used == ["所用数据：标签 exam-passes；标签 exam-applicants"]
    assert "<code>" not in html


def test_the_figure_table_says_which_row_restates_which():
    html = programme(make_tables(), "zh", "digital-engineers")
    assert '<tr data-figure-ids="f-de-2023">' not in html  # one row for the restated plan, citing both
    row = re.search(r'<tr data-figure-ids="f-de-2021 f-de-2023">(.*?)</tr>', html, re.DOTALL).group(1)
    assert '<time datetime="2021-10-14">2021年10月14日</time>发布，<time datetime="2023-10-07">2023年10月7日</time>重申' in row
