"""Google Forms' CSV export (the responses sheet downloaded as CSV).

A "Timestamp" column, then one column per question headed by its wording, perhaps an "Email
address" column (never read). Two quirks shape this module:

- Google Forms writes the text typed after "Other:" in the role column itself, so a role that
  is none of the listed roles means ``other``; the text is dropped before anything else sees it.
  For every other question an unknown answer is a real problem and goes to quarantine.
- There is no respondent id. One is derived from a hash of the row's instant and answers, plus
  how many earlier rows of the file had that same hash, so importing the same export again, or a
  longer one later, recognises the rows already stored, and two identical rows are both kept.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Sequence

import pandas as pd

from data_loaders.importers.layout import (ColumnLayout, Extracted, RawAnswers, describe_column,
                                           find_questions)
from data_loaders.importers.timestamps import GOOGLE_FORMS_FORMATS, Instants
from survey.questionnaire import match_answer, normalise

TIME_COLUMN = "timestamp"
NAME = "a Google Forms export"
OTHER_ROLE = "other"


def looks_like(header: Sequence[str]) -> bool:
    return any(normalise(h) == TIME_COLUMN for h in header)


@lru_cache(maxsize=4096)
def _role(value: str) -> str:
    return value if match_answer("role", value) is not None else OTHER_ROLE


class GoogleFormsLayout(ColumnLayout):
    format = "google_forms"
    description = "Google Forms export"
    default_source = "google_forms"
    timestamp_formats = GOOGLE_FORMS_FORMATS

    def adjust(self, answers: list[RawAnswers]) -> None:
        for row, raw in enumerate(answers):
            role = _role(raw[0])
            if role is not raw[0]:
                answers[row] = (role, *raw[1:])

    def respondent_ids(self, extracted: Extracted, instants: Instants,
                       memory: dict[str, int]) -> list[str]:
        """A hash of instant and answers, then how many earlier rows had the same hash."""
        ids = []
        for instant, answers in zip(instants.utc, extracted.answers):
            when = "" if pd.isna(instant) else instant.isoformat()
            digest = hashlib.sha256("\x1f".join((when, *answers)).encode()).hexdigest()[:32]
            seen = memory.get(digest, 0)
            memory[digest] = seen + 1
            ids.append(f"gf-{digest}-{seen}")
        return ids


def layout(headers: list[list[str]]) -> GoogleFormsLayout:
    header = headers[0]
    keys = [normalise(h) for h in header]
    questions = find_questions(header, NAME)
    time_column = keys.index(TIME_COLUMN)
    used = {time_column, *questions.values()}
    ignored = [describe_column(h) for i, h in enumerate(header) if i not in used]
    return GoogleFormsLayout(len(header), ignored, id_column=None, time_column=time_column,
                             question_columns=questions)
