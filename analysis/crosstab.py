"""Two questions against each other, and one question by role group.

A cross-tab splits the people who answered the column question by their answer to the row
question. Each row is a group of its own, so the minimum cell rule applies to rows as to views
(see :mod:`analysis.views`): a row is shown only if, within every atom (role group x answer to
question 2), the number in it is 0 or at least the minimum; and what is left unshown (hidden rows
and those who did not answer the row question) must again be 0 or at least the minimum in every
atom, or the overall results minus the shown rows would reveal it. Rows are hidden, smallest
first, until both hold. Those not asked the row question (question 6 after a question 5 that is
not yes) are left out of that remainder: they are the other rows of question 5, checked there.

Cross-tabs cover everyone in the chosen role groups, whatever the social-media filter says, and
neither role nor social-media use can be a row or a column: those are what the filters and the
breakdown by role show, under their own checks. Splitting rows by them too would let views made
under different checks be set against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency

from analysis.cube import QUESTION_INDEX, Cube, code_index
from analysis.summary import QuestionResult, one_decimal, question_result, wilson
from analysis.views import Filter, Grouping, InvalidFilter, QuestionSafety, group_mask, view_mask
from survey.questionnaire import BY_ID, NOT_ASKED, QUESTIONS, Question

CROSSTAB_QUESTIONS = tuple(q.id for q in QUESTIONS if q.id not in ("role", "uses_social_media"))


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float
    small_expected: bool
    """Some expected count is below 5: the test's p-value is then only approximate."""


@dataclass(frozen=True)
class CrossTab:
    rows: Question
    columns: Question
    row_codes: tuple[str, ...]
    """Row answers shown, in questionnaire order."""
    hidden_rows: tuple[str, ...]
    column_codes: tuple[str, ...]
    counts: np.ndarray
    """(shown rows, columns) people."""
    percents: np.ndarray
    """Row percentages, one decimal."""
    ci_low: np.ndarray
    ci_high: np.ndarray
    row_bases: np.ndarray
    chi_square: ChiSquare | None


def _atoms(cube: Cube, grouping: Grouping) -> list[np.ndarray]:
    """The pieces a cross-tab's rows must be safe in: every role group."""
    return [group_mask(cube, grouping, g) for g in grouping.groups]


def _answered(cube: Cube, question: Question) -> np.ndarray:
    column = cube.cells[:, QUESTION_INDEX[question.id]]
    return column < len(question.codes)


def crosstab(cube: Cube, grouping: Grouping, view: Filter, row_id: str, column_id: str,
             min_cell_size: int) -> CrossTab:
    if row_id == column_id or {row_id, column_id} - set(CROSSTAB_QUESTIONS):
        raise InvalidFilter(f"a cross-tab takes two different questions of: "
                            f"{', '.join(CROSSTAB_QUESTIONS)}")
    view = Filter(grouping.resolve(view).roles)
    rows, columns = BY_ID[row_id], BY_ID[column_id]
    row_column = cube.cells[:, QUESTION_INDEX[row_id]]
    asked = row_column != code_index(row_id, NOT_ASKED) if rows.asked_when else True
    mask = view_mask(cube, grouping, view) & _answered(cube, columns) & asked
    public = view_mask(cube, grouping, Filter()) & _answered(cube, columns) & asked
    atoms = [public & atom for atom in _atoms(cube, grouping)]
    row_masks = {code: row_column == rows.codes.index(code) for code in rows.codes}

    def ok(n: int) -> bool:
        return n == 0 or n >= min_cell_size

    def size(cells: np.ndarray) -> int:
        return int(cube.counts[cells].sum())

    shown = [c for c in rows.codes
             if size(mask & row_masks[c]) >= min_cell_size
             and all(ok(size(atom & row_masks[c])) for atom in atoms)]
    while shown:
        in_shown = np.logical_or.reduce([row_masks[c] for c in shown])
        if ok(size(mask & ~in_shown)) and all(ok(size(atom & ~in_shown)) for atom in atoms):
            break
        shown.remove(min(shown, key=lambda c: (size(mask & row_masks[c]), rows.codes.index(c))))

    column_index = cube.cells[:, QUESTION_INDEX[column_id]]
    counts = np.array([[size(mask & row_masks[r] & (column_index == j))
                        for j in range(len(columns.codes))] for r in shown],
                      dtype=np.int64).reshape(len(shown), len(columns.codes))
    bases = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(bases[:, None] > 0, 100 * counts / bases[:, None], 0.0)
    low, high = wilson(counts, np.repeat(bases[:, None], len(columns.codes), axis=1))
    return CrossTab(rows, columns, tuple(shown), tuple(c for c in rows.codes if c not in shown),
                    columns.codes, counts, _one_decimal(shares), _one_decimal(low),
                    _one_decimal(high), bases,
                    _chi_square(counts))


def _one_decimal(values: np.ndarray) -> np.ndarray:
    return np.vectorize(one_decimal, otypes=[float])(values) if values.size else values


def _chi_square(counts: np.ndarray) -> ChiSquare | None:
    table = counts[:, counts.sum(axis=0) > 0]
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    result = chi2_contingency(table, correction=False)
    return ChiSquare(float(result.statistic), int(result.dof), float(result.pvalue),
                     bool((result.expected_freq < 5).any()))


@dataclass(frozen=True)
class Breakdown:
    question: Question
    groups: tuple[str, ...]
    labels: tuple[str, ...]
    results: tuple[QuestionResult, ...]
    suppressed: bool


def breakdown(cube: Cube, grouping: Grouping, view: Filter, question_id: str,
              safety: dict[str, QuestionSafety], min_cell_size: int) -> Breakdown:
    """One question for each role group in the view, side by side."""
    view = grouping.resolve(view)
    question = BY_ID[question_id]
    groups = view.roles or grouping.groups
    allowed = question_id != "role" and safety[question_id].allows(view, grouping)
    mask = view_mask(cube, grouping, view)
    results = []
    for group in groups:
        in_group = mask & group_mask(cube, grouping, group)
        column = cube.cells[in_group, QUESTION_INDEX[question_id]]
        counts = np.bincount(column, weights=cube.counts[in_group],
                             minlength=len(question.stored_codes)).astype(np.int64)
        results.append(question_result(question, counts, min_cell_size, suppress=not allowed))
    return Breakdown(question, groups, tuple(grouping.label(g) for g in groups), tuple(results),
                     not allowed)
