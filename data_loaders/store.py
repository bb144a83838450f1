"""Writing to the survey store: responses (idempotently), quarantine, import runs, demo data.

Every function here takes a connection inside a transaction that the caller owns, so that an
import of a whole file, or a batch from the ingestion API, commits entirely or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from data_loaders.models import ImportRun, Quarantine, Response, StoreMeta
from survey.questionnaire import QUESTION_IDS

KEY_CHUNK = 5_000
"""Respondent ids looked up per query: well below SQLite's limit of bound parameters."""

EPOCH = "epoch"


@dataclass(frozen=True)
class Rejected:
    """An input row that cannot be accepted, as it will be kept in quarantine."""

    line_number: int | None
    raw: Mapping[str, str]
    reason: str


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _insert(connection: Connection):
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Response)
    if dialect == "sqlite":
        return sqlite.insert(Response)
    raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")


def existing_respondents(connection: Connection, source: str, ids: Sequence[str]) -> set[str]:
    """Which of these respondent ids the store already holds for ``source``."""
    found: set[str] = set()
    column = Response.source_respondent_id
    for start in range(0, len(ids), KEY_CHUNK):
        chunk = ids[start:start + KEY_CHUNK]
        query = select(column).where(Response.source == source, column.in_(chunk))
        found.update(connection.scalars(query))
    return found


def store_responses(connection: Connection, source: str, rows: Sequence[Mapping[str, object]],
                    *, is_demo: bool = False) -> BatchResult:
    """Store validated responses once each.

    ``rows`` hold ``source_respondent_id``, ``submitted_at`` and a code per question id. A
    respondent the store already holds for this source, or that appears earlier in ``rows``, is
    a duplicate and is not stored again. Writers racing on the same respondent are settled by the
    unique constraint, so each respondent is stored exactly once whatever the interleaving.
    """
    seen: set[str] = set()
    fresh: list[dict[str, object]] = []
    known = existing_respondents(connection, source, [str(r["source_respondent_id"]) for r in rows])
    for row in rows:
        key = str(row["source_respondent_id"])
        if key in known or key in seen:
            continue
        seen.add(key)
        record = {q: row[q] for q in QUESTION_IDS}
        record.update(source=source, source_respondent_id=key, is_demo=is_demo,
                      submitted_at=utc(row["submitted_at"]))  # type: ignore[arg-type]
        fresh.append(record)
    accepted = 0
    if fresh:
        statement = _insert(connection).on_conflict_do_nothing(
            index_elements=["source", "source_respondent_id"]).returning(Response.id)
        accepted = len(connection.execute(statement, fresh).all())
    return BatchResult(accepted=accepted, duplicates=len(rows) - accepted)


BULK_ROWS = 1_000
"""Rows per statement in :func:`store_responses_bulk`: 12,000 parameters, within the limits of
SQLite (32,766) and PostgreSQL (65,535)."""

_COLUMNS = ("source", "source_respondent_id", "submitted_at", "is_demo", *QUESTION_IDS)


def _as_driver_values(connection: Connection, records: list[list[object]]) -> None:
    """Convert each value of ``records`` (in :data:`_COLUMNS` order) as SQLAlchemy would."""
    dialect = connection.dialect
    columns = Response.__table__.c
    converters = [(i, columns[name].type.dialect_impl(dialect).bind_processor(dialect))
                  for i, name in enumerate(_COLUMNS)]
    converters = [(i, convert) for i, convert in converters if convert is not None]
    for record in records:
        for i, convert in converters:
            record[i] = convert(record[i])


def store_responses_bulk(connection: Connection, source: str,
                         rows: Sequence[Mapping[str, object]], *,
                         is_demo: bool = False) -> BatchResult:
    """What :func:`store_responses` does, in about half the time, for imports of large files.

    SQLAlchemy prepares every row's parameters one by one, which for a million rows costs as
    much as the database's own work. Here the rows go to the driver as multi-row INSERT
    statements, their values converted by the column types' processors for the dialect, as
    SQLAlchemy would. The count of accepted rows is the statements' row count, which
    ON CONFLICT DO NOTHING keeps exact on SQLite and PostgreSQL, so racing writers are settled
    as in :func:`store_responses`.
    """
    _insert(connection)  # refuses a database the store does not support
    known = existing_respondents(connection, source, [str(r["source_respondent_id"]) for r in rows])
    fresh: dict[str, list[object]] = {}
    for row in rows:
        key = str(row["source_respondent_id"])
        if key not in known and key not in fresh:
            fresh[key] = [source, key, utc(row["submitted_at"]), is_demo,  # type: ignore[arg-type]
                          *(row[q] for q in QUESTION_IDS)]
    records = list(fresh.values())
    _as_driver_values(connection, records)
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    one = "(" + ", ".join([marker] * len(_COLUMNS)) + ")"
    accepted = 0
    for start in range(0, len(records), BULK_ROWS):
        batch = records[start:start + BULK_ROWS]
        statement = (f"INSERT INTO {Response.__tablename__} ({', '.join(_COLUMNS)}) VALUES "
                     f"{', '.join([one] * len(batch))} "
                     "ON CONFLICT (source, source_respondent_id) DO NOTHING")
        parameters = tuple(value for record in batch for value in record)
        accepted += connection.exec_driver_sql(statement, parameters).rowcount
    return BatchResult(accepted=accepted, duplicates=len(rows) - accepted)


def quarantine(connection: Connection, source: str, rejected: Iterable[Rejected], *,
               file_name: str | None = None, import_id: int | None = None) -> int:
    """Keep rows that could not be accepted, with their reasons. Returns how many."""
    records = [
        {"source": source, "file_name": file_name, "line_number": r.line_number,
         "raw": json.dumps(dict(r.raw), ensure_ascii=False), "reason": r.reason,
         "import_id": import_id}
        for r in rejected
    ]
    if records:
        connection.execute(insert(Quarantine), records)
    return len(records)


def begin_import(connection: Connection, *, file_name: str, file_sha256: str, format: str,
                 source: str, started_at: datetime) -> int:
    statement = insert(ImportRun).values(
        file_name=file_name, file_sha256=file_sha256, format=format, source=source,
        started_at=utc(started_at), finished_at=utc(started_at), accepted=0, duplicates=0,
        quarantined=0,
    ).returning(ImportRun.id)
    return connection.execute(statement).scalar_one()


def finish_import(connection: Connection, import_id: int, *, accepted: int, duplicates: int,
                  quarantined: int, demo_removed: int, finished_at: datetime) -> None:
    connection.execute(update(ImportRun).where(ImportRun.id == import_id).values(
        accepted=accepted, duplicates=duplicates, quarantined=quarantined,
        demo_removed=demo_removed, finished_at=utc(finished_at)))


def epoch(connection: Connection) -> int:
    value = connection.scalar(select(StoreMeta.value).where(StoreMeta.key == EPOCH))
    return int(value or 0)


def _bump_epoch(connection: Connection) -> None:
    """One statement, so that two transactions bumping at once cannot both insert the row."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(StoreMeta).values(key=EPOCH, value=1)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[StoreMeta.key], set_={"value": StoreMeta.value + 1}))


def remove_demo(connection: Connection) -> int:
    """Delete every demo response; loaders following the store start again. Returns how many."""
    removed = connection.execute(delete(Response).where(Response.is_demo)).rowcount
    if removed:
        _bump_epoch(connection)
    return removed


def count_responses(connection: Connection, *, demo: bool | None = None) -> int:
    query = select(func.count()).select_from(Response)
    if demo is not None:
        query = query.where(Response.is_demo == demo)
    return int(connection.scalar(query) or 0)


def list_quarantine(connection: Connection, *, limit: int | None = None,
                    import_id: int | None = None) -> list[Row]:
    """Quarantined rows, oldest first (columns as in :class:`Quarantine`)."""
    table = Quarantine.__table__
    query = select(table).order_by(table.c.id)
    if import_id is not None:
        query = query.where(table.c.import_id == import_id)
    if limit is not None:
        query = query.limit(limit)
    return list(connection.execute(query))
