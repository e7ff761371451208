"""The built HTML in a real browser: Debian's Chromium, headless, with the network blocked.

Every page (each report in the manifest, and index.html) is loaded once per session; the tests below
assert on what that visit recorded. Nothing here touches the checkout's reports/: `built_project` is a
temporary copy built once through the CLI.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.support.browser import (  # noqa: F401  (browser is a fixture)
    FIGURE_IDS_JS,
    UNTRACED_DIGITS_JS,
    browser,
    close,
    open_file,
    run_axe,
)
from tests.support.reports import load_manifest, manifest_lang, manifest_reports

pytestmark = pytest.mark.timeout(900)


class PageReport:
    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []
        self.images: list[dict] = []
        self.axe: list[dict] = []
        self.untraced: list[dict] = []
        self.figure_ids: list[str] = []
        self.text = ""
        self.lang = ""
        self.title = ""
        self.h1: list[str] = []
        self.links: list[str] = []
        self.scripts: list[str] = []
        self.external: list[str] = []


@pytest.fixture(scope="session")
def manifest(built_project) -> dict[str, dict]:
    reports = manifest_reports(load_manifest(built_project))
    assert reports, "the manifest lists no reports"
    return reports


@pytest.fixture(scope="session")
def visits(browser, built_project, manifest) -> dict[str, PageReport]:  # noqa: F811
    reports_dir = built_project / "reports"
    pages = {rid: reports_dir / f"{rid}.html" for rid in sorted(manifest)}
    pages["index"] = reports_dir / "index.html"
    out: dict[str, PageReport] = {}
    for name, path in pages.items():
        assert path.is_file(), f"{path.name} is missing from reports/"
        rep = PageReport(name)
        visit = open_file(browser, path)
        page = visit.page
        try:
            rep.images = page.evaluate(
                "() => Array.from(document.images).map(i => ({alt: i.getAttribute('alt'),"
                " src: (i.getAttribute('src') || '').slice(0, 40), w: i.naturalWidth}))"
            )
            rep.untraced = page.evaluate(UNTRACED_DIGITS_JS)
            rep.figure_ids = page.evaluate(FIGURE_IDS_JS)
            rep.text = page.evaluate("() => document.body.innerText")
            rep.lang = page.evaluate("() => document.documentElement.getAttribute('lang') || ''")
            rep.title = page.title()
            rep.h1 = page.evaluate("() => Array.from(document.querySelectorAll('h1'), e => e.textContent.trim())")
            rep.links = page.evaluate(
                "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
            )
            rep.scripts = page.evaluate(
                "() => Array.from(document.querySelectorAll('script[src], link[href], img[src], source[src]'))"
                ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
            )
            rep.external = page.evaluate(EXTERNAL_URLS_JS)
            rep.axe = run_axe(page)
            # problems last: axe injection must not itself cause a console error
            rep.problems = visit.problems()
        finally:
            close(visit)
        out[name] = rep
    return out


# Every URL to the outside in the DOM: only <a href> (source links the report writes) is allowed; no
# src/srcset/poster/data/action attribute, no url(http...) or @import in CSS.
EXTERNAL_URLS_JS = r"""() => {
    const out = [];
    const remote = /(^|[\s,("'])(https?:)?\/\//i;
    for (const el of document.querySelectorAll('*')) {
        for (const a of el.attributes) {
            if (el.tagName === 'A' && a.name === 'href') continue;
            if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
            if (a.name.startsWith('data-')) continue;
            if (['title', 'alt', 'aria-label', 'aria-description'].includes(a.name)) continue;
            if (remote.test(a.value)) out.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 80)}">`);
        }
    }
    for (const st of document.querySelectorAll('style')) {
        const m = st.textContent.match(/(url\(\s*['"]?(https?:)?\/\/|@import)[^;]{0,60}/gi);
        if (m) out.push(...m.map(x => `<style> ${x}`));
    }
    return out;
}"""


def _figure_ids(root: Path) -> set[str]:
    with open(root / "data" / "figures.csv", newline="", encoding="utf-8") as fh:
        return {row["figure_id"] for row in csv.DictReader(fh)}


def _programmes_with_figures(root: Path) -> set[str]:
    with open(root / "data" / "figures.csv", newline="", encoding="utf-8") as fh:
        return {row["programme_id"] for row in csv.DictReader(fh) if row.get("programme_id")}


def test_catalogue_holds_every_report_kind(built_project, manifest):
    ids = set(manifest)
    expected = {"overview-en", "overview-zh", "audit-en", "audit-zh"}
    expected |= {
        f"programme-{p}-{lang}" for p in _programmes_with_figures(built_project) for lang in ("en", "zh")
    }
    assert expected <= ids, f"missing from the built catalogue: {sorted(expected - ids)}"
    for rid in ids:
        for ext in ("html", "pdf"):
            assert (built_project / "reports" / f"{rid}.{ext}").is_file(), f"{rid}.{ext} not built"


def test_pages_load_offline_without_errors(visits):
    bad = {name: rep.problems for name, rep in visits.items() if rep.problems}
    assert not bad, f"pages with blocked/failed requests or console errors: {bad}"


def test_no_external_resources(visits):
    bad = {}
    for name, rep in visits.items():
        external = [u for u in rep.scripts if u and re.match(r"^(https?:)?//", u)]
        if external:
            bad[name] = external
    assert not bad, f"pages referencing external scripts/styles/images: {bad}"


def test_only_source_links_point_outside(visits):
    bad = {name: rep.external for name, rep in visits.items() if rep.external}
    assert not bad, f"external URLs outside <a href> (scripts, styles, fonts, images): {bad}"


def test_html_lang_and_title(visits, manifest):
    for rid, entry in manifest.items():
        rep = visits[rid]
        lang = manifest_lang(entry) or rid.rsplit("-", 1)[-1]
        assert rep.lang.split("-")[0] == lang, f"{rid}: <html lang={rep.lang!r}>, expected {lang}"
        assert rep.title.strip(), f"{rid}: empty <title>"
        # as elements: a page shown as its own escaped source has text, but no <h1> and no title
        assert rep.h1 == [rep.title], f"{rid}: <h1> elements {rep.h1} do not match the title {rep.title!r}"
        assert not rep.text.lstrip().startswith("<"), f"{rid}: the body starts with markup as text"
    assert visits["index"].title.strip(), "index.html has no <title>"
    assert len(visits["index"].h1) == 1 and not visits["index"].text.lstrip().startswith("<")


def test_every_image_has_alt_text(visits):
    bad = {
        name: [img["src"] for img in rep.images if not (img["alt"] or "").strip()]
        for name, rep in visits.items()
    }
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"images without alt text: {bad}"
    broken = {name: [i["src"] for i in rep.images if not i["w"]] for name, rep in visits.items()}
    broken = {k: v for k, v in broken.items() if v}
    assert not broken, f"images that did not decode: {broken}"


def test_reports_have_charts(visits):
    for name in ("overview-en", "overview-zh"):
        assert len(visits[name].images) >= 2, (
            f"{name}: expected at least two charts, found {len(visits[name].images)}"
        )


def test_axe_finds_no_serious_or_critical_violations(visits):
    bad = {
        name: [v for v in rep.axe if v["impact"] in ("serious", "critical")] for name, rep in visits.items()
    }
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"axe-core serious/critical violations: {bad}"


def test_index_links_resolve(visits, built_project, manifest):
    index = built_project / "reports" / "index.html"
    targets = set()
    for href in visits["index"].links:
        parsed = urlparse(href)
        if parsed.scheme in ("http", "https", "mailto"):
            continue
        assert parsed.scheme in ("", "file"), f"index.html link with unexpected scheme: {href}"
        if not parsed.path:
            continue  # in-page anchor
        target = (index.parent / unquote(parsed.path)).resolve()
        assert target.is_file(), f"index.html links to {href}, which does not exist"
        assert target.is_relative_to((built_project / "reports").resolve()), (
            f"index.html link leaves reports/: {href}"
        )
        targets.add(target.name)
    for rid in manifest:
        assert f"{rid}.html" in targets, f"index.html does not link {rid}.html"
        assert f"{rid}.pdf" in targets, f"index.html does not link {rid}.pdf"


def test_every_number_is_traceable(visits, built_project, manifest):
    known = _figure_ids(built_project)
    untraced = {rid: visits[rid].untraced for rid in manifest if visits[rid].untraced}
    assert not untraced, (
        "text with digits outside any [data-figure-ids], <time> or .tb-fnref element: "
        + "; ".join(f"{rid}: {items[:8]}" for rid, items in untraced.items())
    )
    for rid in manifest:
        carried = visits[rid].figure_ids
        assert carried, f"{rid}: no element carries data-figure-ids"
        ids = {i for value in carried for i in re.split(r"[\s,]+", value.strip()) if i}
        assert ids, f"{rid}: data-figure-ids attributes are all empty"
        unknown = ids - known
        assert not unknown, f"{rid}: data-figure-ids name figures not in data/figures.csv: {sorted(unknown)}"


@pytest.mark.parametrize(
    "rid, phrases",
    [
        ("overview-en", ["more than 2.52 million", "12.643 million", "more than 4.85 million"]),
        ("overview-zh", ["252万", "1264.3万", "485万"]),
    ],
)
def test_overview_states_the_headline_figures(visits, rid, phrases):
    text = visits[rid].text
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{rid}: missing {missing}"
