"""Reading responses: the published ones counted for the public figures, or rows as a frame.

The public figures never need a response's row, only how many published responses gave each
combination of answers and in which hour they were published. :func:`load_counts` has the
database count them (one ``GROUP BY`` over the answers, one over the hour of publication), so a
worker starting on a million responses receives a few tens of thousands of numbers, never the
million rows. :class:`ReleaseFeed` then takes in each new release as it appears, counted the
same way. A release is made under a lock and numbered in the order it commits
(:mod:`data_loaders.releases`), so a reader that asks for releases above the highest it holds
misses none and counts none twice. Rows leave the store only through
:func:`data_loaders.store.remove_demo`, which raises the epoch: every reader then starts again.

:func:`load_responses` and :func:`to_frame` give the rows themselves as a typed pandas frame.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Connection, Engine, Integer, String, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from analysis.releases import PATTERN_QUESTIONS, ClassKey
from data_loaders.models import Release, Response, StoreMeta
from data_loaders.store import EPOCH, utc
from survey.questionnaire import NO_ANSWER, NOT_ASKED, QUESTION_IDS, QUESTIONS

COLUMNS = ("id", "submitted_at", "is_demo", *(q.id for q in QUESTIONS))
_SELECT = select(*(getattr(Response, c) for c in COLUMNS))
DTYPES = {q.id: pd.CategoricalDtype(q.stored_codes, ordered=False) for q in QUESTIONS}
"""Each question as a categorical, its answers in questionnaire order, then the missing codes."""

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
    """(m, 3): UTC hour of publication (hours since the Unix epoch), role index, index of the
    answer to question 2."""
    hour_counts: np.ndarray
    """(m,) responses published in that hour with that role and answer to question 2."""
    demo: int
    last_published: datetime | None
    """When the latest release among them was made, in UTC."""

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def empty(cls) -> "Counts":
        return cls(np.zeros((0, len(QUESTIONS)), np.int16), np.zeros(0, np.int64),
                   np.zeros((0, 3), np.int64), np.zeros(0, np.int64), 0, None)


def _released(after: int, through: int | None):
    """Responses published by the releases after ``after`` up to ``through`` (every later one
    when None)."""
    condition = Response.release_seq > after
    if through is not None:
        condition &= Response.release_seq <= through
    return condition


def load_counts(connection: Connection, *, after: int = 0, through: int | None = None) -> Counts:
    """The responses the releases after ``after`` (up to ``through``) published, counted by the
    database.

    Two statements (inside one transaction, to see one state of the store): the count of each
    combination of answers that occurs, with how many of those are demo responses; the count of
    each hour of publication, role and answer to question 2 (which also gives the latest
    release's time)."""
    released = _released(after, through)
    combination = (select(answer_combination().label("combination"), Response.is_demo)
                   .where(released).subquery())
    by_combination = connection.execute(
        select(combination.c.combination, func.count(),
               func.sum(cast(combination.c.is_demo, Integer)))
        .group_by(combination.c.combination)).all()
    if not by_combination:
        return Counts.empty()

    hourly = (select(hour_start(Release.published_at).label("start"), Response.role,
                     Response.uses_social_media, Release.published_at)
              .join(Release, Release.seq == Response.release_seq).where(released).subquery())
    grouped = (select(hourly.c.start, hourly.c.role, hourly.c.uses_social_media,
                      func.count().label("n"), func.max(hourly.c.published_at).label("last"))
               .group_by(hourly.c.start, hourly.c.role, hourly.c.uses_social_media).subquery())
    by_hour = connection.execute(select(hours_since_epoch(grouped.c.start), grouped.c.role,
                                        grouped.c.uses_social_media, grouped.c.n,
                                        grouped.c.last)).all()

    combinations, counts, demo = (np.array(c, np.int64) for c in zip(*by_combination))
    roles = {code: i for i, code in enumerate(QUESTIONS[_ROLE].stored_codes)}
    social = {code: i for i, code in enumerate(QUESTIONS[_SOCIAL].stored_codes)}
    hours = np.array([(hour, roles[role], social[answer]) for hour, role, answer, *_ in by_hour],
                     np.int64).reshape(-1, 3)
    hour_counts = np.array([n for *_key, n, _last in by_hour], np.int64)
    last = max(utc(row.last) for row in by_hour)
    return Counts(_cells(combinations), counts, hours, hour_counts, int(demo.sum()), last)


# --- Waiting responses, as the release rule sees them ------------------------------------------

_SOCIAL_CODES = QUESTIONS[_SOCIAL].stored_codes
_ROLE_CODES = QUESTIONS[_ROLE].stored_codes


class release_class(FunctionElement):
    """A response's class for the release rule (:class:`analysis.releases.ClassKey`) as one
    number, computed by the database: its role code's and question 2 code's indices, demo or
    not, and whether it answered, left blank or was not asked each of questions 3 to 8 (base 3,
    question 3 the least significant digit). :func:`class_key` reads it back."""

    type = BigInteger()
    inherit_cache = True
    name = "release_class"

    def __init__(self) -> None:
        super().__init__(Response.role, Response.uses_social_media, Response.is_demo,
                         *(getattr(Response, q) for q in PATTERN_QUESTIONS))


def _literal(compiler, code: str) -> str:
    return compiler.render_literal_value(code, String())


@compiles(release_class)
def _release_class(element, compiler, **kw) -> str:
    role, social, demo, *answers = (compiler.process(c, **kw) for c in element.clauses)
    role_index = "CASE {} {} END".format(role, " ".join(
        f"WHEN {_literal(compiler, code)} THEN {i}" for i, code in enumerate(_ROLE_CODES)))
    social_index = "CASE {} {} END".format(social, " ".join(
        f"WHEN {_literal(compiler, code)} THEN {i}" for i, code in enumerate(_SOCIAL_CODES)))
    pattern = " + ".join(
        f"(CASE {column} WHEN {_literal(compiler, NO_ANSWER)} THEN {3 ** i} "
        f"WHEN {_literal(compiler, NOT_ASKED)} THEN {2 * 3 ** i} ELSE 0 END)"
        for i, column in enumerate(answers))
    atom = f"(({role_index}) * {len(_SOCIAL_CODES)} + ({social_index})) * 2 + (CASE WHEN {demo} THEN 1 ELSE 0 END)"
    return f"(({atom}) * {3 ** len(PATTERN_QUESTIONS)} + {pattern})"


def class_key(number: int) -> ClassKey:
    """The :class:`~analysis.releases.ClassKey` of a :class:`release_class` number."""
    atom, pattern = divmod(int(number), 3 ** len(PATTERN_QUESTIONS))
    rest, demo = divmod(atom, 2)
    role, social = divmod(rest, len(_SOCIAL_CODES))
    return ClassKey(_ROLE_CODES[role], _SOCIAL_CODES[social], bool(demo), pattern)


def class_number(key: ClassKey) -> int:
    """The :class:`release_class` number of a class."""
    atom = ((_ROLE_CODES.index(key.role) * len(_SOCIAL_CODES)
             + _SOCIAL_CODES.index(key.social_media)) * 2 + int(key.demo))
    return atom * 3 ** len(PATTERN_QUESTIONS) + key.pattern


def waiting_classes(connection: Connection, *, submitted_until: datetime | None = None
                    ) -> dict[ClassKey, int]:
    """The responses waiting to be published, counted by class (only those submitted by
    ``submitted_until``, when given)."""
    number = release_class().label("class")
    query = select(number, func.count()).where(Response.release_seq.is_(None))
    if submitted_until is not None:
        query = query.where(Response.submitted_at <= utc(submitted_until))
    rows = connection.execute(query.group_by(number)).all()
    return {class_key(n): int(count) for n, count in rows}


def released_classes(connection: Connection, seq: int) -> dict[ClassKey, int]:
    """What one release added, counted by class."""
    number = release_class().label("class")
    rows = connection.execute(select(number, func.count())
                              .where(Response.release_seq == seq).group_by(number)).all()
    return {class_key(n): int(count) for n, count in rows}


# --- Following the releases --------------------------------------------------------------------


def _epoch(connection: Connection) -> int:
    value = connection.scalar(select(StoreMeta.value).where(StoreMeta.key == EPOCH))
    return int(value or 0)


@dataclass(frozen=True)
class ReleaseState:
    """What identifies the public figures a reader holds: the store's epoch and its latest
    release. ``token`` names it publicly, the same on every worker, and says nothing of how many
    responses there are or of their ids."""

    epoch: int
    seq: int
    release_token: str | None
    published_at: datetime | None
    pooled: tuple[str, ...]
    min_cell_size: int | None

    @property
    def token(self) -> str:
        digest = hashlib.sha256(f"{self.epoch}:{self.release_token}".encode()).hexdigest()
        return digest[:20]


@dataclass(frozen=True)
class Delta:
    """What a poll found: the responses of releases not seen before, or (``reset``) every
    published response afresh."""

    counts: Counts
    reset: bool
    state: ReleaseState


def latest_release(connection: Connection):
    """The latest release's row (the columns of :class:`~data_loaders.models.Release`), or
    None."""
    return connection.execute(select(Release.__table__).order_by(Release.seq.desc())
                              .limit(1)).first()


def _latest(connection: Connection, epoch: int) -> ReleaseState:
    row = latest_release(connection)
    if row is None:
        return ReleaseState(epoch, 0, None, None, (), None)
    pooled = tuple(code for code in row.pooled.split(",") if code)
    return ReleaseState(epoch, row.seq, row.token, utc(row.published_at), pooled,
                        row.min_cell_size)


@dataclass
class ReleaseFeed:
    """Follows the releases, handing each published response to its reader exactly once.

    ``poll()`` costs two index look-ups when there is no new release."""

    engine: Engine
    state: ReleaseState | None = None

    def _read(self) -> Connection:
        connection = self.engine.connect()
        if connection.dialect.name == "postgresql":
            # One snapshot for every query of a poll.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    def poll(self) -> Delta:
        """The responses of new releases, or everything afresh after a reset (the first poll,
        or the store's epoch changed). The feed's own state changes only once every query has
        succeeded, so a poll that fails can simply be repeated."""
        with self._read() as connection, connection.begin():
            epoch = _epoch(connection)
            latest = _latest(connection, epoch)
            held = self.state
            if held is None or held.epoch != epoch or latest.seq < held.seq:
                counts = load_counts(connection, through=latest.seq)
                reset = True
            elif latest.seq > held.seq:
                counts = load_counts(connection, after=held.seq, through=latest.seq)
                reset = False
            else:
                counts, reset = Counts.empty(), False
        self.state = latest
        return Delta(counts, reset, latest)
