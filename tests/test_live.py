"""The worker's live view of the store: it takes in new releases, and when the store goes away it
keeps the last figures, says since when, and recovers by itself. Against a PostgreSQL server of
its own, stopped and started again as an outage would."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from dashboard.live import LiveData
from data_loaders.bootstrap import open_store
from tests.dashboard_support import (FIXTURE, add, add_and_publish, build_app, publish,
                                     responses, serve, settings_for)

pytestmark = pytest.mark.postgres

TEN_MORE = [(10, ("social_worker", "yes", "no", "no", "no", "", "no", "no"))]
"""Enough of one kind for a release: the atom "social worker, uses social media" and each of
its groups gain 10."""


@pytest.fixture
def server(own_pg_server):
    return own_pg_server


@pytest.fixture
def store(server):
    url = server.url()
    engine = open_store(url)
    add_and_publish(engine, responses(FIXTURE))
    return url, engine


def test_the_last_figures_stay_through_an_outage_and_it_recovers(server, store):
    url, engine = store
    live = LiveData(engine, settings_for(url), min_interval=0)
    before = live.snapshot()
    # 47 stored, 42 published (see FIXTURE).
    assert before.total == 42 and before.unreachable_since is None

    server.pause()
    during = live.snapshot()
    assert during.total == 42 and during.version == before.version
    assert during.unreachable_since is not None
    assert live.snapshot().unreachable_since == during.unreachable_since  # since the first failure

    server.resume()
    add(engine, responses(TEN_MORE))
    assert live.snapshot().unreachable_since is None
    assert live.snapshot().total == 42  # stored, not yet published
    publish(engine)
    assert live.snapshot().total == 42 + 10


def test_the_page_says_the_store_is_unreachable_and_recovers(server, store):
    url, engine = store
    with serve(build_app(url, refresh_seconds=0.5)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/?role=social_worker")
        shown = page.locator("#headline-responses .headline-value")
        expect(shown).to_have_text("22", timeout=15_000)

        server.pause()
        notice = page.locator("#store-status")
        expect(notice).to_contain_text(re.compile(r"Store unreachable\s+since"), timeout=15_000)
        expect(shown).to_have_text("22")
        page.get_by_label("Use social media", exact=True).check()
        expect(page).to_have_url(re.compile(r"social_media=yes"))
        expect(shown).to_have_text("22")  # filters still work on the last figures

        server.resume()
        add_and_publish(engine, responses(TEN_MORE))
        expect(notice).to_be_empty(timeout=15_000)
        expect(shown).to_have_text("32", timeout=15_000)  # 22 + the 10 just published
        assert errors == []
        browser.close()
