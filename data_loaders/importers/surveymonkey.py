"""SurveyMonkey's CSV and XLSX exports ("All responses data").

Two header rows: the first holds metadata names and each question's wording, written once over
the question's columns (blank to its right, so it is carried forward); the second holds
"Response" or "Open-Ended Response", or, in the "expanded" layout, the text of each answer option,
whose column then holds that text when the option was chosen. The role question has an
"Other (please specify)" column after it: when the role's own cell is blank and that one is
filled in, the role is ``other``. Only whether it is filled in is read: the text can identify a
person and is never stored, not even in quarantine.

The metadata columns Respondent ID and End Date give the respondent id and the submission time
(month first, in the account's time zone). Collector ID, Start Date, IP Address, Email Address,
First Name, Last Name and Custom Data N are never read.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from datetime import timedelta
from operator import itemgetter, not_
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd

from data_loaders.importers.layout import (Extracted, Layout, RawAnswers, describe_column, pad,
                                           padded, require_questions)
from data_loaders.importers.sources import FileProblem, Record
from data_loaders.importers.timestamps import SURVEYMONKEY_FORMATS
from survey.questionnaire import (BY_ID, NO_ANSWER, NOT_ASKED, QUESTIONS, match_question,
                                  normalise)

NAME = "a SurveyMonkey export"
ID_COLUMN = "Respondent ID"
TIME_COLUMN = "End Date"
METADATA = (ID_COLUMN, "Collector ID", "Start Date", TIME_COLUMN, "IP Address", "Email Address",
            "First Name", "Last Name", "Custom Data 1")
_METADATA_KEYS = {normalise(name) for name in METADATA}
ANSWER_CELLS = {"response", "open-ended response", ""}
OTHER = "Other (please specify)"
DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"
START_BEFORE_END = timedelta(minutes=4)


def looks_like(header: Sequence[str]) -> bool:
    return normalise(ID_COLUMN) in {normalise(h) for h in header}


def _is_metadata(header: str) -> bool:
    key = normalise(header)
    return key in _METADATA_KEYS or key.startswith("custom data")


@dataclass
class _Question:
    """The columns of one question: its answer cell, option cells and "Other" text cell."""

    id: str
    answer: int | None = None
    options: tuple[tuple[int, str], ...] = ()
    other: int | None = None

    def chosen(self, cells: list[str]) -> list[str]:
        values = []
        if self.answer is not None and cells[self.answer].strip():
            values.append(cells[self.answer])
        values.extend(label for column, label in self.options if cells[column].strip())
        if self.other is not None and cells[self.other].strip() and (
                self.answer is None or not values):
            values.append(BY_ID["role"].label_of("other"))
        return values


class SurveyMonkeyLayout(Layout):
    format = "surveymonkey"
    description = "SurveyMonkey export"
    default_source = "surveymonkey"
    header_rows = 2
    timestamp_formats = SURVEYMONKEY_FORMATS

    def __init__(self, width: int, ignored: Sequence[str], *, id_column: int, time_column: int,
                 questions: Sequence[_Question]) -> None:
        super().__init__(width, ignored)
        self._id = id_column
        self._time = time_column
        self._questions = tuple(questions)
        self.expanded = any(q.options for q in questions)
        self.variant = "expanded: one column per answer option" if self.expanded else ""
        simple = all(q.answer is not None and not q.options for q in questions)
        self._answers = itemgetter(*(q.answer for q in questions)) if simple else None
        self._role_other = questions[0].other

    def _simple(self, rows: list[list[str]]) -> tuple[list[RawAnswers], list[str | None]]:
        """Each question's own cell (the usual layout)."""
        answers: list[RawAnswers] = list(map(self._answers, rows))  # type: ignore[arg-type]
        other = self._role_other
        if other is not None:
            roles = map(str.strip, map(itemgetter(0), answers))
            for i in itertools.compress(itertools.count(), map(not_, roles)):
                if rows[i][other].strip():
                    answers[i] = ("other", *answers[i][1:])
        return answers, [None] * len(rows)

    def _expanded(self, rows: list[list[str]]) -> tuple[list[RawAnswers], list[str | None]]:
        answers, problems = [], []
        for cells in rows:
            row_answers, problem = self._general(cells)
            answers.append(row_answers)
            problems.append(problem)
        return answers, problems

    def _general(self, cells: list[str]) -> tuple[RawAnswers, str | None]:
        answers, problem = [], None
        for question in self._questions:
            chosen = question.chosen(cells)
            if len(chosen) > 1 and problem is None:
                number = BY_ID[question.id].number
                problem = (f"question {number} ({question.id}): more than one answer chosen "
                           f"({'; '.join(c.strip() for c in chosen)})")
            answers.append("; ".join(chosen))
        return tuple(answers), problem

    def extract(self, records: list[Record]) -> Extracted:
        rows = padded([cells for _, cells in records], self.width)
        answers, problems = (self._simple if self._answers is not None else self._expanded)(rows)
        return Extracted([line for line, _ in records],
                         list(map(str.strip, map(itemgetter(self._id), rows))),
                         list(map(itemgetter(self._time), rows)), answers, problems)


def _carried(first: list[str]) -> list[str]:
    carried, last = [], ""
    for header in first:
        last = header if header.strip() else last
        carried.append(last)
    return carried


def layout(headers: list[list[str]]) -> SurveyMonkeyLayout:
    """Where everything is, from the two header rows; refuses an export lacking a question."""
    if len(headers) < 2:
        raise FileProblem(f"recognised as {NAME}, but its second header row is missing")
    width = max(len(headers[0]), len(headers[1]))
    first, second = pad(list(headers[0]), width), pad(list(headers[1]), width)
    keys = [normalise(h) for h in first]
    for required in (ID_COLUMN, TIME_COLUMN):
        if normalise(required) not in keys:
            raise FileProblem(f"recognised as {NAME}, but it has no {required} column")
    id_column, time_column = keys.index(normalise(ID_COLUMN)), keys.index(normalise(TIME_COLUMN))
    if second[id_column].strip():
        raise FileProblem(f"recognised as {NAME}, but its second header row is missing "
                          "(line 2 holds a respondent)")
    questions = {q.id: _Question(q.id) for q in QUESTIONS}
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, (top, sub) in enumerate(zip(_carried(first), second)):
        if index in (id_column, time_column):
            continue
        if first[index].strip() and _is_metadata(first[index]):
            ignored.append(describe_column(first[index]))
            continue
        question_id = match_question(top)
        if question_id is None:
            ignored.append(describe_column(" / ".join(filter(None, (top.strip(), sub.strip())))))
            continue
        question = questions[question_id]
        if normalise(sub) in ANSWER_CELLS:
            if question.answer is not None:
                raise FileProblem(f"{NAME}: two answer columns for question "
                                  f"{BY_ID[question_id].number} ({question_id}): columns "
                                  f"{question.answer + 1} and {index + 1}")
            question.answer = index
            found.setdefault(question_id, index)
        elif normalise(sub).startswith("other"):
            if question_id == "role" and question.other is None:
                question.other = index
                ignored.append(f"{describe_column(sub)} text of question 1 (only whether it "
                               "is filled in is read)")
            else:
                ignored.append(f"{describe_column(sub)} text of question "
                               f"{BY_ID[question_id].number}")
        else:
            question.options += ((index, sub),)
            found.setdefault(question_id, index)
    require_questions(found, NAME)
    return SurveyMonkeyLayout(width, ignored, id_column=id_column, time_column=time_column,
                              questions=[questions[q.id] for q in QUESTIONS])


_LABELS = {q.id: {**{a.code: a.label for a in q.answers}, NO_ANSWER: "", NOT_ASKED: ""}
           for q in QUESTIONS}


def header_rows() -> tuple[list[str], list[str]]:
    """SurveyMonkey's two header rows for this survey, in the usual (not expanded) layout."""
    first, second = list(METADATA), [""] * len(METADATA)
    for question in QUESTIONS:
        first.append(question.text)
        second.append("Response")
        if question.id == "role":
            first.append("")
            second.append(OTHER)
    return first, second


def _export_row(number: int, row: Mapping[str, object], start: str, end: str) -> list[str]:
    cells = [str(row["source_respondent_id"]), "412345678", start, end,
             f"192.0.2.{number % 250 + 1}", f"person{number}@example.org", "Alex", "Example",
             f"staff-{number}"]
    for question in QUESTIONS:
        code = str(row[question.id])
        if question.id == "role" and code == "other":
            cells.extend(("", "Agency locum"))
            continue
        cells.append(_LABELS[question.id][code])
        if question.id == "role":
            cells.append("")
    return cells


def write_export(path: Path, rows: Iterable[Mapping[str, object]], *,
                 zone: str = "Europe/London") -> int:
    """Write ``rows`` (as :func:`data_loaders.demo.generate` makes them) as a SurveyMonkey CSV.

    The personal-data columns are filled with made-up values, and a respondent whose role is
    ``other`` has free text in the "Other (please specify)" column, as in a real export, so that
    an import of the file shows what it ignores. Returns how many rows were written.
    """
    written = 0
    batches = iter(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(header_rows())
        while batch := list(itertools.islice(batches, 10_000)):
            ends = pd.to_datetime(pd.Series([row["submitted_at"] for row in batch]), utc=True)
            local = ends.dt.tz_convert(zone).dt.tz_localize(None).dt.to_pydatetime()
            for row, end in zip(batch, local):
                writer.writerow(_export_row(written, row, (end - START_BEFORE_END).strftime(
                    DATE_FORMAT), end.strftime(DATE_FORMAT)))
                written += 1
    return written

