"""Whether the store answers, for readiness checks."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError


def store_answers(engine: Engine) -> bool:
    """True when a trivial query on the store succeeds now."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True
