"""Counts of responses per combination of answers: what every view is computed from.

Eight questions with at most a dozen answers each allow many combinations in theory, but the
responses of a survey fall into a few thousand at most. A :class:`Cube` holds one row per
combination that occurs and how many responses gave it, so a filter or a cross-tab sums a few
thousand cells whatever the number of responses. Cubes are immutable: a worker builds the next
one from the last and what is new, and swaps it in whole.

What is new comes either as a frame of responses (as :func:`data_loaders.loader.to_frame` gives
them) or already counted, in the cube's own layout (the loaders' ``Counts``, or another cube):
:meth:`Cube.add` and :meth:`Cube.add_counts`. Either way only the new combinations are merged
into the cube's sorted cells, so taking in a few rows costs little however many the cube holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd

from survey.questionnaire import QUESTION_IDS, QUESTIONS

QUESTION_INDEX = {qid: i for i, qid in enumerate(QUESTION_IDS)}
CODES = {q.id: q.stored_codes for q in QUESTIONS}
HOUR_NS = 3_600 * 10**9

RADICES = tuple(len(q.stored_codes) for q in QUESTIONS)
"""How many values each question's index can take: a cell's eight indices, read as the digits of
one number in these bases, order the cells as the cube keeps them."""
_ROLE, _SOCIAL = QUESTION_INDEX["role"], QUESTION_INDEX["uses_social_media"]
MARGIN_OFFSETS = np.cumsum((0, *RADICES[:-1]))
"""Where each question's answers start on the last axis of :attr:`Cube.margins`."""
MARGIN_WIDTH = sum(RADICES)
_HOUR_RADICES = (RADICES[_ROLE], RADICES[_SOCIAL])


class Counted(Protocol):
    """Responses counted in the cube's layout (see :class:`Cube`); rows may repeat."""

    cells: np.ndarray
    counts: np.ndarray
    hours: np.ndarray
    hour_counts: np.ndarray
    demo: int
    last_published: datetime | None


@dataclass(frozen=True)
class Cube:
    cells: np.ndarray
    """(combinations, 8) small ints: each answer's index in its question's ``stored_codes``,
    distinct rows in ascending order (question 1 first)."""
    counts: np.ndarray
    """(combinations,) responses with that combination."""
    hours: np.ndarray
    """(k, 3): hour of publication (UTC hours since the Unix epoch: when the release that
    published them was made), role index and the index of the answer to question 2; distinct
    rows in ascending order."""
    hour_counts: np.ndarray
    """(k,) responses published in that hour with that role and answer to question 2."""
    demo: int
    last_published: datetime | None
    """When the latest release among these responses was made."""

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

    @classmethod
    def from_counts(cls, counted: Counted) -> "Cube":
        return cls.empty().add_counts(counted)

    def add(self, frame: pd.DataFrame) -> "Cube":
        """This cube with the responses in ``frame`` (as the loaders give them) counted in, each
        taken to be published at its ``published_at`` (its ``submitted_at`` when the frame has
        no such column: responses published as they arrived)."""
        if frame.empty:
            return self
        codes = np.column_stack([frame[q].cat.codes.to_numpy(np.int16) for q in QUESTION_IDS])
        when = frame["published_at" if "published_at" in frame else "submitted_at"]
        hour = when.to_numpy("datetime64[ns]").astype(np.int64) // HOUR_NS
        hours = np.column_stack([hour, codes[:, _ROLE], codes[:, _SOCIAL]]).astype(np.int64)
        ones = np.ones(len(frame), np.int64)
        latest = when.max().to_pydatetime()
        return self._added(codes, ones, hours, ones, int(frame["is_demo"].sum()), latest)

    def add_counts(self, counted: Counted) -> "Cube":
        """This cube with responses already counted in its layout added in."""
        if not counted.counts.sum():
            return self
        return self._added(counted.cells, counted.counts, counted.hours, counted.hour_counts,
                           counted.demo, counted.last_published)

    def _added(self, cells: np.ndarray, counts: np.ndarray, hours: np.ndarray,
               hour_counts: np.ndarray, demo: int, latest: datetime | None) -> "Cube":
        cell_keys, cell_counts, at, fresh = _merge(self._cell_keys, self.counts,
                                                   _ravel_cells(cells), counts)
        merged_cells = _insert_rows(self.cells, at, _unravel_cells(fresh))
        hour_keys, merged_hour_counts, at, fresh = _merge(self._hour_keys, self.hour_counts,
                                                          _ravel_hours(hours), hour_counts)
        merged_hours = _insert_rows(self.hours, at, _unravel_hours(fresh))
        if self.last_published is None or latest is None:
            last = latest or self.last_published
        else:
            last = max(self.last_published, latest)
        cube = Cube(merged_cells, cell_counts, merged_hours, merged_hour_counts,
                    self.demo + int(demo), last)
        # The keys just merged: the next cube built from this one need not work them out again.
        cube.__dict__.update(_cell_keys=cell_keys, _hour_keys=hour_keys)
        return cube

    @cached_property
    def _cell_keys(self) -> np.ndarray:
        """The cells as single numbers (see :data:`RADICES`), ascending as the cells are."""
        return _ravel_cells(self.cells)

    @cached_property
    def _hour_keys(self) -> np.ndarray:
        return _ravel_hours(self.hours)

    @cached_property
    def margins(self) -> np.ndarray:
        """Responses per role, answer to question 2 and answer to each question: an array of
        shape (roles, question 2 answers, :data:`MARGIN_WIDTH`), indexed by the roles' and
        question 2's indices in their ``stored_codes`` and, on the last axis, by each answer's
        index in its question's ``stored_codes`` plus the question's :data:`MARGIN_OFFSETS`.

        Whatever roles and answer to question 2 a view keeps, every question's counts in it are
        a sum of these rows: a few hundred numbers, however many cells the cube has. Worked
        out on first use, once per cube."""
        roles, answers = RADICES[_ROLE], RADICES[_SOCIAL]
        row = self.cells[:, _ROLE].astype(np.int64) * answers + self.cells[:, _SOCIAL]
        rows = row * MARGIN_WIDTH
        codes = rows[:, None] + self.cells.astype(np.int64) + MARGIN_OFFSETS
        totals = np.bincount(codes.ravel(), weights=np.repeat(self.counts, len(RADICES)),
                             minlength=roles * answers * MARGIN_WIDTH)
        return totals.astype(np.int64).reshape(roles, answers, MARGIN_WIDTH)


def _ravel_cells(cells: np.ndarray) -> np.ndarray:
    if not len(cells):
        return np.zeros(0, np.int64)
    return np.ravel_multi_index(tuple(np.asarray(cells, np.intp).T), RADICES).astype(np.int64)


def _unravel_cells(keys: np.ndarray) -> np.ndarray:
    if not len(keys):
        return np.zeros((0, len(QUESTIONS)), np.int16)
    return np.column_stack(np.unravel_index(keys, RADICES)).astype(np.int16)


def _ravel_hours(hours: np.ndarray) -> np.ndarray:
    # Not ravel_multi_index: an hour before 1970 is negative. Floor division undoes this.
    hours = np.asarray(hours, np.int64).reshape(-1, 3)
    role_radix, social_radix = _HOUR_RADICES
    return (hours[:, 0] * role_radix + hours[:, 1]) * social_radix + hours[:, 2]


def _unravel_hours(keys: np.ndarray) -> np.ndarray:
    role_radix, social_radix = _HOUR_RADICES
    rest, social = np.divmod(keys, social_radix)
    hour, role = np.divmod(rest, role_radix)
    return np.column_stack([hour, role, social]).astype(np.int64).reshape(-1, 3)


def _merge(keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct ``keys`` with their counts, and the (repeating, unsorted) new keys'
    counts added in: the new keys are summed among themselves, then those already present are
    added to and the others inserted where they sort.

    Returns the merged keys and counts, and the keys inserted with where they went (positions
    in ``keys``, as :func:`numpy.insert` takes them).
    """
    distinct, inverse = np.unique(np.asarray(new_keys, np.int64), return_inverse=True)
    summed = np.zeros(len(distinct), np.int64)
    np.add.at(summed, inverse, np.asarray(new_counts, np.int64))
    at = np.searchsorted(keys, distinct)
    present = at < len(keys)
    present[present] = keys[at[present]] == distinct[present]
    merged = np.array(counts, np.int64)
    merged[at[present]] += summed[present]
    absent = ~present
    return (np.insert(keys, at[absent], distinct[absent]),
            np.insert(merged, at[absent], summed[absent]), at[absent], distinct[absent])


def _insert_rows(array: np.ndarray, at: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` inserted into ``array`` before the rows at positions ``at`` (ascending), as
    :func:`numpy.insert` does along the first axis, but copying the few stretches between
    insertions whole rather than going through a mask of every row."""
    if not len(at):
        return array
    pieces = np.split(array, at)
    joined = [pieces[0]]
    for row, piece in zip(rows, pieces[1:]):
        joined += [row[np.newaxis], piece]
    return np.concatenate(joined)


def code_index(question_id: str, code: str) -> int:
    return CODES[question_id].index(code)
