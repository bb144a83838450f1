"""Storing and reading frozen charts: one release's numbers of one chart, kept for ever."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from data_loaders.db import WRITE
from data_loaders.models import FrozenChart
from data_loaders.store import utc


class FreezeLimitReached(RuntimeError):
    """The store keeps as many frozen charts as it may; the message says so."""


def token_for(chart: str, filters: str, release: str) -> str:
    """The token of a chart (with its choices), its resolved filter and the release it shows:
    the same three give the same token, so freezing the same again stores nothing new."""
    digest = hashlib.sha256("\x1f".join(("frozen", chart, filters, release)).encode())
    return digest.hexdigest()[:32]


def freeze(engine: Engine, chart: str, filters: str, payload: dict[str, Any],
           created_at: datetime, *, release: str, limit: int) -> str:
    """Keep ``payload`` (the chart as ``release`` shows it) under its token, and return the
    token. Raises :class:`FreezeLimitReached` when ``limit`` charts are kept already and this
    one is not among them."""
    token = token_for(chart, filters, release)
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        held = connection.scalar(select(FrozenChart.token).where(FrozenChart.token == token))
        if held is not None:
            return token
        kept = connection.scalar(select(func.count()).select_from(FrozenChart)) or 0
        if kept >= limit:
            raise FreezeLimitReached(
                f"this site keeps at most {limit:,} frozen embeds and has reached that; "
                "a live embed, or an image or data download, shows the same numbers")
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(FrozenChart).values(
            token=token, chart=chart, filters=filters, created_at=utc(created_at),
            release=release,
            payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        ).on_conflict_do_nothing(index_elements=[FrozenChart.token]))
    return token


def thawed(engine: Engine, token: str) -> tuple[str, dict[str, Any]] | None:
    """The chart id and payload frozen under ``token``, or None."""
    with engine.connect() as connection:
        row = connection.execute(select(FrozenChart.chart, FrozenChart.payload)
                                 .where(FrozenChart.token == token)).first()
    return None if row is None else (row.chart, json.loads(row.payload))
