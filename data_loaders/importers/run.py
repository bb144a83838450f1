"""Importing one detected export into the store: every row stored, counted as already there, or
quarantined with its line and reason.

The caller owns the transaction, one per file, so a file fails as a whole: a read error at line
50,000 leaves the store as it was, not with the first 49,999 rows in it. Rows are read, parsed
and written in chunks, so memory stays flat however long the export; within a chunk the
timestamps are parsed vectorised and answers are validated once per distinct combination of
values (there are few), so the work left per row is a few lookups.
"""

from __future__ import annotations

import gc
import itertools
import operator
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterator, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from tqdm import tqdm

from data_loaders import store
from data_loaders.importers.detect import Detected
from data_loaders.importers.layout import Extracted, RawAnswers
from data_loaders.importers.timestamps import FIRST, LAST, Instants, parse_instants
from survey.questionnaire import (NO_ANSWER, QUESTION_IDS, QUESTIONS, InvalidResponse,
                                  match_answer, validate)

CHUNK_ROWS = 10_000
SHOWN_REASONS = 5
MAX_ID_LENGTH = 128
"""The store's limit on a respondent id."""

Codes = tuple[str, ...]
"""Answer codes of one response, in questionnaire order."""

QUARANTINE_HINT = "List them all with: python -m data_loaders quarantine --import-id {}"


@dataclass
class ImportSummary:
    """What became of one file's rows."""

    file_name: str
    format: str
    source: str
    import_id: int
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    first_reasons: list[tuple[int | None, str]] = field(default_factory=list)
    demo_removed: int = 0
    demo_kept: int = 0


def _outcome(answers: RawAnswers) -> Codes | str:
    """Answer codes in questionnaire order, or the reason :func:`validate` refuses them."""
    try:
        codes = validate(dict(zip(QUESTION_IDS, answers)))
    except InvalidResponse as error:
        return str(error)
    return tuple(codes[q] for q in QUESTION_IDS)


_refusal = lru_cache(maxsize=65_536)(_outcome)
""":func:`_outcome` of raw answers not all known, remembered: a file can repeat a mistake."""

_KNOWN_COMBINATIONS = 65_536
"""Distinct combinations of raw answers remembered in one file (the generated export of a
million rows in benchmarks/ holds some thirteen thousand)."""
_KNOWN_SPELLINGS = 4_096
"""Distinct raw answers remembered per question: every spelling of every answer, and more."""


class _Answers:
    """The answers of one file, checked once per distinct combination.

    :func:`validate` takes some tens of microseconds (it folds every answer's spelling anew),
    and a million rows hold some ten thousand distinct combinations of raw answers. Each raw
    answer to a question is matched to its code once, each combination of codes checked once
    (however it is spelled), and each combination of raw answers then costs one look-up: its
    *number*: the index of its codes in :attr:`accepted`; :data:`UNKNOWN` if an answer is none
    of its question's; or, below that, of the reason its codes are refused in :attr:`refusals`
    (as ``UNKNOWN - 1 - index``). One integer a record, so that a chunk's numbers make an array.
    """

    UNKNOWN = -1

    def __init__(self) -> None:
        self._known: dict[RawAnswers, int] = {}
        self._spellings: list[dict[str, str | None]] = [{} for _ in QUESTIONS]
        self._checked: dict[tuple[str | None, ...], int] = {}
        self.accepted: list[Codes] = []
        self.refusals: list[str] = []
        self._numbers: dict[Codes, int] = {}
        self._by_question: list[list[str]] = [[] for _ in QUESTIONS]
        self._arrays: list[np.ndarray] = []

    def _code(self, question: int, raw: str) -> str | None:
        spellings = self._spellings[question]
        if raw in spellings:
            return spellings[raw]
        code = match_answer(QUESTION_IDS[question], raw)
        if len(spellings) < _KNOWN_SPELLINGS:
            spellings[raw] = code
        return code

    def reason(self, raw: RawAnswers, number: int) -> str:
        """Why answers ``raw``, numbered ``number`` (below zero), are refused."""
        if number == self.UNKNOWN:  # the reason names the first unknown answer as written
            return cast(str, _refusal(raw))
        return self.refusals[self.UNKNOWN - 1 - number]

    def _number(self, raw: RawAnswers) -> int:
        codes = tuple(self._code(question, answer) for question, answer in enumerate(raw))
        if None in codes:
            return self.UNKNOWN
        number = self._checked.get(codes)
        if number is None:
            outcome = _outcome(tuple("" if code == NO_ANSWER else str(code) for code in codes))
            if isinstance(outcome, str):
                self.refusals.append(outcome)
                number = self.UNKNOWN - len(self.refusals)
            else:
                number = self._numbers.setdefault(outcome, len(self.accepted))
                if number == len(self.accepted):
                    self.accepted.append(outcome)
                    for column, code in zip(self._by_question, outcome):
                        column.append(code)
            self._checked[codes] = number
        return number

    def check(self, answers: list[RawAnswers]) -> np.ndarray:
        """The number of each record's answers: see the class."""
        found = list(map(self._known.get, answers))
        if None in found:
            new: dict[RawAnswers, int] = {}
            for row in itertools.compress(itertools.count(), map(operator.is_, found,
                                                                 itertools.repeat(None))):
                raw = answers[row]
                number = new.get(raw)
                if number is None:
                    number = new[raw] = self._number(raw)
                found[row] = number
            if len(self._known) + len(new) <= _KNOWN_COMBINATIONS:
                self._known.update(new)
        return np.array(found, dtype=np.int64)

    def columns(self, numbers: np.ndarray) -> list[list[str]]:
        """The accepted codes numbered ``numbers``, one column per question."""
        if not self._arrays or len(self._arrays[0]) != len(self.accepted):
            self._arrays = [np.array(column, dtype=object) for column in self._by_question]
        return [array[numbers].tolist() for array in self._arrays]


def _time_problem(raw: str, out_of_range: bool) -> str:
    if not raw.strip():
        return "no submission time"
    if out_of_range:
        return (f"submission time {raw.strip()[:40]!r} is out of range: not between "
                f"{FIRST.astype('datetime64[D]')} and {LAST.astype('datetime64[D]')} in UTC")
    return f"submission time {raw.strip()[:40]!r} is not a date and time in the expected form"


def _id_problem(respondent_id: str) -> str:
    if not respondent_id:
        return "no respondent id"
    return f"respondent id longer than {MAX_ID_LENGTH} characters"


@dataclass
class _Sorted:
    """What becomes of a chunk's rows: those to store, column by column, and those refused."""

    ids: list[str] = field(default_factory=list)
    instants: pd.Series = field(default_factory=lambda: pd.Series(dtype="datetime64[us, UTC]"))
    answers: list[list[str]] = field(default_factory=list)
    """The codes of the rows to store, one column per question."""
    rejected: list[store.Rejected] = field(default_factory=list)
    duplicates: int = 0


class _Respondents:
    """The respondents met so far in one file, with their answers and line.

    A file can hold a million respondents, so each is kept as one integer (the line, and the
    number of its answers among the accepted combinations) rather than as a tuple: less memory,
    and nothing the garbage collector has to walk through.
    """

    _SLOTS = 1 << 24
    """More than the number of distinct valid answer combinations (about 100,000)."""

    def __init__(self) -> None:
        self._packed: dict[str, int] = {}

    def all_new(self, respondents: list[str], numbers: np.ndarray, lines: list[int]) -> bool:
        """Remember ``respondents`` if none was met before, in this call or an earlier one; say
        whether they were (if not, nothing is remembered: see :meth:`first`)."""
        if len(set(respondents)) != len(respondents) or not self._packed.keys().isdisjoint(
                respondents):
            return False
        packed = np.asarray(lines, dtype=np.int64) * self._SLOTS + numbers
        self._packed.update(zip(respondents, packed.tolist()))
        return True

    def first(self, respondent: str, number: int, line: int) -> tuple[int, int] | None:
        """Remember ``respondent``; if it was met before, the number of its earlier answers and
        its line instead."""
        packed = self._packed.get(respondent)
        if packed is not None:
            earlier_line, earlier_number = divmod(packed, self._SLOTS)
            return earlier_number, earlier_line
        self._packed[respondent] = line * self._SLOTS + number
        return None


class _FileState:
    """What one import remembers from chunk to chunk."""

    def __init__(self) -> None:
        self.answers = _Answers()
        self.respondents = _Respondents()
        self.layout_memory: dict[str, int] = {}

    def sort(self, extracted: Extracted, ids: list[str], instants: Instants) -> _Sorted:
        """Which rows of a chunk are stored, counted as duplicates, or refused and why.

        The checks run over whole columns, so that a chunk in which every row is fine (the usual
        case) costs a few passes in C; only refused and repeated rows are looked at one by one.
        """
        numbers = self.answers.check(extracted.answers)
        usable = numbers >= 0
        usable &= instants.utc.notna().to_numpy()
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        usable &= (lengths > 0) & (lengths <= MAX_ID_LENGTH)
        if any(extracted.problems):
            usable &= np.fromiter(map(operator.not_, extracted.problems), dtype=bool,
                                  count=len(ids))
        refused = [(row, self._problem(extracted, ids, instants, numbers, row))
                   for row in np.flatnonzero(~usable).tolist()]
        rows: list[int] = np.flatnonzero(usable).tolist()
        every = len(rows) == len(ids)
        respondents = ids if every else [ids[row] for row in rows]
        lines = extracted.lines if every else [extracted.lines[row] for row in rows]
        result = _Sorted()
        if not self.respondents.all_new(respondents, numbers[rows], lines):
            kept = []
            for row, respondent, line in zip(rows, respondents, lines):
                number = int(numbers[row])
                earlier = self.respondents.first(respondent, number, line)
                if earlier is None:
                    kept.append(row)
                elif earlier[0] == number:
                    result.duplicates += 1
                else:
                    refused.append((row, f"respondent id {respondent} appears earlier in the "
                                         f"file (line {earlier[1]}) with different answers"))
            every = len(kept) == len(ids)
            rows, respondents = kept, [ids[row] for row in kept]
        result.ids = respondents
        result.instants = instants.utc if every else instants.utc.iloc[rows]
        result.answers = self.answers.columns(numbers[rows])
        result.rejected = [self._rejected(extracted, ids, row, reason)
                           for row, reason in sorted(refused)]
        return result

    def _problem(self, extracted: Extracted, ids: list[str], instants: Instants,
                 numbers: np.ndarray, row: int) -> str:
        if extracted.problems[row] is not None:
            return cast(str, extracted.problems[row])
        if numbers[row] < 0:
            return self.answers.reason(extracted.answers[row], int(numbers[row]))
        if pd.isna(instants.utc.iloc[row]):
            return _time_problem(extracted.times[row], bool(instants.out_of_range[row]))
        return _id_problem(ids[row])

    @staticmethod
    def _rejected(extracted: Extracted, ids: list[str], row: int, reason: str) -> store.Rejected:
        raw = {"respondent_id": ids[row], "submitted_at": extracted.times[row],
               **dict(zip(QUESTION_IDS, extracted.answers[row]))}
        return store.Rejected(extracted.lines[row], raw, reason)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Let the garbage collector run less often while a file is imported.

    Each chunk makes tens of thousands of short-lived lists and dicts; with the default
    threshold the collector runs every 700 allocations and, as chunks outlive its youngest
    generation, keeps scanning them: a third of the time spent reading and checking a
    million-row file. Nothing an import makes has reference cycles that need prompt freeing.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _progress(detected: Detected, show: bool) -> tqdm:
    export = detected.export
    return tqdm(total=export.total, unit=export.unit, unit_scale=export.unit == "B",
                desc=detected.path.name, file=sys.stderr, leave=False,
                disable=None if show else True)


def import_file(connection: Connection, detected: Detected, *, source: str | None = None,
                zone: str = "Europe/London", keep_demo: bool = False, progress: bool = False,
                chunk_rows: int = CHUNK_ROWS) -> ImportSummary:
    """Import ``detected`` inside the caller's transaction on ``connection``.

    ``zone`` applies to timestamps written without an offset (not to the template's, which are
    UTC). When the store then holds real responses, demo responses are removed unless
    ``keep_demo``. Raises :class:`~data_loaders.importers.sources.FileProblem` when the file
    cannot be read to its end; the caller's transaction must then be rolled back.
    """
    layout = detected.layout
    source = source or layout.default_source
    file_name = detected.path.name[:255]
    import_id = store.begin_import(connection, file_name=file_name,
                                   file_sha256=detected.export.sha256(), format=detected.format,
                                   source=source, started_at=_now())
    summary = ImportSummary(file_name, detected.format, source, import_id)
    state = _FileState()
    writer = store.ResponseWriter(connection, source)
    naive_zone = layout.naive_zone or zone
    with _fewer_collections(), _progress(detected, progress) as bar:
        for chunk in detected.export.chunks(chunk_rows, skip=layout.header_rows):
            extracted = layout.extract(chunk)
            instants = parse_instants(extracted.times, layout.timestamp_formats, zone=naive_zone)
            ids = layout.respondent_ids(extracted, instants, state.layout_memory)
            _store_chunk(connection, writer, summary, state.sort(extracted, ids, instants))
            bar.update(detected.export.position - bar.n)
    _settle_demo(connection, summary, keep_demo)
    store.finish_import(connection, import_id, accepted=summary.accepted,
                        duplicates=summary.duplicates, quarantined=summary.quarantined,
                        demo_removed=summary.demo_removed, finished_at=_now())
    return summary


def _store_chunk(connection: Connection, writer: store.ResponseWriter, summary: ImportSummary,
                 chunk: _Sorted) -> None:
    result = writer.write(chunk.ids, chunk.instants, chunk.answers)
    summary.accepted += result.accepted
    summary.duplicates += result.duplicates + chunk.duplicates
    summary.quarantined += store.quarantine(connection, summary.source, chunk.rejected,
                                            file_name=summary.file_name,
                                            import_id=summary.import_id)
    room = SHOWN_REASONS - len(summary.first_reasons)
    summary.first_reasons.extend((r.line_number, r.reason) for r in chunk.rejected[:room])


def _settle_demo(connection: Connection, summary: ImportSummary, keep_demo: bool) -> None:
    demo = store.count_responses(connection, demo=True)
    if not demo:
        return
    if keep_demo:
        summary.demo_kept = demo
    elif store.count_responses(connection, demo=False):
        summary.demo_removed = store.remove_demo(connection)


def header_lines(detected: Detected) -> list[str]:
    """What is printed before a file is imported: its format and the columns left unread."""
    lines = [f"{detected.path}: {detected.description}"]
    ignored = detected.layout.ignored
    if ignored:
        lines.append(f"  Ignored {len(ignored)} column(s), not stored anywhere: "
                     + "; ".join(ignored))
    return lines


def report_lines(summary: ImportSummary) -> list[str]:
    """What is printed after a file is imported."""
    lines = [f"  Accepted {summary.accepted}, already present (duplicates) {summary.duplicates}, "
             f"quarantined {summary.quarantined}."]
    if summary.quarantined:
        shown = len(summary.first_reasons)
        lines.append(f"  First {shown} quarantined:" if shown < summary.quarantined
                     else "  Quarantined:")
        lines.extend(f"    line {line}: {reason}" for line, reason in summary.first_reasons)
        lines.append(f"  {QUARANTINE_HINT.format(summary.import_id)}")
    if summary.demo_removed:
        lines.append(f"  Removed {summary.demo_removed} demo responses: "
                     "the store now holds real responses only.")
    if summary.demo_kept:
        lines.append(f"  Kept {summary.demo_kept} demo responses (--keep-demo): they are still "
                     "in the store, labelled demo.")
    return lines
