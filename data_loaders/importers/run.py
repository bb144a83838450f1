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
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterator

import pandas as pd
from sqlalchemy import Connection
from tqdm import tqdm

from data_loaders import store
from data_loaders.importers.detect import Detected
from data_loaders.importers.layout import Extracted, RawAnswers
from data_loaders.importers.timestamps import parse_instants
from survey.questionnaire import QUESTION_IDS, InvalidResponse, validate

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


@lru_cache(maxsize=65_536)
def _validated(answers: RawAnswers) -> Codes | str:
    """Answer codes in questionnaire order, or the reason the answers are refused."""
    try:
        codes = validate(dict(zip(QUESTION_IDS, answers)))
    except InvalidResponse as error:
        return str(error)
    return tuple(codes[q] for q in QUESTION_IDS)


def _time_problem(raw: str) -> str:
    if not raw.strip():
        return "no submission time"
    return f"submission time {raw.strip()[:40]!r} is not a date and time in the expected form"


def _id_problem(respondent_id: str) -> str:
    if not respondent_id:
        return "no respondent id"
    return f"respondent id longer than {MAX_ID_LENGTH} characters"


@dataclass
class _Sorted:
    rows: list[dict[str, object]] = field(default_factory=list)
    rejected: list[store.Rejected] = field(default_factory=list)
    duplicates: int = 0


class _Respondents:
    """The respondents met so far in one file, with their answers and line.

    A file can hold a million respondents, so each is kept as one integer (the line and the
    index of its answers among the few distinct ones) rather than as a tuple: less memory, and
    nothing the garbage collector has to walk through.
    """

    _SLOTS = 1 << 24
    """More than the number of distinct valid answer combinations (about 100,000)."""

    def __init__(self) -> None:
        self._packed: dict[str, int] = {}
        self._index: dict[Codes, int] = {}
        self._codes: list[Codes] = []

    def first(self, respondent: str, codes: Codes, line: int) -> tuple[Codes, int] | None:
        """Remember ``respondent``; if it was met before, its earlier answers and line instead."""
        packed = self._packed.get(respondent)
        if packed is not None:
            earlier_line, index = divmod(packed, self._SLOTS)
            return self._codes[index], earlier_line
        index = self._index.get(codes)
        if index is None:
            index = self._index[codes] = len(self._codes)
            self._codes.append(codes)
        self._packed[respondent] = line * self._SLOTS + index
        return None


class _FileState:
    """What one import remembers from chunk to chunk."""

    def __init__(self) -> None:
        self.respondents = _Respondents()
        self.layout_memory: dict[str, int] = {}

    def sort(self, extracted: Extracted, ids: list[str], instants: pd.Series) -> _Sorted:
        result = _Sorted()
        first, missing = self.respondents.first, pd.NaT
        for line, respondent, raw_time, answers, problem, moment in zip(
                extracted.lines, ids, extracted.times, extracted.answers, extracted.problems,
                instants.dt.to_pydatetime().tolist()):
            outcome = problem or _validated(answers)
            if isinstance(outcome, str):
                reason = outcome
            elif moment is missing:
                reason = _time_problem(raw_time)
            elif not respondent or len(respondent) > MAX_ID_LENGTH:
                reason = _id_problem(respondent)
            else:
                earlier = first(respondent, outcome, line)
                if earlier is None:
                    row: dict[str, object] = dict(zip(QUESTION_IDS, outcome))
                    row["source_respondent_id"] = respondent
                    row["submitted_at"] = moment
                    result.rows.append(row)
                    continue
                if earlier[0] == outcome:
                    result.duplicates += 1
                    continue
                reason = (f"respondent id {respondent} appears earlier in the file "
                          f"(line {earlier[1]}) with different answers")
            raw = {"respondent_id": respondent, "submitted_at": raw_time,
                   **dict(zip(QUESTION_IDS, answers))}
            result.rejected.append(store.Rejected(line, raw, reason))
        return result


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
    naive_zone = layout.naive_zone or zone
    with _fewer_collections(), _progress(detected, progress) as bar:
        for chunk in detected.export.chunks(chunk_rows, skip=layout.header_rows):
            extracted = layout.extract(chunk)
            instants = parse_instants(extracted.times, layout.timestamp_formats, zone=naive_zone,
                                      offsets=layout.timestamp_offsets)
            ids = layout.respondent_ids(extracted, instants, state.layout_memory)
            _store_chunk(connection, summary, state.sort(extracted, ids, instants))
            bar.update(detected.export.position - bar.n)
    _settle_demo(connection, summary, keep_demo)
    store.finish_import(connection, import_id, accepted=summary.accepted,
                        duplicates=summary.duplicates, quarantined=summary.quarantined,
                        demo_removed=summary.demo_removed, finished_at=_now())
    return summary


def _store_chunk(connection: Connection, summary: ImportSummary, chunk: _Sorted) -> None:
    result = store.store_responses_bulk(connection, summary.source, chunk.rows)
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
