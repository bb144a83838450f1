"""What an export's header says about its columns, shared by every format.

Each format module reads the header rows into a :class:`Layout`: where the respondent id, the
timestamp and each question's answer are, and which columns are ignored. Everything after that
(timestamps, validation, duplicates, the store) is the same for every format, so a layout's one
job is to turn a record into raw values for the recognised columns. Columns a layout does not
name are never read, which is how personal data (IP addresses, e-mails, names, free text) stays
out of the store and out of the quarantine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from operator import itemgetter
from typing import Mapping, Sequence

from data_loaders.importers.sources import FileProblem, Record
from data_loaders.importers.timestamps import Instants
from survey.questionnaire import BY_ID, QUESTIONS, match_question

RawAnswers = tuple[str, ...]
"""One raw value per question, in questionnaire order."""


@dataclass
class Extracted:
    """The recognised values of a chunk of records, column by column."""

    lines: list[int]
    ids: list[str]
    times: list[str]
    answers: list[RawAnswers]
    problems: list[str | None]
    """A reason found while reading the record (two options chosen), or None."""


def describe_column(header: str) -> str:
    text = " ".join(header.split()) or "(no header)"
    return text if len(text) <= 60 else text[:57] + "..."


def find_questions(headers: Sequence[str], format_name: str) -> dict[str, int]:
    """The column of each question, by header; every question must have exactly one."""
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        question = match_question(header)
        if question is None:
            continue
        if question in found:
            raise FileProblem(f"{format_name}: two columns for question "
                              f"{BY_ID[question].number} ({question}): columns "
                              f"{found[question] + 1} and {index + 1}")
        found[question] = index
    require_questions(found, format_name)
    return found


def require_questions(found: Mapping[str, int], format_name: str) -> None:
    missing = [q for q in QUESTIONS if q.id not in found]
    if missing:
        listed = ", ".join(f"question {q.number} ({q.id})" for q in missing)
        raise FileProblem(f"recognised as {format_name}, but it has no column for {listed}")


def pad(cells: list[str], width: int) -> list[str]:
    if len(cells) < width:
        cells.extend([""] * (width - len(cells)))
    return cells


def padded(rows: list[list[str]], width: int) -> list[list[str]]:
    """``rows``, each row shorter than ``width`` padded with blank cells in place."""
    for cells in [cells for cells in rows if len(cells) < width]:
        pad(cells, width)
    return rows


class Layout(ABC):
    """Where the recognised values of one export format are."""

    format: str
    """Recorded in the imports table, e.g. ``surveymonkey``."""
    description: str
    """Printed to the person importing, e.g. "SurveyMonkey export"."""
    variant: str = ""
    """How this export differs from the format's usual layout, if it does."""
    default_source: str
    header_rows: int = 1
    timestamp_formats: tuple[str, ...]
    naive_zone: str | None = None
    """The zone of times without an offset, if fixed by the format (None: the --timezone)."""

    def __init__(self, width: int, ignored: Sequence[str]) -> None:
        self.width = width
        self.ignored = tuple(ignored)

    @abstractmethod
    def extract(self, records: list[Record]) -> Extracted:
        """The recognised values of ``records``."""

    def respondent_ids(self, extracted: Extracted, instants: Instants,
                       memory: dict[str, int]) -> list[str]:
        """The respondent id of each record; the export's own unless it has none.

        ``memory`` is kept from chunk to chunk of one import, for a layout that needs it.
        """
        return extracted.ids


class ColumnLayout(Layout):
    """A layout in which each recognised value sits in a column of its own."""

    def __init__(self, width: int, ignored: Sequence[str], *, id_column: int | None,
                 time_column: int, question_columns: dict[str, int]) -> None:
        super().__init__(width, ignored)
        self._id = id_column
        self._time = time_column
        self._answers = itemgetter(*(question_columns[q.id] for q in QUESTIONS))

    def adjust(self, answers: list[RawAnswers]) -> None:
        """A format's own reading of the answers, in place; by default they are taken as
        written."""

    def extract(self, records: list[Record]) -> Extracted:
        rows = padded([cells for _, cells in records], self.width)
        answers: list[RawAnswers] = list(map(self._answers, rows))
        self.adjust(answers)
        ids = (list(map(str.strip, map(itemgetter(self._id), rows))) if self._id is not None
               else [""] * len(rows))
        return Extracted([line for line, _ in records], ids,
                         list(map(itemgetter(self._time), rows)), answers, [None] * len(rows))
