"""Two questions against each other, and one question by role group.

A cross-tab counts everyone in the chosen role groups (who answered question 2, whatever they
answered; with no role chosen, those who left it blank as well, as the summary of no filter
does: see :mod:`analysis.views`) by their answers to two questions, blanks included: a row for each answer to the row
question and for "no answer" (and "not asked", for question 6), and beside each answer to the
column question the number in the row who left it blank (or were not asked it). Every row and
column therefore adds up to a figure the summary of the same roles publishes, and no summary
figure minus a cross-tab's leaves anyone out: there is no remainder to single anyone out. Each
block of the table (its people in one state, answered, left blank or not asked, for each of its
two questions) is a sum, over the role groups and answers to question 2, of groups that every
release keeps at 0 or at least the minimum (:mod:`analysis.releases`), so nothing needs hiding.
Row percentages are of those in the row who answered the column question.

**The test of independence** is of those who answered both questions: the table of the answers
alone, without "no answer" and "not asked", and without any answer nobody in the table gave.
A 2 x 2 table gets Fisher's exact test (two-sided). A larger one gets Pearson's chi-square test
when every expected count is at least 5, and otherwise an exact test by Monte Carlo: the
chi-square statistic of 9,999 random tables with the same row and column totals (a fixed seed,
so the same table always gets the same p-value). :class:`Independence` says which, of which
table, and with what n, so that the text beside it can say so.

Cross-tabs cover everyone in the chosen role groups, whatever the social-media filter says, and
neither role nor social-media use can be a row or a column: those are what the filters and the
breakdown by role show.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.stats import MonteCarloMethod, chi2_contingency, fisher_exact
from scipy.stats.contingency import expected_freq

from analysis.cube import QUESTION_INDEX, Cube
from analysis.summary import QuestionResult, one_decimal, question_result, round_exact, wilson
from analysis.views import Filter, Grouping, InvalidFilter, QuestionSafety, group_mask, view_mask
from survey.questionnaire import BY_ID, QUESTIONS, Question

CROSSTAB_QUESTIONS = tuple(q.id for q in QUESTIONS if q.id not in ("role", "uses_social_media"))


FISHER, PEARSON, MONTE_CARLO = "fisher", "pearson", "monte_carlo"
MONTE_CARLO_TABLES = 9_999
MIN_EXPECTED = 5


@dataclass(frozen=True)
class Independence:
    """A test of independence of the row and column questions' answers."""

    method: str
    """:data:`FISHER`, :data:`PEARSON` or :data:`MONTE_CARLO`."""
    p_value: float
    n: int
    """Those in the table tested: who answered both questions."""
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    """The answer codes of the table tested (answers nobody gave left out)."""
    smallest_expected: float
    statistic: float | None = None
    """Chi-square (Pearson and Monte Carlo); None for Fisher's test."""
    dof: int | None = None


@dataclass(frozen=True)
class CrossTab:
    rows: Question
    columns: Question
    row_codes: tuple[str, ...]
    """Rows: every answer to the row question, in questionnaire order, then "no answer" and
    "not asked" where anyone in the table has them."""
    column_codes: tuple[str, ...]
    """The column question's answers: what the row percentages are of."""
    missing_codes: tuple[str, ...]
    """The column question's "no answer" (and "not asked"): counted beside each row."""
    counts: np.ndarray
    """(rows, answers) people."""
    missing: np.ndarray
    """(rows, missing codes) people who left the column question blank or were not asked it."""
    percents: np.ndarray
    """Row percentages of those in the row who answered the column question, one decimal."""
    ci_low: np.ndarray
    ci_high: np.ndarray
    """95% Wilson interval of each percentage, one decimal."""
    ci_low_whole: np.ndarray
    ci_high_whole: np.ndarray
    """The same interval in whole points, rounded once from its exact value (36.52 -> 37), for
    labels too small for decimals; never the one-decimal figure rounded again."""
    row_bases: np.ndarray
    """Those in each row who answered the column question."""
    test: Independence | None
    """Of those who answered both questions; None when fewer than two rows and two columns
    of answers have anyone in them."""

    @property
    def row_totals(self) -> np.ndarray:
        return self.row_bases + self.missing.sum(axis=1)

    @property
    def total(self) -> int:
        return int(self.row_totals.sum())


def crosstab(cube: Cube, grouping: Grouping, view: Filter, row_id: str, column_id: str,
             min_cell_size: int, everyone: bool = False) -> CrossTab:
    """The cross-tab of two questions for the role groups of ``view`` (resolved against
    ``grouping``); ``min_cell_size`` is kept for the callers' sake (nothing is hidden).
    ``everyone``: with no role chosen, count those who left question 2 blank too (as
    :attr:`analysis.summary.Summary.everyone` says the summary does)."""
    if row_id == column_id or {row_id, column_id} - set(CROSSTAB_QUESTIONS):
        raise InvalidFilter(f"a cross-tab takes two different questions of: "
                            f"{', '.join(CROSSTAB_QUESTIONS)}")
    view = Filter(grouping.resolve(view).roles)
    rows, columns = BY_ID[row_id], BY_ID[column_id]
    mask = view_mask(cube, grouping, view, everyone)
    row_index = cube.cells[mask, QUESTION_INDEX[row_id]].astype(np.int64)
    column_index = cube.cells[mask, QUESTION_INDEX[column_id]].astype(np.int64)
    width = len(columns.stored_codes)
    table = np.bincount(row_index * width + column_index, weights=cube.counts[mask],
                        minlength=len(rows.stored_codes) * width
                        ).astype(np.int64).reshape(len(rows.stored_codes), width)
    answers = len(rows.codes)
    kept = [i for i, _code in enumerate(rows.stored_codes) if i < answers or table[i].any()]
    missing_kept = [j for j in range(len(columns.codes), width)
                    if j == len(columns.codes) or table[:, j].any()]
    table = table[kept]
    counts = table[:, :len(columns.codes)]
    missing = table[:, missing_kept]
    bases = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(bases[:, None] > 0, 100 * counts / bases[:, None], 0.0)
    low, high = wilson(counts, np.repeat(bases[:, None], len(columns.codes), axis=1))
    answer_rows = [k for k, i in enumerate(kept) if i < answers]
    return CrossTab(rows, columns, tuple(rows.stored_codes[i] for i in kept), columns.codes,
                    tuple(columns.stored_codes[j] for j in missing_kept), counts, missing,
                    _one_decimal(shares), _one_decimal(low), _one_decimal(high),
                    _whole(low), _whole(high), bases,
                    independence(counts[answer_rows], rows.codes, columns.codes))


def _one_decimal(values: np.ndarray) -> np.ndarray:
    return np.vectorize(one_decimal, otypes=[float])(values) if values.size else values


def _whole(values: np.ndarray) -> np.ndarray:
    return (np.vectorize(lambda v: round_exact(Fraction(float(v)), 0), otypes=[float])(values)
            if values.size else values)


def independence(counts: np.ndarray, row_codes: tuple[str, ...],
                 column_codes: tuple[str, ...]) -> Independence | None:
    """The test of independence of a table of answers (see the module's docstring)."""
    columns_kept = counts.sum(axis=0) > 0
    rows_kept = counts.sum(axis=1) > 0
    table = counts[rows_kept][:, columns_kept]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    kept = (tuple(c for c, k in zip(row_codes, rows_kept) if k),
            tuple(c for c, k in zip(column_codes, columns_kept) if k))
    expected = expected_freq(table)
    common = dict(n=int(table.sum()), rows=kept[0], columns=kept[1],
                  smallest_expected=float(expected.min()))
    if table.shape == (2, 2):
        return Independence(FISHER, float(fisher_exact(table).pvalue), **common)
    if expected.min() >= MIN_EXPECTED:
        result = chi2_contingency(table, correction=False)
        return Independence(PEARSON, float(result.pvalue), **common,
                            statistic=float(result.statistic), dof=int(result.dof))
    method = MonteCarloMethod(n_resamples=MONTE_CARLO_TABLES, rng=np.random.default_rng(0))
    result = chi2_contingency(table, correction=False, method=method)
    return Independence(MONTE_CARLO, float(result.pvalue), **common,
                        statistic=float(result.statistic),
                        dof=(table.shape[0] - 1) * (table.shape[1] - 1))


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
