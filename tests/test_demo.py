"""Demo data: reproducible, valid by the questionnaire, plausibly correlated; and the commands
that write it, publishing it as a live dashboard would have while it arrived."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from analysis.releases import check_batch
from data_loaders import demo, releases, store
from data_loaders.bootstrap import DEMO_RELEASE_STEP
from data_loaders.cli import main
from data_loaders.db import WRITE
from data_loaders.loader import released_classes
from data_loaders.models import Release, Response
from survey.questionnaire import MISSING_CODES, NO_ANSWER, NOT_ASKED, QUESTION_IDS, validate

END = datetime(2018, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def large() -> pd.DataFrame:
    return pd.DataFrame(demo.generate(20_000, seed=7, end=END))


def test_same_seed_same_rows_other_seed_other_rows():
    first = demo.generate(200, seed=3, end=END)
    assert demo.generate(200, seed=3, end=END) == first
    other = demo.generate(200, seed=4, end=END)
    assert other != first
    assert not {r["source_respondent_id"] for r in other} & \
        {r["source_respondent_id"] for r in first}


def test_n_rows_with_unique_ids_and_every_field():
    for n in (0, 1, 37):
        rows = demo.generate(n, seed=1, end=END)
        assert len(rows) == n
        assert len({r["source_respondent_id"] for r in rows}) == n
        for r in rows:
            assert set(r) == {"source_respondent_id", "submitted_at", *QUESTION_IDS}
            assert str(r["source_respondent_id"]).startswith("demo-1-")
    assert demo.generate(1, seed=1, end=END, prefix="x")[0]["source_respondent_id"] \
        .startswith("x-1-")


def test_every_row_passes_the_questionnaire(large):
    for record in large.to_dict("records"):
        answers = {qid: record[qid] for qid in QUESTION_IDS}
        blanked = {qid: "" if code in MISSING_CODES else code for qid, code in answers.items()}
        assert validate(blanked) == answers


def test_about_one_answer_in_fifty_is_blank(large):
    for qid in QUESTION_IDS:
        if qid == "confident_guidance":
            asked = large[large["aware_of_guidance"] == "yes"][qid]
            share = (asked == NO_ANSWER).mean()
        else:
            share = (large[qid] == NO_ANSWER).mean()
        assert 0.01 < share < 0.03, (qid, share)
    # Question 6 is "not asked" exactly when question 5 is not yes.
    assert ((large["confident_guidance"] == NOT_ASKED)
            == (large["aware_of_guidance"] != "yes")).all()


def share_yes(frame: pd.DataFrame, question: str, **given: object) -> float:
    for column, value in given.items():
        frame = frame[frame[column].isin(value if isinstance(value, (set, list)) else [value])]
    answered = frame[~frame[question].isin(MISSING_CODES)][question]
    assert len(answered) > 300, (question, given, len(answered))
    return float((answered == "yes").mean())


def test_answers_correlate_as_the_generator_promises(large):
    # Users of social media look at profiles more often (62% against 22%).
    assert share_yes(large, "viewed_profile", uses_social_media="yes") > \
        share_yes(large, "viewed_profile", uses_social_media="no") + 0.3
    # Evidence only ever after looking at a profile.
    assert share_yes(large, "viewed_for_evidence", viewed_profile="no") == 0.0
    assert share_yes(large, "viewed_for_evidence", viewed_profile="yes") > 0.35
    # Managers are more often aware of the guidance (45% against 27%).
    managers = sorted(demo.MANAGERS)
    others = sorted(set(demo.ROLE_MIX) - demo.MANAGERS)
    assert share_yes(large, "aware_of_guidance", role=managers) > \
        share_yes(large, "aware_of_guidance", role=others) + 0.1
    # Those aware are more often confident about the rules and know whom to ask.
    assert share_yes(large, "confident_rules", aware_of_guidance="yes") > \
        share_yes(large, "confident_rules", aware_of_guidance=["no", "not_sure"]) + 0.2
    assert share_yes(large, "knows_who_to_ask", aware_of_guidance="yes") > \
        share_yes(large, "knows_who_to_ask", aware_of_guidance=["no", "not_sure"]) + 0.2


def test_every_role_appears_in_roughly_its_share(large):
    shares = large["role"].value_counts(normalize=True)
    assert set(shares.index) == set(demo.ROLE_MIX) | {NO_ANSWER}
    assert abs(shares["social_worker"] - 0.38 * 0.98) < 0.02


def test_timestamps_in_the_window_and_front_loaded(large):
    weeks = 6.0
    start = END - timedelta(weeks=weeks)
    moments = list(large["submitted_at"])
    assert all(m.tzinfo is not None and m.utcoffset() == timedelta(0) for m in moments)
    assert all(start <= m <= END for m in moments)
    assert moments == sorted(moments)
    first_half = sum(m < start + timedelta(weeks=weeks / 2) for m in moments) / len(moments)
    assert first_half > 0.6  # most arrive soon after launch

    short = demo.generate(500, seed=2, end=END, weeks=1.0)
    assert all(END - timedelta(weeks=1) <= r["submitted_at"] <= END for r in short)


def test_default_end_is_now():
    before = datetime.now(timezone.utc)
    rows = demo.generate(50, seed=5, weeks=0.5)
    after = datetime.now(timezone.utc)
    assert all(before - timedelta(weeks=0.5) <= r["submitted_at"] <= after for r in rows)


# --- The commands ------------------------------------------------------------------------------

ENVIRONMENT = {"MIN_CELL_SIZE": "10", "POOL_AFTER": "500", "POOLED_ROLES": ""}


def run(engine: Engine, *args: str):
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["--database-url", url, *args], catch_exceptions=False,
                              env=ENVIRONMENT)


def demo_rows(engine: Engine) -> list[tuple[str, bool]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(
            select(Response.source, Response.is_demo).order_by(Response.id))]


PUBLISHED = re.compile(r"^Published as they arrived: (\d+) in all, in (\d+) new releases?\.$")


def test_demo_command_writes_then_writes_nothing(store_engine):
    first = run(store_engine, "demo", "-n", "50", "--seed", "1")
    assert first.exit_code == 0, first.output
    wrote, published = first.output.splitlines()
    assert wrote == "Wrote 50 demo responses."
    assert PUBLISHED.match(published), published
    again = run(store_engine, "demo", "-n", "50", "--seed", "1")
    assert again.exit_code == 0, again.output
    assert again.output == "Wrote 0 demo responses (50 were already there).\n"  # none to publish
    assert demo_rows(store_engine) == [("demo", True)] * 50

    other_seed = run(store_engine, "demo", "--responses", "5", "--seed", "2")
    assert other_seed.output.splitlines()[0] == "Wrote 5 demo responses."
    assert len(demo_rows(store_engine)) == 55


def test_demo_command_publishes_its_responses_as_they_arrived(store_engine):
    result = run(store_engine, "demo", "-n", "400", "--seed", "3")
    assert result.exit_code == 0, result.output
    published, made = map(int, PUBLISHED.match(result.output.splitlines()[1]).groups())
    with store_engine.connect() as connection:
        rows = [r._mapping for r in connection.execute(
            select(Release.__table__).order_by(Release.seq))]
        state = releases.status(connection)
        first, _last = store.submission_span(connection)
        latest = {seq: store.utc(when) for seq, when in connection.execute(
            select(Response.release_seq, func.max(Response.submitted_at))
            .where(Response.release_seq.is_not(None)).group_by(Response.release_seq))}
        rule = [check_batch(released_classes(connection, row["seq"]),
                            frozenset(row["pooled"].split(",")), 10) for row in rows]
    assert (published, made) == (state.published, len(rows)) == (rows[-1]["total"], state.releases)
    assert made > 1 and 0 < published <= 400
    # As they arrived: tried every DEMO_RELEASE_STEP from a step before the first response, each
    # release taking only responses submitted by its time.
    for row in rows:
        moment = store.utc(row["published_at"])
        assert latest[row["seq"]] <= moment
        steps = (moment - (first - DEMO_RELEASE_STEP)) / DEMO_RELEASE_STEP
        assert steps == int(steps) or row is rows[-1], (row["seq"], moment)
    assert rule == [[] for _ in rows]
    # What still waits cannot be published without singling someone out.
    assert run(store_engine, "publish").output.startswith("Nothing to publish:")


def test_demo_command_refuses_a_store_with_real_responses(store_engine):
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "csv", [
            {**demo.generate(1, seed=9, end=END)[0], "source_respondent_id": "real-1"}])
    result = run(store_engine, "demo", "-n", "5")
    assert result.exit_code == 1
    assert "the store holds real responses; demo ones would mix with them" in result.output
    assert demo_rows(store_engine) == [("csv", False)]


def test_demo_command_creates_and_migrates_a_new_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'store.sqlite3'}"
    result = CliRunner().invoke(main, ["--database-url", url, "demo", "-n", "3"],
                                catch_exceptions=False, env=ENVIRONMENT)
    assert result.exit_code == 0
    # Three responses: too few to publish any.
    assert result.output == ("Wrote 3 demo responses.\n"
                             "Published as they arrived: 0 in all, in 0 new releases.\n")
    assert (tmp_path / "new" / "store.sqlite3").exists()


def test_demo_command_needs_a_positive_count(store_engine):
    result = run(store_engine, "demo", "-n", "0")
    assert result.exit_code == 2 and "-n" in result.output
    assert demo_rows(store_engine) == []


def test_simulate_adds_the_count_asked_for(store_engine):
    run(store_engine, "demo", "-n", "4")
    result = run(store_engine, "simulate", "--rate", "50", "--count", "3")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Added 3 demo responses."
    assert demo_rows(store_engine) == [("demo", True)] * 7
    with store_engine.connect() as connection:
        simulated = connection.scalars(select(Response.source_respondent_id)
                                       .where(Response.source_respondent_id
                                              .like("simulated-%"))).all()
        newest = connection.scalar(select(Response.submitted_at).order_by(Response.id.desc()))
    assert len(simulated) == 3
    assert abs(store.utc(newest) - datetime.now(timezone.utc)) < timedelta(minutes=5)


def test_simulate_refuses_a_store_with_real_responses(store_engine):
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "csv", [
            {**demo.generate(1, seed=9, end=END)[0], "source_respondent_id": "real-1"}])
    result = run(store_engine, "simulate", "--rate", "50", "--count", "3")
    assert result.exit_code == 1
    assert "the store holds real responses" in result.output
    assert demo_rows(store_engine) == [("csv", False)]
