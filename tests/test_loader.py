"""Reading the store: the published responses counted by the database, the classes of the release
rule, the rows as a typed frame, and the feed that hands each release over once.

Expected counts are tallied by hand, with releases made at fixed times; on PostgreSQL the counting
sessions are in a +05:30 time zone, where a local hour is not a UTC hour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, select, text

from analysis.cube import Cube
from analysis.releases import ClassKey
from data_loaders import releases, store
from data_loaders.db import WRITE
from data_loaders.loader import (COLUMNS, ReleaseFeed, class_key, class_number, hour_start,
                                 hours_since_epoch, load_counts, load_responses, release_class,
                                 released_classes, waiting_classes)
from data_loaders.models import Release, Response
from survey.questionnaire import QUESTIONS
from survey.settings import Settings
from tests.dashboard_support import published_frame

T0 = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
ANSWERS = {"role": "student", "uses_social_media": "yes", "viewed_profile": "no",
           "viewed_for_evidence": "no", "aware_of_guidance": "not_sure",
           "confident_guidance": "not_asked", "confident_rules": "no_answer",
           "knows_who_to_ask": "not_sure"}


def row(respondent: str, **answers: object) -> dict[str, object]:
    return {"source_respondent_id": respondent, "submitted_at": T0, **ANSWERS, **answers}


def write(engine: Engine, *respondents: str, source: str = "api", is_demo: bool = False) -> None:
    write_rows(engine, [row(r) for r in respondents], source=source, is_demo=is_demo)


def write_rows(engine: Engine, rows: list[dict], *, source: str = "api",
               is_demo: bool = False) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        result = store.store_responses(connection, source, rows, is_demo=is_demo)
    assert result.accepted == len(rows)


def respondents(engine: Engine, response_ids) -> list[str]:
    """The respondent ids of these response ids, in the same order."""
    with engine.connect() as connection:
        names = dict(connection.execute(select(Response.id, Response.source_respondent_id)).all())
    return [names[i] for i in response_ids]


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
    assert (a.demo, a.last_published) == (b.demo, b.last_published)


def held_cube(*deltas) -> Cube:
    cube = Cube.empty()
    for delta in deltas:
        cube = (Cube.empty() if delta.reset else cube).add_counts(delta.counts)
    return cube


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
H8, H9, H10, H11 = 426872, 426873, 426874, 426875
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

# Three releases at fixed times. 09:59:59 and 10:00:00 UTC are 15:29:59 and 15:30:00 in a
# +05:30 session: one local hour, two UTC hours.
R1 = datetime(2018, 9, 12, 9, 59, 59, tzinfo=timezone.utc)
R2 = datetime(2018, 9, 12, 10, 0, tzinfo=timezone.utc)
R3 = datetime(2018, 9, 12, 11, 0, 0, 1, tzinfo=timezone.utc)

EIGHT = [
    # respondent, answers, submitted at, demo, UTC hour of submission, release (None: waits)
    ("r1", A, datetime(2018, 9, 12, 8, 5, tzinfo=timezone.utc), False, H8, R1),
    ("r2", A, datetime(2018, 9, 12, 8, 59, 59, 999999, tzinfo=timezone.utc), False, H8, R1),
    # 14:30 in Kolkata is 09:00 UTC
    ("r4", A, datetime(2018, 9, 12, 14, 30, tzinfo=KOLKATA), False, H9, R1),
    ("r3", B, datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc), True, H9, R2),
    # 04:59:59.999999 at -05:00 is 09:59:59.999999 UTC
    ("r5", C, datetime(2018, 9, 12, 4, 59, 59, 999999, tzinfo=NEW_YORK), False, H9, R2),
    # half an hour before the epoch: hour -1, not 0
    ("r6", B, datetime(1969, 12, 31, 23, 30, tzinfo=timezone.utc), True, -1, R3),
    ("r7", C, datetime(2018, 9, 12, 10, 30, tzinfo=timezone.utc), False, H10, R3),
    # stored after the last release: it waits, and is counted nowhere
    ("r8", A, datetime(2018, 9, 12, 10, 45, tzinfo=timezone.utc), False, H10, None),
]
COMBINATIONS = {tuple(A.values()): 3, tuple(B.values()): 2, tuple(C.values()): 2}  # r8 waits
HOURS = {  # the hour of the release, never of the submission
    (H9, "social_worker", "yes"): 3,    # r1, r2, r4 in R1 at 09:59:59
    (H10, "team_manager", "no"): 1,     # r3 in R2 at 10:00:00
    (H10, "student", "no_answer"): 1,   # r5 in R2
    (H11, "team_manager", "no"): 1,     # r6 in R3 at 11:00:00.000001
    (H11, "student", "no_answer"): 1,   # r7 in R3
}  # 3 + 1 + 1 + 1 + 1 = 7


@pytest.fixture
def counting_engine(store_engine: Engine) -> Iterator[Engine]:
    """The store, on PostgreSQL through sessions in India's time zone (+05:30 all year), where
    a local hour is not a UTC hour."""
    if store_engine.dialect.name != "postgresql":
        yield store_engine
        return
    engine = create_engine(store_engine.url, connect_args={"options": "-c TimeZone=Asia/Kolkata"})
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT EXTRACT(TIMEZONE FROM now())")) == 5.5 * 3600
    yield engine
    engine.dispose()


def publish_at(engine: Engine, moment: datetime, *, minimum: int = 1, **settings):
    """A release made at ``moment``, whatever the time since the last one."""
    return releases.publish(engine, Settings.from_env({}, min_cell_size=minimum, **settings),
                            now=moment, interval=0)


def write_eight(engine: Engine) -> None:
    """The eight responses, each release made once what it publishes is stored."""
    for release in (R1, R2, R3, None):
        for respondent, answers, when, demo, _hour, published in EIGHT:
            if published == release:
                write_rows(engine, [{"source_respondent_id": respondent, "submitted_at": when,
                                     **answers}], is_demo=demo)
        if release is not None:
            assert publish_at(engine, release) is not None


def test_hours_since_the_epoch_are_counted_in_utc_on_both_stores(counting_engine):
    write_rows(counting_engine, [{"source_respondent_id": r, "submitted_at": when, **answers}
                                 for r, answers, when, *_rest in EIGHT])
    hour = hours_since_epoch(hour_start(Response.submitted_at))
    with counting_engine.connect() as connection:
        got = dict(connection.execute(select(Response.source_respondent_id, hour)).all())
    assert got == {respondent: expected for respondent, _a, _w, _d, expected, _r in EIGHT}


def test_load_counts_counts_published_responses_by_combination_and_hour_of_release(
        counting_engine):
    write_eight(counting_engine)
    with counting_engine.connect() as connection:
        counts = load_counts(connection)
    assert counts.total == 7  # the eight but r8
    assert decode(counts) == (COMBINATIONS, HOURS)
    assert counts.demo == 2  # r3, r6
    assert counts.last_published == R3
    assert counts.last_published.utcoffset() == timedelta(0)
    assert counts.cells.dtype == np.int16 and counts.cells.shape == (3, 8)
    assert counts.hours.shape == (5, 3)


def test_load_counts_of_some_releases_only(counting_engine):
    write_eight(counting_engine)
    with counting_engine.connect() as connection:
        first = load_counts(connection, through=1)
        second = load_counts(connection, after=1, through=2)
        later = load_counts(connection, after=1)
        none = load_counts(connection, after=3)
    assert decode(first) == ({tuple(A.values()): 3}, {(H9, "social_worker", "yes"): 3})
    assert first.last_published == R1 and first.demo == 0
    assert decode(second) == ({tuple(B.values()): 1, tuple(C.values()): 1},
                              {(H10, "team_manager", "no"): 1, (H10, "student", "no_answer"): 1})
    assert second.last_published == R2 and second.demo == 1  # r3
    assert later.total == 4 and later.demo == 2 and later.last_published == R3  # r3, r5, r6, r7
    assert none.total == 0 and none.last_published is None


def test_a_cube_counted_by_the_database_equals_one_built_from_the_frame(counting_engine):
    write_eight(counting_engine)
    with counting_engine.connect() as connection:
        counted = Cube.from_counts(load_counts(connection))
    framed = Cube.from_frame(published_frame(counting_engine))
    assert_same_cube(counted, framed)
    assert counted.total == 7 and counted.last_published == R3


def test_load_counts_of_a_store_with_nothing_published(store_engine):
    with store_engine.connect() as connection:
        empty = load_counts(connection)
    write(store_engine, "w1", "w2")
    with store_engine.connect() as connection:
        waiting = load_counts(connection)
    for counts in (empty, waiting):
        assert counts.total == 0 and counts.demo == 0 and counts.last_published is None
        assert counts.cells.shape == (0, 8) and counts.hours.shape == (0, 3)


# --- Classes of the release rule, computed by the database -----------------------------------


def test_release_class_is_computed_by_the_database_as_class_key_reads_it(store_engine):
    write_rows(store_engine, [{"source_respondent_id": "a", "submitted_at": T0, **A},
                              {"source_respondent_id": "c", "submitted_at": T0, **C},
                              {"source_respondent_id": "x", "submitted_at": T0,
                               **{**A, "role": "no_answer", "knows_who_to_ask": "no_answer"}}])
    write_rows(store_engine, [{"source_respondent_id": "b", "submitted_at": T0, **B}],
               source="demo", is_demo=True)
    with store_engine.connect() as connection:
        numbers = dict(connection.execute(
            select(Response.source_respondent_id, release_class())).all())
    # Questions 3 to 8 in base 3, question 3 the least significant digit; answered 0, blank 1,
    # not asked 2. A: all answered. B: question 6 (the 4th digit) not asked, 2 * 27. C: questions
    # 3, 4, 5, 7 blank and 6 not asked, 1 + 3 + 9 + 2 * 27 + 81. x: question 8 blank, 243.
    expected = {"a": ClassKey("social_worker", "yes", False, 0),
                "b": ClassKey("team_manager", "no", True, 54),
                "c": ClassKey("student", "no_answer", False, 148),
                "x": ClassKey("no_answer", "yes", False, 243)}
    assert {r: class_key(n) for r, n in numbers.items()} == expected
    assert {r: class_number(k) for r, k in expected.items()} == numbers
    assert len(set(numbers.values())) == 4


def test_waiting_and_released_classes(store_engine):
    write_rows(store_engine, [{"source_respondent_id": f"a{i}", "submitted_at":
                               T0 + timedelta(minutes=i), **A} for i in range(3)])  # 9:00-9:02
    write_rows(store_engine, [{"source_respondent_id": "b", "submitted_at": T0, **B}])
    a, b = ClassKey("social_worker", "yes", False, 0), ClassKey("team_manager", "no", False, 54)
    with store_engine.connect() as connection:
        assert waiting_classes(connection) == {a: 3, b: 1}
        assert waiting_classes(connection, submitted_until=T0 + timedelta(minutes=1)) == \
            {a: 2, b: 1}  # a0, a1 and b by 9:01
        assert released_classes(connection, 1) == {}
    assert publish_at(store_engine, R1, minimum=2).added == 3  # b alone would single out one
    with store_engine.connect() as connection:
        assert waiting_classes(connection) == {b: 1}
        assert released_classes(connection, 1) == {a: 3}


# --- ReleaseFeed on both stores --------------------------------------------------------------

P1, P2, P3 = (datetime(2018, 9, 12, h, m, tzinfo=timezone.utc) for h, m in
              ((10, 0), (10, 30), (11, 0)))


def many(prefix: str, n: int, answers: dict, *, start: int = 1) -> list[dict]:
    return [{"source_respondent_id": f"{prefix}{i}", "submitted_at": T0 + timedelta(minutes=i),
             **answers} for i in range(start, start + n)]


def token_of(epoch: int, release_token: str | None) -> str:
    return hashlib.sha256(f"{epoch}:{release_token}".encode()).hexdigest()[:20]


def release_tokens(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Release.token).order_by(Release.seq)))


def test_feed_first_poll_counts_every_published_response_then_only_new_releases(store_engine):
    write_rows(store_engine, many("a", 12, A) + many("c", 3, C))
    assert publish_at(store_engine, P1, minimum=10).added == 12  # the 3 in C wait
    write_rows(store_engine, many("b", 10, B))
    assert publish_at(store_engine, P2, minimum=10).added == 10
    write_rows(store_engine, many("a", 5, A, start=13))  # 5 < 10: they wait

    feed = ReleaseFeed(store_engine)
    first = feed.poll()
    assert first.reset is True
    assert decode(first.counts) == ({tuple(A.values()): 12, tuple(B.values()): 10}, {
        (H10, "social_worker", "yes"): 12, (H10, "team_manager", "no"): 10})
    assert first.counts.last_published == P2
    assert (first.state.epoch, first.state.seq, first.state.published_at) == (0, 2, P2)
    assert first.state.pooled == ("no_answer",) and first.state.min_cell_size == 10
    assert first.state.token == token_of(0, release_tokens(store_engine)[1])

    again = feed.poll()  # no release since: nothing
    assert (again.reset, again.counts.total, again.state) == (False, 0, first.state)

    write_rows(store_engine, many("a", 5, A, start=18))  # stored, not published: still nothing
    stored_only = feed.poll()
    assert (stored_only.reset, stored_only.counts.total) == (False, 0)

    assert publish_at(store_engine, P3, minimum=10).added == 10  # a13 to a22
    delta = feed.poll()
    assert delta.reset is False
    assert decode(delta.counts) == ({tuple(A.values()): 10}, {(H11, "social_worker", "yes"): 10})
    assert delta.counts.last_published == P3 and delta.state.seq == 3
    last = feed.poll()
    assert (last.reset, last.counts.total, last.state) == (False, 0, delta.state)

    # The three in C were stored before the first release and were never published: no delta
    # holds them. What the reader holds, added up, is what was published: 12 + 10 + 10.
    for each in (first, again, stored_only, delta, last):
        assert tuple(C.values()) not in decode(each.counts)[0]
    held = held_cube(first, again, stored_only, delta, last)
    assert held.total == 32
    assert_same_cube(held, Cube.from_frame(published_frame(store_engine)))


def test_feed_on_an_empty_store(store_engine):
    feed = ReleaseFeed(store_engine)
    first = feed.poll()
    assert first.reset is True and first.counts.total == 0
    assert (first.state.seq, first.state.release_token, first.state.published_at) == \
        (0, None, None)
    assert first.state.token == token_of(0, None)

    write_rows(store_engine, many("c", 3, C))
    assert publish_at(store_engine, P1, minimum=10) is None  # 3 < 10
    assert feed.poll().counts.total == 0

    write_rows(store_engine, many("b", 10, B))
    assert publish_at(store_engine, P2, minimum=10).added == 10
    delta = feed.poll()
    assert delta.reset is False
    assert decode(delta.counts)[0] == {tuple(B.values()): 10}
    assert delta.state.token == token_of(0, release_tokens(store_engine)[0]) != first.state.token


def test_feed_starts_again_when_the_epoch_changes(store_engine):
    write_rows(store_engine, many("d", 10, B), source="demo", is_demo=True)
    write_rows(store_engine, many("a", 12, A))
    assert publish_at(store_engine, P1, minimum=10).added == 22  # 10 demo, 12 real
    feed = ReleaseFeed(store_engine)
    first = feed.poll()
    assert first.counts.total == 22 and first.counts.demo == 10
    write_rows(store_engine, many("d", 10, B, start=11), source="demo", is_demo=True)
    assert publish_at(store_engine, P2, minimum=10).added == 10
    assert feed.poll().counts.demo == 10

    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 20
    # Release 2 held demo responses only and is gone; release 1 keeps its 12 real ones.
    reset = feed.poll()
    assert reset.reset is True
    assert decode(reset.counts)[0] == {tuple(A.values()): 12}
    assert reset.counts.demo == 0 and reset.counts.last_published == P1
    assert (reset.state.epoch, reset.state.seq) == (1, 1)
    assert reset.state.token == token_of(1, release_tokens(store_engine)[0])
    assert reset.state.token != first.state.token  # the same release, another epoch
    after = feed.poll()
    assert (after.reset, after.counts.total) == (False, 0)
    assert_same_cube(held_cube(first, reset, after), Cube.from_frame(published_frame(store_engine)))


def test_every_reader_of_a_release_names_it_alike(store_engine):
    write_rows(store_engine, many("a", 10, A))
    publish_at(store_engine, P1, minimum=10)
    one, other = ReleaseFeed(store_engine).poll(), ReleaseFeed(store_engine).poll()
    assert one.state == other.state and one.state.token == other.state.token
    assert len(one.state.token) == 20
