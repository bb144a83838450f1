"""Reading the store into pandas: the full load and the feed that hands each row over once.

The out-of-order tests use real concurrent transactions on PostgreSQL: a transaction takes a
lower id, another takes a higher one and commits first.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from data_loaders import store
from data_loaders.db import WRITE
from data_loaders.loader import COLUMNS, ResponseFeed, StoreVersion, load_responses
from data_loaders.models import Response
from survey.questionnaire import QUESTIONS

T0 = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
ANSWERS = {"role": "student", "uses_social_media": "yes", "viewed_profile": "no",
           "viewed_for_evidence": "no", "aware_of_guidance": "not_sure",
           "confident_guidance": "not_asked", "confident_rules": "no_answer",
           "knows_who_to_ask": "not_sure"}


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def row(respondent: str, **answers: str) -> dict[str, object]:
    return {"source_respondent_id": respondent, "submitted_at": T0, **ANSWERS, **answers}


def write(engine: Engine, *respondents: str, source: str = "api", is_demo: bool = False) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        result = store.store_responses(connection, source, [row(r) for r in respondents],
                                       is_demo=is_demo)
    assert result.accepted == len(respondents)


def id_of(connection, respondent: str) -> int:
    return connection.scalar(select(Response.id)
                             .where(Response.source_respondent_id == respondent))


def ids(delta) -> list[int]:
    return delta.rows["id"].tolist()


def respondents(engine: Engine, frame: pd.DataFrame) -> list[str]:
    """The respondent ids of a frame's rows, in the frame's order."""
    with engine.connect() as connection:
        names = dict(connection.execute(select(Response.id, Response.source_respondent_id)).all())
    return [names[i] for i in frame["id"]]


def store_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return store.count_responses(connection)


# --- load_responses --------------------------------------------------------------------------


def assert_typed(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(COLUMNS)
    assert list(frame.columns[3:]) == [q.id for q in QUESTIONS]
    assert frame["id"].dtype == "int64"
    assert frame["is_demo"].dtype == bool
    assert isinstance(frame["submitted_at"].dtype, pd.DatetimeTZDtype)
    assert str(frame["submitted_at"].dt.tz) == "UTC"
    for question in QUESTIONS:
        dtype = frame[question.id].dtype
        assert isinstance(dtype, pd.CategoricalDtype), question.id
        assert tuple(dtype.categories) == question.stored_codes
        assert dtype.ordered is False


def test_load_responses_empty_store_is_typed(store_engine):
    with store_engine.connect() as connection:
        frame = load_responses(connection)
    assert len(frame) == 0
    assert_typed(frame)


def test_load_responses_types_order_and_values(store_engine):
    write(store_engine, "b", "a")
    write(store_engine, "d", source="demo", is_demo=True)
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "api", [row(
            "c", role="director", uses_social_media="no_answer", aware_of_guidance="yes",
            confident_guidance="yes", confident_rules="not_sure",
            submitted_at=T0 + timedelta(hours=1))])
    with store_engine.connect() as connection:
        frame = load_responses(connection)
    assert_typed(frame)
    assert frame["id"].is_monotonic_increasing and frame["id"].is_unique
    assert respondents(store_engine, frame) == ["b", "a", "d", "c"]
    assert frame["is_demo"].tolist() == [False, False, True, False]
    assert frame["role"].tolist() == ["student", "student", "student", "director"]
    assert frame["uses_social_media"].tolist() == ["yes", "yes", "yes", "no_answer"]
    assert frame["confident_guidance"].tolist() == ["not_asked"] * 3 + ["yes"]
    assert frame["confident_rules"].tolist() == ["no_answer"] * 3 + ["not_sure"]
    assert frame["submitted_at"].tolist() == [pd.Timestamp(T0)] * 3 + [
        pd.Timestamp(T0 + timedelta(hours=1))]
    # Counting by category lists every code, in questionnaire order, zeros included.
    counts = frame["aware_of_guidance"].value_counts(sort=False)
    assert counts.to_dict() == {"yes": 1, "no": 0, "not_sure": 3, "no_answer": 0}


# --- ResponseFeed on both stores -------------------------------------------------------------


def test_feed_first_poll_is_a_reset_then_only_new_rows(store_engine):
    write(store_engine, "r1", "r2", "r3")
    feed = ResponseFeed(store_engine, clock=FakeClock())
    assert feed.changed() is True  # never polled

    first = feed.poll()
    assert first.reset is True
    assert respondents(store_engine, first.rows) == ["r1", "r2", "r3"]
    assert_typed(first.rows)
    assert first.version == StoreVersion(epoch=0, count=3, max_id=max(ids(first)))
    assert first.version.token == f"0-3-{max(ids(first))}"

    assert feed.changed() is False
    again = feed.poll()
    assert again.reset is False and len(again.rows) == 0
    assert_typed(again.rows)
    assert again.version == first.version

    write(store_engine, "r4", "r5")
    assert feed.changed() is True
    delta = feed.poll()
    assert delta.reset is False
    assert respondents(store_engine, delta.rows) == ["r4", "r5"]
    assert min(ids(delta)) > max(ids(first))
    assert_typed(delta.rows)
    assert delta.version.count == 5 and delta.version.max_id == max(ids(delta))
    assert feed.changed() is False
    assert len(feed.poll().rows) == 0

    # What the reader holds, added up, is the store.
    held = pd.concat([first.rows, delta.rows], ignore_index=True)
    with store_engine.connect() as connection:
        pd.testing.assert_frame_equal(held, load_responses(connection))


def test_feed_on_an_empty_store(store_engine):
    feed = ResponseFeed(store_engine, clock=FakeClock())
    first = feed.poll()
    assert first.reset is True and len(first.rows) == 0
    assert first.version == StoreVersion(0, 0, 0)
    assert feed.changed() is False
    write(store_engine, "r1")
    assert feed.changed() is True
    assert respondents(store_engine, feed.poll().rows) == ["r1"]


def test_feed_starts_again_after_demo_data_is_removed(store_engine):
    write(store_engine, "d1", "d2", source="demo", is_demo=True)
    write(store_engine, "r1")
    feed = ResponseFeed(store_engine, clock=FakeClock())
    assert len(feed.poll().rows) == 3
    assert feed.changed() is False

    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 2
    assert feed.changed() is True
    delta = feed.poll()
    assert delta.reset is True
    assert respondents(store_engine, delta.rows) == ["r1"]
    assert delta.version.epoch == 1 and delta.version.count == 1
    assert feed.changed() is False
    assert len(feed.poll().rows) == 0

    write(store_engine, "r2")
    delta = feed.poll()
    assert delta.reset is False and respondents(store_engine, delta.rows) == ["r2"]
    assert feed.count == store_count(store_engine) == 2


def test_feed_reconcile_with_nothing_lacking_changes_nothing(store_engine):
    clock = FakeClock()
    write(store_engine, "r1")
    feed = ResponseFeed(store_engine, clock=clock, reconcile_seconds=60)
    feed.poll()
    clock.advance(61)
    assert feed.changed() is True  # a reconcile is due, so a poll is worth making
    delta = feed.poll()
    assert delta.reset is False and len(delta.rows) == 0
    assert feed.changed() is False


# --- Out-of-order commits, on PostgreSQL -----------------------------------------------------


def begin_insert(engine: Engine, respondent: str):
    """Start a transaction that inserts one response and stays open; returns it and its id."""
    connection = engine.connect().execution_options(**WRITE)
    transaction = connection.begin()
    store.store_responses(connection, "api", [row(respondent)])
    return connection, transaction, id_of(connection, respondent)


@pytest.mark.postgres
def test_row_committing_late_with_a_lower_id_is_seen_once(pg_engine):
    feed = ResponseFeed(pg_engine, clock=FakeClock())
    assert feed.poll().reset is True

    slow, slow_transaction, slow_id = begin_insert(pg_engine, "A")
    try:
        write(pg_engine, "B")
        with pg_engine.connect() as connection:
            b_id = id_of(connection, "B")
        assert slow_id < b_id

        delta = feed.poll()
        assert (delta.reset, ids(delta)) == (False, [b_id])
        assert set(feed.gaps) == set(range(1, b_id))
        assert feed.changed() is False  # A is still not committed
        assert len(feed.poll().rows) == 0

        slow_transaction.commit()
    finally:
        slow.close()

    assert feed.changed() is True
    delta = feed.poll()
    assert (delta.reset, ids(delta)) == (False, [slow_id])
    assert respondents(pg_engine, delta.rows) == ["A"]
    assert slow_id not in feed.gaps
    assert feed.changed() is False
    assert len(feed.poll().rows) == 0
    assert feed.count == store_count(pg_engine) == 2


@pytest.mark.postgres
def test_gap_that_is_never_filled_expires(pg_engine):
    clock = FakeClock()
    feed = ResponseFeed(pg_engine, clock=clock, gap_retention_seconds=30, reconcile_seconds=300)
    feed.poll()

    slow, slow_transaction, slow_id = begin_insert(pg_engine, "A")
    write(pg_engine, "B")
    assert ids(feed.poll()) == [slow_id + 1]
    slow_transaction.rollback()  # the id is never used
    slow.close()

    clock.advance(29)
    assert len(feed.poll().rows) == 0
    assert slow_id in feed.gaps and feed.abandoned == set()

    clock.advance(2)
    assert len(feed.poll().rows) == 0
    assert feed.gaps == {} and feed.abandoned == {slow_id}
    assert feed.changed() is False

    clock.advance(300)  # the reconcile finds nothing lacking
    delta = feed.poll()
    assert delta.reset is False and len(delta.rows) == 0
    assert feed.count == store_count(pg_engine) == 1
    assert feed.version.count == 1

    write(pg_engine, "C")
    delta = feed.poll()
    assert respondents(pg_engine, delta.rows) == ["C"]
    assert feed.count == store_count(pg_engine) == 2


@pytest.mark.postgres
def test_gap_known_at_the_first_poll_is_tracked_too(pg_engine):
    slow, slow_transaction, slow_id = begin_insert(pg_engine, "A")
    write(pg_engine, "B")
    feed = ResponseFeed(pg_engine, clock=FakeClock())
    first = feed.poll()
    assert first.reset is True and respondents(pg_engine, first.rows) == ["B"]
    assert slow_id in feed.gaps
    slow_transaction.commit()
    slow.close()
    assert feed.changed() is True
    assert respondents(pg_engine, feed.poll().rows) == ["A"]
    assert len(feed.poll().rows) == 0
    assert feed.count == 2


@pytest.mark.postgres
def test_row_committing_after_its_gap_was_abandoned_comes_at_the_next_reconcile(pg_engine):
    clock = FakeClock()
    feed = ResponseFeed(pg_engine, clock=clock, gap_retention_seconds=30, reconcile_seconds=300)
    first = feed.poll()

    slow, slow_transaction, slow_id = begin_insert(pg_engine, "A")
    try:
        write(pg_engine, "B")
        assert respondents(pg_engine, feed.poll().rows) == ["B"]
        clock.advance(31)
        assert len(feed.poll().rows) == 0
        assert feed.abandoned == {slow_id} and feed.gaps == {}
        slow_transaction.commit()
    finally:
        slow.close()

    # Before the reconcile the late row is not looked for: by design, it costs nothing.
    assert feed.changed() is False
    assert len(feed.poll().rows) == 0
    assert feed.count == 1 and store_count(pg_engine) == 2

    clock.advance(300 - 31)
    assert feed.changed() is True
    delta = feed.poll()
    assert delta.reset is False
    assert respondents(pg_engine, delta.rows) == ["A"]
    assert feed.abandoned == set()
    assert feed.count == store_count(pg_engine) == 2

    # Once only: neither the next poll nor the next reconcile hands it over again.
    assert len(feed.poll().rows) == 0
    clock.advance(300)
    delta = feed.poll()
    assert delta.reset is False and len(delta.rows) == 0
    assert feed.version.epoch == first.version.epoch
