"""What only a browser shows: pages in headless Chromium against a real server on loopback."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from data_loaders.bootstrap import open_store
from tests.dashboard_support import (FIXTURE, add, add_and_publish, build_app, publish,
                                     responses, serve)

pytestmark = pytest.mark.browser

PAGES = ["/", "/uk-and-us", "/explore", "/live", "/methodology"]
# Generous: the machine running the tests may be busy; nothing here measures speed.
expect.set_options(timeout=15_000)

# Seven more students answering as the fixture's three do: ten in one class. Published with
# students pooled (POOLED_ROLES=student), they are the pooled group. The first release then
# shows 52: the fixture's 42 (social worker x yes 22, team manager x yes 10, team manager x
# no 10) and the pooled group's 10 (all using social media); the 2 who left question 2 blank
# wait (fewer than 10).
STUDENTS = [(7, ("student", "yes", "yes", "yes", "yes", "no", "no", "no"))]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'store.sqlite3'}"
    add_and_publish(open_store(url), responses(FIXTURE + STUDENTS), pooled_roles="student")
    return url


@pytest.fixture(scope="module")
def base_url(store_url):
    with serve(build_app(store_url, refresh_seconds=1.0)) as url:
        yield url


def responses_shown(page: Page):
    return page.locator("#headline-responses .headline-value")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_without_console_errors(page, base_url, path):
    page.goto(base_url + path)
    expect(page.locator("#content .card, #content .prose h2").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(500)
    assert page.errors == []


def test_role_filter_changes_the_numbers_and_the_url(page, base_url):
    page.goto(base_url + "/")
    expect(responses_shown(page)).to_have_text("52", timeout=15_000)
    page.get_by_label(re.compile(r"^Social worker")).check()
    expect(page).to_have_url(re.compile(r"\?role=social_worker$"))
    expect(responses_shown(page)).to_have_text("22")
    page.get_by_label("Use social media", exact=True).check()
    expect(page).to_have_url(re.compile(r"\?role=social_worker&social_media=yes$"))
    expect(responses_shown(page)).to_have_text("22")
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?role=social_worker$"))
    page.go_back()
    expect(responses_shown(page)).to_have_text("52")
    assert not page.get_by_label(re.compile(r"^Social worker")).is_checked()
    assert page.errors == []


def test_a_copied_link_reopens_the_same_view(page, base_url):
    page.goto(base_url + "/?role=student&social_media=yes")
    # Students are pooled: the link opens the pooled group, whose 10 published responses (the
    # students) all use social media. Students cannot be ticked on their own.
    expect(responses_shown(page)).to_have_text("10", timeout=15_000)
    assert page.get_by_label(re.compile(r"^Other roles, pooled")).is_checked()
    assert page.get_by_label(re.compile(r"^Social work student")).is_disabled()
    assert page.get_by_label("Use social media", exact=True).is_checked()
    page.get_by_role("link", name="UK and US").click()
    expect(page).to_have_url(re.compile(r"/uk-and-us\?role=student&social_media=yes$"))


def test_a_new_release_appears_without_a_reload(page, base_url, store_url):
    page.goto(base_url + "/")
    expect(responses_shown(page)).to_have_text("52", timeout=15_000)
    engine = open_store(store_url)
    # Ten social workers like ten already published (social worker x yes gains 10), and one
    # more student, who waits: the pooled group would gain 1. So the release adds 10: 62.
    add(engine, responses([(10, ("social_worker", "yes", "no", "no", "no", "", "no", "no")),
                           (1, ("student", "yes", "no", "no", "no", "", "no", "no"))]))
    made = publish(engine)
    assert made is not None and made.added == 10
    # Refreshed every second; the margin is for a busy machine, not a promise of speed.
    expect(responses_shown(page)).to_have_text("62", timeout=30_000)
    assert page.errors == []


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violations(page, base_url, path):
    page.goto(base_url + path)
    expect(page.locator("#content .card, #content .prose h2").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(500)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def test_when_nothing_changed_nothing_is_re_sent(page, base_url, store_url):
    ticks = []

    def record(response):
        body = response.request.post_data or ""
        if "_dash-update-component" in response.url and '"data-version","property":"data"' in body:
            ticks.append(response.status)

    page.goto(base_url + "/")
    expect(responses_shown(page)).not_to_be_empty()
    page.wait_for_timeout(1500)
    page.on("response", record)
    for _ in range(60):  # polled every second; a busy machine may be slower
        if len(ticks) >= 3:
            break
        page.wait_for_timeout(500)
    # Answered each time with "no content".
    assert len(ticks) >= 3 and set(ticks) == {204}, ticks
    before = int(responses_shown(page).inner_text())
    # Ten team managers like the ten published who use social media: a release of 10.
    add_and_publish(open_store(store_url), responses(
        [(10, ("team_manager", "yes", "yes", "no", "not_sure", "", "yes", "yes"))]))
    expect(responses_shown(page)).to_have_text(str(before + 10), timeout=30_000)
    assert 200 in ticks


def test_explore_choices_are_kept_in_the_link(page, base_url):
    page.goto(base_url + "/explore?role=social_worker")
    expect(page.locator("#chi-square")).to_be_visible()
    page.get_by_label("Columns: answer to").select_option("confident_rules")
    expect(page).to_have_url(re.compile(r"columns=confident_rules"))
    link = page.url
    page.goto(base_url + "/")
    page.goto(link)
    expect(page.get_by_label("Columns: answer to")).to_have_value("confident_rules")
    assert page.get_by_label(re.compile(r"^Social worker")).is_checked()
    title = page.locator("#chart-crosstab .gtitle")
    expect(title).to_contain_text("Q7 Confident about the rules")
    assert page.errors == []
