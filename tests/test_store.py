"""Writing to the store, on SQLite and on PostgreSQL: idempotence, constraints, quarantine,
demo removal and time zones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from data_loaders import store
from data_loaders.db import WRITE
from data_loaders.loader import load_responses
from data_loaders.models import ImportRun, Response
from data_loaders.store import Rejected
from survey.questionnaire import QUESTION_IDS

T0 = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
ANSWERS = {"role": "team_manager", "uses_social_media": "yes", "viewed_profile": "yes",
           "viewed_for_evidence": "no", "aware_of_guidance": "yes", "confident_guidance": "no",
           "confident_rules": "not_sure", "knows_who_to_ask": "yes"}


def row(respondent: str, minutes: int = 0, **answers: str) -> dict[str, object]:
    return {"source_respondent_id": respondent, "submitted_at": T0 + timedelta(minutes=minutes),
            **ANSWERS, **answers}


def write(engine: Engine, source: str, rows, **kwargs) -> store.BatchResult:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        return store.store_responses(connection, source, rows, **kwargs)


def stored(engine: Engine) -> list[tuple[str, str, bool]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(
            select(Response.source, Response.source_respondent_id, Response.is_demo)
            .order_by(Response.id))]


def test_store_responses_is_idempotent(store_engine):
    batch = [row("r1"), row("r2", 1), row("r3", 2)]
    assert write(store_engine, "csv", batch) == store.BatchResult(accepted=3, duplicates=0)
    assert write(store_engine, "csv", batch) == store.BatchResult(accepted=0, duplicates=3)
    assert stored(store_engine) == [("csv", "r1", False), ("csv", "r2", False),
                                    ("csv", "r3", False)]


def test_duplicates_within_a_batch_and_against_the_store(store_engine):
    assert write(store_engine, "csv", [row("r1"), row("r2"), row("r1", 5)]) == \
        store.BatchResult(accepted=2, duplicates=1)
    # r2 is known, r4 appears twice, r5 once.
    assert write(store_engine, "csv", [row("r2"), row("r4"), row("r4"), row("r5")]) == \
        store.BatchResult(accepted=2, duplicates=2)
    assert [r[1] for r in stored(store_engine)] == ["r1", "r2", "r4", "r5"]
    # The first of two rows with the same respondent id is the one kept.
    with store_engine.connect() as connection:
        kept = connection.scalar(select(Response.submitted_at)
                                 .where(Response.source_respondent_id == "r1"))
    assert store.utc(kept) == T0


def test_same_respondent_id_from_another_source_is_another_respondent(store_engine):
    assert write(store_engine, "csv", [row("7")]).accepted == 1
    assert write(store_engine, "api", [row("7")]).accepted == 1
    assert write(store_engine, "api", [row("7")]).duplicates == 1
    assert stored(store_engine) == [("csv", "7", False), ("api", "7", False)]


def test_empty_batch(store_engine):
    assert write(store_engine, "csv", []) == store.BatchResult(accepted=0, duplicates=0)


def test_a_batch_larger_than_a_key_chunk(store_engine):
    rows = [row(f"r{i}") for i in range(store.KEY_CHUNK + 7)]
    assert write(store_engine, "bulk", rows).accepted == store.KEY_CHUNK + 7
    assert write(store_engine, "bulk", rows[-10:] + [row("new")]) == \
        store.BatchResult(accepted=1, duplicates=10)
    with store_engine.connect() as connection:
        assert store.count_responses(connection) == store.KEY_CHUNK + 8


def raw_insert(engine: Engine, **changes: object) -> None:
    values = {"source": "raw", "source_respondent_id": "x", "submitted_at": T0, **ANSWERS,
              **changes}
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        connection.execute(insert(Response).values(**values))


def test_raw_insert_of_a_valid_row_is_accepted(store_engine):
    raw_insert(store_engine)
    raw_insert(store_engine, source_respondent_id="y", aware_of_guidance="no",
               confident_guidance="not_asked", role="no_answer")
    assert len(stored(store_engine)) == 2


@pytest.mark.parametrize("changes", [
    {"role": "astronaut"},
    {"role": "Social worker"},            # a label, not a code
    {"uses_social_media": "not_sure"},    # not an answer to question 2
    {"viewed_profile": "not_asked"},      # only question 6 can be "not asked"
    {"knows_who_to_ask": ""},
    {"aware_of_guidance": "no", "confident_guidance": "yes"},
    {"aware_of_guidance": "not_sure", "confident_guidance": "no_answer"},
    {"aware_of_guidance": "no_answer", "confident_guidance": "no"},
    {"aware_of_guidance": "yes", "confident_guidance": "not_asked"},
], ids=lambda changes: "-".join(f"{k}={v}" for k, v in changes.items()))
def test_check_constraints_refuse_what_the_questionnaire_forbids(store_engine, changes):
    with pytest.raises(IntegrityError):
        raw_insert(store_engine, **changes)
    assert stored(store_engine) == []


def test_unique_constraint_on_source_and_respondent(store_engine):
    raw_insert(store_engine)
    with pytest.raises(IntegrityError):
        raw_insert(store_engine, submitted_at=T0 + timedelta(days=1))
    raw_insert(store_engine, source="other")
    assert stored(store_engine) == [("raw", "x", False), ("other", "x", False)]


def test_remove_demo_removes_only_demo_rows_and_bumps_the_epoch(store_engine):
    write(store_engine, "demo", [row("d1"), row("d2"), row("d3")], is_demo=True)
    write(store_engine, "csv", [row("r1"), row("r2")])
    with store_engine.connect() as connection:
        assert store.epoch(connection) == 0
        assert store.count_responses(connection, demo=True) == 3
        assert store.count_responses(connection, demo=False) == 2
        assert store.count_responses(connection) == 5

    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 3
    with store_engine.connect() as connection:
        assert store.epoch(connection) == 1
        assert store.count_responses(connection) == 2
    assert stored(store_engine) == [("csv", "r1", False), ("csv", "r2", False)]

    # Nothing left to remove: the epoch stays, so readers need not start again.
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 0
    with store_engine.connect() as connection:
        assert store.epoch(connection) == 1

    write(store_engine, "demo", [row("d4")], is_demo=True)
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 1
    with store_engine.connect() as connection:
        assert store.epoch(connection) == 2


def test_remove_demo_rolled_back_keeps_rows_and_epoch(store_engine):
    write(store_engine, "demo", [row("d1")], is_demo=True)
    with store_engine.connect().execution_options(**WRITE) as connection:
        with connection.begin() as transaction:
            assert store.remove_demo(connection) == 1
            transaction.rollback()
    with store_engine.connect() as connection:
        assert store.epoch(connection) == 0
        assert store.count_responses(connection, demo=True) == 1


def test_quarantine_keeps_reason_line_and_raw_columns(store_engine):
    started = datetime(2018, 11, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        import_id = store.begin_import(connection, file_name="export.csv", file_sha256="ab" * 32,
                                       format="csv", source="csv", started_at=started)
        kept = store.quarantine(connection, "csv", [
            Rejected(4, {"role": "Astronaut", "uses_social_media": "Yes"},
                     "question 1 (role): 'Astronaut' is not one of: ..."),
            Rejected(None, {"viewed_profile": "caf\u00e9"}, "no question is answered"),
        ], file_name="export.csv", import_id=import_id)
        assert kept == 2
        assert store.quarantine(connection, "csv", []) == 0
        store.quarantine(connection, "api", [Rejected(1, {}, "other import")])
        store.finish_import(connection, import_id, accepted=10, duplicates=1, quarantined=2,
                            demo_removed=0, finished_at=started + timedelta(seconds=3))

    with store_engine.connect() as connection:
        rows = store.list_quarantine(connection)
        assert [(r.source, r.file_name, r.line_number, r.reason, r.import_id) for r in rows] == [
            ("csv", "export.csv", 4, "question 1 (role): 'Astronaut' is not one of: ...",
             import_id),
            ("csv", "export.csv", None, "no question is answered", import_id),
            ("api", None, 1, "other import", None),
        ]
        assert json.loads(rows[0].raw) == {"role": "Astronaut", "uses_social_media": "Yes"}
        assert rows[1].raw == '{"viewed_profile": "caf\u00e9"}'  # kept as written, not escaped
        assert rows[0].created_at is not None
        assert len(store.list_quarantine(connection, import_id=import_id)) == 2
        assert [r.reason for r in store.list_quarantine(connection, limit=1)] == [rows[0].reason]

        run = connection.execute(select(ImportRun).where(ImportRun.id == import_id)).one()
        assert (run.accepted, run.duplicates, run.quarantined, run.demo_removed) == (10, 1, 2, 0)
        # The same instants, whatever zone they were given in.
        assert store.utc(run.started_at) == started
        assert store.utc(run.finished_at) == started + timedelta(seconds=3)


def test_timestamps_are_stored_as_instants_and_loaded_as_utc(store_engine):
    india = timezone(timedelta(hours=5, minutes=30))
    new_york_winter = timezone(timedelta(hours=-5))
    given = {
        "ist": datetime(2018, 9, 12, 23, 45, 10, 123456, tzinfo=india),
        "est": datetime(2018, 11, 28, 19, 30, tzinfo=new_york_winter),
        "utc": datetime(2018, 10, 1, 0, 0, tzinfo=timezone.utc),
        "naive": datetime(2018, 10, 2, 8, 15),  # taken to be UTC already
    }
    write(store_engine, "tz", [row(key, submitted_at=value) for key, value in given.items()])
    expected_utc = {
        "ist": datetime(2018, 9, 12, 18, 15, 10, 123456, tzinfo=timezone.utc),
        "est": datetime(2018, 11, 29, 0, 30, tzinfo=timezone.utc),
        "utc": datetime(2018, 10, 1, 0, 0, tzinfo=timezone.utc),
        "naive": datetime(2018, 10, 2, 8, 15, tzinfo=timezone.utc),
    }

    with store_engine.connect() as connection:
        frame = load_responses(connection)
        raw = dict(connection.execute(select(Response.source_respondent_id,
                                             Response.submitted_at)).all())
    assert str(frame["submitted_at"].dtype) in {"datetime64[us, UTC]", "datetime64[ns, UTC]"}
    by_respondent = dict(zip(["ist", "est", "utc", "naive"],
                             frame["submitted_at"].dt.to_pydatetime()))
    assert by_respondent == expected_utc
    for key, moment in by_respondent.items():
        assert moment.utcoffset() == timedelta(0)
        assert store.utc(raw[key]) == expected_utc[key]


def test_utc_helper():
    assert store.utc(datetime(2020, 1, 1, 12)) == datetime(2020, 1, 1, 12, tzinfo=timezone.utc)
    summer = datetime(2020, 7, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    assert store.utc(summer) == datetime(2020, 7, 1, 11, tzinfo=timezone.utc)
    assert store.utc(summer).tzinfo is timezone.utc


def test_ids_are_never_reused_after_the_newest_rows_are_removed(store_engine):
    write(store_engine, "csv", [row("r1")])
    write(store_engine, "demo", [row("d1"), row("d2")], is_demo=True)
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        top = connection.scalar(select(Response.id).order_by(Response.id.desc()))
        assert store.remove_demo(connection) == 2
    write(store_engine, "csv", [row("r2")])
    with store_engine.connect() as connection:
        newest = connection.scalar(select(Response.id)
                                   .where(Response.source_respondent_id == "r2"))
    assert newest > top


# --- The bulk writer for imports ---------------------------------------------------------------


def write_columns(engine: Engine, source: str, *batches: list[dict[str, object]],
                  **kwargs) -> list[store.BatchResult]:
    """Each batch through one :class:`store.ResponseWriter`, in one transaction."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        writer = store.ResponseWriter(connection, source, **kwargs)
        return [writer.write([str(r["source_respondent_id"]) for r in batch],
                             pd.Series([r["submitted_at"] for r in batch],
                                       dtype="datetime64[us, UTC]"),
                             [[str(r[q]) for r in batch] for q in QUESTION_IDS])
                for batch in batches]


def stored_values(engine: Engine, source: str) -> list[tuple]:
    """Every column the writers set, as the database holds it, by respondent id."""
    columns = [getattr(Response, name) for name in ("source_respondent_id", "submitted_at",
                                                    "is_demo", *QUESTION_IDS)]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(
            select(*columns).where(Response.source == source)
            .order_by(Response.source_respondent_id))]


@pytest.mark.parametrize("already_stored", [False, True],
                         ids=["first import, not looked up", "re-import, looked up"])
def test_the_bulk_writer_stores_each_respondent_once(store_engine, already_stored):
    if already_stored:
        write(store_engine, "bulk", [row("r0")])
    first, second, third = write_columns(
        store_engine, "bulk",
        [row("r1"), row("r2"), row("r1", 5)],       # r1 twice: the first is kept
        [row("r2", 9), row("r3"), row("r0")],       # r2 from the batch before; r0 perhaps
        [])
    assert first == store.BatchResult(accepted=2, duplicates=1)
    assert second == store.BatchResult(accepted=1 if already_stored else 2,
                                       duplicates=2 if already_stored else 1)
    assert third == store.BatchResult(accepted=0, duplicates=0)
    with store_engine.connect() as connection:
        kept = dict(connection.execute(
            select(Response.source_respondent_id, Response.submitted_at)
            .where(Response.source == "bulk")).all())
    assert sorted(kept) == ["r0", "r1", "r2", "r3"]
    assert store.utc(kept["r1"]) == T0 and store.utc(kept["r2"]) == T0


def test_the_bulk_writer_stores_what_store_responses_stores(store_engine):
    india = timezone(timedelta(hours=5, minutes=30))
    rows_ = [row("a", submitted_at=datetime(2018, 9, 12, 23, 45, 10, 123456, tzinfo=india)),
             row("b", submitted_at=datetime(2018, 11, 28, 19, 30, tzinfo=timezone.utc),
                 aware_of_guidance="no", confident_guidance="not_asked", role="no_answer"),
             row("c", submitted_at=datetime(1, 1, 2, tzinfo=timezone.utc)),
             row("d", submitted_at=datetime(9999, 12, 30, 23, 59, 59, 999999,
                                            tzinfo=timezone.utc))]
    write(store_engine, "orm", rows_, is_demo=True)
    write_columns(store_engine, "bulk", rows_, is_demo=True)
    assert stored_values(store_engine, "bulk") == stored_values(store_engine, "orm")
    with store_engine.connect() as connection:
        times = connection.execute(
            select(Response.submitted_at).where(Response.source == "bulk")
            .order_by(Response.source_respondent_id)).scalars().all()
    assert [store.utc(t) for t in times[:2]] == [
        datetime(2018, 9, 12, 18, 15, 10, 123456, tzinfo=timezone.utc),
        datetime(2018, 11, 28, 19, 30, tzinfo=timezone.utc)]
    if store_engine.dialect.name == "sqlite":
        with store_engine.connect() as connection:
            text_ = connection.exec_driver_sql(
                "SELECT submitted_at FROM responses WHERE source = 'bulk' "
                "ORDER BY source_respondent_id").scalars().all()
        assert text_ == ["2018-09-12 18:15:10.123456", "2018-11-28 19:30:00.000000",
                         "0001-01-02 00:00:00.000000", "9999-12-30 23:59:59.999999"]


def test_the_bulk_writer_sends_large_batches_in_several_statements(store_engine):
    rows_ = [row(f"r{i}", i % 60) for i in range(store.BULK_ROWS * 2 + 7)]
    [first] = write_columns(store_engine, "bulk", rows_[:store.BULK_ROWS + 3])
    assert first == store.BatchResult(accepted=store.BULK_ROWS + 3, duplicates=0)
    # A re-import: the first BULK_ROWS + 3 are looked up and left out, the rest stored.
    [again] = write_columns(store_engine, "bulk", [*rows_, rows_[-1]])
    assert again == store.BatchResult(accepted=store.BULK_ROWS + 4,
                                      duplicates=store.BULK_ROWS + 4)
    with store_engine.connect() as connection:
        assert store.count_responses(connection) == store.BULK_ROWS * 2 + 7
        last = connection.scalar(select(Response.submitted_at)
                                 .where(Response.source_respondent_id == rows_[-1][
                                     "source_respondent_id"]))
    assert store.utc(last) == rows_[-1]["submitted_at"]


def test_the_bulk_writer_writes_nothing_that_is_rolled_back(store_engine):
    with store_engine.connect().execution_options(**WRITE) as connection:
        with connection.begin() as transaction:
            writer = store.ResponseWriter(connection, "bulk")
            answers = [[ANSWERS[q]] for q in QUESTION_IDS]
            assert writer.write(["r1"], pd.Series([T0], dtype="datetime64[us, UTC]"),
                                answers).accepted == 1
            transaction.rollback()
    assert stored(store_engine) == []
