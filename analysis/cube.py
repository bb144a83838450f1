"""Counts of responses per combination of answers: what every view is computed from.

Eight questions with at most a dozen answers each allow many combinations in theory, but the
responses of a survey fall into a few thousand at most. A :class:`Cube` holds one row per
combination that occurs and how many responses gave it, so a filter or a cross-tab sums a few
thousand cells whatever the number of responses. Cubes are immutable: a worker builds the next
one from the last and the new rows, and swaps it in whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from survey.questionnaire import QUESTION_IDS, QUESTIONS

QUESTION_INDEX = {qid: i for i, qid in enumerate(QUESTION_IDS)}
CODES = {q.id: q.stored_codes for q in QUESTIONS}
HOUR_NS = 3_600 * 10**9


@dataclass(frozen=True)
class Cube:
    cells: np.ndarray
    """(combinations, 8) small ints: each answer's index in its question's ``stored_codes``."""
    counts: np.ndarray
    """(combinations,) responses with that combination."""
    hours: np.ndarray
    """(k, 3): hour of submission (hours since the Unix epoch), role index and the index of the
    answer to question 2."""
    hour_counts: np.ndarray
    """(k,) responses submitted in that hour with that role and answer to question 2."""
    demo: int
    last_submitted: datetime | None

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def empty(cls) -> "Cube":
        return cls(np.zeros((0, len(QUESTIONS)), dtype=np.int16), np.zeros(0, dtype=np.int64),
                   np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64), 0, None)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Cube":
        return cls.empty().add(frame)

    def add(self, frame: pd.DataFrame) -> "Cube":
        """This cube with the responses in ``frame`` (as the loaders give them) counted in."""
        if frame.empty:
            return self
        codes = np.column_stack([frame[q].cat.codes.to_numpy(np.int16) for q in QUESTION_IDS])
        cells, counts = _merge(self.cells, self.counts, codes, np.ones(len(frame), np.int64))
        hour = frame["submitted_at"].to_numpy("datetime64[ns]").astype(np.int64) // HOUR_NS
        keys = np.column_stack([hour, codes[:, QUESTION_INDEX["role"]].astype(np.int64),
                                codes[:, QUESTION_INDEX["uses_social_media"]].astype(np.int64)])
        hours, hour_counts = _merge(self.hours, self.hour_counts, keys,
                                    np.ones(len(frame), np.int64))
        latest = frame["submitted_at"].max().to_pydatetime()
        last = latest if self.last_submitted is None else max(self.last_submitted, latest)
        return Cube(cells.astype(np.int16), counts, hours, hour_counts,
                    self.demo + int(frame["is_demo"].sum()), last)


def _merge(keys_a: np.ndarray, counts_a: np.ndarray, keys_b: np.ndarray,
           counts_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two (keys, counts) tables added up per distinct key row."""
    keys = np.concatenate([keys_a.astype(np.int64), keys_b.astype(np.int64)])
    counts = np.concatenate([counts_a, counts_b])
    radices = keys.max(axis=0, initial=0) + 1 if len(keys) else np.ones(keys.shape[1], np.int64)
    flat = np.ravel_multi_index(keys.T, radices) if len(keys) else np.zeros(0, np.int64)
    unique, inverse = np.unique(flat, return_inverse=True)
    summed = np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)
    return np.column_stack(np.unravel_index(unique, radices)).astype(np.int64), summed


def code_index(question_id: str, code: str) -> int:
    return CODES[question_id].index(code)
