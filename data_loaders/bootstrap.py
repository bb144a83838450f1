"""Opening the store for the application: create it, migrate it, and seed demo data if empty."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from data_loaders import demo, releases, store
from data_loaders.db import WRITE, make_engine, upgrade
from survey.settings import Settings

log = logging.getLogger(__name__)


DEMO_RELEASE_STEP = timedelta(hours=2)
"""How often, in the demo data's own history, a release is tried (see :func:`seed_releases`)."""


def open_store(database_url: str, *, demo_responses: int = 0,
               settings: Settings | None = None) -> Engine:
    """An up-to-date store; an empty one gets ``demo_responses`` demo responses, published as
    a live dashboard would have published them (``settings`` give the release rule's).

    The demo rows are tagged as such, so every page can say that it shows demo data, and the
    first import of real data removes them.
    """
    engine = make_engine(database_url)
    upgrade(engine)
    if demo_responses:
        with engine.connect().execution_options(**WRITE) as connection, connection.begin():
            written = 0
            if store.count_responses(connection) == 0:
                rows = demo.generate(demo_responses, seed=1)
                written = store.store_responses(connection, demo.DEMO_SOURCE, rows,
                                                is_demo=True).accepted
        if written:
            log.warning("The store was empty: wrote %d demo responses.", written)
            seed_releases(engine, settings or Settings.from_env({}, database_url=database_url))
    return engine


def seed_releases(engine: Engine, settings: Settings) -> int:
    """Publish the demo data as the dashboard would have while it arrived: a release tried
    every :data:`DEMO_RELEASE_STEP` over the weeks its submission times span, so that the Live
    page's history looks as it would. Returns how many releases were made."""
    with engine.connect() as connection:
        first, last = store.submission_span(connection)
        previous = releases.status(connection).last_published_at
    if first is None:
        return 0
    # Releases follow one another in time: none is dated before the store's latest. Tries
    # stop with the last submission (nothing arrives after it); one more is made now.
    start = max(first - DEMO_RELEASE_STEP, previous) if previous else first - DEMO_RELEASE_STEP
    made = releases.replay(engine, settings, start=start, end=max(last, start),
                           step=DEMO_RELEASE_STEP)
    now = datetime.now(timezone.utc)
    return made + bool(releases.publish(engine, settings, now=now, interval=0))
