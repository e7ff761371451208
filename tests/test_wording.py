"""Issue 15: reports say exactly what the sources say, and the Chinese reports are Chinese.

The built-report tests walk `built_project` (the whole catalogue built once per session); the chart
test draws the charts the reports draw, from the project's data.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import figures as fmt
from talentbrief import rules

# Latin-letter words a reader of a Chinese report may meet outside quotes of English-language sources.
# Empty: ministries, outlets, titles, verdicts and findings all have Chinese names, and figure ids live
# only in data-* attributes (not visible). Add a word here only with a reason (e.g. a unit like "PDF").
ALLOWED_LATIN: set[str] = set()
LATIN_WORD = re.compile(r"[A-Za-z]+")
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
SPOKEN = ("alt", "aria-label")  # attributes a screen reader reads out


@pytest.fixture(scope="module")
def tables(built_tables):
    return built_tables


@pytest.fixture(scope="module")
def pages(built_pages) -> dict[str, str]:
    return built_pages


def english_quotes(tables) -> set[str]:
    english = set(tables.sources.loc[tables.sources["language"].astype(str) == "en", "source_id"].astype(str))
    figs = tables.figures
    return {" ".join(q.split()) for q in figs.loc[figs["source_id"].astype(str).isin(english), "quote"]}


class VisibleText(HTMLParser):
    """The text a reader meets (element text, plus alt and aria-label), except verbatim quotes of
    English-language sources, which must be marked <span class="tb-quote" lang="en"> and be a quote."""

    def __init__(self, quotes: set[str]):
        super().__init__()
        self.quotes, self.stack, self.text, self.quoted = quotes, [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.text += [attrs[a] for a in SPOKEN if attrs.get(a) and not attrs[a].startswith("data:")]
        if tag in VOID:
            return
        quote = attrs.get("lang") == "en" and "tb-quote" in (attrs.get("class") or "").split()
        self.stack.append([tag, tag in ("style", "script") or quote, quote, []])

    def handle_endtag(self, tag):
        while self.stack:
            name, _, quote, parts = self.stack.pop()
            if quote:
                self.quoted.append(" ".join("".join(parts).split()))
            if name == tag:
                break

    def handle_data(self, data):
        for entry in reversed(self.stack):
            if entry[2]:
                entry[3].append(data)
                return
        if not any(hidden for _, hidden, _, _ in self.stack):
            self.text.append(data)


def test_chinese_reports_show_no_english_outside_quotes_of_english_sources(pages, tables):
    quotes = english_quotes(tables)
    zh = {rid: html for rid, html in pages.items() if rid.endswith("-zh")}
    assert len(zh) >= 11, sorted(pages)
    for rid, html in zh.items():
        walker = VisibleText(quotes)
        walker.feed(html)
        words = set(LATIN_WORD.findall(" ".join(walker.text))) - ALLOWED_LATIN
        assert not words, f"{rid}: English outside quotes: {sorted(words)}"
        assert set(walker.quoted) <= quotes, f"{rid}: text marked as an English quote is not one"


def test_the_walker_skips_only_real_quotes_and_reads_spoken_attributes():
    walker = VisibleText({"more than 2.52 million"})
    walker.feed('<p>培训<span class="tb-quote" lang="en">more than 2.52 million</span>'
                '<span class="tb-quote" lang="en">made up</span><img alt="chart of MIIT"></p>')
    assert LATIN_WORD.findall(" ".join(walker.text)) == ["chart", "of", "MIIT"]
    assert walker.quoted == ["more than 2.52 million", "made up"]


def _elements(html: str, row: dict, lang: str) -> list[str]:
    """Every list item and table row that shows this figure with its label (and so its period)."""
    found = re.findall(rf'<(?:li|tr) data-figure-ids="{re.escape(row["figure_id"])}(?: [^"]*)?">(.*?)</(?:li|tr)>',
                       html, flags=re.DOTALL)
    return [body for body in found if row[f"label_{lang}"] in re.sub(r"<[^>]+>", "", body)]


def test_inferred_starts_are_never_shown_as_fact(pages, tables):
    guessed = [r for r in tables.figures.to_dict("records") if "period_start" in rules.inferred(r)]
    assert {r["figure_id"] for r in guessed} >= {"chemnews22-exam-applicants", "chemnews22-exam-passes",
                                                 "gmw23-digital-talents-trained-per-year"}
    seen = 0
    for rid, html in pages.items():
        lang = rid.rsplit("-", 1)[1]
        for row in guessed:
            for shown in _elements(html, row, lang):
                seen += 1
                plain = re.sub(r"<[^>]+>", "", shown)
                if lang == "en":
                    assert "start not stated; taken as" in plain and "since" not in plain, (rid, plain)
                else:
                    assert "起始时间未载明" in plain and "以来" not in plain, (rid, plain)
    assert seen >= 20


def test_an_inferred_source_date_is_marked(pages):
    for rid, html in pages.items():
        if "6 November 2025" in html or "2025年11月6日" in html:
            plain = re.sub(r"<[^>]+>", "", html)
            assert "6 November 2025 (date inferred)" in plain or "2025年11月6日（日期系推定）" in plain, rid


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_restated_plan_is_one_headline_entry_citing_both_sources(pages, tables, lang):
    html = pages[f"overview-{lang}"]
    headlines = re.search(r'<section class="tb-section tb-headlines">(.*?)</section>', html, re.DOTALL).group(1)
    entries = re.findall(r'<li data-figure-ids="([^"]+)">(.*?)</li>', headlines, re.DOTALL)
    digital = [(ids, body) for ids, body in entries
               if {"cn21-digital-talents-trained-per-year", "gmw23-digital-talents-trained-per-year"} & set(ids.split())]
    assert len(digital) == 1, digital
    ids, body = digital[0]
    assert ids.split() == ["cn21-digital-talents-trained-per-year", "gmw23-digital-talents-trained-per-year"]
    note = re.search(r'href="#fn-(\d+)"', body).group(1)
    footnote = re.search(rf'<li (?=[^>]*\bid="fn-{note}")[^>]*data-figure-ids="([^"]+)"[^>]*>(.*?)</li>', html, re.DOTALL)
    assert footnote.group(1).split() == ids.split()
    figs = tables.figures.set_index("figure_id")
    for fid in ids.split():
        assert figs.loc[fid, "quote"] in footnote.group(2)
    plain = re.sub(r"<[^>]+>", "", body)
    assert ("restated" in plain) if lang == "en" else ("重申" in plain)
    charts = re.findall(r'<figure class="tb-chart" data-figure-ids="([^"]+)">\s*<img [^>]*alt="([^"]*)"', html)
    planned = [alt for chart_ids, alt in charts if "cn21-digital-talents-trained-per-year" in chart_ids.split()]
    label = figs.loc["cn21-digital-talents-trained-per-year", f"label_{lang}"]
    assert len(planned) == 1 and planned[0].count(label) == 1, planned


def test_partner_organisation_size_is_not_a_programme_headline(pages):
    for lang in ("en", "zh"):
        headlines = re.search(r'<section class="tb-section tb-headlines">(.*?)</section>',
                              pages[f"overview-{lang}"], re.DOTALL).group(1)
        assert "cmrs23-individual-members" not in headlines


@pytest.mark.parametrize("lang, verdict", [("en", "✓ Consistent"), ("zh", "✓ 相符")])
def test_the_first_round_check_is_at_most_consistent(pages, lang, verdict):
    row = re.search(r'<tr class="tb-check tb-check-(\w+)" data-check="first-round-task"[^>]*>(.*?)</tr>',
                    pages[f"audit-{lang}"], re.DOTALL)
    assert row.group(1) == "consistent"
    assert verdict in row.group(2)


def test_no_chart_puts_two_period_bases_or_units_on_one_axis(tables):
    """Every chart a report draws (overview results and targets, each programme's figures)."""
    figs = tables.figures.assign(value=tables.figures["value"].astype("int64"),
                                 period_basis=tables.figures["period_basis"].astype(str))
    charts = [figs[(figs["status"].astype(str) == "achieved") & (figs["period_basis"] == "cumulative")],
              figs[(figs["status"].astype(str) == "planned") & (figs["period_basis"] == "per_year")]]
    charts += [rows for _, rows in figs.groupby(figs["programme_id"].astype(str))]
    mixed_before = 0
    for rows in charts:
        rows = rows.drop_duplicates("label_en")
        basis = dict(zip(rows["label_en"], zip(rows["period_basis"], rows["unit"].astype(str))))
        fig = fmt.bar_figure(rows, lang="en", title="T", source_note="S", label_key="label_en")
        for ax in (a for a in fig.axes if a.axison and a.get_yticklabels()):
            labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
            kinds = {basis[label] for label in labels}
            assert len(kinds) == 1, f"one axis mixes {sorted(kinds)}: {labels}"
        mixed_before += len(set(basis.values())) > 1
    assert mixed_before >= 2  # the data does have charts where the bases would meet


def test_wide_spans_are_dots_not_log_bars(tables):
    figs = tables.figures
    rows = figs[(figs["status"].astype(str) == "achieved") & (figs["period_basis"].astype(str) == "cumulative")
                & (figs["unit"].astype(str) == "persons")].assign(value=lambda f: f["value"].astype("int64"))
    ax = fmt.bar_figure(rows, lang="zh", title="T", source_note="S").axes[0]
    assert ax.get_xscale() == "log"
    assert not ax.patches and len(ax.lines) == len(rows)
    assert pd.Series(rows["value"]).min() == 15000  # the 1.5万 that a log bar would have made look like nothing
