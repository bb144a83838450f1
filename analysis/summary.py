"""Per-question results for a view: bases, counts, percentages and 95% intervals.

Percentages are of those who answered the question (its base): "no answer", and for question 6
"not asked", are counted apart and never in the base. Intervals are Wilson score intervals
(statsmodels), which behave well near 0% and 100% and for small bases. A view's intervals are
worked out together, in one vectorised call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np

from analysis.cube import MARGIN_OFFSETS, Cube, code_index
from analysis.views import (Filter, Grouping, QuestionSafety, counts_blank_atom, question_safety,
                            view_totals)
from survey.questionnaire import BY_ID, MISSING_CODES, NO_ANSWER, QUESTIONS, Question


LOW_BASE = 50
"""A figure on fewer answers than this is marked "low base": its interval is wide and it moves
with every release, as survey publishers mark bases below 50."""


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

    @property
    def low_base(self) -> bool:
        """Shown, but on fewer than :data:`LOW_BASE` answers: marked as a low base."""
        return not self.suppressed and self.base < LOW_BASE


@dataclass(frozen=True)
class Summary:
    view: Filter
    responses: int
    """Respondents in the view: within the chosen roles, those who answered question 2; in the
    view of no filter (when :attr:`everyone`), everyone published."""
    suppressed: bool
    questions: tuple[QuestionResult, ...]
    everyone: bool = False
    """The view counts those who left question 2 blank too (the view of no filter)."""
    blank_q2: int = 0
    """Of :attr:`responses`, those who left question 2 blank (0 unless :attr:`everyone`); the
    role chart, which never counts them, is of the others."""

    def question(self, question_id: str) -> QuestionResult:
        return next(q for q in self.questions if q.question.id == question_id)


def one_decimal(value: float) -> float:
    """Rounded to one decimal, halves away from zero as readers expect (6.25 -> 6.3), not to
    even as Python's round does: the number as it is written (its shortest repr) is rounded.

    Only a repr with exactly two decimals, the second a 5, is a half; any other value lies on
    the same side of the half as its repr, where Python's correctly rounded ``round`` agrees
    (checked against the decimal rounding of every repr in the tests)."""
    value = float(value)
    text = repr(value)
    if text[-1] == "5" and text[-3:-2] == ".":
        return float(Decimal(text).quantize(_TENTH, rounding=ROUND_HALF_UP))
    return round(value, 1)


_TENTH = Decimal("0.1")


def round_exact(value: Fraction, places: int = 1) -> float:
    """An exact value rounded once, halves away from zero (-27.05 -> -27.1, 36.5 -> 37).

    For figures worked out from counts: ``Fraction(100 * count, base) - Fraction("33.3")`` is
    the difference as it truly is, where the same sum in binary floating point can fall either
    side of a half (6.25 - 33.3 is -27.049999... in floats)."""
    scale = 10 ** places
    scaled = abs(Fraction(value)) * scale
    whole = math.floor(scaled + Fraction(1, 2))
    return math.copysign(whole / scale, value) if whole else 0.0


def decimal_fraction(value: float) -> Fraction:
    """A published decimal (33.3) as the exact number it is written as, not its binary neighbour."""
    return Fraction(repr(float(value)))


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


def question_result(question: Question, counts, min_cell_size: int, *,
                    suppress: bool = False,
                    intervals: tuple[list[float], list[float]] | None = None) -> QuestionResult:
    """Results from the counts per stored code (a sequence of whole numbers); ``suppress``
    hides them whatever the base. ``intervals`` are the answers' Wilson intervals (lows and
    highs, as percentages) when already worked out."""
    counts = [int(n) for n in counts]
    answered = counts[: len(question.codes)]
    base = sum(answered)
    missing = dict(zip(question.stored_codes[len(question.codes):], counts[len(question.codes):]))
    suppressed = suppress or base < min_cell_size
    answers: tuple[AnswerResult, ...] = ()
    if not suppressed:
        if intervals is None:
            low, high = wilson(answered, base)
            intervals = low.tolist(), high.tolist()
        answers = tuple(
            AnswerResult(code, question.label_of(code), n, one_decimal(100 * n / base),
                         (one_decimal(lo), one_decimal(hi)))
            for code, n, lo, hi in zip(question.codes, answered, *intervals))
    return QuestionResult(question, base, missing.get(MISSING_CODES[0], 0),
                          missing.get(MISSING_CODES[1], 0), suppressed, answers)


def safety(cube: Cube, grouping: Grouping, min_cell_size: int) -> dict[str, QuestionSafety]:
    return question_safety(cube, grouping, min_cell_size)


def summarise(cube: Cube, grouping: Grouping, view: Filter, min_cell_size: int,
              safe: dict[str, QuestionSafety] | None = None) -> Summary:
    """Every question's results for ``view`` (resolved against ``grouping``).

    A question is suppressed when fewer than ``min_cell_size`` answered it in the view, or when
    :func:`analysis.views.question_safety` does not allow the view to show it. ``safe`` may be
    passed in when several views of the same cube are summarised.

    Every question is counted from the cube's margins (:attr:`analysis.cube.Cube.margins`), and
    all the intervals are worked out in one vectorised call.
    """
    view = grouping.resolve(view)
    safe = safe if safe is not None else safety(cube, grouping, min_cell_size)
    everyone = counts_blank_atom(view, safe)
    totals = view_totals(cube, grouping, view, everyone).tolist()
    counts = {q.id: totals[start:start + len(q.stored_codes)]
              for q, start in zip(QUESTIONS, MARGIN_OFFSETS.tolist())}
    groups = view.roles or grouping.groups
    responses = sum(counts.pop("role"))
    blank_q2 = counts["uses_social_media"][code_index("uses_social_media", NO_ANSWER)]
    role_codes = (view_totals(cube, grouping, view).tolist()[:len(BY_ID["role"].stored_codes)]
                  if blank_q2 else totals[:len(BY_ID["role"].stored_codes)])
    by_group = [sum(role_codes[code_index("role", code)] for code in grouping.role_codes((group,)))
                for group in groups]
    answered = [counts[q.id][: len(q.codes)] for q in _ANSWERED_QUESTIONS]
    *intervals, role_intervals = _intervals([*answered, by_group])
    results = {q.id: question_result(q, counts[q.id], min_cell_size, intervals=i,
                                     suppress=(responses < min_cell_size
                                               or not safe[q.id].allows(view, grouping)))
               for q, i in zip(_ANSWERED_QUESTIONS, intervals)}
    results["role"] = _role_result(groups, grouping, by_group, min_cell_size, role_intervals)
    return Summary(view, responses, responses < min_cell_size,
                   tuple(results[q.id] for q in QUESTIONS), everyone, blank_q2)


_ANSWERED_QUESTIONS = tuple(q for q in QUESTIONS if q.id != "role")
"""The questions summarised by their answers (question 1 is summarised by role group)."""


def _split(items: list, sizes: list[int]) -> list[list]:
    parts, start = [], 0
    for size in sizes:
        parts.append(items[start:start + size])
        start += size
    return parts


def _intervals(answered: list[list[int]]) -> list[tuple[list[float], list[float]]]:
    """The Wilson intervals (percentages) of several questions' answered counts, each question
    with its own base (the sum of its counts), in one vectorised call."""
    counts = [n for group in answered for n in group]
    bases = [sum(group) for group in answered for _ in group]
    low, high = wilson(counts, bases)
    sizes = [len(group) for group in answered]
    return list(zip(_split(low.tolist(), sizes), _split(high.tolist(), sizes)))


def _role_result(groups: tuple[str, ...], grouping: Grouping, counts: list[int],
                 min_cell_size: int,
                 intervals: tuple[list[float], list[float]]) -> QuestionResult:
    """Question 1 by role group: small roles, and "no answer", only ever appear pooled."""
    question = BY_ID["role"]
    base = sum(counts)
    if base < min_cell_size:
        return QuestionResult(question, base, 0, 0, True, ())
    answers = tuple(
        AnswerResult(g, grouping.label(g), n, one_decimal(100 * n / base),
                     (one_decimal(lo), one_decimal(hi)))
        for g, n, lo, hi in zip(groups, counts, *intervals))
    return QuestionResult(question, base, 0, 0, False, answers)
