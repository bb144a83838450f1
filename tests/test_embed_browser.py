"""Embeds as an article shows them: the snippet pasted into a page on another origin."""

from __future__ import annotations

import functools
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

from analysis.views import Filter
from dashboard.embeds import freeze, snippet
from tests.dashboard_support import add_and_publish, build_app, fixture_store, responses, serve

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)
# Twelve social workers who have looked at a profile, alike: one release of 12 (social worker x
# yes gains 12, as do its "answered" groups of questions 3 to 8 but question 6, where it is
# its "not asked" group: they are not aware of the guidance).
TWELVE_MORE = [(12, ("social_worker", "yes", "yes", "no", "no", "", "no", "no"))]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return fixture_store(tmp_path_factory.mktemp("embeds"))


@pytest.fixture(scope="module")
def app(store):
    return build_app(store[0], refresh_seconds=0.2, embed_refresh_seconds=1.0)


@pytest.fixture(scope="module")
def base_url(app):
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def article(tmp_path_factory):
    """A second origin, as a newspaper's page would be: writes pages, serves them."""
    root = tmp_path_factory.mktemp("article")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def publish(name: str, body: str) -> str:
        (root / name).write_text(f"<!DOCTYPE html><html lang='en'><head><title>Article</title>"
                                 f"</head><body><h1>Article</h1><p>Before.</p>{body}"
                                 f"<p id='after'>After.</p></body></html>", encoding="utf-8")
        return f"http://127.0.0.1:{server.server_port}/{name}"

    yield publish
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-background-networking",
                  "--disable-component-update"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def frame_of(page, index: int = 0):
    frame = page.locator("iframe").nth(index).element_handle().content_frame()
    frame.wait_for_load_state()
    return frame


def test_the_snippet_renders_the_chart_and_sizes_its_iframe(page, base_url, article):
    src = f"{base_url}/embed/viewed_profile?role=social_worker"
    page.goto(article("snippet.html", snippet(src, "Q3")))
    frame_element = page.locator("iframe[data-survey-embed]")
    expect(frame_element).to_be_visible()
    frame = frame_of(page)
    bars = frame.locator("#chart .bar")
    expect(bars).to_have_count(2)
    # Each bar is drawn as wide as its percentage of the chart's width: 54.5% and 45.5%.
    widths = frame.evaluate("[...document.querySelectorAll('#chart .bar')].map("
                            "b => b.getBoundingClientRect().width / b.parentElement.clientWidth)")
    assert [w * 100 for w in widths] == pytest.approx([54.5, 45.5], abs=0.3)
    inner = frame.evaluate("document.documentElement.scrollHeight")
    expect(frame_element).to_have_attribute("style", re.compile(rf"height: {inner}px"))
    # No scroll bar: the frame is as tall as its content.
    assert frame.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    description = frame.locator("#chart-description").inner_text()
    assert description.startswith("Question 3,")
    assert "Of 22 who answered this question and question 2 (low base): Yes 54.5% (12," in description
    assert page.errors == []


def test_the_dashboard_refuses_to_be_framed(page, base_url, article):
    page.goto(article("framed.html", snippet(f"{base_url}/", "dashboard")))
    frame = frame_of(page)
    page.wait_for_timeout(1500)
    # Chromium shows its own error page in place of the refused document.
    assert frame.locator(".site-header, #_pages_content").count() == 0
    assert frame.url.startswith("chrome-error://")


def test_a_live_embed_moves_and_a_frozen_one_does_not(page, app, base_url, store, article):
    with app.server.test_request_context("/", base_url=base_url):
        frozen_path = freeze("viewed_profile", Filter(("social_worker",)), "127.0.0.1")
    body = (snippet(f"{base_url}/embed/viewed_profile?role=social_worker", "live")
            + snippet(f"{base_url}{frozen_path}", "frozen"))
    page.goto(article("both.html", body))
    expect(page.locator("iframe")).to_have_count(2)
    live, frozen_frame = frame_of(page, 0), frame_of(page, 1)
    assert "/embed/frozen/" in frozen_frame.url
    expect(live.locator("#chart-n")).to_have_text("n = 22")
    expect(frozen_frame.locator("#chart-n")).to_have_text("n = 22")
    add_and_publish(store[1], responses(TWELVE_MORE))
    # 22 + 12 = 34 social workers answered question 3; 12 + 12 = 24 of them yes: 70.6%.
    expect(live.locator("#chart-n")).to_have_text("n = 34")
    expect(live.locator("#chart-description")).to_contain_text(
        "Of 34 who answered this question and question 2 (low base): Yes 70.6% (24,")
    page.wait_for_timeout(2500)
    expect(frozen_frame.locator("#chart-n")).to_have_text("n = 22")
    expect(frozen_frame.locator("#chart-description")).to_contain_text("Yes 54.5% (12,")


@pytest.mark.parametrize("path", ["/embed/viewed_profile", "/embed/uk-and-us?role=social_worker"])
def test_no_serious_accessibility_violations_in_an_embed(page, base_url, path):
    page.goto(base_url + path)
    expect(page.locator("#chart .track").first).to_be_visible()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def test_the_explore_and_live_charts_render_without_errors(page, base_url, article):
    console = []  # errors from the embeds (the article's own missing favicon is not theirs)
    page.on("console", lambda m: console.append(m.text) if m.type == "error"
            and m.location.get("url", "").startswith(base_url) else None)
    crosstab = f"{base_url}/embed/crosstab?rows=viewed_profile&columns=viewed_for_evidence"
    body = (snippet(crosstab, "cross-tab")
            + snippet(f"{base_url}/embed/by-role?by_role=viewed_profile", "by role")
            + snippet(f"{base_url}/embed/timeline", "timeline"))
    page.goto(article("explore.html", body))
    expect(page.locator("iframe")).to_have_count(3)
    table, by_role, line = frame_of(page, 0), frame_of(page, 1), frame_of(page, 2)
    # Drawn from the chart's own numbers (an earlier test here publishes more responses, so
    # they are read rather than written in; tests/test_embeds.py checks them by hand).
    crosstab_json = crosstab.replace("/crosstab?", "/crosstab.json?")
    crosstab_rows = page.request.get(crosstab_json).json()["rows"]
    by_role_rows = page.request.get(f"{base_url}/embed/by-role.json?by_role=viewed_profile"
                                    ).json()["rows"]
    # The cross-tab: 2 rows (question 3 yes, no) of 2 cells (question 4 yes, no), each with,
    # beside them, how many in the row left question 4 blank: nobody here.
    expect(table.locator("#chart table tbody td")).to_have_count(6)
    expect(table.locator("#chart tbody th").first).to_have_text(
        f"Yes (n = {crosstab_rows[0]['row_base']})")
    expect(table.locator("#chart thead th").last).to_have_text("No answer (count)")
    assert table.locator("#chart tbody td[data-count]").all_inner_texts() == ["0", "0"]
    # The breakdown: 2 groups of 2 bars, each as wide as its percentage.
    bars = by_role.locator("#chart .bar")
    expect(bars).to_have_count(4)
    widths = by_role.evaluate("[...document.querySelectorAll('#chart .bar')].map("
                              "b => b.getBoundingClientRect().width / b.parentElement.clientWidth)")
    assert [w * 100 for w in widths] == pytest.approx([r["percent"] for r in by_role_rows],
                                                      abs=0.3)
    # The timeline: one bar a day, drawn across the frame's width.
    expect(line.locator("#chart svg rect.day").first).to_be_attached()
    assert line.evaluate("document.querySelector('#chart svg').getBoundingClientRect().width") > 300
    assert page.errors == [] and console == []


@pytest.mark.parametrize("path", ["/embed/crosstab?rows=viewed_profile&columns=aware_of_guidance",
                                  "/embed/by-role?by_role=viewed_profile", "/embed/timeline"])
def test_no_serious_accessibility_violations_in_the_explore_and_live_embeds(page, base_url, path):
    page.goto(base_url + path)
    expect(page.locator("#chart table, #chart .track, #chart svg").first).to_be_visible()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
