"""Meeting mode, role presets and pooled roles, in headless Chromium against a real server.

The store: FIXTURE and 7 more students like its 3, published with students pooled
(``POOLED_ROLES=student``): social workers 22, team managers 20 and the pool (the 10 students)
10, 52 in all; the 2 who left question 2 blank wait."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from data_loaders.bootstrap import open_store
from tests.dashboard_support import FIXTURE, add_and_publish, build_app, responses, serve

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

# The charts in dashboard.charts.CHARTS, in order: the eight questions, then the UK and US.
TITLES = ["Q1. Role", "Q2. Uses social media", "Q3. Looked at a service user's profile",
          "Q4. Looked at a profile to gather evidence", "Q5. Aware of the surveillance guidance",
          "Q6. Confident with the guidance", "Q7. Confident about the rules",
          "Q8. Knows whom to ask", "UK and US: looking at service users' profiles"]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('present') / 'store.sqlite3'}"
    add_and_publish(open_store(url), responses([*FIXTURE, (7, FIXTURE[4][1])]),
                    pooled_roles="student")
    return url


@pytest.fixture(scope="module")
def base_url(store_url):
    with serve(build_app(store_url, refresh_seconds=1.0, pooled_roles="student")) as url:
        yield url


def title(page: Page):
    return page.locator("#present-title")


def slide_in_url(number: int) -> re.Pattern:
    return re.compile(rf"[?&]slide={number}(&|$)")


def open_meeting(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#present-view")).to_be_visible()
    expect(page.locator("#present-graph .main-svg").first).to_be_attached()


def test_meeting_mode_opens_with_present_1_and_hides_the_page(page, base_url):
    open_meeting(page, base_url + "/?role=social_worker&present=1")
    expect(title(page)).to_have_text(TITLES[0])
    expect(page.locator("#present-counter")).to_have_text("Chart 1 of 9")
    expect(page.locator("#present-filters")).to_have_text("Showing: Social worker; everyone")
    expect(page.locator("#present-meta")).to_contain_text("n = 22 \u00b7 Data as of")
    expect(page.locator("#present-source")).to_contain_text("Source: Community Care survey")
    # The page behind it and the site's header are out of the way; the filters stay usable.
    expect(page.locator("#content")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_label(re.compile(r"^Social worker"))).to_be_checked()
    expect(page.get_by_label(re.compile(r"^Social worker"))).to_be_enabled()
    # Projector-sized type.
    size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('present-title'))"
                         ".fontSize)")
    assert size >= 36, size
    assert page.errors == []


def test_arrow_keys_and_page_keys_move_between_charts_and_the_url_keeps_the_slide(page, base_url):
    # Over the Methodology page: meeting mode is the same over any page.
    open_meeting(page, base_url + "/methodology?present=1")
    expect(title(page)).to_have_text(TITLES[0])
    page.keyboard.press("ArrowRight")
    expect(title(page)).to_have_text(TITLES[1])
    expect(page).to_have_url(slide_in_url(2))
    page.keyboard.press("PageDown")
    expect(title(page)).to_have_text(TITLES[2])
    expect(page).to_have_url(slide_in_url(3))
    page.keyboard.press("ArrowLeft")
    expect(title(page)).to_have_text(TITLES[1])
    expect(page).to_have_url(slide_in_url(2))
    page.keyboard.press("PageUp")
    expect(title(page)).to_have_text(TITLES[0])
    expect(page).to_have_url(slide_in_url(1))
    page.keyboard.press("ArrowLeft")  # already at the first: stays
    page.wait_for_timeout(300)
    expect(title(page)).to_have_text(TITLES[0])
    expect(page.locator("#present-counter")).to_have_text("Chart 1 of 9")
    # The on-screen buttons; the last chart is the UK and US comparison, and Next stops there.
    open_meeting(page, base_url + "/methodology?present=1&slide=8")
    expect(title(page)).to_have_text(TITLES[7])
    page.get_by_role("button", name="Next").click()
    expect(title(page)).to_have_text(TITLES[8])
    expect(page).to_have_url(slide_in_url(9))
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    expect(title(page)).to_have_text(TITLES[8])
    expect(page).to_have_url(slide_in_url(9))
    page.get_by_role("button", name="Previous").click()
    expect(title(page)).to_have_text(TITLES[7])
    expect(page).to_have_url(slide_in_url(8))
    assert page.errors == []


def test_every_chart_has_its_slide_in_order():
    from dashboard.charts import CHARTS

    assert [chart.title for chart in CHARTS.values()] == TITLES


def test_a_link_reopens_the_same_slide_and_the_filters_in_words(page, base_url):
    open_meeting(page, base_url + "/uk-and-us?role=social_worker&social_media=yes&present=1"
                                  "&slide=9")
    expect(title(page)).to_have_text(TITLES[8])
    expect(page.locator("#present-filters")).to_have_text(
        "Showing: Social worker; those who use social media")
    expect(page.locator("#present-notes")).to_contain_text("None of the wordings is identical")
    expect(page.locator("#present-source")).to_contain_text("Sage")
    assert page.get_by_label("Use social media", exact=True).is_checked()
    # A slide number out of range shows the nearest chart.
    open_meeting(page, base_url + "/?present=1&slide=40")
    expect(title(page)).to_have_text(TITLES[8])
    assert page.errors == []


def test_arrow_keys_are_not_taken_from_form_fields(page, base_url):
    open_meeting(page, base_url + "/methodology?present=1&slide=3")
    expect(title(page)).to_have_text(TITLES[2])
    everyone = page.get_by_label("Everyone", exact=True)
    everyone.focus()
    page.keyboard.press("ArrowRight")
    # The radio group moved to its next choice, as it should; the slide did not.
    expect(page.get_by_label("Use social media", exact=True)).to_be_checked()
    expect(page).to_have_url(re.compile(r"social_media=yes"))
    expect(page.locator("#present-filters")).to_have_text(
        "Showing: All roles; those who use social media")
    expect(title(page)).to_have_text(TITLES[2])
    expect(page).to_have_url(slide_in_url(3))
    # A checkbox keeps the arrows too; a presenter's remote (Page Down) still moves on.
    page.get_by_label(re.compile(r"^Social worker")).focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    expect(title(page)).to_have_text(TITLES[2])
    page.keyboard.press("PageDown")
    expect(title(page)).to_have_text(TITLES[3])
    expect(page).to_have_url(slide_in_url(4))
    assert page.errors == []


def test_exit_and_escape_go_back_to_the_page_with_the_same_filters(page, base_url):
    page.goto(base_url + "/uk-and-us?role=social_worker")
    expect(page.locator("#chart-uk-and-us")).to_be_visible()
    expect(page.locator("#present-view")).to_be_hidden()
    present = page.get_by_role("link", name="Present", exact=True)
    expect(present).to_have_attribute("href", "/uk-and-us?role=social_worker&present=1")
    present.click()
    expect(title(page)).to_have_text(TITLES[0])
    expect(page).to_have_url(re.compile(r"/uk-and-us\?role=social_worker&present=1$"))
    page.keyboard.press("ArrowRight")
    expect(title(page)).to_have_text(TITLES[1])
    page.get_by_role("link", name="Exit").click()
    expect(page).to_have_url(re.compile(r"/uk-and-us\?role=social_worker$"))
    expect(page.locator("#present-view")).to_be_hidden()
    expect(page.locator("#chart-uk-and-us")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Social worker"))).to_be_checked()
    # Back in, then out with Esc; keys do nothing outside meeting mode.
    open_meeting(page, base_url + "/?role=social_worker&present=1&slide=2")
    page.locator("#present-title").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"/\?role=social_worker$"))
    expect(page.locator("#present-view")).to_be_hidden()
    expect(page.locator("#content .card").first).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    expect(page).to_have_url(re.compile(r"/\?role=social_worker$"))
    assert page.errors == []


def test_full_screen_button_uses_the_fullscreen_api(page, base_url):
    open_meeting(page, base_url + "/methodology?present=1")
    button = page.get_by_role("button", name="Full screen")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    page.wait_for_function("document.fullscreenElement === document.documentElement")
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    page.wait_for_function("document.fullscreenElement === null")
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page.errors == []


def test_deck_links_follow_the_filters(page, base_url):
    page.goto(base_url + "/explore?role=social_worker&social_media=no&rows=confident_rules")
    expect(page.locator("#chi-square")).to_be_visible()
    # The export takes only the filters: other keys of the link are left out.
    expect(page.locator("#deck-pptx")).to_have_attribute(
        "href", "/export/deck.pptx?role=social_worker&social_media=no")
    expect(page.get_by_role("link", name="PDF", exact=True)).to_have_attribute(
        "href", "/export/deck.pdf?role=social_worker&social_media=no")
    expect(page.get_by_role("link", name="Slides (PowerPoint)")).to_be_visible()
    page.get_by_role("link", name="Present", exact=True).click()
    expect(page.locator("#present-pptx")).to_have_attribute(
        "href", "/export/deck.pptx?role=social_worker&social_media=no")
    expect(page.locator("#present-pdf")).to_have_attribute(
        "href", "/export/deck.pdf?role=social_worker&social_media=no")
    expect(page.locator("#present-view").get_by_role("link", name="Slides (PowerPoint)")) \
        .to_be_visible()
    assert page.errors == []


def test_presets_set_the_role_filter_and_the_url(page, base_url):
    page.goto(base_url + "/?social_media=yes")
    # Those who use social media: 22 social workers, 10 team managers and the 10 students.
    expect(page.locator("#headline-responses .headline-value")).to_have_text("42")
    social_worker = page.get_by_label(re.compile(r"^Social worker \("))
    pooled = page.get_by_label(re.compile(r"^Other roles, pooled"))

    page.get_by_role("button", name="Frontline practitioners").click()
    expect(page).to_have_url(re.compile(
        r"/\?role=social_worker&role=newly_qualified_social_worker&role=senior_practitioner"
        r"&role=independent_reviewing_officer&role=family_support_worker&social_media=yes$"))
    # Social workers are a group of their own; the other frontline roles have nothing published
    # yet (their boxes are ticked but disabled), and none is pooled.
    expect(social_worker).to_be_checked()
    expect(page.get_by_label(re.compile(r"^Newly qualified social worker"))).to_be_checked()
    expect(pooled).not_to_be_checked()
    expect(page.locator("#headline-responses .headline-value")).to_have_text("22")

    page.get_by_role("button", name="Students").click()
    expect(page).to_have_url(re.compile(r"/\?role=student&social_media=yes$"))
    expect(social_worker).not_to_be_checked()
    expect(pooled).to_be_checked()
    # The 10 students, all of whom use social media: the pooled group.
    expect(page.locator("#headline-responses .headline-value")).to_have_text("10")

    page.get_by_role("button", name="Everyone").click()
    expect(page).to_have_url(re.compile(r"/\?social_media=yes$"))
    expect(social_worker).not_to_be_checked()
    expect(pooled).not_to_be_checked()
    expect(page.locator("#headline-responses .headline-value")).to_have_text("42")

    # In meeting mode too, where the slide follows.
    open_meeting(page, base_url + "/methodology?present=1&slide=3")
    page.get_by_role("button", name="Managers and leaders").click()
    expect(page).to_have_url(re.compile(
        r"role=team_manager&role=service_manager&role=director&role=principal_social_worker"))
    expect(page).to_have_url(slide_in_url(3))
    expect(page.locator("#present-filters")).to_have_text(
        "Showing: Team manager, Service manager or head of service, Director or assistant "
        "director, Principal social worker; everyone")
    expect(page.get_by_label(re.compile(r"^Team manager \("))).to_be_checked()
    expect(pooled).not_to_be_checked()
    assert page.errors == []


def test_pooled_roles_are_listed_disabled_and_greyed_with_the_reason(page, base_url):
    page.goto(base_url + "/")
    expect(page.locator("#headline-responses .headline-value")).not_to_be_empty()
    # Students are pooled (POOLED_ROLES); the roles nobody gave have nothing published yet.
    for label in ("Social work student \u2014 published only with the other small roles",
                  "Director or assistant director \u2014 none published yet",
                  "Other \u2014 none published yet"):
        box = page.get_by_label(label, exact=True)
        expect(box).to_be_disabled()
        expect(box).not_to_be_checked()
    for label in ("Social worker (22)", "Team manager (20)"):
        expect(page.get_by_label(label, exact=True)).to_be_enabled()
    pooled = page.get_by_label("Other roles, pooled (10)", exact=True)
    expect(pooled).to_be_enabled()
    pooled.check()
    expect(page).to_have_url(re.compile(r"/\?role=pooled$"))

    def colour(label_text: str) -> str:
        return page.locator("#role-filter label", has_text=label_text).first.evaluate(
            "e => getComputedStyle(e).color")

    grey, normal = colour("Social work student"), colour("Social worker (")
    assert grey != normal
    # Greyed: every channel lighter than the normal text, and the same in each (no hue).
    grey_rgb = [int(v) for v in re.findall(r"\d+", grey)[:3]]
    normal_rgb = [int(v) for v in re.findall(r"\d+", normal)[:3]]
    assert len(set(grey_rgb)) == 1 and all(g > n for g, n in zip(grey_rgb, normal_rgb)), (
        grey, normal)
    # Clicking a pooled role changes nothing.
    page.locator("#role-filter label", has_text="Social work student").click(force=True)
    page.wait_for_timeout(300)
    expect(page).to_have_url(re.compile(r"/\?role=pooled$"))
    assert page.errors == []


def test_meeting_mode_follows_new_responses(page, base_url, store_url):
    open_meeting(page, base_url + "/?present=1")
    meta = page.locator("#present-meta")
    expect(meta).to_contain_text("n = ")
    before = int(re.search(r"n = (\d+)", meta.inner_text()).group(1))
    # A release of 10 social workers (their atom and each of its groups gain 10).
    ten = [(10, ("social_worker", "yes", "no", "no", "no", "", "no", "no"))]
    add_and_publish(open_store(store_url), responses(ten))
    expect(meta).to_contain_text(f"n = {before + 10}", timeout=10_000)
    expect(title(page)).to_have_text(TITLES[0])
    # Out of meeting mode, a new release, and back to the very same link: the slide is up to
    # date.
    page.get_by_role("link", name="Exit").click()
    expect(page.locator("#present-view")).to_be_hidden()
    add_and_publish(open_store(store_url), responses(ten))
    expect(page.locator("#headline-responses .headline-value")).to_have_text(str(before + 20),
                                                                             timeout=10_000)
    page.get_by_role("link", name="Present", exact=True).click()
    expect(page).to_have_url(re.compile(r"/\?present=1$"))
    expect(meta).to_contain_text(f"n = {before + 20}")
    assert page.errors == []


def test_no_serious_accessibility_violations_in_meeting_mode(page, base_url):
    open_meeting(page, base_url + "/?role=social_worker&present=1&slide=3")
    expect(title(page)).to_have_text(TITLES[2])
    page.wait_for_timeout(500)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
    assert page.errors == []
