"""Many writers, publishers and a reader at once, on SQLite and PostgreSQL: every response is
stored once and published at most once, releases follow one another in the order they commit and
each keeps the rule, and the reader is handed each published response once, whatever the
interleaving of transactions."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text

from analysis.releases import check_batch
from data_loaders import releases, store
from data_loaders.db import WRITE
from data_loaders.loader import ReleaseFeed, load_counts, released_classes
from data_loaders.models import Release, Response
from survey.settings import Settings

WRITERS = 6
PER_WRITER = 300
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


KINDS = [
    ANSWERS,
    {**ANSWERS, "aware_of_guidance": "yes", "confident_guidance": "yes"},
    {**ANSWERS, "role": "team_manager", "uses_social_media": "no"},
    {**ANSWERS, "role": "student", "knows_who_to_ask": "no_answer"},
    {**ANSWERS, "role": "director", "uses_social_media": "no_answer"},
    {**ANSWERS, "is_demo": True},
]
"""Answers of six classes (the last as demo data), so that releases take some and hold back
others."""
MINIMUM = 5
PUBLISHERS = 3


def mixed(number: int) -> list[tuple[dict, bool]]:
    """A writer's responses, each of a class picked at random, and whether it is demo data."""
    rng = random.Random(number)
    rows = []
    for i in range(PER_WRITER):
        kind = dict(rng.choice(KINDS))
        demo = kind.pop("is_demo", False)
        rows.append(({**response(f"w{number}-{i}", i), **kind}, demo))
    return rows


def test_writers_publishers_and_a_reader(store_engine: Engine):
    """Writers store responses, several publishers make releases and a reader follows them, all
    at once, each on its own connection. Every response ends published at most once, releases
    are numbered in the order they commit and each keeps the rule, and the reader is handed
    each published response once."""
    started = time.monotonic()
    threads = Threads(deadline=started + TIME_LIMIT)
    writers_done = threading.Event()
    accepted = Counter()
    settings = Settings.from_env({}, min_cell_size=MINIMUM, release_interval_seconds=0.0)

    def followed(releases_made: int) -> None:
        """Wait until that many releases are made and the reader has taken them in: writers
        pause there (a third and two thirds of the way), so that publishing and reading
        certainly happen while they write, however the threads are scheduled."""
        while not threads.stop.is_set() and not (
                len(made) >= releases_made and feed.state is not None
                and feed.state.seq >= releases_made):
            if time.monotonic() > threads.deadline:
                raise AssertionError(f"release {releases_made} never came while writing")
            time.sleep(0.005)

    def writer(number: int) -> None:
        rng = random.Random(-number)
        rows = mixed(number)
        checkpoints = {1: PER_WRITER // 3, 2: 2 * PER_WRITER // 3}
        with store_engine.connect().execution_options(**WRITE) as connection:
            start = 0
            while start < PER_WRITER and not threads.stop.is_set():
                for releases_made, at in checkpoints.items():
                    if start >= at:
                        followed(releases_made)
                size = rng.randint(1, 15)
                batch = rows[start:start + size]
                with connection.begin():
                    for demo in (False, True):
                        result = store.store_responses(
                            connection, "demo" if demo else "load",
                            [r for r, is_demo in batch if is_demo == demo], is_demo=demo)
                        accepted[number] += result.accepted
                start += size

    made: list[tuple[int, releases.Made, bool]] = []  # publisher, release, while writing

    def publisher(number: int) -> None:
        while not threads.stop.is_set():
            writing = not writers_done.is_set()
            release = releases.publish(store_engine, settings, interval=0)
            if release is not None:
                made.append((number, release, writing))
            if not writing:
                return
            time.sleep(0.005)

    feed = ReleaseFeed(store_engine)
    deltas = [feed.poll()]

    def reader() -> None:
        while not writers_done.is_set() and not threads.stop.is_set():
            deltas.append(feed.poll())
            time.sleep(0.002)

    reading = threads.start(reader)
    publishing = [threads.start(publisher, n) for n in range(PUBLISHERS)]
    writing = [threads.start(writer, n) for n in range(WRITERS)]
    threads.join(writing)
    writers_done.set()
    threads.join([reading, *publishing])
    while (last := releases.publish(store_engine, settings, interval=0)) is not None:
        made.append((-1, last, False))  # whatever the rule still lets through
    deltas.append(feed.poll())

    assert sum(accepted.values()) == WRITERS * PER_WRITER
    with store_engine.connect() as connection:
        stored = connection.execute(select(Response.release_seq)).scalars().all()
        rows = [r._mapping for r in connection.execute(
            select(Release.__table__).order_by(Release.seq))]
        kept_rule = {row["seq"]: check_batch(released_classes(connection, row["seq"]),
                                             frozenset(row["pooled"].split(",")), MINIMUM)
                     for row in rows}
        whole = load_counts(connection)
    assert len(stored) == WRITERS * PER_WRITER
    per_release = Counter(seq for seq in stored if seq is not None)

    # Numbered in commit order: 1, 2, 3... each release adding to the total of the one before
    # it, at a time no earlier, and holding exactly the responses it says it added.
    assert [row["seq"] for row in rows] == list(range(1, len(rows) + 1))
    running = 0
    for row in rows:
        running += row["added"]
        assert row["total"] == running
        assert per_release[row["seq"]] == row["added"] > 0
    times = [store.utc(row["published_at"]) for row in rows]
    assert times == sorted(times)
    # Each release was made by one publisher, once; together they published each response once.
    assert sorted(release.seq for _n, release, _w in made) == [row["seq"] for row in rows]
    assert sum(release.added for _n, release, _w in made) == sum(per_release.values()) == running
    assert kept_rule == {row["seq"]: [] for row in rows}
    assert sum(1 for *_rest, while_writing in made if while_writing) >= 2, made

    # The reader: the first poll was its only reset; what it holds is everything published.
    assert [d.reset for d in deltas].count(True) == 1 and deltas[0].reset
    assert sum(1 for d in deltas[1:] if d.counts.total) >= 2  # two releases, at least
    held = sum(d.counts.total for d in deltas)
    assert held == whole.total == running
    assert time.monotonic() - started < TIME_LIMIT


HOLD = 7_306_163_517
"""An advisory lock the test holds to keep a publisher inside its transaction."""


@pytest.mark.postgres
def test_a_response_committed_while_a_release_is_being_made_waits_for_the_next(pg_engine):
    """A trigger on releases makes the publisher wait, after it has counted and before it
    marks, on a lock the test holds. A writer commits meanwhile, and a second publisher waits
    for the first: the first release takes only what it counted, the second the rest."""
    settings = Settings.from_env({}, min_cell_size=10, release_interval_seconds=0.0)
    with pg_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "load", [response(f"a{i}", i) for i in range(10)])
        connection.execute(text(
            "CREATE FUNCTION hold_release() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_advisory_xact_lock_shared({HOLD}); RETURN NEW; END $$"))
        connection.execute(text("CREATE TRIGGER hold_release AFTER INSERT ON releases "
                                "FOR EACH ROW EXECUTE FUNCTION hold_release()"))
    threads = Threads(deadline=time.monotonic() + 60)
    results: dict[str, releases.Made | None] = {}

    def publisher(name: str) -> None:
        results[name] = releases.publish(pg_engine, settings, interval=0)

    holder = pg_engine.connect()
    try:
        holder.execute(text(f"SELECT pg_advisory_lock({HOLD})"))
        holder.commit()
        first = threads.start(publisher, "first")
        wait_for_lock_waits(pg_engine, 1)  # the first publisher, inside its transaction
        with pg_engine.connect().execution_options(**WRITE) as connection, connection.begin():
            assert store.store_responses(
                connection, "load", [response(f"b{i}", i) for i in range(10)]).accepted == 10
        second = threads.start(publisher, "second")
        wait_for_lock_waits(pg_engine, 2)  # the second, waiting to begin
        assert first.is_alive() and second.is_alive()
    finally:
        holder.execute(text(f"SELECT pg_advisory_unlock({HOLD})"))
        holder.commit()
        holder.close()
    threads.join([first, second])

    assert (results["first"].seq, results["first"].added) == (1, 10)
    assert (results["second"].seq, results["second"].added, results["second"].total) == \
        (2, 10, 20)
    with pg_engine.connect() as connection:
        marks = dict(connection.execute(select(Response.source_respondent_id,
                                               Response.release_seq)).all())
    assert marks == {**{f"a{i}": 1 for i in range(10)}, **{f"b{i}": 2 for i in range(10)}}


def wait_for_lock_waits(engine: Engine, sessions: int, timeout: float = 30.0) -> None:
    """Until ``sessions`` sessions of this database wait on advisory locks."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock' AND wait_event = 'advisory'")
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while connection.execute(query).scalar() < sessions:
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {sessions} sessions ever waited on an advisory lock")
            time.sleep(0.02)
            connection.rollback()


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
