"""Playwright helpers: Debian's Chromium, headless, with the network blocked and every attempt recorded.

Import the fixtures explicitly in a test module:
    from tests.support.browser import browser  # noqa: F401
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> str:
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is missing; install it with: apt-get install -y chromium", pytrace=False)
    return str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))


def axe_source() -> str:
    try:
        import axe_playwright_python
    except ImportError:  # pragma: no cover - the test extra is part of the lock
        pytest.fail(
            "axe-playwright-python is missing; install it with: make bootstrap (or .venv/bin/pip install -r requirements-test.lock)"
        )
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


_SHARED: dict = {}


def shared_browser(config):
    """One headless Chromium per test process, however many modules import the fixture.

    Playwright's sync API allows one running instance per thread, so a second session fixture in
    another module must reuse the first; it is closed when the pytest session ends.
    """
    if "browser" not in _SHARED:
        executable = require_chromium()
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        try:
            chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Exception:
            pw.stop()
            raise
        _SHARED.update(pw=pw, browser=chromium)

        def stop():
            _SHARED.pop("browser").close()
            _SHARED.pop("pw").stop()

        config.add_cleanup(stop)
    return _SHARED["browser"]


@pytest.fixture(scope="session")
def browser(pytestconfig):
    """Debian's Chromium, headless (shared by every module that imports this fixture)."""
    return shared_browser(pytestconfig)


@dataclass
class Visit:
    """What happened while a page loaded: requests the page tried to make, failures, console errors."""

    page: object
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"blocked network request: {u}" for u in self.blocked]
            + [f"failed request: {u}" for u in self.failed]
            + [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"dialog opened: {m}" for m in self.dialogs]
        )


def open_file(browser, path: Path, *, wait_ms: int = 300) -> Visit:
    """Load a local file with every non-file: request aborted and recorded; returns the Visit (page open)."""
    context = browser.new_context(java_script_enabled=True, offline=True)
    page = context.new_page()
    visit = Visit(page=page)

    def route(route_obj):
        url = route_obj.request.url
        if url.startswith(("file:", "data:", "blob:")) or url == "about:blank":
            route_obj.continue_()
        else:
            visit.blocked.append(url)
            route_obj.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: visit.failed.append(f"{req.url} ({req.failure})"))
    page.on("console", lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))

    def dialog(d):
        visit.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    response = page.goto(Path(path).resolve().as_uri(), wait_until="load")
    assert response is None or response.ok, f"{path}: could not load ({response and response.status})"
    page.wait_for_timeout(wait_ms)
    return visit


def close(visit: Visit) -> None:
    visit.page.context.close()


def run_axe(page) -> list[dict]:
    """Inject axe-core (shipped by axe-playwright-python) and return its violations."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || ''))}));
        }"""
    )
    return result


# A DOM walk for traceability: every text node with a digit must sit inside an element carrying
# data-figure-ids, a <time>, or a footnote marker (.tb-fnref). Text inside <script>/<style>/<title>
# and the head is not "printed" in the body.
UNTRACED_DIGITS_JS = """() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
        const text = node.nodeValue;
        if (!/[0-9]/.test(text)) continue;
        const el = node.parentElement;
        if (!el) continue;
        if (el.closest('script, style, noscript, template')) continue;
        if (el.closest('[data-figure-ids], time, .tb-fnref')) continue;
        out.push({text: text.trim().slice(0, 160), path: (() => {
            const parts = []; let e = el;
            while (e && e !== document.body && parts.length < 6) {
                parts.unshift(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
                e = e.parentElement;
            }
            return parts.join(' > ');
        })()});
    }
    return out;
}"""

FIGURE_IDS_JS = """() => Array.from(document.querySelectorAll('[data-figure-ids]'))
    .map(e => e.getAttribute('data-figure-ids'))"""
