"""Making releases: the responses the public figures are computed from, published in steps.

:func:`publish` makes the next release when the rule allows one (:mod:`analysis.releases` says
which responses it takes and why). It runs in one write transaction holding the publishers'
lock (SQLite's write lock, an advisory lock on PostgreSQL), so that releases are made one at a
time, numbered in the order they commit, and never overlap: a response is published by at most
one release, and whatever a reader of the releases sees it sees once. The waiting responses are
counted and marked in that one transaction (on PostgreSQL at REPEATABLE READ), so a response
stored meanwhile waits for the next release; what was marked is counted again before the
release commits, and a release that would not keep the rule is never written.

Any process may publish: each worker tries at most once per ``RELEASE_INTERVAL_SECONDS`` and a
release is made only if the last one is at least that old, so several workers make one release
an interval between them; the import and demo commands publish when they finish.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from analysis.releases import ClassKey, describe_group, pooling, select_batch, short_groups
from data_loaders.db import SQLITE_BUSY_TIMEOUT_MS, WRITE
from data_loaders.loader import (class_number, latest_release, release_class,
                                 released_classes, waiting_classes)
from data_loaders.models import Release, Response
from data_loaders.store import utc
from survey.questionnaire import ROLE_CODES
from survey.settings import Settings

log = logging.getLogger(__name__)

PUBLISH_LOCK = 7_306_163_516
"""PostgreSQL advisory lock held by whoever is making a release."""


class ReleaseRefused(RuntimeError):
    """No release may be made: the batch did not keep the rule once marked (the transaction is
    rolled back), or the minimum cell size differs from the one the releases were made with."""


@dataclass(frozen=True)
class Made:
    """A release just made."""

    seq: int
    token: str
    published_at: datetime
    added: int
    total: int
    pooled: tuple[str, ...]


class _Busy(Exception):
    """Another publisher holds the lock (or, on SQLite, a writer holds the store's)."""


BUSY_TIMEOUT_MS = 200
"""How long a publisher that does not wait tries for SQLite's write lock."""


@contextmanager
def _publishing(engine: Engine, wait: bool) -> Iterator[Connection]:
    """A connection in a transaction that no other publisher's overlaps. On PostgreSQL the lock
    is taken before the transaction begins, so that its snapshot (REPEATABLE READ) includes
    whatever the publisher before it committed. Unless ``wait``, raises :class:`_Busy` at once
    (within :data:`BUSY_TIMEOUT_MS` on SQLite) when the lock is held."""
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            timeout = SQLITE_BUSY_TIMEOUT_MS if wait else BUSY_TIMEOUT_MS
            connection.exec_driver_sql(f"PRAGMA busy_timeout={timeout}")
            connection.commit()
            connection.execution_options(**WRITE)  # BEGIN IMMEDIATE: SQLite's write lock
            try:
                with connection.begin():
                    yield connection
            except OperationalError as error:
                if wait or "locked" not in str(error.orig):
                    raise
                raise _Busy() from None
            finally:
                # The connection goes back to the pool as every other leaves it.
                connection.execution_options(survey_write=False)
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                connection.commit()
            return
        lock = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        held = connection.execute(text(f"SELECT {lock}(:key)"), {"key": PUBLISH_LOCK}).scalar()
        connection.commit()
        if held is False:
            raise _Busy()
        try:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection
        finally:
            connection.rollback()
            connection.execution_options(isolation_level="READ COMMITTED")
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PUBLISH_LOCK})
            connection.commit()


def _codes(text_value: str) -> tuple[str, ...]:
    return tuple(code for code in text_value.split(",") if code)


def _ordered(codes) -> str:
    order = {code: i for i, code in enumerate((*ROLE_CODES, "no_answer"))}
    return ",".join(sorted(set(codes), key=order.__getitem__))


def publish(engine: Engine, settings: Settings, *, now: datetime | None = None,
            interval: float | None = None, submitted_until: datetime | None = None,
            wait: bool = True) -> Made | None:
    """Make the next release, if the rule lets any waiting response be published and the last
    release is at least ``interval`` seconds old (default: the settings'); returns it, or None.

    ``now`` is the release's time and ``submitted_until`` limits it to responses submitted by
    then (both for :func:`replay`). Unless ``wait``, returns None at once when another
    publisher (or, on SQLite, another writer) holds the lock: a worker serving pages tries again
    later rather than keep a reader waiting."""
    try:
        return _publish(engine, settings, now=now, interval=interval,
                        submitted_until=submitted_until, wait=wait)
    except _Busy:
        return None


def _publish(engine: Engine, settings: Settings, *, now: datetime | None,
             interval: float | None, submitted_until: datetime | None,
             wait: bool) -> Made | None:
    now = utc(now or datetime.now(timezone.utc))
    interval = settings.release_interval_seconds if interval is None else interval
    with _publishing(engine, wait) as connection:
        last = latest_release(connection)
        if last is not None:
            if last.min_cell_size != settings.min_cell_size:
                raise ReleaseRefused(
                    f"the releases so far were made with MIN_CELL_SIZE={last.min_cell_size}; it "
                    f"cannot change once responses are published (it is now "
                    f"{settings.min_cell_size}): figures made under two minimums could be "
                    "subtracted from each other")
            previous = utc(last.published_at)
            if interval and now - previous < timedelta(seconds=interval):
                return None
            now = max(now, previous)  # releases follow one another in time
        published_roles = _codes(last.published_roles) if last else ()
        total = last.total if last else 0
        pooled = pooling(_codes(last.pooled) if last else (), settings.pooled_role_codes,
                         published_roles, total, settings.pool_after)
        waiting = waiting_classes(connection, submitted_until=submitted_until)
        batch = select_batch(waiting, pooled, settings.min_cell_size)
        if not batch:
            return None
        expected = {key: waiting[key] for key in batch}
        added = sum(expected.values())
        token = secrets.token_urlsafe(18)[:24]
        seq = connection.execute(insert(Release).values(
            token=token, published_at=now, min_cell_size=settings.min_cell_size,
            pooled=_ordered(pooled),
            published_roles=_ordered({*published_roles, *(k.role for k in batch)}),
            added=added, total=total + added).returning(Release.seq)).scalar_one()
        marked = (update(Response).where(Response.release_seq.is_(None))
                  .where(release_class().in_(bindparam("classes", expanding=True)))
                  .values(release_seq=seq))
        if submitted_until is not None:
            marked = marked.where(Response.submitted_at <= utc(submitted_until))
        connection.execute(marked, {"classes": sorted(class_number(k) for k in batch)})
        _verify(connection, seq, expected, pooled, settings.min_cell_size)
    made = Made(seq, token, now, added, total + added, tuple(sorted(pooled)))
    log.info("Release %d: %d responses published (%d in all).", seq, added, total + added)
    return made


def _verify(connection: Connection, seq: int, expected: dict[ClassKey, int],
            pooled: frozenset[str], minimum: int) -> None:
    """The release as marked is the batch the rule chose; otherwise nothing is written."""
    marked = released_classes(connection, seq)
    if marked != expected:
        problems = short_groups(marked, pooled, minimum)
        if problems:
            raise ReleaseRefused("the responses marked for release would single out: " + "; ".join(
                f"{describe_group(group)} ({n})" for group, n in problems))


def replay(engine: Engine, settings: Settings, *, start: datetime, end: datetime,
           step: timedelta) -> int:
    """Make the releases a dashboard running from ``start`` to ``end`` would have made, trying
    every ``step``, each publishing what had been submitted by its time (for demo data, which
    arrives with its history). Returns how many releases were made."""
    if step <= timedelta(0):
        raise ValueError(f"the step between releases must be positive, not {step}")
    made = 0
    moment = utc(start)
    end = utc(end)
    while True:
        moment = min(moment + step, end)
        if publish(engine, settings, now=moment, interval=0, submitted_until=moment):
            made += 1
        if moment >= end:
            return made


@dataclass(frozen=True)
class Status:
    """For the researchers: what is published and what waits."""

    releases: int
    published: int
    waiting: int
    last_published_at: datetime | None
    pooled: tuple[str, ...]


def status(connection: Connection) -> Status:
    last = latest_release(connection)
    releases = connection.scalar(select(func.count()).select_from(Release)) or 0
    published = connection.scalar(select(func.count()).select_from(Response)
                                  .where(Response.release_seq.is_not(None))) or 0
    waiting = connection.scalar(select(func.count()).select_from(Response)
                                .where(Response.release_seq.is_(None))) or 0
    return Status(int(releases), int(published), int(waiting),
                  utc(last.published_at) if last else None,
                  _codes(last.pooled) if last else ())
