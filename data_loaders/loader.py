"""Reading responses into pandas: a full load, and a feed that takes in only what is new.

Ids come from a sequence, but on PostgreSQL a transaction that took a lower id can commit after
one that took a higher id. A reader that only asked for ``id > highest seen`` would miss that row
for ever. :class:`ResponseFeed` therefore remembers the ids it skipped over (gaps) and asks for
them again on every poll until they appear or are old enough to be ids that were never used
(rolled back, or taken by an insert that found a duplicate). As a last safety net it compares
the store's row count with its own now and then and fetches whatever it lacks, so even a
transaction that stays open longer than the gap retention is counted, once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from data_loaders.models import Response, StoreMeta
from data_loaders.store import EPOCH, KEY_CHUNK
from survey.questionnaire import QUESTIONS

COLUMNS = ("id", "submitted_at", "is_demo", *(q.id for q in QUESTIONS))
_SELECT = select(*(getattr(Response, c) for c in COLUMNS))
DTYPES = {q.id: pd.CategoricalDtype(q.stored_codes, ordered=False) for q in QUESTIONS}
"""Each question as a categorical, its answers in questionnaire order, then the missing codes."""

MAX_TRACKED_GAPS = 50_000


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
    """What a poll found: rows not seen before, or (``reset``) the whole store afresh."""

    rows: pd.DataFrame
    reset: bool
    version: StoreVersion


@dataclass
class ResponseFeed:
    """Follows the store, handing each response to its reader exactly once.

    ``poll()`` costs an index range scan when nothing is new. ``changed()`` is the cheap probe
    for a page that only needs to know whether to poll.
    """

    engine: Engine
    gap_retention_seconds: float = 600.0
    reconcile_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic

    epoch: int | None = None
    count: int = 0
    max_id: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    """Ids below ``max_id`` not seen yet, with when they were first skipped."""
    abandoned: set[int] = field(default_factory=set)
    """Gaps older than the retention: asked for again only when the counts disagree."""
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
            return bool(self.gaps) and bool(connection.scalar(
                select(func.count()).where(Response.id.in_(list(self.gaps)))))

    def poll(self) -> Delta:
        """New rows since the last poll, or everything afresh after a reset.

        The feed's own state changes only once every query has succeeded, so a poll that fails
        (the store went away half-way) can simply be repeated.
        """
        with self._read() as connection, connection.begin():
            current_epoch = _epoch(connection)
            if current_epoch != self.epoch:
                return self._reset(connection, current_epoch)
            new = connection.execute(
                _SELECT.where(Response.id > self.max_id).order_by(Response.id)).all()
            found = _rows_with_ids(connection, list(self.gaps)) if self.gaps else []
            reconciling = self._reconcile_due()
            late: list | None = []
            if reconciling:
                late = self._reconcile(connection, self.count + len(found) + len(new))
                if late is None:
                    return self._reset(connection, current_epoch)
        self._remember(new, found, late, reconciled=reconciling)
        rows = to_frame(sorted([*found, *late, *new], key=lambda r: r[0]))
        self.count += len(rows)
        return Delta(rows=rows, reset=False, version=self.version)

    def _reset(self, connection: Connection, current_epoch: int) -> Delta:
        rows = load_responses(connection)
        self.epoch = current_epoch
        self.count = len(rows)
        self.max_id = int(rows["id"].max()) if len(rows) else 0
        self.gaps, self.abandoned, self._untracked = {}, set(), False
        held = rows["id"].to_numpy()
        self._track(np.setdiff1d(np.arange(1, self.max_id + 1), held).tolist(), self.clock())
        self._last_reconcile = self.clock()
        return Delta(rows=rows, reset=True, version=self.version)

    def _remember(self, new: list, found: list, late: list, *, reconciled: bool) -> None:
        now = self.clock()
        if reconciled:
            self._last_reconcile = now
        self.abandoned.difference_update(row[0] for row in late)
        for row in found:
            self.gaps.pop(row[0], None)
        skipped: list[int] = []
        expected = self.max_id + 1
        for row in new:
            skipped.extend(range(expected, row[0]))
            expected = row[0] + 1
        if new:
            self.max_id = new[-1][0]
        self._track(skipped, now)
        cutoff = now - self.gap_retention_seconds
        for i in [i for i, t in self.gaps.items() if t < cutoff]:
            del self.gaps[i]
            self.abandoned.add(i)
        if len(self.abandoned) > MAX_TRACKED_GAPS:
            self.abandoned.clear()
            self._untracked = True

    def _track(self, ids: list[int], now: float) -> None:
        if len(self.gaps) + len(ids) > MAX_TRACKED_GAPS:
            self._untracked = True
            ids = ids[-(MAX_TRACKED_GAPS - len(self.gaps)):] if len(self.gaps) < MAX_TRACKED_GAPS else []
        self.gaps.update(dict.fromkeys(ids, now))

    def _reconcile_due(self) -> bool:
        return self.clock() - self._last_reconcile >= self.reconcile_seconds

    def _reconcile(self, connection: Connection, held: int) -> list | None:
        """Rows that committed after their gap was given up, or None to start again.

        One count tells whether anything is lacking; only then are the abandoned ids asked for.
        """
        stored = connection.scalar(select(func.count()).select_from(Response)) or 0
        lacking = stored - held
        if lacking == 0:
            return []
        if lacking < 0 or self._untracked:
            return None
        late = _rows_with_ids(connection, sorted(self.abandoned))
        return late if len(late) == lacking else None


def _rows_with_ids(connection: Connection, ids: list[int]) -> list:
    rows: list = []
    for start in range(0, len(ids), KEY_CHUNK):
        rows.extend(connection.execute(_SELECT.where(Response.id.in_(ids[start:start + KEY_CHUNK]))))
    return rows
