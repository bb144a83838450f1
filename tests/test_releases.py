"""Making releases (data_loaders/releases.py) on SQLite and PostgreSQL: what a release takes, when
one is made, at what time, what replay() makes of a history, the verification that refuses a
release breaking the rule, demo data removed, and the ``publish`` and ``status`` commands.

Every expected release is worked out by hand from the rule (analysis/releases.py): within an
atom (role group x answer to question 2, demo apart), each of the groups "answered", "no answer"
and "not asked" of questions 3 to 8, and each combination of those states for each pair of those
questions, gains 0 or at least the minimum.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, insert, select, text, update

from analysis.releases import PATTERN_QUESTIONS, ClassKey, check_batch
from data_loaders import releases, store
from dashboard.live import LiveData
from data_loaders.cli import main
from data_loaders.db import WRITE
from data_loaders.loader import load_counts, released_classes
from data_loaders.models import Release, Response
from data_loaders.releases import ReleaseRefused
from survey.questionnaire import BY_ID, QUESTIONS, ROLE_CODES
from survey.settings import Settings
from tests.dashboard_support import FIXTURE, responses

T0 = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2018, 9, 12, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)

SW = {"role": "social_worker", "uses_social_media": "yes", "viewed_profile": "yes",
      "viewed_for_evidence": "yes", "aware_of_guidance": "yes", "confident_guidance": "yes",
      "confident_rules": "yes", "knows_who_to_ask": "yes"}
SW_NOT_ASKED = {**SW, "viewed_profile": "no", "viewed_for_evidence": "no",
                "aware_of_guidance": "no", "confident_guidance": "not_asked",
                "confident_rules": "no", "knows_who_to_ask": "no"}
TM_NO = {"role": "team_manager", "uses_social_media": "no", "viewed_profile": "no",
         "viewed_for_evidence": "no", "aware_of_guidance": "no", "confident_guidance": "not_asked",
         "confident_rules": "not_sure", "knows_who_to_ask": "no"}
TM_YES = {**SW, "role": "team_manager"}
STUDENT = {**SW, "role": "student", "confident_guidance": "no", "confident_rules": "no",
           "knows_who_to_ask": "no"}
# Classes: question 6 (the 4th digit of questions 3 to 8 in base 3) not asked is 2 * 27.
K_SW = ClassKey("social_worker", "yes", False, 0)
K_SW_NOT_ASKED = ClassKey("social_worker", "yes", False, 54)
K_TM_NO = ClassKey("team_manager", "no", False, 54)


def settings(**overrides) -> Settings:
    values = dict(min_cell_size=10, release_interval_seconds=0.0)
    values.update(overrides)
    return Settings.from_env({}, **values)


def people(prefix: str, n: int, answers: dict, *, at: datetime = T0,
           every: timedelta = MINUTE) -> list[dict]:
    """``n`` respondents ``prefix``0, ``prefix``1, ... alike, submitted ``every`` apart from
    ``at``."""
    return [{"source_respondent_id": f"{prefix}{i}", "submitted_at": at + i * every, **answers}
            for i in range(n)]


def add(engine: Engine, rows: list[dict], *, demo: bool = False) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        result = store.store_responses(connection, "demo" if demo else "test", rows,
                                       is_demo=demo)
    assert result.accepted == len(rows)


def publish(engine: Engine, now: datetime = T1, **overrides):
    """A release at ``now`` whatever the time since the last (unless ``interval`` is given)."""
    interval = overrides.pop("interval", 0)
    submitted_until = overrides.pop("submitted_until", None)
    wait = overrides.pop("wait", True)
    return releases.publish(engine, settings(**overrides), now=now, interval=interval,
                            submitted_until=submitted_until, wait=wait)


def marks(engine: Engine) -> dict[str, int | None]:
    """The release that published each respondent (None: waiting)."""
    with engine.connect() as connection:
        return dict(connection.execute(select(Response.source_respondent_id,
                                              Response.release_seq)).all())


def published_by(engine: Engine, seq: int) -> set[str]:
    return {r for r, s in marks(engine).items() if s == seq}


def release_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(
            select(Release.__table__).order_by(Release.seq))]


def status(engine: Engine) -> releases.Status:
    with engine.connect() as connection:
        return releases.status(connection)


def classes_of(engine: Engine, seq: int) -> dict[ClassKey, int]:
    with engine.connect() as connection:
        return released_classes(connection, seq)


# --- What a release takes --------------------------------------------------------------------


def test_nothing_to_publish_makes_no_release(store_engine):
    assert publish(store_engine) is None  # an empty store
    assert status(store_engine) == releases.Status(0, 0, 0, None, ())
    add(store_engine, people("s", 9, SW))
    assert publish(store_engine) is None  # 9 alike: fewer than 10
    add(store_engine, people("t", 9, TM_NO))
    assert publish(store_engine) is None  # 9 and 9 in two atoms: each fewer than 10
    assert release_rows(store_engine) == []
    assert status(store_engine) == releases.Status(0, 0, 18, None, ())
    assert set(marks(store_engine).values()) == {None}


def test_a_release_publishes_the_greatest_batch_the_rule_allows(store_engine):
    add(store_engine, responses(FIXTURE))
    made = publish(store_engine)
    # Social worker x yes 22 (question 6: 12 answered, 10 not asked), team manager x yes 10,
    # team manager x no 10: 42. The 3 students and the 2 who left question 2 blank wait.
    assert (made.seq, made.added, made.total, made.published_at) == (1, 42, 42, T1)
    assert made.pooled == ("no_answer",)
    [row] = release_rows(store_engine)
    assert row["token"] == made.token and len(made.token) == 24
    assert (row["min_cell_size"], row["pooled"], row["published_roles"], row["added"],
            row["total"]) == (10, "no_answer", "social_worker,team_manager", 42, 42)
    assert store.utc(row["published_at"]) == T1
    assert classes_of(store_engine, 1) == {
        K_SW: 12, K_SW_NOT_ASKED: 10, ClassKey("team_manager", "yes", False, 54): 10,
        K_TM_NO: 10}
    assert status(store_engine) == releases.Status(1, 42, 5, T1, ("no_answer",))
    assert publish(store_engine, T1 + MINUTE) is None  # what waits still cannot go


def test_a_class_that_would_leave_a_group_short_waits_whole(store_engine):
    # Social worker x yes: 10 answered question 6 and 5 were not asked it. All 15 would give the
    # atom 15 but "not asked" only 5 (alone and with each other question answered): the 5
    # wait, and the 10 go.
    add(store_engine, people("a", 10, SW) + people("n", 5, SW_NOT_ASKED))
    assert publish(store_engine).added == 10
    assert published_by(store_engine, 1) == {f"a{i}" for i in range(10)}
    add(store_engine, people("m", 5, SW_NOT_ASKED, at=T0 + timedelta(hours=1)))
    # Now 10 wait who were not asked question 6: the atom gains 10, each group 10 (every
    # question and every pair in one state: question 6 not asked, the others answered).
    made = publish(store_engine, T1 + MINUTE)
    assert (made.added, made.total) == (10, 20)
    assert classes_of(store_engine, 2) == {K_SW_NOT_ASKED: 10}


# --- When a release is made, and its time ----------------------------------------------------


def test_a_second_release_within_the_interval_makes_nothing(store_engine):
    add(store_engine, people("s", 10, SW))
    assert publish(store_engine, T1, interval=30).seq == 1  # the first needs no wait
    add(store_engine, people("t", 10, TM_NO))
    assert publish(store_engine, T1 + timedelta(seconds=29.999), interval=30) is None
    assert status(store_engine).waiting == 10
    second = publish(store_engine, T1 + timedelta(seconds=30), interval=30)
    assert (second.seq, second.published_at) == (2, T1 + timedelta(seconds=30))
    add(store_engine, people("u", 10, TM_YES))
    third = publish(store_engine, T1 + timedelta(seconds=31), interval=0)  # no interval
    assert (third.seq, third.added, third.total) == (3, 10, 30)


def test_the_interval_is_the_settings_unless_given(store_engine):
    add(store_engine, people("s", 10, SW))
    every_minute = settings(release_interval_seconds=60)
    assert releases.publish(store_engine, every_minute, now=T1).seq == 1
    add(store_engine, people("t", 10, TM_NO))
    assert releases.publish(store_engine, every_minute, now=T1 + timedelta(seconds=59)) is None
    assert releases.publish(store_engine, every_minute,
                            now=T1 + timedelta(seconds=60)).seq == 2


def test_a_release_is_never_dated_before_the_last(store_engine):
    add(store_engine, people("s", 10, SW))
    publish(store_engine, T1)
    add(store_engine, people("t", 10, TM_NO))
    an_hour_earlier = T1 - timedelta(hours=1)
    # With an interval, a clock behind the last release means the interval has not passed.
    assert publish(store_engine, an_hour_earlier, interval=30) is None
    made = publish(store_engine, an_hour_earlier)
    assert made.published_at == T1
    assert [store.utc(r["published_at"]) for r in release_rows(store_engine)] == [T1, T1]


def test_submitted_until_limits_a_release(store_engine):
    cut = T0 + timedelta(hours=1)
    # Social workers x yes. By 10:00: 10 who answered question 6 (from 9:00) and 5 not asked it
    # (from 9:30). From 11:00: 5 more of each. Unlimited, all 25 could go (question 6: 15
    # answered, 10 not asked). By 10:00 only 5 were not asked it: they wait, and the 10 go,
    # none of their class submitted later with them.
    add(store_engine, people("a", 10, SW) + people("n", 5, SW_NOT_ASKED, at=T0 + 30 * MINUTE))
    add(store_engine, people("late", 5, SW, at=T0 + timedelta(hours=2)))
    add(store_engine, people("m", 5, SW_NOT_ASKED, at=T0 + timedelta(hours=2)))
    made = publish(store_engine, submitted_until=cut)
    assert made.added == 10
    assert published_by(store_engine, 1) == {f"a{i}" for i in range(10)}
    # Then, unlimited: the 10 not asked go; the 5 late who answered it are too few by themselves.
    assert publish(store_engine, T1 + MINUTE).added == 10
    assert published_by(store_engine, 2) == {f"{p}{i}" for p in "nm" for i in range(5)}


def test_the_minimum_cannot_change_once_responses_are_published(store_engine):
    add(store_engine, people("s", 10, SW))
    publish(store_engine)
    add(store_engine, people("t", 5, TM_NO))
    with pytest.raises(ReleaseRefused, match="MIN_CELL_SIZE=10"):
        publish(store_engine, T1 + MINUTE, min_cell_size=5)
    assert status(store_engine) == releases.Status(1, 10, 5, T1, ("no_answer",))


# --- Pooling ---------------------------------------------------------------------------------


def test_roles_with_nothing_published_are_pooled_after_pool_after_and_stay_pooled(store_engine):
    add(store_engine, people("s", 2, SW))
    first = publish(store_engine, min_cell_size=2, pool_after=2)
    assert first.pooled == ("no_answer",)  # decided before anything was published

    # A team manager and a student, alike but for role: alone, each would be one person;
    # pooled (2 published >= POOL_AFTER 2, and neither role has anything published), they are
    # two in the pooled group x yes, in every group.
    add(store_engine, people("t", 1, TM_YES) + people("u", 1, STUDENT))
    assert publish(store_engine, T1 + MINUTE, min_cell_size=2, pool_after=500) is None
    second = publish(store_engine, T1 + MINUTE, min_cell_size=2, pool_after=2)
    everyone_else = tuple(sorted({*ROLE_CODES, "no_answer"} - {"social_worker"}))
    assert (second.added, second.pooled) == (2, everyone_else)
    assert release_rows(store_engine)[1]["published_roles"] == \
        "social_worker,team_manager,student"

    # With POOL_AFTER raised again, the roles pooled stay pooled.
    add(store_engine, people("v", 2, TM_YES, at=T0 + timedelta(hours=1)))
    third = publish(store_engine, T1 + 2 * MINUTE, min_cell_size=2, pool_after=500)
    assert (third.added, third.pooled) == (2, everyone_else)
    assert status(store_engine).pooled == tuple(  # in the questionnaire's order
        code for code in (*ROLE_CODES, "no_answer") if code != "social_worker")


# --- replay() --------------------------------------------------------------------------------


def test_replay_makes_the_releases_a_live_dashboard_would(store_engine):
    at = T0.replace
    add(store_engine, [
        {"source_respondent_id": "s1", "submitted_at": at(minute=5), **SW},
        {"source_respondent_id": "s2", "submitted_at": at(minute=20), **SW},
        {"source_respondent_id": "s3", "submitted_at": at(minute=40), **SW},
        {"source_respondent_id": "t1", "submitted_at": at(hour=10, minute=10), **TM_NO},
        {"source_respondent_id": "u1", "submitted_at": at(hour=10, minute=20), **STUDENT},
        {"source_respondent_id": "t2", "submitted_at": at(hour=10, minute=50), **TM_NO},
    ])
    # Minimum 2, tried every 30 minutes from 9:00 until 10:55:
    #   9:30  s1, s2 submitted: both go (release 1)
    #   10:00 s3 alone: waits
    #   10:30 s3, t1, u1: one in each of three atoms: all wait
    #   10:55 s3, t1, u1, t2: t1 and t2 go (release 2); s3 and u1 wait
    made = releases.replay(store_engine, settings(min_cell_size=2), start=T0,
                           end=at(hour=10, minute=55), step=timedelta(minutes=30))
    assert made == 2
    rows = release_rows(store_engine)
    assert [(r["seq"], store.utc(r["published_at"]), r["added"], r["total"]) for r in rows] == [
        (1, at(minute=30), 2, 2), (2, at(hour=10, minute=55), 2, 4)]
    assert marks(store_engine) == {"s1": 1, "s2": 1, "s3": None, "t1": 2, "u1": None, "t2": 2}
    with store_engine.connect() as connection:
        counts = load_counts(connection)
    roles, social = (QUESTIONS[i].stored_codes for i in (0, 1))
    hours = {(hour, roles[role], social[answer]): n for (hour, role, answer), n in
             zip(counts.hours.tolist(), counts.hour_counts.tolist())}
    # Hours since the epoch: 2018-09-12 09:00 UTC is 426873; 10:55 is in hour 426874.
    assert hours == {(426873, "social_worker", "yes"): 2, (426874, "team_manager", "no"): 2}

    # Over the same span again: nothing new can go.
    assert releases.replay(store_engine, settings(min_cell_size=2), start=T0,
                           end=at(hour=10, minute=55), step=timedelta(minutes=30)) == 0


def test_replay_needs_a_positive_step(store_engine):
    for step in (timedelta(0), timedelta(minutes=-5)):
        with pytest.raises(ValueError, match="must be positive"):
            releases.replay(store_engine, settings(), start=T0, end=T1, step=step)


# --- The verification ------------------------------------------------------------------------

PROBLEM_ATOM = ("student", "yes", False)
_STUDENTS = "Social work student, question 2 yes"
_NUMBER = {q: BY_ID[q].number for q in PATTERN_QUESTIONS}
SINGLED_OUT = {f"{_STUDENTS} (1)",
               *(f"{_STUDENTS}: question {_NUMBER[q]} answered (1)" for q in PATTERN_QUESTIONS),
               *(f"{_STUDENTS}: question {_NUMBER[first]} answered and question "
                 f"{_NUMBER[second]} answered (1)"
                 for first, second in itertools.combinations(PATTERN_QUESTIONS, 2))}
"""One student marked with nobody like them: the atom, its six "answered" groups and its 15
"answered both" groups gain 1 (22 groups), each named as a reader would say it."""


def hand_marked(connection, respondents: list[str]) -> int:
    """A release written by hand, marking these respondents."""
    seq = connection.execute(insert(Release).values(
        token="by-hand", published_at=T1, min_cell_size=10, pooled="no_answer",
        published_roles="social_worker,student", added=len(respondents),
        total=len(respondents)).returning(Release.seq)).scalar_one()
    connection.execute(update(Response).where(Response.source_respondent_id.in_(respondents))
                       .values(release_seq=seq))
    return seq


def test_the_verification_refuses_and_rolls_back_a_release_that_breaks_the_rule(store_engine):
    add(store_engine, people("s", 10, SW) + people("lonely", 1, STUDENT))
    pooled = frozenset({"no_answer"})
    with store_engine.connect().execution_options(**WRITE) as connection:
        with pytest.raises(ReleaseRefused) as refused, connection.begin():
            seq = hand_marked(connection, [f"s{i}" for i in range(10)] + ["lonely0"])
            releases._verify(connection, seq, {K_SW: 10}, pooled, 10)
    message = str(refused.value)
    assert message.startswith("the responses marked for release would single out: ")
    assert set(message.split(": ", 1)[1].split("; ")) == SINGLED_OUT
    assert release_rows(store_engine) == []
    assert set(marks(store_engine).values()) == {None}


# Social workers using social media, questions 7 and 8: 10 answered both, 10 left question 7
# blank, 5 question 8 and 5 both. Each question keeps the rule (question 7 answered 15, blank
# 15; question 8 answered 20, blank 10), but question 7 answered and question 8 blank is 5, and
# both blank 5: those 10 wait.
Q7_BLANK = {**SW, "confident_rules": "no_answer"}
Q8_BLANK = {**SW, "knows_who_to_ask": "no_answer"}
BOTH_BLANK = {**Q7_BLANK, "knows_who_to_ask": "no_answer"}
INTERSECTIONS = (people("u", 10, SW) + people("v", 10, Q7_BLANK) + people("w", 5, Q8_BLANK)
                 + people("z", 5, BOTH_BLANK))
K_U, K_V = K_SW, ClassKey("social_worker", "yes", False, 81)


def test_a_release_holds_back_an_intersection_of_two_questions_that_would_be_short(store_engine):
    add(store_engine, INTERSECTIONS)
    made = publish(store_engine)
    # The 20 who answered question 8 go: question 7 answered 10 and blank 10, alone and with
    # question 8 (or any other question) answered; question 8 blank 0.
    assert (made.added, made.total) == (20, 20)
    assert published_by(store_engine, 1) == {f"{p}{i}" for p in "uv" for i in range(10)}
    assert classes_of(store_engine, 1) == {K_U: 10, K_V: 10}
    # 5 more who left question 8 blank and 5 more who left both: 10 in each combination.
    add(store_engine, people("x", 5, Q8_BLANK, at=T0 + timedelta(hours=1))
        + people("y", 5, BOTH_BLANK, at=T0 + timedelta(hours=2)))
    assert publish(store_engine, T1 + MINUTE).added == 20
    assert classes_of(store_engine, 2) == {ClassKey("social_worker", "yes", False, 243): 10,
                                           ClassKey("social_worker", "yes", False, 324): 10}


def test_the_verification_refuses_a_release_that_leaves_an_intersection_short(store_engine):
    add(store_engine, INTERSECTIONS)
    with store_engine.connect().execution_options(**WRITE) as connection:
        with pytest.raises(ReleaseRefused) as refused, connection.begin():
            seq = hand_marked(connection, [r["source_respondent_id"] for r in INTERSECTIONS])
            releases._verify(connection, seq, {K_U: 10, K_V: 10}, frozenset({"no_answer"}), 10)
    assert set(str(refused.value).split(": ", 1)[1].split("; ")) == {
        "Social worker, question 2 yes: question 7 answered and question 8 no answer (5)",
        "Social worker, question 2 yes: question 7 no answer and question 8 no answer (5)"}
    assert release_rows(store_engine) == []
    assert set(marks(store_engine).values()) == {None}


def test_the_verification_lets_through_a_marked_release_that_keeps_the_rule(store_engine):
    add(store_engine, people("s", 11, SW))
    pooled = frozenset({"no_answer"})
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        seq = hand_marked(connection, [f"s{i}" for i in range(10)])
        releases._verify(connection, seq, {K_SW: 10}, pooled, 10)  # as chosen
        connection.execute(update(Response).where(Response.source_respondent_id == "s10")
                           .values(release_seq=seq))
        releases._verify(connection, seq, {K_SW: 10}, pooled, 10)  # 11 marked: still >= 10
    assert len(published_by(store_engine, seq)) == 11


TRIGGERS = {
    # Marks the lonely student with the release being made, between the count and the mark.
    "sqlite": ["CREATE TRIGGER mark_lonely AFTER INSERT ON releases BEGIN "
               "UPDATE responses SET release_seq = NEW.seq "
               "WHERE source_respondent_id = 'lonely0'; END"],
    "postgresql": ["CREATE FUNCTION mark_lonely() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "UPDATE responses SET release_seq = NEW.seq "
                   "WHERE source_respondent_id = 'lonely0'; RETURN NEW; END $$",
                   "CREATE TRIGGER mark_lonely AFTER INSERT ON releases FOR EACH ROW "
                   "EXECUTE FUNCTION mark_lonely()"],
}


def mark_the_lonely_student(engine: Engine) -> None:
    """A trigger that makes every release also mark one student the rule holds back."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        for statement in TRIGGERS[engine.dialect.name]:
            connection.execute(text(statement))


def drop_the_trigger(engine: Engine) -> None:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(text("DROP TRIGGER mark_lonely" + (
            " ON releases" if engine.dialect.name == "postgresql" else "")))


def test_publish_writes_nothing_when_the_marked_rows_break_the_rule(store_engine):
    add(store_engine, people("s", 10, SW) + people("lonely", 1, STUDENT))
    mark_the_lonely_student(store_engine)
    with pytest.raises(ReleaseRefused) as refused:
        publish(store_engine)
    assert set(str(refused.value).split(": ", 1)[1].split("; ")) == SINGLED_OUT
    assert release_rows(store_engine) == []
    assert set(marks(store_engine).values()) == {None}  # the lonely student's mark undone too

    drop_the_trigger(store_engine)
    made = publish(store_engine)
    assert made.added == 10 and marks(store_engine)["lonely0"] is None


# --- Demo data -------------------------------------------------------------------------------


def remove_demo(engine: Engine) -> int:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        return store.remove_demo(connection)


def epoch(engine: Engine) -> int:
    with engine.connect() as connection:
        return store.epoch(connection)


def test_remove_demo_deletes_releases_left_empty_and_keeps_the_others(store_engine):
    t2, t3, t4 = (T1 + n * MINUTE for n in (1, 2, 3))
    add(store_engine, people("d", 10, TM_NO), demo=True)
    assert publish(store_engine, T1).added == 10  # release 1: demo only
    add(store_engine, people("r", 10, SW))
    add(store_engine, people("e", 10, TM_NO), demo=True)
    assert publish(store_engine, t2).added == 20  # release 2: 10 real, 10 demo
    add(store_engine, people("f", 10, TM_NO), demo=True)
    assert publish(store_engine, t3).total == 40  # release 3: demo only
    kept = release_rows(store_engine)[1]

    assert remove_demo(store_engine) == 30
    assert epoch(store_engine) == 1
    [left] = release_rows(store_engine)
    # Release 2 stays, with its token and time, and says what it holds now: 10, all real.
    assert (left["seq"], left["token"], left["published_at"]) == (2, kept["token"],
                                                                  kept["published_at"])
    assert (left["added"], left["total"], left["published_roles"], left["pooled"]) == \
        (10, 10, "social_worker", "no_answer")
    assert published_by(store_engine, 2) == {f"r{i}" for i in range(10)}
    assert status(store_engine) == releases.Status(1, 10, 0, t2, ("no_answer",))

    add(store_engine, people("t", 10, TM_NO))
    made = publish(store_engine, t4)
    assert (made.seq, made.added, made.total) == (4, 10, 20)  # numbers are never reused


def test_remove_demo_of_demo_only_releases_leaves_real_data_to_start_from_nothing(store_engine):
    add(store_engine, people("d", 10, SW), demo=True)
    publish(store_engine, T1, pool_after=10)
    add(store_engine, people("e", 10, TM_NO), demo=True)
    # 10 published >= POOL_AFTER 10: every role with nothing published is pooled.
    assert "team_manager" in publish(store_engine, T1 + MINUTE, pool_after=10).pooled

    assert remove_demo(store_engine) == 20
    assert release_rows(store_engine) == []
    assert status(store_engine) == releases.Status(0, 0, 0, None, ())
    add(store_engine, people("t", 10, TM_NO))
    made = publish(store_engine, T1 + 2 * MINUTE, pool_after=10)
    assert (made.seq, made.total, made.pooled) == (3, 10, ("no_answer",))  # no pooling inherited


def test_demo_and_real_responses_never_make_up_each_others_numbers(store_engine):
    add(store_engine, people("r", 5, SW))
    add(store_engine, people("d", 5, SW), demo=True)
    assert publish(store_engine) is None  # 5 and 5 in two atoms, not 10 in one

    add(store_engine, people("e", 5, SW), demo=True)
    made = publish(store_engine)
    assert made.added == 10
    assert classes_of(store_engine, made.seq) == {ClassKey("social_worker", "yes", True, 0): 10}
    assert published_by(store_engine, made.seq) == {f"{p}{i}" for p in "de" for i in range(5)}

    assert remove_demo(store_engine) == 10
    assert status(store_engine) == releases.Status(0, 0, 5, None, ())
    add(store_engine, people("s", 5, SW))
    assert publish(store_engine, T1 + MINUTE).added == 10  # real ones by themselves
    with store_engine.connect() as connection:
        for row in connection.execute(select(Release.seq)).scalars():
            assert check_batch(released_classes(connection, row), frozenset({"no_answer"}),
                               10) == []


# --- The commands ----------------------------------------------------------------------------

ENVIRONMENT = {"MIN_CELL_SIZE": "10", "POOL_AFTER": "500", "POOLED_ROLES": "",
               "RELEASE_INTERVAL_SECONDS": "30"}


def run(engine: Engine, *args: str):
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["--database-url", url, *args], env=ENVIRONMENT)


def test_publish_command_prints_what_it_published(store_engine):
    add(store_engine, responses(FIXTURE))
    first = run(store_engine, "publish")
    assert first.exit_code == 0, first.output
    assert first.output == "Published 42 more responses (42 in all).\n"
    again = run(store_engine, "publish")  # within RELEASE_INTERVAL_SECONDS: it does not wait
    assert again.exit_code == 0, again.output
    assert again.output == ("Nothing to publish: 5 waiting until they can be published "
                            "without singling anyone out.\n")
    add(store_engine, people("s", 10, SW))
    assert run(store_engine, "publish").output == "Published 10 more responses (52 in all).\n"
    assert [r["added"] for r in release_rows(store_engine)] == [42, 10]


def test_status_command_says_what_is_published_and_what_waits(store_engine):
    add(store_engine, responses(FIXTURE))
    add(store_engine, people("d", 3, SW), demo=True)
    before = run(store_engine, "status")
    assert before.exit_code == 0, before.output
    assert before.output.splitlines() == [
        "47 responses, 3 demo responses, 0 rows in quarantine.",
        "0 published in 0 releases; 50 waiting until they can be published without singling "
        "anyone out."]
    run(store_engine, "publish")
    assert run(store_engine, "status").output.splitlines()[1] == (
        "42 published in 1 release; 8 waiting until they can be published without singling "
        "anyone out.")  # 3 students, 2 blank, 3 demo


def test_publish_command_reports_a_refused_release(store_engine):
    add(store_engine, people("s", 10, SW) + people("lonely", 1, STUDENT))
    mark_the_lonely_student(store_engine)
    result = run(store_engine, "publish")
    assert result.exit_code == 1
    assert "nothing published: the responses marked for release would single out" in \
        result.output
    assert "Traceback" not in result.output
    with store_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Release)) == 0


# --- A publisher that does not wait ---------------------------------------------------------


@contextmanager
def lock_held(engine: Engine) -> Iterator[None]:
    """While in it, another connection holds what a publisher needs: SQLite's write lock
    (another writer's open transaction), PostgreSQL's publishers' advisory lock (another
    publisher)."""
    holder = engine.connect()
    postgresql = holder.dialect.name == "postgresql"
    try:
        if postgresql:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": releases.PUBLISH_LOCK})
            holder.commit()
        else:
            holder.execution_options(**WRITE)
            holder.begin()
            holder.execute(insert(Response).values(
                source="other", source_respondent_id="held", submitted_at=T0, **SW))
        yield
    finally:
        if postgresql:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"),
                           {"key": releases.PUBLISH_LOCK})
            holder.commit()
        else:
            holder.rollback()
        holder.close()


def test_a_publisher_that_does_not_wait_gives_up_while_the_lock_is_held(store_engine):
    add(store_engine, people("s", 10, SW))
    with lock_held(store_engine):
        assert publish(store_engine, wait=False) is None  # given up, nothing raised
        assert set(marks(store_engine).values()) == {None}
    made = publish(store_engine, wait=False)  # the lock is free: the 10 are published
    assert made is not None and made.added == 10


def test_a_worker_serves_its_readers_while_another_writer_holds_the_store(store_engine):
    """The worker's try to publish gives up instead of waiting (SQLite would wait up to 30 s
    for the write lock), and the snapshot it serves is read meanwhile."""
    add(store_engine, people("s", 10, SW))
    assert publish(store_engine).added == 10
    add(store_engine, people("t", 10, TM_NO))
    live = LiveData(store_engine, settings(release_interval_seconds=1.0), min_interval=0)
    served: list = []
    reader = threading.Thread(target=lambda: served.append(live.snapshot()), daemon=True)
    with lock_held(store_engine):
        reader.start()
        # Answered while the lock is still held: a worker that waited for it would still be
        # waiting (SQLite for its 30 s busy timeout, PostgreSQL for as long as it is held).
        reader.join(timeout=20)
        assert not reader.is_alive(), "the reader waited for the publishers' lock"
        assert served[0].total == 10  # the first release; the 10 team managers wait
