"""Reading the store: counted by the database, as a typed frame, and the feed that hands each
response over once.

Expected counts are tallied by hand. The out-of-order tests use real concurrent transactions on
PostgreSQL: a transaction takes a lower id, another takes a higher one and commits first. On both
stores, a row inserted with an id the feed skipped over stands for a transaction that committed
late with a lower id.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, delete, insert, select

from analysis.cube import Cube
from data_loaders import loader, store
from data_loaders.db import WRITE
from data_loaders.loader import (COLUMNS, ResponseFeed, StoreVersion, hour_start,
                                 hours_since_epoch, load_counts, load_responses)
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


def row(respondent: str, **answers: object) -> dict[str, object]:
    return {"source_respondent_id": respondent, "submitted_at": T0, **ANSWERS, **answers}


def write(engine: Engine, *respondents: str, source: str = "api", is_demo: bool = False) -> None:
    write_rows(engine, [row(r) for r in respondents], source=source, is_demo=is_demo)


def write_rows(engine: Engine, rows: list[dict], *, source: str = "api",
               is_demo: bool = False) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        result = store.store_responses(connection, source, rows, is_demo=is_demo)
    assert result.accepted == len(rows)


def id_of(connection, respondent: str) -> int:
    return connection.scalar(select(Response.id)
                             .where(Response.source_respondent_id == respondent))


def ids_of(engine: Engine, *respondents: str) -> list[int]:
    with engine.connect() as connection:
        return [id_of(connection, r) for r in respondents]


def ids(delta) -> list[int]:
    return delta.ids.tolist()


def respondents(engine: Engine, response_ids) -> list[str]:
    """The respondent ids of these response ids, in the same order."""
    with engine.connect() as connection:
        names = dict(connection.execute(select(Response.id, Response.source_respondent_id)).all())
    return [names[i] for i in response_ids]


def store_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return store.count_responses(connection)


def take_out(engine: Engine, *respondents: str) -> list[dict]:
    """Delete these rows behind the feed's back, leaving holes in the ids as a rolled-back
    insert would; returns them, ids included, so that they can be put back."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        table = Response.__table__
        rows = [dict(r._mapping) for r in connection.execute(
            select(table).where(Response.source_respondent_id.in_(respondents)))]
        connection.execute(delete(Response).where(Response.source_respondent_id.in_(respondents)))
    assert len(rows) == len(respondents)
    return rows


def put_back(engine: Engine, *rows: dict) -> None:
    """Insert rows with the ids they had: as seen by a reader, a transaction that took those
    ids long ago committing only now."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(insert(Response), list(rows))


def decode(counts) -> tuple[dict, dict]:
    """Combinations of answer codes and (hour, role, answer to question 2) with their counts,
    summed over repeated rows, decoded with the questionnaire's ``stored_codes``."""
    combinations: dict[tuple[str, ...], int] = {}
    for cell, n in zip(counts.cells.tolist(), counts.counts.tolist()):
        key = tuple(q.stored_codes[i] for q, i in zip(QUESTIONS, cell))
        combinations[key] = combinations.get(key, 0) + n
    hours: dict[tuple[int, str, str], int] = {}
    for (hour, role, social), n in zip(counts.hours.tolist(), counts.hour_counts.tolist()):
        key = (hour, QUESTIONS[0].stored_codes[role], QUESTIONS[1].stored_codes[social])
        hours[key] = hours.get(key, 0) + n
    return combinations, hours


def assert_same_cube(a: Cube, b: Cube) -> None:
    for name in ("cells", "counts", "hours", "hour_counts"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.demo, a.last_submitted) == (b.demo, b.last_submitted)


def held_cube(*deltas) -> Cube:
    cube = Cube.empty()
    for delta in deltas:
        cube = (Cube.empty() if delta.reset else cube).add_counts(delta.counts)
    return cube


def store_cube(engine: Engine) -> Cube:
    with engine.connect() as connection:
        return Cube.from_frame(load_responses(connection))


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
    assert respondents(store_engine, frame["id"]) == ["b", "a", "d", "c"]
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


# --- Counted by the database -----------------------------------------------------------------

# Hours since the Unix epoch: 2018-09-12 00:00 UTC is 1536710400 s = 426864 h.
H9, H10, H11 = 426873, 426874, 426875
KOLKATA = timezone(timedelta(hours=5, minutes=30))
NEW_YORK = timezone(timedelta(hours=-5))

A = {"role": "social_worker", "uses_social_media": "yes", "viewed_profile": "yes",
     "viewed_for_evidence": "no", "aware_of_guidance": "yes", "confident_guidance": "yes",
     "confident_rules": "no", "knows_who_to_ask": "yes"}
B = {"role": "team_manager", "uses_social_media": "no", "viewed_profile": "no",
     "viewed_for_evidence": "no", "aware_of_guidance": "no", "confident_guidance": "not_asked",
     "confident_rules": "not_sure", "knows_who_to_ask": "not_sure"}
C = {"role": "student", "uses_social_media": "no_answer", "viewed_profile": "no_answer",
     "viewed_for_evidence": "no_answer", "aware_of_guidance": "no_answer",
     "confident_guidance": "not_asked", "confident_rules": "no_answer",
     "knows_who_to_ask": "yes"}

SEVEN = [
    # respondent, answers, submitted at, demo, UTC hour since the epoch
    ("r1", A, datetime(2018, 9, 12, 9, 5, tzinfo=timezone.utc), False, H9),
    ("r2", A, datetime(2018, 9, 12, 9, 59, 59, 999999, tzinfo=timezone.utc), False, H9),
    ("r3", B, datetime(2018, 9, 12, 10, 0, tzinfo=timezone.utc), True, H10),
    # 15:29:59.999999 in Kolkata is 09:59:59.999999 UTC
    ("r4", A, datetime(2018, 9, 12, 15, 29, 59, 999999, tzinfo=KOLKATA), False, H9),
    # 05:30 in New York (winter time) is 10:30 UTC
    ("r5", C, datetime(2018, 9, 12, 5, 30, tzinfo=NEW_YORK), False, H10),
    # half an hour before the epoch: hour -1, not 0
    ("r6", B, datetime(1969, 12, 31, 23, 30, tzinfo=timezone.utc), True, -1),
    # the latest, a microsecond into hour 11
    ("r7", C, datetime(2018, 9, 12, 11, 0, 0, 1, tzinfo=timezone.utc), False, H11),
]
LATEST = datetime(2018, 9, 12, 11, 0, 0, 1, tzinfo=timezone.utc)
COMBINATIONS = {tuple(A.values()): 3, tuple(B.values()): 2, tuple(C.values()): 2}
HOURS = {
    (H9, "social_worker", "yes"): 3,   # r1, r2, r4
    (H10, "team_manager", "no"): 1,    # r3
    (H10, "student", "no_answer"): 1,  # r5
    (-1, "team_manager", "no"): 1,     # r6
    (H11, "student", "no_answer"): 1,  # r7
}  # 3 + 1 + 1 + 1 + 1 = 7


def write_seven(engine: Engine, entries=SEVEN) -> None:
    for respondent, answers, when, demo, _hour in entries:
        write_rows(engine, [{"source_respondent_id": respondent, "submitted_at": when,
                             **answers}], is_demo=demo)


def test_hours_since_the_epoch_are_counted_in_utc_on_both_stores(store_engine):
    write_seven(store_engine)
    hour = hours_since_epoch(hour_start(Response.submitted_at))
    with store_engine.connect() as connection:
        got = dict(connection.execute(select(Response.source_respondent_id, hour)).all())
    assert got == {respondent: expected for respondent, *_rest, expected in SEVEN}


def test_load_counts_counts_by_combination_and_hour(store_engine):
    write_seven(store_engine)
    with store_engine.connect() as connection:
        counts = load_counts(connection)
    assert counts.total == 7
    assert decode(counts) == (COMBINATIONS, HOURS)
    assert counts.demo == 2  # r3, r6
    assert counts.last_submitted == LATEST
    assert counts.last_submitted.utcoffset() == timedelta(0)
    assert counts.cells.dtype == np.int16 and counts.cells.shape == (3, 8)
    assert counts.hours.shape == (5, 3)


def test_a_cube_counted_by_the_database_equals_one_built_from_the_frame(store_engine):
    write_seven(store_engine)
    with store_engine.connect() as connection:
        counted = Cube.from_counts(load_counts(connection))
    framed = store_cube(store_engine)
    assert_same_cube(counted, framed)
    assert counted.total == 7 and counted.last_submitted == LATEST


def test_load_counts_of_an_empty_store(store_engine):
    with store_engine.connect() as connection:
        counts = load_counts(connection)
    assert counts.total == 0 and counts.demo == 0 and counts.last_submitted is None
    assert counts.cells.shape == (0, 8) and counts.hours.shape == (0, 3)


def test_new_rows_of_a_poll_are_counted_as_the_frame_counts_them(store_engine):
    write_seven(store_engine, SEVEN[:2])
    feed = ResponseFeed(store_engine, clock=FakeClock())
    first = feed.poll()
    assert first.reset is True and first.counts.total == 2
    write_seven(store_engine, SEVEN[2:])
    delta = feed.poll()
    assert delta.reset is False
    assert respondents(store_engine, ids(delta)) == ["r3", "r4", "r5", "r6", "r7"]
    combinations, hours = decode(delta.counts)
    assert combinations == {tuple(A.values()): 1, tuple(B.values()): 2, tuple(C.values()): 2}
    assert hours == {**HOURS, (H9, "social_worker", "yes"): 1}  # r4 only: r1, r2 came first
    assert delta.counts.demo == 2 and delta.counts.last_submitted == LATEST
    assert_same_cube(held_cube(first, delta), store_cube(store_engine))


# --- ResponseFeed on both stores -------------------------------------------------------------


def test_feed_first_poll_is_a_reset_then_only_new_rows(store_engine):
    write(store_engine, "r1", "r2", "r3")
    r3 = ids_of(store_engine, "r3")[0]
    feed = ResponseFeed(store_engine, clock=FakeClock())
    assert feed.changed() is True  # never polled

    first = feed.poll()
    assert first.reset is True
    assert first.counts.total == 3 and ids(first) == []  # counted by the database
    assert decode(first.counts)[0] == {tuple(ANSWERS.values()): 3}
    assert first.version == StoreVersion(epoch=0, count=3, max_id=r3)
    assert first.version.token == f"0-3-{r3}"

    assert feed.changed() is False
    again = feed.poll()
    assert again.reset is False and again.counts.total == 0 and ids(again) == []
    assert again.version == first.version

    write(store_engine, "r4", "r5")
    assert feed.changed() is True
    delta = feed.poll()
    assert delta.reset is False
    assert respondents(store_engine, ids(delta)) == ["r4", "r5"]
    assert min(ids(delta)) > r3
    assert delta.counts.total == 2
    assert delta.version.count == 5 and delta.version.max_id == max(ids(delta))
    assert feed.changed() is False
    assert feed.poll().counts.total == 0

    # What the reader holds, added up, is the store.
    assert_same_cube(held_cube(first, again, delta), store_cube(store_engine))


def test_feed_on_an_empty_store(store_engine):
    feed = ResponseFeed(store_engine, clock=FakeClock())
    first = feed.poll()
    assert first.reset is True and first.counts.total == 0
    assert first.version == StoreVersion(0, 0, 0)
    assert feed.changed() is False
    write(store_engine, "r1")
    assert feed.changed() is True
    assert respondents(store_engine, ids(feed.poll())) == ["r1"]


def test_feed_starts_again_after_demo_data_is_removed(store_engine):
    write(store_engine, "d1", "d2", source="demo", is_demo=True)
    write(store_engine, "r1")
    demo_ids = ids_of(store_engine, "d1", "d2")
    feed = ResponseFeed(store_engine, clock=FakeClock())
    first = feed.poll()
    assert first.counts.total == 3 and first.counts.demo == 2
    assert feed.changed() is False

    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 2
    assert feed.changed() is True
    reset = feed.poll()
    assert reset.reset is True
    assert reset.counts.total == 1 and reset.counts.demo == 0
    assert reset.version.epoch == 1 and reset.version.count == 1
    # The demo rows' ids lie below the one left: gaps now (which will never fill).
    assert set(feed.gaps) == set(demo_ids)
    assert feed.changed() is False
    assert feed.poll().counts.total == 0

    write(store_engine, "r2")
    delta = feed.poll()
    assert delta.reset is False and respondents(store_engine, ids(delta)) == ["r2"]
    assert feed.count == store_count(store_engine) == 2
    assert_same_cube(held_cube(first, reset, delta), store_cube(store_engine))


def test_feed_reconcile_with_nothing_lacking_changes_nothing(store_engine):
    clock = FakeClock()
    write(store_engine, "r1")
    feed = ResponseFeed(store_engine, clock=clock, reconcile_seconds=60)
    feed.poll()
    clock.advance(61)
    assert feed.changed() is True  # a reconcile is due, so a poll is worth making
    delta = feed.poll()
    assert delta.reset is False and delta.counts.total == 0
    assert feed.changed() is False


def holes_in(engine: Engine, written: int, *taken: str) -> dict[str, dict]:
    """Write r1 to r``written``, then take ``taken`` out again: the rows taken, by respondent."""
    write(engine, *(f"r{i}" for i in range(1, written + 1)))
    return {r["source_respondent_id"]: r for r in take_out(engine, *taken)}


@pytest.mark.parametrize("one_per_statement", [False, True], ids=["batched", "one-per-query"])
def test_skipped_ids_filled_later_are_found_once_in_runs_and_alone(store_engine, monkeypatch,
                                                                   one_per_statement):
    if one_per_statement:  # every list of ids and every range in a statement of its own
        monkeypatch.setattr(loader, "KEY_CHUNK", 1)
        monkeypatch.setattr(loader, "RANGES_PER_QUERY", 1)
    taken = holes_in(store_engine, 8, "r2", "r4", "r5", "r6")  # one alone, a run of three
    r2, r4, r5, r6 = (taken[r]["id"] for r in ("r2", "r4", "r5", "r6"))
    feed = ResponseFeed(store_engine, clock=FakeClock())
    first = feed.poll()
    assert first.counts.total == 4 and set(feed.gaps) == {r2, r4, r5, r6}
    assert feed.changed() is False

    put_back(store_engine, taken["r5"])  # in the middle of the run
    assert feed.changed() is True
    middle = feed.poll()
    assert ids(middle) == [r5] and middle.counts.total == 1
    assert set(feed.gaps) == {r2, r4, r6}
    assert feed.changed() is False
    assert feed.poll().counts.total == 0

    put_back(store_engine, taken["r6"], taken["r2"])
    both = feed.poll()
    assert ids(both) == [r2, r6] and both.counts.total == 2
    assert set(feed.gaps) == {r4}
    assert feed.poll().counts.total == 0
    assert feed.count == store_count(store_engine) == 7
    assert_same_cube(held_cube(first, middle, both), store_cube(store_engine))


def test_a_skipped_id_filled_after_it_was_given_up_comes_at_the_next_reconcile(store_engine):
    clock = FakeClock()
    taken = holes_in(store_engine, 4, "r2", "r3")
    r2, r3 = taken["r2"]["id"], taken["r3"]["id"]
    feed = ResponseFeed(store_engine, clock=clock, gap_retention_seconds=30, reconcile_seconds=300)
    first = feed.poll()
    assert set(feed.gaps) == {r2, r3}
    clock.advance(31)
    assert feed.poll().counts.total == 0
    assert feed.gaps == {} and feed.abandoned == {r2, r3}

    put_back(store_engine, taken["r3"])
    # Before the reconcile the row is not looked for.
    assert feed.changed() is False
    assert feed.poll().counts.total == 0
    clock.advance(300 - 31)
    assert feed.changed() is True
    late = feed.poll()
    assert late.reset is False and ids(late) == [r3]
    assert feed.abandoned == {r2}
    clock.advance(300)
    assert feed.poll().counts.total == 0  # once only
    assert feed.count == store_count(store_engine) == 3
    assert_same_cube(held_cube(first, late), store_cube(store_engine))


def test_more_gaps_than_it_can_track_and_the_reconcile_counts_the_store(store_engine,
                                                                        monkeypatch):
    monkeypatch.setattr(loader, "MAX_TRACKED_GAPS", 2)
    clock = FakeClock()
    taken = holes_in(store_engine, 5, "r1", "r2", "r4")
    r1, r2, r4 = (taken[r]["id"] for r in ("r1", "r2", "r4"))
    feed = ResponseFeed(store_engine, clock=clock, reconcile_seconds=60)
    first = feed.poll()
    assert first.counts.total == 2
    assert set(feed.gaps) == {r2, r4}  # the highest two of the three

    put_back(store_engine, taken["r4"])
    assert ids(feed.poll()) == [r4]
    clock.advance(61)
    assert feed.changed() is True
    counted = feed.poll()  # the store holds what the feed holds: nothing to do
    assert counted.reset is False and counted.counts.total == 0

    put_back(store_engine, taken["r1"])  # an id it could not track
    assert feed.changed() is False
    assert feed.poll().counts.total == 0
    clock.advance(61)
    again = feed.poll()  # the count differs: everything afresh, r1 included, once
    assert again.reset is True and again.counts.total == 4
    assert feed.count == store_count(store_engine) == 4
    assert set(feed.gaps) == {r2}
    assert_same_cube(held_cube(again), store_cube(store_engine))


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
        assert feed.poll().counts.total == 0

        slow_transaction.commit()
    finally:
        slow.close()

    assert feed.changed() is True
    delta = feed.poll()
    assert (delta.reset, ids(delta)) == (False, [slow_id])
    assert respondents(pg_engine, ids(delta)) == ["A"]
    assert slow_id not in feed.gaps
    assert feed.changed() is False
    assert feed.poll().counts.total == 0
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
    assert feed.poll().counts.total == 0
    assert slow_id in feed.gaps and feed.abandoned == set()

    clock.advance(2)
    assert feed.poll().counts.total == 0
    assert feed.gaps == {} and feed.abandoned == {slow_id}
    assert feed.changed() is False

    clock.advance(300)  # the reconcile finds nothing lacking
    delta = feed.poll()
    assert delta.reset is False and delta.counts.total == 0
    assert feed.count == store_count(pg_engine) == 1
    assert feed.version.count == 1

    write(pg_engine, "C")
    delta = feed.poll()
    assert respondents(pg_engine, ids(delta)) == ["C"]
    assert feed.count == store_count(pg_engine) == 2


@pytest.mark.postgres
def test_gap_known_at_the_first_poll_is_tracked_too(pg_engine):
    slow, slow_transaction, slow_id = begin_insert(pg_engine, "A")
    write(pg_engine, "B")
    feed = ResponseFeed(pg_engine, clock=FakeClock())
    first = feed.poll()
    assert first.reset is True and first.counts.total == 1  # B
    assert slow_id in feed.gaps
    slow_transaction.commit()
    slow.close()
    assert feed.changed() is True
    assert respondents(pg_engine, ids(feed.poll())) == ["A"]
    assert feed.poll().counts.total == 0
    assert feed.count == 2


@pytest.mark.postgres
def test_row_committing_after_its_gap_was_abandoned_comes_at_the_next_reconcile(pg_engine):
    clock = FakeClock()
    feed = ResponseFeed(pg_engine, clock=clock, gap_retention_seconds=30, reconcile_seconds=300)
    first = feed.poll()

    slow, slow_transaction, slow_id = begin_insert(pg_engine, "A")
    try:
        write(pg_engine, "B")
        assert respondents(pg_engine, ids(feed.poll())) == ["B"]
        clock.advance(31)
        assert feed.poll().counts.total == 0
        assert feed.abandoned == {slow_id} and feed.gaps == {}
        slow_transaction.commit()
    finally:
        slow.close()

    # Before the reconcile the late row is not looked for: by design, it costs nothing.
    assert feed.changed() is False
    assert feed.poll().counts.total == 0
    assert feed.count == 1 and store_count(pg_engine) == 2

    clock.advance(300 - 31)
    assert feed.changed() is True
    delta = feed.poll()
    assert delta.reset is False
    assert respondents(pg_engine, ids(delta)) == ["A"]
    assert feed.abandoned == set()
    assert feed.count == store_count(pg_engine) == 2

    # Once only: neither the next poll nor the next reconcile hands it over again.
    assert feed.poll().counts.total == 0
    clock.advance(300)
    delta = feed.poll()
    assert delta.reset is False and delta.counts.total == 0
    assert feed.version.epoch == first.version.epoch
