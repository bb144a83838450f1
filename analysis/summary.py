"""Per-question results for a view: bases, counts, percentages and 95% intervals.

Percentages are of those who answered the question (its base): "no answer", and for question 6
"not asked", are counted apart and never in the base. Intervals are Wilson score intervals
(statsmodels), which behave well near 0% and 100% and for small bases. A view's intervals are
worked out together, in one vectorised call.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from analysis.cube import QUESTION_INDEX, Cube
from analysis.views import (Filter, Grouping, QuestionSafety, group_mask, question_safety,
                            view_mask)
from survey.questionnaire import BY_ID, MISSING_CODES, QUESTIONS, Question


@dataclass(frozen=True)
class AnswerResult:
    code: str
    label: str
    count: int
    percent: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    base: int
    no_answer: int
    not_asked: int
    suppressed: bool
    answers: tuple[AnswerResult, ...]
    """Empty when suppressed: a suppressed question shows no counts or percentages."""

    def answer(self, code: str) -> AnswerResult | None:
        return next((a for a in self.answers if a.code == code), None)


@dataclass(frozen=True)
class Summary:
    view: Filter
    responses: int
    """Respondents in the view (those who answered question 2, within the chosen roles)."""
    suppressed: bool
    questions: tuple[QuestionResult, ...]

    def question(self, question_id: str) -> QuestionResult:
        return next(q for q in self.questions if q.question.id == question_id)


def one_decimal(value: float) -> float:
    """Rounded to one decimal, halves away from zero as readers expect (6.25 -> 6.3), not to
    even as Python's round does."""
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def wilson(count, base) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson interval(s) as percentages; (0, 0) where the base is 0."""
    # statsmodels, and the scipy.stats it loads, are read on the first interval asked for.
    from statsmodels.stats.proportion import proportion_confint

    count = np.asarray(count, dtype=float)
    base = np.asarray(base, dtype=float)
    safe = np.where(base > 0, base, 1)
    low, high = proportion_confint(count, safe, alpha=0.05, method="wilson")
    zero = base == 0
    return np.where(zero, 0.0, low * 100), np.where(zero, 0.0, high * 100)


def question_counts(cube: Cube, mask: np.ndarray, question: Question) -> np.ndarray:
    """Responses per stored code of ``question`` among the cells in ``mask``."""
    column = cube.cells[mask, QUESTION_INDEX[question.id]]
    return np.bincount(column, weights=cube.counts[mask],
                       minlength=len(question.stored_codes)).astype(np.int64)


def question_result(question: Question, counts: np.ndarray, min_cell_size: int, *,
                    suppress: bool = False,
                    intervals: tuple[np.ndarray, np.ndarray] | None = None) -> QuestionResult:
    """Results from the counts per stored code; ``suppress`` hides them whatever the base.
    ``intervals`` are the answers' Wilson intervals when already worked out."""
    answered = counts[: len(question.codes)]
    base = int(answered.sum())
    missing = dict(zip(question.stored_codes[len(question.codes):], counts[len(question.codes):]))
    suppressed = suppress or base < min_cell_size
    answers: tuple[AnswerResult, ...] = ()
    if not suppressed:
        low, high = intervals if intervals is not None else wilson(answered, base)
        answers = tuple(
            AnswerResult(code, question.label_of(code), int(n), one_decimal(100 * n / base),
                         (one_decimal(lo), one_decimal(hi)))
            for code, n, lo, hi in zip(question.codes, answered, low, high))
    return QuestionResult(question, base, int(missing.get(MISSING_CODES[0], 0)),
                          int(missing.get(MISSING_CODES[1], 0)), suppressed, answers)


def _small(n: int, min_cell_size: int) -> bool:
    return 0 < n < min_cell_size


def safety(cube: Cube, grouping: Grouping, min_cell_size: int) -> dict[str, QuestionSafety]:
    return question_safety(cube, grouping, min_cell_size)


def summarise(cube: Cube, grouping: Grouping, view: Filter, min_cell_size: int,
              safe: dict[str, QuestionSafety] | None = None) -> Summary:
    """Every question's results for ``view`` (resolved against ``grouping``).

    A question is suppressed when fewer than ``min_cell_size`` answered it in the view, or when
    :func:`analysis.views.question_safety` does not allow the view to show it. ``safe`` may be
    passed in when several views of the same cube are summarised.
    """
    view = grouping.resolve(view)
    safe = safe if safe is not None else safety(cube, grouping, min_cell_size)
    mask = view_mask(cube, grouping, view)
    responses = int(cube.counts[mask].sum())
    others = [q for q in QUESTIONS if q.id != "role"]
    counts = [question_counts(cube, mask, q) for q in others]
    intervals = _intervals([(c[: len(q.codes)], int(c[: len(q.codes)].sum()))
                            for q, c in zip(others, counts)])
    results = {q.id: question_result(q, c, min_cell_size, intervals=i,
                                     suppress=(responses < min_cell_size
                                               or not safe[q.id].allows(view, grouping)))
               for q, c, i in zip(others, counts, intervals)}
    results["role"] = role_result(cube, mask, grouping, view, min_cell_size)
    return Summary(view, responses, responses < min_cell_size,
                   tuple(results[q.id] for q in QUESTIONS))


def _intervals(answers: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The Wilson intervals of several questions' answered counts (each with its base)."""
    counts = np.concatenate([c for c, _ in answers])
    bases = np.concatenate([np.full(len(c), base) for c, base in answers])
    low, high = wilson(counts, bases)
    ends = np.cumsum([len(c) for c, _ in answers])[:-1]
    return list(zip(np.split(low, ends), np.split(high, ends)))


def role_result(cube: Cube, mask: np.ndarray, grouping: Grouping, view: Filter,
                min_cell_size: int) -> QuestionResult:
    """Question 1 by role group: small roles, and "no answer", only ever appear pooled."""
    question = BY_ID["role"]
    groups = view.roles or grouping.groups
    counts = np.array([int(cube.counts[mask & group_mask(cube, grouping, g)].sum()) for g in groups])
    base = int(counts.sum())
    if base < min_cell_size:
        return QuestionResult(question, base, 0, 0, True, ())
    low, high = wilson(counts, base)
    answers = tuple(
        AnswerResult(g, grouping.label(g), int(n), one_decimal(100 * n / base),
                     (one_decimal(lo), one_decimal(hi)))
        for g, n, lo, hi in zip(groups, counts, low, high))
    return QuestionResult(question, base, 0, 0, False, answers)
