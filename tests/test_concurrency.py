"""Many writers and a reader at once, on SQLite and PostgreSQL: every response is stored once and
handed to the reader once, whatever the interleaving of transactions."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text

from data_loaders import store
from data_loaders.db import WRITE
from data_loaders.loader import ResponseFeed
from data_loaders.models import Response

WRITERS = 8
PER_WRITER = 500
TIME_LIMIT = 120.0
T0 = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
ANSWERS = {"role": "social_worker", "uses_social_media": "yes", "viewed_profile": "yes",
           "viewed_for_evidence": "yes", "aware_of_guidance": "no",
           "confident_guidance": "not_asked", "confident_rules": "no", "knows_who_to_ask": "yes"}


def response(respondent: str, second: int = 0) -> dict[str, object]:
    return {"source_respondent_id": respondent, "submitted_at": T0 + timedelta(seconds=second),
            **ANSWERS}


class Threads:
    """Threads whose exceptions are re-raised in the test, and which may not run past a deadline.

    They are daemons, so that a hung database call fails the test instead of hanging the run.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.stop = threading.Event()

    def start(self, target, *args) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                self.errors.append(error)
                self.stop.set()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def join(self, threads=None) -> None:
        for thread in threads or self.threads:
            thread.join(max(0.0, self.deadline - time.monotonic()))
            if thread.is_alive():
                self.stop.set()
                pytest.fail(f"still running after {TIME_LIMIT:.0f} s: gave up")
        if self.errors:
            raise self.errors[0]


@pytest.mark.parametrize("feed_settings", [
    pytest.param({}, id="default-feed"),
    # Every gap is given up in the poll that finds it (a retention below zero) and every poll
    # reconciles: late rows arrive only through the reconcile, which must count each just once.
    pytest.param({"gap_retention_seconds": -1.0, "reconcile_seconds": 0.0},
                 id="reconcile-only"),
])
def test_writers_and_a_polling_reader(store_engine: Engine, feed_settings: dict):
    started = time.monotonic()
    threads = Threads(deadline=started + TIME_LIMIT)
    writers_done = threading.Event()
    accepted = Counter()

    def writer(number: int) -> None:
        rng = random.Random(number)
        rows = [response(f"w{number}-{i}", i) for i in range(PER_WRITER)]
        # A connection of its own, and a transaction per small batch.
        with store_engine.connect().execution_options(**WRITE) as connection:
            start = 0
            while start < PER_WRITER and not threads.stop.is_set():
                size = rng.randint(1, 15)
                with connection.begin():
                    result = store.store_responses(connection, "load", rows[start:start + size])
                accepted[number] += result.accepted
                start += size

    held: dict[int, int] = {}  # id -> how many times the reader was handed it
    polls = Counter()

    feed = ResponseFeed(store_engine, **feed_settings)

    def take(delta) -> None:
        polls["reset" if delta.reset else "delta"] += 1
        if delta.reset:
            held.clear()
        else:
            assert delta.counts.total == len(delta.ids)
        for response_id in delta.ids.tolist():
            held[response_id] = held.get(response_id, 0) + 1

    # The first poll, on the empty store, is the reset (the database counts what a reset
    # finds, without ids); every later response comes by id.
    take(feed.poll())

    def reader() -> None:
        while not writers_done.is_set() and not threads.stop.is_set():
            take(feed.poll())
            time.sleep(0.002)
        take(feed.poll())  # everything has committed by now
        polls["final_count"] = feed.count

    reading = threads.start(reader)
    writing = [threads.start(writer, n) for n in range(WRITERS)]
    threads.join(writing)
    writers_done.set()
    threads.join([reading])

    with store_engine.connect() as connection:
        in_store = connection.scalars(select(Response.id)).all()
    assert sum(accepted.values()) == WRITERS * PER_WRITER
    assert len(in_store) == WRITERS * PER_WRITER
    twice = {i: n for i, n in held.items() if n > 1}
    assert twice == {}, f"handed over more than once: {sorted(twice)[:20]}"
    assert len(held) == WRITERS * PER_WRITER
    assert set(held) == set(in_store)
    assert polls["final_count"] == WRITERS * PER_WRITER
    assert polls["reset"] == 1, polls  # the first poll only: no row had to be taken back
    assert polls["delta"] > 5, polls  # the reader really polled while writers wrote
    assert time.monotonic() - started < TIME_LIMIT


def wait_for_a_lock_wait(engine: Engine, timeout: float = 30.0) -> None:
    """Until a session of this database waits on a lock (the second writer on the index)."""
    query = text("SELECT count(*) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while not connection.execute(query).scalar():
            if time.monotonic() > deadline:
                pytest.fail("the second writer never waited on a lock")
            time.sleep(0.02)
            connection.rollback()  # a fresh snapshot of pg_stat_activity each time


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_two_writers_racing_on_one_respondent(store_engine: Engine, outcome: str):
    """The second writer waits for the first and then stores the respondent only if the first
    did not: on PostgreSQL it waits on the unique index, on SQLite on the write lock."""
    threads = Threads(deadline=time.monotonic() + 60)
    first = store_engine.connect().execution_options(**WRITE)
    transaction = first.begin()
    assert store.store_responses(first, "api", [response("same")]).accepted == 1

    results: list[store.BatchResult] = []

    def second() -> None:
        with store_engine.connect().execution_options(**WRITE) as connection, \
                connection.begin():
            results.append(store.store_responses(connection, "api",
                                                 [response("same"), response("other")]))

    racing = threads.start(second)
    if store_engine.dialect.name == "postgresql":
        wait_for_a_lock_wait(store_engine)
    else:
        time.sleep(0.5)  # SQLite's busy wait cannot be seen from outside: give it time
    assert racing.is_alive(), "the second writer did not wait for the first"
    getattr(transaction, outcome)()
    first.close()
    threads.join([racing])

    expected = {"commit": store.BatchResult(accepted=1, duplicates=1),
                "rollback": store.BatchResult(accepted=2, duplicates=0)}[outcome]
    assert results == [expected]
    with store_engine.connect() as connection:
        assert sorted(connection.scalars(select(Response.source_respondent_id))) == \
            ["other", "same"]
