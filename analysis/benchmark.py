"""The US benchmark (Sage et al., 2017) and how the UK answers compare with it.

Each US figure is a percentage of n = 171. Where a UK question sits beside it, the difference
UK minus US gets a 95% interval by Newcombe's hybrid score method (statsmodels); a difference is
called significant only when that interval excludes zero. Figures that the source gives only
approximately ("about a third") are compared all the same, but labelled approximate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.summary import Summary, decimal_fraction, one_decimal, round_exact, wilson

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


@dataclass(frozen=True)
class Comparison:
    figure: Figure
    uk_question: str
    note: str
    us_ci95: tuple[float, float]
    """Wilson interval of the US figure, taking n = 171."""
    uk_percent: float | None
    uk_ci95: tuple[float, float] | None
    uk_base: int | None
    """None where the UK question is not shown: how many answered is itself a result."""
    difference: float | None
    difference_ci95: tuple[float, float] | None
    significant: bool | None
    """None when the UK side is suppressed (base below the minimum cell size)."""


@lru_cache(maxsize=1)
def load_study(path: Path = DATA) -> Study:
    data = json.loads(path.read_text(encoding="utf-8"))
    figures = tuple(
        Figure(f["id"], f["scenario"], f["measure"], f["wording"], float(f["percent"]),
               bool(f["approximate"]), f.get("display") or f"{f['percent']:g}%",
               tuple(Pairing(c["uk_question"], c["note"]) for c in f["comparisons"]),
               f.get("context_note"))
        for f in data["figures"])
    study = data["study"]
    return Study(study["citation"], study["doi"], study["companion_citation"],
                 study["companion_doi"], study["short"], int(study["n"]), study["n_note"],
                 study["sample"], study["question_form"], data["caveat"], figures)


def us_count(figure: Figure, n: int) -> float:
    """The published percentage as a count of n. Not rounded to whole people: the intervals are
    then centred on the very figure that is printed (statsmodels accepts fractional counts)."""
    return figure.percent / 100 * n


def us_interval(figure: Figure, n: int) -> tuple[float, float]:
    low, high = wilson(us_count(figure, n), n)
    return one_decimal(float(low)), one_decimal(float(high))


def compare(summary: Summary, study: Study | None = None) -> tuple[Comparison, ...]:
    """UK against US for every pairing, in the order of the benchmark file."""
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
            low, high = confint_proportions_2indep(
                yes.count, result.base, us_count(figure, study.n), study.n,
                method="newcomb", compare="diff")
            difference = round_exact(Fraction(100 * yes.count, result.base)
                                     - decimal_fraction(figure.percent))
            interval = (one_decimal(float(low) * 100), one_decimal(float(high) * 100))
            comparisons.append(Comparison(
                figure, pairing.uk_question, pairing.note, us_ci, yes.percent, yes.ci95,
                result.base, difference, interval, bool(low > 0 or high < 0)))
    return tuple(comparisons)
