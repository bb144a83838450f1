"""Reading responses: counted for the dashboard, or as a typed frame for whoever needs the rows.

The dashboard never needs a response's row, only how many responses gave each combination of
answers and when they arrived. :func:`load_counts` has the database count them (one ``GROUP BY``
over the answers, one over the hour of submission), so a worker starting on a million responses
receives a few tens of thousands of numbers, never the million rows. :class:`ResponseFeed` then
takes in only what is new, as :class:`Counts` too: answer codes and hours computed by the
database, handed over as numpy arrays. :func:`load_responses` and :func:`to_frame` give the rows
themselves as a typed pandas frame.

Ids come from a sequence, but on PostgreSQL a transaction that took a lower id can commit after
one that took a higher id. A reader that only asked for ``id > highest seen`` would miss that row
for ever. :class:`ResponseFeed` therefore remembers the ids it skipped over (gaps) and asks for
them again on every poll until they appear or are old enough to be ids that were never used
(rolled back, or taken by an insert that found a duplicate). Those it gives up on it asks for
again now and then (the reconcile), so even a transaction that stays open longer than the gap
retention is counted, once. Only when more ids were skipped than it can track does the reconcile
compare the store's row count with its own instead, and start again if they differ. Rows leave
the store only through :func:`data_loaders.store.remove_demo`, which raises the epoch: every
reader then starts again.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from sqlalchemy import (BigInteger, Connection, Engine, Integer, String, any_, bindparam, cast,
                        func, or_, select)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from data_loaders.models import Response, StoreMeta
from data_loaders.store import EPOCH, KEY_CHUNK, utc
from survey.questionnaire import QUESTION_IDS, QUESTIONS

COLUMNS = ("id", "submitted_at", "is_demo", *(q.id for q in QUESTIONS))
_SELECT = select(*(getattr(Response, c) for c in COLUMNS))
DTYPES = {q.id: pd.CategoricalDtype(q.stored_codes, ordered=False) for q in QUESTIONS}
"""Each question as a categorical, its answers in questionnaire order, then the missing codes."""

MAX_TRACKED_GAPS = 50_000
RANGES_PER_QUERY = 100
"""Runs of consecutive ids asked for in one statement (two bound parameters each)."""

_RADICES = tuple(len(q.stored_codes) for q in QUESTIONS)
_ROLE = QUESTION_IDS.index("role")
_SOCIAL = QUESTION_IDS.index("uses_social_media")


# --- The rows as a frame -----------------------------------------------------------------------


def to_frame(rows: list) -> pd.DataFrame:
    """Rows of :data:`COLUMNS` as a typed frame indexed by nothing in particular."""
    # Plain tuples: pandas does not take SQLAlchemy's Row for a tuple and probes each one
    # slowly (a million rows took four times as long).
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(COLUMNS))
    frame["id"] = frame["id"].astype("int64")
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["is_demo"] = frame["is_demo"].astype(bool)
    return frame.astype(DTYPES)


def empty_frame() -> pd.DataFrame:
    return to_frame([])


def load_responses(connection: Connection) -> pd.DataFrame:
    """Every response in the store, ordered by id."""
    return to_frame(connection.execute(_SELECT.order_by(Response.id)).all())


# --- Counted by the database -------------------------------------------------------------------


class hour_start(FunctionElement):
    """The start of the UTC hour a stored ``submitted_at`` falls in, as the database holds it:
    to group by, then to give to :class:`hours_since_epoch`."""

    inherit_cache = True
    name = "hour_start"


@compiles(hour_start, "sqlite")
def _hour_start_sqlite(element, compiler, **kw) -> str:
    # SQLite holds the instant as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's format).
    (value,) = element.clauses
    return f"substr({compiler.process(value, **kw)}, 1, 13)"


@compiles(hour_start, "postgresql")
def _hour_start_postgresql(element, compiler, **kw) -> str:
    # A timestamp without time zone, in UTC whatever the session's time zone.
    (value,) = element.clauses
    return f"date_trunc('hour', {compiler.process(value, **kw)} AT TIME ZONE 'UTC')"


class hours_since_epoch(FunctionElement):
    """UTC hours since the Unix epoch of an :class:`hour_start` (negative before 1970)."""

    type = BigInteger()
    inherit_cache = True
    name = "hours_since_epoch"


@compiles(hours_since_epoch, "sqlite")
def _hours_sqlite(element, compiler, **kw) -> str:
    # strftime('%s') of the hour's start is a whole number of hours: the division is exact.
    (value,) = element.clauses
    return f"CAST(strftime('%s', {compiler.process(value, **kw)} || ':00') AS INTEGER) / 3600"


@compiles(hours_since_epoch, "postgresql")
def _hours_postgresql(element, compiler, **kw) -> str:
    (value,) = element.clauses
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(value, **kw)}) AS BIGINT) / 3600"


class answer_combination(FunctionElement):
    """A response's eight answer indices (each in its question's ``stored_codes``) as one
    number, question 1 the most significant digit, each question's digit in base
    ``len(stored_codes)``: computed by the database, read back by :func:`_cells`.

    The questionnaire's codes are written into the statement as literals (constants, never
    input): bound, they would be 83 parameters to convert and send on every poll.
    """

    type = BigInteger()
    inherit_cache = True
    name = "answer_combination"

    def __init__(self) -> None:
        super().__init__(*(getattr(Response, q.id) for q in QUESTIONS))


@compiles(answer_combination)
def _answer_combination(element, compiler, **kw) -> str:
    key = ""
    for column, question, radix in zip(element.clauses, QUESTIONS, _RADICES):
        whens = " ".join(f"WHEN {compiler.render_literal_value(code, String())} THEN {i}"
                         for i, code in enumerate(question.stored_codes))
        index = f"CASE {compiler.process(column, **kw)} {whens} END"
        key = f"({key}) * {radix} + {index}" if key else index
    return key


def _cells(combinations: np.ndarray) -> np.ndarray:
    if not len(combinations):
        return np.zeros((0, len(QUESTIONS)), np.int16)
    return np.column_stack(np.unravel_index(combinations, _RADICES)).astype(np.int16)


@dataclass(frozen=True)
class Counts:
    """Responses counted by combination of answers and by hour of submission, as numpy arrays.

    The layout of :class:`analysis.cube.Cube`; rows may repeat (the new responses of a poll come
    one row each), and counts add up.
    """

    cells: np.ndarray
    """(k, 8) small ints: each answer's index in its question's ``stored_codes``."""
    counts: np.ndarray
    """(k,) responses with that combination."""
    hours: np.ndarray
    """(m, 3): UTC hour of submission (hours since the Unix epoch), role index, index of the
    answer to question 2."""
    hour_counts: np.ndarray
    """(m,) responses submitted in that hour with that role and answer to question 2."""
    demo: int
    last_submitted: datetime | None
    """The latest ``submitted_at`` among them, in UTC."""

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def empty(cls) -> "Counts":
        return cls(np.zeros((0, len(QUESTIONS)), np.int16), np.zeros(0, np.int64),
                   np.zeros((0, 3), np.int64), np.zeros(0, np.int64), 0, None)


_ROWS = select(Response.id, Response.is_demo, answer_combination().label("combination"),
               hours_since_epoch(hour_start(Response.submitted_at)).label("hour"),
               Response.submitted_at)
"""One row per response, what :func:`_counts_of_rows` needs of it."""
# Built once, values bound at execution: a statement built anew is traversed for its cache key
# on every execution.
_ROWS_AFTER = _ROWS.where(Response.id > bindparam("after")).order_by(Response.id)
_LISTED = {
    "sqlite": Response.id.in_(bindparam("ids", expanding=True)),
    # One array parameter: PostgreSQL plans an IN list of hundreds of parameters slowly.
    "postgresql": Response.id == any_(bindparam("ids", type_=postgresql.ARRAY(BigInteger))),
}
"""``responses.id`` among the list bound as ``ids``, per dialect."""
_ROWS_LISTED = {dialect: _ROWS.where(condition) for dialect, condition in _LISTED.items()}
_ANY_LISTED = {dialect: select(Response.id).where(condition).limit(1)
               for dialect, condition in _LISTED.items()}


def _counts_of_rows(rows: list) -> Counts:
    """Rows of :data:`_ROWS` as counts of one each."""
    if not rows:
        return Counts.empty()
    _ids, demo, combinations, hours, submitted = zip(*rows)
    cells = _cells(np.array(combinations, np.int64))
    hour_keys = np.column_stack([np.array(hours, np.int64), cells[:, _ROLE], cells[:, _SOCIAL]])
    ones = np.ones(len(rows), np.int64)
    return Counts(cells, ones, hour_keys.astype(np.int64), ones, sum(map(bool, demo)),
                  utc(max(submitted)))


def load_counts(connection: Connection) -> Counts:
    """Every response in the store, counted by the database.

    Three statements (best inside one transaction, to see one state of the store): the count of
    each combination of answers that occurs, with how many of those are demo responses; the count
    of each hour, role and answer to question 2; the latest submission.
    """
    combination = select(answer_combination().label("combination"), Response.is_demo).subquery()
    by_combination = connection.execute(
        select(combination.c.combination, func.count(),
               func.sum(cast(combination.c.is_demo, Integer)))
        .group_by(combination.c.combination)).all()

    hourly = select(hour_start(Response.submitted_at).label("start"), Response.role,
                    Response.uses_social_media).subquery()
    grouped = (select(hourly.c.start, hourly.c.role, hourly.c.uses_social_media,
                      func.count().label("n"))
               .group_by(hourly.c.start, hourly.c.role, hourly.c.uses_social_media).subquery())
    by_hour = connection.execute(select(hours_since_epoch(grouped.c.start), grouped.c.role,
                                        grouped.c.uses_social_media, grouped.c.n)).all()
    last = connection.scalar(select(func.max(Response.submitted_at)))

    if not by_combination:
        return Counts.empty()
    combinations, counts, demo = (np.array(c, np.int64) for c in zip(*by_combination))
    roles = {code: i for i, code in enumerate(QUESTIONS[_ROLE].stored_codes)}
    social = {code: i for i, code in enumerate(QUESTIONS[_SOCIAL].stored_codes)}
    hours = np.array([(hour, roles[role], social[answer]) for hour, role, answer, _n in by_hour],
                     np.int64).reshape(-1, 3)
    hour_counts = np.array([n for *_key, n in by_hour], np.int64)
    return Counts(_cells(combinations), counts, hours, hour_counts, int(demo.sum()),
                  utc(last) if last is not None else None)


# --- Following the store -----------------------------------------------------------------------


def _epoch(connection: Connection) -> int:
    value = connection.scalar(select(StoreMeta.value).where(StoreMeta.key == EPOCH))
    return int(value or 0)


@dataclass(frozen=True)
class StoreVersion:
    """What identifies the data a reader holds: equal versions mean equal data."""

    epoch: int
    count: int
    max_id: int

    @property
    def token(self) -> str:
        return f"{self.epoch}-{self.count}-{self.max_id}"


@dataclass(frozen=True)
class Delta:
    """What a poll found: responses not seen before, or (``reset``) the whole store afresh."""

    counts: Counts
    ids: np.ndarray
    """The ids of the responses in ``counts``, ascending, when they were read one by one (a
    poll's new rows); empty after a reset, whose responses the database counted."""
    reset: bool
    version: StoreVersion


@dataclass
class ResponseFeed:
    """Follows the store, handing each response to its reader exactly once.

    ``poll()`` costs two index look-ups when nothing is new. ``changed()`` answers whether a
    poll would find anything, for a reader that only needs to know that.
    """

    engine: Engine
    gap_retention_seconds: float = 600.0
    reconcile_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic

    epoch: int | None = None
    count: int = 0
    max_id: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    """Ids below ``max_id`` not seen yet, with when they were first skipped (oldest first)."""
    abandoned: set[int] = field(default_factory=set)
    """Gaps older than the retention: asked for again only at the reconcile."""
    _untracked: bool = False
    _last_reconcile: float = 0.0

    @property
    def version(self) -> StoreVersion:
        return StoreVersion(self.epoch or 0, self.count, self.max_id)

    def _read(self) -> Connection:
        connection = self.engine.connect()
        if connection.dialect.name == "postgresql":
            # One snapshot for every query of a poll.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    def changed(self) -> bool:
        """Whether a poll would find anything: new ids, a filled gap, or a reset."""
        if self.epoch is None or self._reconcile_due():
            return True
        with self._read() as connection, connection.begin():
            if _epoch(connection) != self.epoch:
                return True
            top = connection.scalar(select(func.max(Response.id))) or 0
            if top > self.max_id:
                return True
            lists, ranges = _id_conditions(self.gaps)
            listed = _ANY_LISTED[connection.dialect.name]
            return (any(connection.scalar(listed, {"ids": chunk}) is not None for chunk in lists)
                    or any(connection.scalar(select(Response.id).where(condition).limit(1))
                           is not None for condition in ranges))

    def poll(self) -> Delta:
        """New responses since the last poll, or everything afresh (counted) after a reset.

        The feed's own state changes only once every query has succeeded, so a poll that fails
        (the store went away half-way) can simply be repeated.
        """
        with self._read() as connection, connection.begin():
            current_epoch = _epoch(connection)
            if current_epoch != self.epoch:
                return self._reset(connection, current_epoch)
            # The highest id first: asking for the rows, answer codes and all, costs more even
            # when there are none, and most polls find nothing.
            top = connection.scalar(select(func.max(Response.id))) or 0
            new = (connection.execute(_ROWS_AFTER, {"after": self.max_id}).all()
                   if top > self.max_id else [])
            found = _rows_with_ids(connection, self.gaps)
            reconciling = self._reconcile_due()
            late: list | None = []
            if reconciling:
                late = self._reconcile(connection, self.count + len(found) + len(new))
                if late is None:
                    return self._reset(connection, current_epoch)
        self._remember(new, found, late, reconciled=reconciling)
        rows = sorted([*found, *late, *new], key=lambda r: r[0]) if found or late else new
        self.count += len(rows)
        return Delta(counts=_counts_of_rows(rows),
                     ids=np.fromiter((r[0] for r in rows), np.int64, len(rows)),
                     reset=False, version=self.version)

    def _reset(self, connection: Connection, current_epoch: int) -> Delta:
        counts = load_counts(connection)
        max_id = connection.scalar(select(func.max(Response.id))) or 0
        missing, lacking = _missing_ids(connection, max_id, counts.total, MAX_TRACKED_GAPS)
        now = self.clock()
        self.epoch = current_epoch
        self.count = counts.total
        self.max_id = max_id
        self.gaps, self.abandoned, self._untracked = {}, set(), lacking > len(missing)
        self._track(missing, now)
        self._last_reconcile = now
        return Delta(counts=counts, ids=np.zeros(0, np.int64), reset=True, version=self.version)

    def _remember(self, new: list, found: list, late: list, *, reconciled: bool) -> None:
        now = self.clock()
        if reconciled:
            self._last_reconcile = now
        self.abandoned.difference_update(row[0] for row in late)
        for row in found:
            self.gaps.pop(row[0], None)
        skipped: list[int] = []
        if new and new[-1][0] - self.max_id != len(new):  # not one unbroken run of ids
            expected = self.max_id + 1
            for row in new:
                skipped.extend(range(expected, row[0]))
                expected = row[0] + 1
        if new:
            self.max_id = new[-1][0]
        self._track(skipped, now)
        # Gaps are kept in the order they were skipped, so the expired ones come first.
        cutoff = now - self.gap_retention_seconds
        for i in list(itertools.takewhile(lambda i: self.gaps[i] < cutoff, self.gaps)):
            del self.gaps[i]
            self.abandoned.add(i)
        if len(self.abandoned) > MAX_TRACKED_GAPS:
            self.abandoned.clear()
            self._untracked = True

    def _track(self, ids: list[int], now: float) -> None:
        room = MAX_TRACKED_GAPS - len(self.gaps)
        if len(ids) > room:
            self._untracked = True
            ids = ids[-room:] if room > 0 else []
        self.gaps.update(dict.fromkeys(ids, now))

    def _reconcile_due(self) -> bool:
        return self.clock() - self._last_reconcile >= self.reconcile_seconds

    def _reconcile(self, connection: Connection, held: int) -> list | None:
        """Rows that committed after their gap was given up, or None to start again.

        Every id below ``max_id`` that the feed has not handed over is a gap or abandoned, so
        asking for the abandoned ids finds all that is lacking, at the cost of a few index
        lookups. Only when the feed could not track every skipped id does it count the store's
        rows instead (a scan), and start again if the count is not what it holds.
        """
        if self._untracked:
            stored = connection.scalar(select(func.count()).select_from(Response)) or 0
            return [] if stored == held else None
        return _rows_with_ids(connection, self.abandoned)


def _id_conditions(ids: Iterable[int]) -> tuple[list[list[int]], list[ColumnElement[bool]]]:
    """``ids`` split for asking the store about them, each part small enough for one statement:
    lists of ids standing alone, and conditions on ``responses.id`` for runs of consecutive ids
    (a large gap is one range, however many ids it spans)."""
    ordered = np.unique(np.fromiter(ids, np.int64))
    if not len(ordered):
        return [], []
    breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
    starts = ordered[np.concatenate([[0], breaks])]
    ends = ordered[np.concatenate([breaks - 1, [len(ordered) - 1]])]
    alone = starts == ends
    singles = starts[alone].tolist()
    runs = list(zip(starts[~alone].tolist(), ends[~alone].tolist()))
    lists = [singles[i:i + KEY_CHUNK] for i in range(0, len(singles), KEY_CHUNK)]
    ranges = [or_(*(Response.id.between(low, high) for low, high in runs[i:i + RANGES_PER_QUERY]))
              for i in range(0, len(runs), RANGES_PER_QUERY)]
    return lists, ranges


def _rows_with_ids(connection: Connection, ids: Iterable[int]) -> list:
    lists, ranges = _id_conditions(ids)
    rows: list = []
    listed = _ROWS_LISTED[connection.dialect.name]
    for chunk in lists:
        rows.extend(connection.execute(listed, {"ids": chunk}))
    for condition in ranges:
        rows.extend(connection.execute(_ROWS.where(condition)))
    return rows


def _missing_ids(connection: Connection, max_id: int, held: int,
                 limit: int) -> tuple[list[int], int]:
    """The ids from 1 to ``max_id`` that the store does not hold, ascending (the highest
    ``limit`` of them when there are more), and how many there are."""
    lacking = max_id - held
    if lacking <= 0:
        return [], 0
    lowest = connection.scalar(select(func.min(Response.id))) or max_id + 1
    following = func.lead(Response.id).over(order_by=Response.id)
    pairs = select(Response.id.label("id"), following.label("next")).subquery()
    runs = [(1, lowest - 1)] if lowest > 1 else []
    runs += [(i + 1, n - 1) for i, n in connection.execute(
        select(pairs.c.id, pairs.c.next).where(pairs.c.next > pairs.c.id + 1)
        .order_by(pairs.c.id))]
    missing: list[range] = []
    kept = 0
    for low, high in reversed(runs):
        low = max(low, high + 1 - (limit - kept))
        missing.append(range(low, high + 1))
        kept += high + 1 - low
        if kept >= limit:
            break
    return [i for run in reversed(missing) for i in run], lacking
