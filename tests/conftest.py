"""Shared fixtures: a fresh, migrated store per test."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_loaders.db import make_engine, upgrade


@pytest.fixture
def sqlite_engine(tmp_path) -> Engine:
    """A migrated SQLite store in a fresh file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()
