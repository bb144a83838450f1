"""Storing and reading frozen charts."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from data_loaders.db import WRITE
from data_loaders.models import FrozenChart
from data_loaders.store import utc


def freeze(engine: Engine, chart: str, filters: str, payload: dict[str, Any],
           created_at: datetime) -> str:
    """Keep ``payload`` for ever under a new unguessable token, and return the token."""
    token = secrets.token_urlsafe(12)
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(insert(FrozenChart).values(
            token=token, chart=chart, filters=filters, created_at=utc(created_at),
            payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))
    return token


def thawed(engine: Engine, token: str) -> tuple[str, dict[str, Any]] | None:
    """The chart id and payload frozen under ``token``, or None."""
    with engine.connect() as connection:
        row = connection.execute(select(FrozenChart.chart, FrozenChart.payload)
                                 .where(FrozenChart.token == token)).first()
    return None if row is None else (row.chart, json.loads(row.payload))
