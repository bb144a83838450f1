"""Writing to the survey store: responses (idempotently), quarantine, import runs, demo data.

Every function here takes a connection inside a transaction that the caller owns, so that an
import of a whole file, or a batch from the ingestion API, commits entirely or not at all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from data_loaders.models import ImportRun, Quarantine, Release, Response, StoreMeta
from survey.questionnaire import NO_ANSWER, QUESTION_IDS, ROLE_CODES

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


_COLUMNS = ("source", "source_respondent_id", "submitted_at", "is_demo", *QUESTION_IDS)
BULK_ROWS = 2_000
"""Rows per INSERT statement of a :class:`ResponseWriter`: 24,000 parameters, within the limits
of SQLite (32,766) and PostgreSQL (65,535). One statement of many rows costs SQLite a fifth less
than as many executions of a one-row statement."""


@lru_cache(maxsize=16)
def _insert_statement(marker: str, rows: int) -> str:
    """An INSERT of ``rows`` responses (:data:`_COLUMNS`, parameters marked ``marker``), leaving
    a respondent its source already holds as it is."""
    one = "(" + ", ".join([marker] * len(_COLUMNS)) + ")"
    return (f"INSERT INTO {Response.__tablename__} ({', '.join(_COLUMNS)}) "
            f"VALUES {', '.join([one] * rows)} "
            "ON CONFLICT (source, source_respondent_id) DO NOTHING")


def source_has_responses(connection: Connection, source: str) -> bool:
    """Whether the store holds any response of ``source``: one look at the unique index."""
    query = select(Response.id).where(Response.source == source).limit(1)
    return connection.execute(query).first() is not None


_TEXT_TIME_PROBE = datetime(2018, 9, 12, 9, 5, 32, 123456, tzinfo=timezone.utc)


def _times_as_text(moments: np.ndarray) -> list[str]:
    """UTC instants (``datetime64[us]``) written as SQLAlchemy's SQLite dialect writes them,
    "2018-09-12 09:05:32.123456", in one array operation rather than one call each."""
    text = np.datetime_as_string(moments, unit="us").astype("U26")
    text.view(np.uint32).reshape(-1, 26)[:, 10] = ord(" ")
    return text.tolist()


class ResponseWriter:
    """Stores validated responses of one source, many at a time, for imports of large files.

    What :func:`store_responses` does, several times faster: SQLAlchemy prepares every row's
    parameters one by one, which for a million rows costs more than the database's own work.
    Here the responses go to the driver column by column, as INSERT statements of
    :data:`BULK_ROWS` rows, their values converted as the column types convert them for the
    dialect (times in one array operation where the dialect stores them as text). ON CONFLICT
    DO NOTHING leaves any respondent the store already holds, and the statements' row count,
    exact on SQLite and PostgreSQL, is the number stored, so racing writers are settled as in
    :func:`store_responses`.

    The store is asked once, when the writer is made, whether it holds any response of the
    source. If not (a first import), batches are not looked up first; a respondent stored
    meanwhile by another writer, or by this one, is still refused by the unique constraint
    and counted as a duplicate. If it does (a re-import), each batch's respondent ids are
    looked up first, so that responses already stored are not sent again (on PostgreSQL each
    refused row would use up an id).
    """

    def __init__(self, connection: Connection, source: str, *, is_demo: bool = False) -> None:
        _insert(connection)  # refuses a database the store does not support
        self._connection = connection
        self._source = source
        self._look_up = source_has_responses(connection, source)
        dialect = connection.dialect
        columns = Response.__table__.c
        convert = {name: columns[name].type.dialect_impl(dialect).bind_processor(dialect)
                   for name in _COLUMNS}
        self._source_value = convert["source"](source) if convert["source"] else source
        self._demo_value = convert["is_demo"](is_demo) if convert["is_demo"] else is_demo
        self._converts = [convert[name] for name in ("source_respondent_id", *QUESTION_IDS)]
        self._time_convert = convert["submitted_at"]
        self._text_times = self._time_convert is not None and \
            self._time_convert(_TEXT_TIME_PROBE) == _times_as_text(
                np.array([_TEXT_TIME_PROBE.replace(tzinfo=None)], dtype="datetime64[us]"))[0]
        self._marker = "?" if dialect.paramstyle == "qmark" else "%s"

    def write(self, ids: Sequence[str], instants: pd.Series,
              answers: Sequence[Sequence[str]]) -> BatchResult:
        """Store each response once: respondent ``ids[i]``, submitted at ``instants[i]``
        (timezone-aware), with the answer code ``answers[q][i]`` to each question ``q`` (one
        column per question, in questionnaire order). A respondent already stored, or met
        earlier in ``ids``, is a duplicate and is not stored again."""
        total = len(ids)
        keep = _first_of_each(ids)
        if self._look_up and total:
            known = existing_respondents(self._connection, self._source, list(ids))
            if known:
                keep = [i for i in (range(total) if keep is None else keep)
                        if ids[i] not in known]
        if keep is not None:
            ids = [ids[i] for i in keep]
            answers = [[column[i] for i in keep] for column in answers]
            instants = instants.iloc[keep]
        if not ids:
            return BatchResult(accepted=0, duplicates=total)
        columns = [ids, *answers]
        for position, convert in enumerate(self._converts):
            if convert is not None:
                columns[position] = list(map(convert, columns[position]))
        keys, times, answers = columns[0], self._times(instants), columns[1:]
        width, accepted = len(_COLUMNS), 0
        for start in range(0, len(keys), BULK_ROWS):
            size = min(BULK_ROWS, len(keys) - start)
            stop = start + size
            values: list[object] = [None] * (size * width)
            values[0::width] = [self._source_value] * size
            values[1::width] = keys[start:stop]
            values[2::width] = times[start:stop]
            values[3::width] = [self._demo_value] * size
            for position, column in enumerate(answers, start=4):
                values[position::width] = column[start:stop]
            statement = _insert_statement(self._marker, size)
            accepted += self._connection.exec_driver_sql(statement, tuple(values)).rowcount
        return BatchResult(accepted=accepted, duplicates=total - accepted)

    def _times(self, instants: pd.Series) -> list[object]:
        utc = pd.to_datetime(instants, utc=True)
        if self._text_times:
            return _times_as_text(utc.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"))
        moments = list(utc.dt.to_pydatetime())
        if self._time_convert is None:
            return moments
        return list(map(self._time_convert, moments))


def _first_of_each(ids: Sequence[str]) -> list[int] | None:
    """The positions of the first occurrence of each id, or None when no id repeats."""
    if len(set(ids)) == len(ids):
        return None
    first: dict[str, int] = {}
    for position, key in enumerate(ids):
        first.setdefault(key, position)
    return sorted(first.values())


def store_responses_bulk(connection: Connection, source: str,
                         rows: Sequence[Mapping[str, object]], *,
                         is_demo: bool = False) -> BatchResult:
    """What :func:`store_responses` does, through a :class:`ResponseWriter`, for many rows."""
    writer = ResponseWriter(connection, source, is_demo=is_demo)
    ids = [str(r["source_respondent_id"]) for r in rows]
    instants = pd.Series([utc(r["submitted_at"]) for r in rows],  # type: ignore[arg-type]
                         dtype="datetime64[us, UTC]")
    return writer.write(ids, instants, [[str(r[q]) for r in rows] for q in QUESTION_IDS])


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
    """Delete every demo response and the releases left with nothing in them (the others are
    recounted without the demo ones); loaders following the store start again. Returns how many
    responses were removed.

    Releases keep demo and real responses in atoms of their own (:mod:`analysis.releases`), so
    the real responses of a release that also published demo ones still came in steps that
    single nobody out. When no real response had been published, no release is left: real data
    starts from nothing, with no pooling inherited from the demo data."""
    removed = connection.execute(delete(Response).where(Response.is_demo)).rowcount
    if removed:
        used = select(Response.release_seq).where(Response.release_seq.is_not(None)).distinct()
        connection.execute(delete(Release).where(Release.seq.not_in(used)))
        _recount_releases(connection)
        _bump_epoch(connection)
    return removed


_ROLE_ORDER = {code: i for i, code in enumerate((*ROLE_CODES, NO_ANSWER))}


def _recount_releases(connection: Connection) -> None:
    """Make the releases left say what they hold once the demo responses are gone: how many
    each added, the running total and the roles published so far, which the next release's
    pooling is decided from. The pooled roles stay as they were: a role never leaves the pool."""
    held = connection.execute(
        select(Response.release_seq, Response.role, func.count())
        .where(Response.release_seq.is_not(None))
        .group_by(Response.release_seq, Response.role)).all()
    added: dict[int, int] = defaultdict(int)
    roles: dict[int, set[str]] = defaultdict(set)
    for seq, role, n in held:
        added[seq] += n
        roles[seq].add(role)
    total, published = 0, set()
    kept = connection.execute(select(Release.seq, Release.added, Release.total,
                                     Release.published_roles).order_by(Release.seq)).all()
    for seq, was_added, was_total, was_roles in kept:
        total += added[seq]
        published |= roles[seq]
        now = ",".join(sorted(published, key=_ROLE_ORDER.__getitem__))
        if (was_added, was_total, was_roles) != (added[seq], total, now):
            connection.execute(update(Release).where(Release.seq == seq).values(
                added=added[seq], total=total, published_roles=now))


def submission_span(connection: Connection) -> tuple[datetime | None, datetime | None]:
    """The first and last submission times the store holds (UTC), or (None, None)."""
    first, last = connection.execute(
        select(func.min(Response.submitted_at), func.max(Response.submitted_at))).one()
    return (utc(first) if first else None, utc(last) if last else None)


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
