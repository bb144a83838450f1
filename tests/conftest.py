"""Shared fixtures: a fresh, migrated store per test, on SQLite and on a real PostgreSQL server.

PostgreSQL: one throwaway server per session (started here, see ``tests/services.py``, or the one
``TEST_DATABASE_URL`` names), one new database per test. When PostgreSQL is not installed the
tests that need it fail, saying so: they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from data_loaders.db import make_engine, upgrade
from tests.services import TEST_DATABASE_URL, PostgresServer, ServiceUnavailable


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """A migrated SQLite store in a fresh file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _psycopg(url: URL) -> URL:
    if url.get_backend_name() != "postgresql":
        raise pytest.UsageError(f"{TEST_DATABASE_URL} must name a PostgreSQL server, not {url}")
    return url.set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[URL]:
    """The URL of a PostgreSQL server's maintenance database, for creating test databases."""
    given = os.environ.get(TEST_DATABASE_URL)
    if given:
        yield _psycopg(make_url(given))
        return
    try:
        server = PostgresServer.start_new()
    except ServiceUnavailable as error:
        problem = str(error)
    else:
        problem = None
    if problem is not None:
        pytest.fail(f"PostgreSQL is needed by this test and is unavailable: {problem}",
                    pytrace=False)
    try:
        yield make_url(server.url())
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_admin(pg_server_url: URL) -> Iterator[Engine]:
    """An autocommit engine on the maintenance database: CREATE and DROP DATABASE."""
    engine = create_engine(pg_server_url, isolation_level="AUTOCOMMIT", pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_database(pg_admin: Engine, pg_server_url: URL) -> Iterator[Callable[[], str]]:
    """A factory of new, empty databases on the test server (dropped at the end of the test);
    each call returns the new database's URL as a string, password included."""
    created: list[str] = []

    def new_database() -> str:
        name = f"survey_test_{uuid.uuid4().hex[:16]}"
        with pg_admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return pg_server_url.set(database=name).render_as_string(hide_password=False)

    yield new_database
    with pg_admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_engine(pg_database: Callable[[], str]) -> Iterator[Engine]:
    """A migrated store in a fresh PostgreSQL database of its own."""
    engine = make_engine(pg_database())
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_engine(request) -> Engine:
    """A migrated, empty store: once on SQLite, once on PostgreSQL."""
    fixture = {"sqlite": "sqlite_engine", "postgresql": "pg_engine"}[request.param]
    return request.getfixturevalue(fixture)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the PostgreSQL server carries the ``postgres`` marker, so that
    ``-m postgres`` and ``-m "not postgres"`` select exactly them."""
    for item in items:
        if {"pg_engine", "pg_database", "pg_admin", "pg_server_url"} & set(
                getattr(item, "fixturenames", ())) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def own_pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test alone, which it may stop and start (outage tests)."""
    try:
        server = PostgresServer.start_new()
    except ServiceUnavailable as error:
        pytest.fail(f"PostgreSQL is needed by this test and is unavailable: {error}",
                    pytrace=False)
    yield server
    server.stop()


# --- Headless Chromium -------------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking",
                 "--disable-component-update", "--disable-gpu", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, for one test module (Playwright's sync API allows one
    browser session at a time, and some modules drive their own)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is needed for the browser tests: run them with `python -m tests`, "
                    "which installs Debian's chromium package.", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page in a fresh context; ``page.errors`` collects console errors and page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()
