"""Opening the store for the application: create it, migrate it, and seed demo data if empty."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from data_loaders import demo, store
from data_loaders.db import WRITE, make_engine, upgrade

log = logging.getLogger(__name__)


def open_store(database_url: str, *, demo_responses: int = 0) -> Engine:
    """An up-to-date store; an empty one gets ``demo_responses`` demo responses.

    The demo rows are tagged as such, so every page can say that it shows demo data, and the
    first import of real data removes them.
    """
    engine = make_engine(database_url)
    upgrade(engine)
    if demo_responses:
        with engine.connect().execution_options(**WRITE) as connection, connection.begin():
            if store.count_responses(connection) == 0:
                rows = demo.generate(demo_responses, seed=1)
                written = store.store_responses(connection, demo.DEMO_SOURCE, rows, is_demo=True)
                log.warning("The store was empty: wrote %d demo responses.", written.accepted)
    return engine
