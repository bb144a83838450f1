"""The US benchmark (Sage et al., 2017) and how the UK answers compare with it.

Each US figure is a percentage of n = 171. Where a UK question sits beside it, the difference
UK minus US is worked out exactly from the counts and rounded once, and gets a 95% interval by
Newcombe's hybrid score method (statsmodels).

**Significance, and multiple testing.** Each comparison also gets the p-value of the score test
of a difference in proportions (the test that goes with Newcombe's interval). The comparisons a
view shows are one family: their p-values are adjusted by Holm's step-down method, and a
difference is called significant only when its adjusted p-value is below 0.05. The intervals
are each a plain 95% interval, not adjusted.

**Approximate figures.** A figure the source gives only approximately ("about a third") is
shown as the range its wording allows (``range`` in the benchmark file, with the reading
stated): its interval runs from the Wilson interval's low end at the range's low end to its high
end at the range's high end, in whole points, and its difference is a range in whole points
(the UK figure minus each end). Its p-value is the largest over the range (the end nearest the
UK figure), so it is called significant only if it would be wherever in the range the true
figure lies.

**Samples.** Both surveys are opt-in samples, not random ones: every interval and p-value here is
worked out as if respondents were a random sample of their population, which they are not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from analysis.summary import LOW_BASE, Summary, decimal_fraction, one_decimal, round_exact, wilson

DATA = Path(__file__).resolve().parent.parent / "survey" / "us_benchmark.json"


@dataclass(frozen=True)
class Pairing:
    uk_question: str
    note: str


@dataclass(frozen=True)
class Figure:
    id: str
    scenario: str
    measure: str
    wording: str
    percent: float
    approximate: bool
    display: str
    comparisons: tuple[Pairing, ...]
    context_note: str | None
    range: tuple[float, float] | None = None
    """For an approximate figure, the lowest and highest figure its wording allows."""
    range_note: str | None = None
    """How the approximate wording is read as that range."""

    @property
    def ends(self) -> tuple[float, ...]:
        """The figure, or both ends of its range when it is approximate."""
        return self.range if self.range else (self.percent,)


@dataclass(frozen=True)
class Study:
    citation: str
    doi: str
    companion_citation: str
    companion_doi: str
    short: str
    n: int
    n_note: str
    sample: str
    question_form: str
    caveat: str
    figures: tuple[Figure, ...]
    wording_note: str = ""
    """Whose words the US questions are in."""

    @property
    def context(self) -> tuple[Figure, ...]:
        """The figures shown for context only (no UK question sits beside them)."""
        return tuple(f for f in self.figures if not f.comparisons)


@dataclass(frozen=True)
class Comparison:
    figure: Figure
    uk_question: str
    note: str
    us_ci95: tuple[float, float]
    """Wilson interval of the US figure, taking n = 171 (over its range, in whole points, when
    approximate)."""
    uk_percent: float | None
    uk_ci95: tuple[float, float] | None
    uk_base: int | None
    """None where the UK question is not shown: how many answered is itself a result."""
    difference: float | None
    """UK minus US, one decimal; None when approximate (see :attr:`difference_range`)."""
    difference_ci95: tuple[float, float] | None
    significant: bool | None
    """Holm-adjusted p-value below 0.05. None when the UK side is suppressed (base below the
    minimum cell size)."""
    difference_range: tuple[float, float] | None = None
    """For an approximate US figure: the UK figure minus each end of its range, whole points."""
    p_value: float | None = None
    p_adjusted: float | None = None
    """Holm's adjustment over the comparisons of the same view."""
    low_base: bool = False
    """The UK base is below :data:`analysis.summary.LOW_BASE`: shown, but marked."""

    @property
    def approximate(self) -> bool:
        return self.figure.approximate


@lru_cache(maxsize=1)
def load_study(path: Path = DATA) -> Study:
    data = json.loads(path.read_text(encoding="utf-8"))
    figures = tuple(
        Figure(f["id"], f["scenario"], f["measure"], f["wording"], float(f["percent"]),
               bool(f["approximate"]), f.get("display") or f"{f['percent']:g}%",
               tuple(Pairing(c["uk_question"], c["note"]) for c in f["comparisons"]),
               f.get("context_note"),
               tuple(float(x) for x in f["range"]) if f.get("range") else None,
               f.get("range_note"))
        for f in data["figures"])
    study = data["study"]
    return Study(study["citation"], study["doi"], study["companion_citation"],
                 study["companion_doi"], study["short"], int(study["n"]), study["n_note"],
                 study["sample"], study["question_form"], data["caveat"], figures,
                 study.get("wording_note", ""))


def us_count(percent: float, n: int) -> float:
    """A published percentage as a count of n. Not rounded to whole people: the intervals are
    then centred on the very figure that is printed (statsmodels accepts fractional counts)."""
    return percent / 100 * n


def us_interval(figure: Figure, n: int) -> tuple[float, float]:
    """The US figure's Wilson interval; for an approximate figure, from the low end's interval
    at the range's low end to the high end's at its high end, in whole points."""
    ends = figure.ends
    low, _ = wilson(us_count(ends[0], n), n)
    _, high = wilson(us_count(ends[-1], n), n)
    if figure.range:
        return _whole(float(low)), _whole(float(high))
    return one_decimal(float(low)), one_decimal(float(high))


def _whole(value: float) -> float:
    return round_exact(Fraction(value), 0)


def _score_test(yes: int, base: int, percent: float, n: int) -> float:
    with np.errstate(divide="ignore"):  # statsmodels' odds ratio, unused, at 0% or 100%
        return float(test_proportions_2indep(yes, base, us_count(percent, n), n, method="score",
                                             compare="diff").pvalue)


def _newcombe(yes: int, base: int, percent: float, n: int) -> tuple[float, float]:
    low, high = confint_proportions_2indep(yes, base, us_count(percent, n), n,
                                           method="newcomb", compare="diff")
    return float(low) * 100, float(high) * 100


def compare(summary: Summary, study: Study | None = None) -> tuple[Comparison, ...]:
    """UK against US for every pairing, in the order of the benchmark file, with Holm's
    adjustment over the comparisons the view shows."""
    study = study or load_study()
    comparisons = []
    for figure in study.figures:
        for pairing in figure.comparisons:
            result = summary.question(pairing.uk_question)
            yes = result.answer("yes")
            us_ci = us_interval(figure, study.n)
            if result.suppressed or yes is None:
                comparisons.append(Comparison(figure, pairing.uk_question, pairing.note, us_ci,
                                              None, None, None, None, None, None))
                continue
            uk_exact = Fraction(100 * yes.count, result.base)
            ends = figure.ends
            p_value = max(_score_test(yes.count, result.base, end, study.n) for end in ends)
            if figure.range and ends[0] <= uk_exact <= ends[-1]:
                p_value = 1.0  # the UK figure lies inside what the wording allows
            at_high = _newcombe(yes.count, result.base, ends[-1], study.n)
            at_low = _newcombe(yes.count, result.base, ends[0], study.n) if figure.range else at_high
            low, high = at_high[0], at_low[1]
            if figure.range:
                difference = None
                difference_range = (round_exact(uk_exact - decimal_fraction(ends[-1]), 0),
                                    round_exact(uk_exact - decimal_fraction(ends[0]), 0))
                interval = (_whole(low), _whole(high))
            else:
                difference = round_exact(uk_exact - decimal_fraction(figure.percent))
                difference_range = None
                interval = (one_decimal(low), one_decimal(high))
            comparisons.append(Comparison(
                figure, pairing.uk_question, pairing.note, us_ci, yes.percent, yes.ci95,
                result.base, difference, interval, None, difference_range, p_value, None,
                result.base < LOW_BASE))
    return _holm(comparisons)


def _holm(comparisons: list[Comparison]) -> tuple[Comparison, ...]:
    """Each tested comparison with its Holm-adjusted p-value and verdict."""
    tested = [i for i, c in enumerate(comparisons) if c.p_value is not None]
    if tested:
        reject, adjusted, _, _ = multipletests([comparisons[i].p_value for i in tested],
                                               alpha=0.05, method="holm")
        for i, significant, p in zip(tested, reject, adjusted):
            comparisons[i] = replace(comparisons[i], significant=bool(significant),
                                     p_adjusted=float(p))
    return tuple(comparisons)
