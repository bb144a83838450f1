"""The US benchmark (Sage et al., 2017) and the UK - US comparisons.

Figures and pairings are written out from shared/reference/SURVEY.md. Difference intervals are
checked against Newcombe's hybrid score interval (Newcombe 1998, method 10) written out here with
``math``: with Wilson intervals (l1, u1) for the UK and (l2, u2) for the US, and d = p1 - p2,

    lower = d - sqrt((p1 - l1)² + (u2 - p2)²),   upper = d + sqrt((u1 - p1)² + (p2 - l2)²).
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import pytest

from analysis.benchmark import compare, load_study
from analysis.cube import Cube
from analysis.summary import summarise
from analysis.views import Filter, grouping_for
from tests.analysis_fixtures import frame, people

Z = NormalDist().inv_cdf(0.975)


def wilson_by_hand(k: float, n: int) -> tuple[float, float]:
    """Wilson score interval as proportions; ``k`` may be fractional (a published percentage)."""
    p = k / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denominator
    return centre - half, centre + half


def newcombe_by_hand(k1: int, n1: int, p2: float, n2: int) -> tuple[float, float, float]:
    """(d, lower, upper) in percentage points for UK k1 of n1 against a US proportion p2 of n2."""
    p1 = k1 / n1
    l1, u1 = wilson_by_hand(k1, n1)
    l2, u2 = wilson_by_hand(p2 * n2, n2)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return 100 * d, 100 * lower, 100 * upper


# ---------------------------------------------------------------------------------------------
# The study as SURVEY.md gives it

FIGURES = {
    # id: (scenario, measure, percent, approximate, display)
    "curiosity_done": ("out of curiosity", "had done it", 43, False, "43%"),
    "locate_done": ("to locate a client the agency wants to find (e.g. a missing parent)",
                    "had done it", 49, False, "49%"),
    "risk_done": ("when it might give insight into client risk factors", "had done it", 46,
                  False, "46%"),
    "investigation_done": ("when conducting a child welfare investigation or assessment",
                           "had done it", None, True, "about a third"),
    "curiosity_acceptable": ("out of curiosity", "acceptable in some situations", 58, False,
                             "58%"),
    "locate_acceptable": ("to locate a client the agency wants to find (e.g. a missing parent)",
                          "acceptable in some situations", 53, False, "53%"),
    "risk_acceptable": ("when it might give insight into client risk factors",
                        "acceptable in some situations", 61, False, "61%"),
    "investigation_acceptable": ("when conducting a child welfare investigation or assessment",
                                 "acceptable in some situations", 65, True, "about 65%"),
}

# UK question 3 beside the four "had done it" figures; question 4 beside risk and investigation.
PAIRINGS = {
    "curiosity_done": ("viewed_profile",),
    "locate_done": ("viewed_profile",),
    "risk_done": ("viewed_profile", "viewed_for_evidence"),
    "investigation_done": ("viewed_profile", "viewed_for_evidence"),
    "curiosity_acceptable": (),
    "locate_acceptable": (),
    "risk_acceptable": (),
    "investigation_acceptable": (),
}

ORDER = [("curiosity_done", "viewed_profile"), ("locate_done", "viewed_profile"),
         ("risk_done", "viewed_profile"), ("risk_done", "viewed_for_evidence"),
         ("investigation_done", "viewed_profile"), ("investigation_done", "viewed_for_evidence")]


def test_study_n_citation_and_doi():
    study = load_study()
    assert study.n == 171
    assert study.doi == "10.1016/j.childyouth.2017.04.018"
    assert study.companion_doi == "10.18060/20880"
    assert "Sage" in study.citation and "2017" in study.citation
    assert "171" in study.short
    assert study.caveat  # different country, year, population: said next to every comparison


def test_exactly_eight_figures():
    study = load_study()
    assert [f.id for f in study.figures] == list(FIGURES)


@pytest.mark.parametrize("figure_id", list(FIGURES))
def test_figure_as_published(figure_id):
    figure = next(f for f in load_study().figures if f.id == figure_id)
    scenario, measure, percent, approximate, display = FIGURES[figure_id]
    assert figure.scenario == scenario
    assert figure.measure == measure
    if percent is None:  # "about a third"
        assert abs(figure.percent - 100 / 3) < 0.5
    else:
        assert figure.percent == percent
    assert figure.approximate is approximate
    assert figure.display == display
    assert figure.wording


@pytest.mark.parametrize("figure_id", list(FIGURES))
def test_pairings_as_survey_md_says(figure_id):
    figure = next(f for f in load_study().figures if f.id == figure_id)
    assert tuple(p.uk_question for p in figure.comparisons) == PAIRINGS[figure_id]
    for pairing in figure.comparisons:
        assert pairing.note  # the wordings differ: a note beside every comparison
        if figure.approximate:
            assert "approximate" in pairing.note
    if not figure.comparisons:  # "acceptable": context only
        assert figure.context_note and "context only" in figure.context_note


# ---------------------------------------------------------------------------------------------
# Comparisons

def uk_summary(specs, minimum=5, view=Filter()):
    """The summary of ``specs`` (social workers, shown on their own), as if all published."""
    cube = Cube.from_frame(frame(specs))
    return summarise(cube, grouping_for(cube, ()), view, minimum)


# 40 social workers using social media: 30 looked at a profile (75%), 10 of them to gather
# evidence (25%, "a quarter", as published).
FORTY = (people("sw", "y", 10, "y y n . n n") + people("sw", "y", 20, "y n n . n n")
         + people("sw", "y", 10, "n n n . n n"))

# UK% - US%: 75 - 43 = 32.0, 75 - 49 = 26.0, 75 - 46 = 29.0, 25 - 46 = -21.0. "About a third"
# is approximate, read as 30% to 37%: 75 - 37 = 38 to 75 - 30 = 45, and 25 - 37 = -12 to
# 25 - 30 = -5, in whole points, with no one-decimal difference.
DIFFERENCES = [32.0, 26.0, 29.0, -21.0, None, None]
RANGES = [None, None, None, None, (38.0, 45.0), (-12.0, -5.0)]
# Score-test p-values (hand formula below): q3 against every US figure far below 0.001; q4
# against risk 0.0157; q4 against "about a third", at its nearest end (30%), 0.53. Holm over
# six: the fifth smallest, 0.0157 x 2 = 0.031, is below 0.05; the sixth is not.
SIGNIFICANT = [True, True, True, True, True, False]


def score_p_by_hand(k1: int, n1: int, p2: float, n2: int) -> float:
    """Two-sided p of the score test of p1 = p2 (pooled variance, times N / (N - 1))."""
    pooled = (k1 + p2 * n2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2) * (n1 + n2) / (n1 + n2 - 1)
    z = (k1 / n1 - p2) / math.sqrt(variance)
    return 2 * NormalDist().cdf(-abs(z))


def test_comparisons_in_file_order_with_differences():
    comparisons = compare(uk_summary(FORTY))
    assert [(c.figure.id, c.uk_question) for c in comparisons] == ORDER
    assert [c.difference for c in comparisons] == DIFFERENCES
    assert [c.difference_range for c in comparisons] == RANGES
    assert [c.uk_base for c in comparisons] == [40] * 6
    assert [c.uk_percent for c in comparisons] == [75.0, 75.0, 75.0, 25.0, 75.0, 25.0]
    assert [c.significant for c in comparisons] == SIGNIFICANT
    for c in comparisons:
        assert c.note == next(p.note for p in c.figure.comparisons
                              if p.uk_question == c.uk_question)


@pytest.mark.parametrize("specs", [
    pytest.param(FORTY, id="30 and 10 of 40"),
    pytest.param(people("sw", "y", 12, "n n n . n n"), id="none of 12"),
    pytest.param(people("sw", "y", 12, "y y n . n n"), id="all of 12"),
    pytest.param(people("sw", "y", 22, "y n n . n n") + people("sw", "y", 18, "n y n . n n"),
                 id="22 of 40 and 18 of 40"),
])
def test_difference_interval_is_newcombes_and_decides_significance(specs):
    summary = uk_summary(specs)
    study = load_study()
    for c in compare(summary, study):
        yes = summary.question(c.uk_question).answer("yes").count
        base = summary.question(c.uk_question).base
        assert c.uk_percent == round(100 * yes / base, 1)
        assert c.significant is (c.p_adjusted < 0.05)
        low, high = c.difference_ci95
        if c.approximate:  # from the interval at 37% (its low end) to that at 30% (its high)
            lower = newcombe_by_hand(yes, base, 0.37, study.n)[1]
            upper = newcombe_by_hand(yes, base, 0.30, study.n)[2]
            assert abs(low - lower) <= 0.5 and abs(high - upper) <= 0.5
            assert low == round(low) and high == round(high)
            continue
        d, lower, upper = newcombe_by_hand(yes, base, c.figure.percent / 100, study.n)
        assert c.difference == round(d, 1)
        # Within rounding to one decimal.
        assert abs(low - lower) <= 0.05 and abs(high - upper) <= 0.05, (c.figure.id, c.uk_question)
        assert low < c.difference < high
        assert abs(c.p_value - score_p_by_hand(yes, base, c.figure.percent / 100, study.n)) < 1e-9


def test_holm_adjusts_the_p_values_of_the_six_comparisons_together():
    comparisons = compare(uk_summary(FORTY))
    raw = [c.p_value for c in comparisons]
    assert abs(raw[3] - 0.01567) < 1e-4
    assert abs(raw[5] - score_p_by_hand(10, 40, 0.30, 171)) < 1e-9  # the nearest end
    assert abs(raw[5] - 0.5316) < 1e-3
    order = sorted(range(6), key=raw.__getitem__)
    running = 0.0
    for rank, i in enumerate(order):  # Holm: (m - rank) p, made non-decreasing, at most 1
        running = max(running, min(1.0, (6 - rank) * raw[i]))
        assert abs(comparisons[i].p_adjusted - running) < 1e-12
    assert abs(comparisons[3].p_adjusted - 2 * raw[3]) < 1e-12  # the fifth smallest: x 2
    assert [c.significant for c in comparisons] == SIGNIFICANT


def test_a_uk_figure_inside_an_approximate_range_is_never_significant(tmp_path):
    # 13 of 40 is 32.5%, inside "about a third" (30% to 37%): p = 1 whatever the n. Its
    # difference: 32.5 - 37 = -4.5, a half, so -5; 32.5 - 30 = 2.5, so 3.
    specs = people("sw", "y", 13, "y y n . n n") + people("sw", "y", 27, "n n n . n n")
    (*_, evidence) = compare(uk_summary(specs))
    assert evidence.figure.id == "investigation_done" and evidence.p_value == 1.0
    assert evidence.difference_range == (-5.0, 3.0) and evidence.significant is False


def test_difference_interval_is_around_the_published_us_percentage():
    # 30 of 40 against 43% of 171: d = 32.0, Newcombe (hand) = (15.1, 45.0), centred on the
    # published 43% (not on 74/171 = 43.27%, the nearest whole count, which gives (14.8, 44.7)).
    summary = uk_summary(FORTY)
    study = load_study()
    got, expected = [], []
    for c in compare(summary, study):
        if c.approximate:
            continue
        result = summary.question(c.uk_question)
        d, lower, upper = newcombe_by_hand(result.answer("yes").count, result.base,
                                           c.figure.percent / 100, study.n)
        got.append(c.difference_ci95)
        expected.append((round(lower, 1), round(upper, 1)))
    assert got == expected


def test_us_interval_is_around_the_published_percentage():
    study = load_study()
    got = [c.us_ci95 for c in compare(uk_summary(FORTY), study) if not c.approximate]
    expected = []
    for c in compare(uk_summary(FORTY), study):
        if not c.approximate:
            low, high = wilson_by_hand(c.figure.percent / 100 * study.n, study.n)
            expected.append((round(100 * low, 1), round(100 * high, 1)))
    assert got == expected


def test_an_approximate_us_figure_is_the_range_its_wording_allows_in_whole_points():
    # "About a third", read as 30% to 37%: Wilson at 30% of 171 from 23.6%, at 37% up to 44.4%.
    study = load_study()
    figure = next(f for f in study.figures if f.id == "investigation_done")
    assert figure.range == (30.0, 37.0) and figure.range_note
    low, _ = wilson_by_hand(0.30 * 171, 171)
    _, high = wilson_by_hand(0.37 * 171, 171)
    assert 0.2360 < low < 0.2370 and 0.4440 < high < 0.4450
    for c in compare(uk_summary(FORTY), study):
        if c.approximate:
            assert c.us_ci95 == (24.0, 44.0)


def test_us_interval_contains_the_published_figure():
    study = load_study()
    for c in compare(uk_summary(FORTY), study):
        if c.approximate:
            continue
        low, high = wilson_by_hand(c.figure.percent / 100 * study.n, study.n)
        assert abs(c.us_ci95[0] - 100 * low) <= 0.05 and abs(c.us_ci95[1] - 100 * high) <= 0.05
        assert c.us_ci95[0] < c.figure.percent < c.us_ci95[1]


def write_study(tmp_path, percent: float, n: int):
    data = {
        "study": {"citation": "Test study", "doi": "10.0/test", "companion_citation": "",
                  "companion_doi": "", "short": f"test, n = {n}", "n": n, "n_note": "",
                  "sample": "", "question_form": ""},
        "caveat": "test",
        "figures": [{"id": "looked", "scenario": "any", "measure": "had done it",
                     "wording": "Looked?", "percent": percent, "approximate": False,
                     "comparisons": [{"uk_question": "viewed_profile", "note": "close"}]}],
    }
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_study(path)


@pytest.mark.parametrize("yes, base, expected, significant", [
    # UK 30/40: Wilson (59.81, 85.81); US 50/100: Wilson (40.38, 59.62). d = 25.0;
    # lower = 25 - sqrt(15.19² + 9.62²) = 25 - 17.98 = 7.0; upper = 25 + sqrt(10.81² + 9.62²)
    # = 25 + 14.47 = 39.5.
    (30, 40, (25.0, (7.0, 39.5)), True),
    # The mirror image: 10/40 -> d = -25.0, (-39.5, -7.0).
    (10, 40, (-25.0, (-39.5, -7.0)), True),
    # 22/40 = 55%: Wilson (39.83, 69.29); d = 5.0; lower = 5 - sqrt(15.17² + 9.62²) = -13.0;
    # upper = 5 + sqrt(14.29² + 9.62²) = 22.2. Spans 0.
    (22, 40, (5.0, (-13.0, 22.2)), False),
    # 0/12: Wilson (0, 24.25); d = -50.0; lower = -50 - sqrt(0 + 9.62²) = -59.6;
    # upper = -50 + sqrt(24.25² + 9.62²) = -23.9.
    (0, 12, (-50.0, (-59.6, -23.9)), True),
])
def test_newcombe_exact_where_the_us_count_is_whole(tmp_path, yes, base, expected, significant):
    # 50% of 100 is exactly 50 people: no rounding question, so the interval must be exact.
    study = write_study(tmp_path, 50, 100)
    specs = (people("sw", "y", yes, "y n n . n n") + people("sw", "y", base - yes, "n n n . n n"))
    (c,) = compare(uk_summary(specs), study)
    assert (c.difference, c.difference_ci95) == expected
    d, lower, upper = newcombe_by_hand(yes, base, 0.5, 100)
    assert expected == (round(d, 1), (round(lower, 1), round(upper, 1)))
    assert c.significant is significant
    assert c.uk_base == base


# 12 respondents: all answered question 3 (8 yes), only 4 answered question 4 (1 yes).
TWELVE = (people("sw", "y", 1, "y y n . n n") + people("sw", "y", 3, "y n n . n n")
          + people("sw", "y", 4, "y - n . n n") + people("sw", "y", 4, "n - n . n n"))


def test_suppressed_uk_question_gives_no_comparison():
    comparisons = compare(uk_summary(TWELVE, 5))
    assert [(c.figure.id, c.uk_question) for c in comparisons] == ORDER
    for c in comparisons:
        if c.uk_question == "viewed_for_evidence":  # base 4 < 5: not even the base is shown
            assert c.uk_base is None
            assert (c.uk_percent, c.difference, c.difference_ci95, c.significant) == (
                None, None, None, None)
        else:  # 8/12 = 66.7%
            assert c.uk_base == 12 and c.uk_percent == 66.7
            if c.approximate:  # 66.7 - 37 = 29.7 and 66.7 - 30 = 36.7, in whole points
                assert c.difference is None and c.difference_range == (30.0, 37.0)
            else:
                assert c.difference == round(800 / 12 - c.figure.percent, 1)
            assert c.difference_ci95 is not None and c.significant is not None


def test_suppressed_view_gives_no_comparison():
    comparisons = compare(uk_summary(TWELVE, 13))  # 12 respondents < 13
    assert len(comparisons) == 6
    for c in comparisons:
        assert (c.uk_base, c.uk_percent, c.difference, c.difference_ci95, c.significant) == (
            None, None, None, None, None)


@pytest.mark.parametrize("yes, base, us_percent, expected", [
    # 923 of 2,000 is exactly 46.15%, written 46.2%: UK minus US 46 is exactly +0.15, a half,
    # so +0.2 (in floats 46.15 - 46 is 0.1499999...).
    (923, 2000, 46, 0.2),
    # 1 of 16 is exactly 6.25%; minus 33.3 is exactly -27.05, so -27.1 (floats: -27.04999...).
    (1, 16, 33.3, -27.1),
    # 6 of 13 is 46.153846...%: +0.153846... is past no half, +0.2 either way.
    (6, 13, 46, 0.2),
])
def test_difference_is_exact_from_the_counts_and_rounded_once_half_away_from_zero(
        tmp_path, yes, base, us_percent, expected):
    study = write_study(tmp_path, us_percent, 171)
    specs = (people("sw", "y", yes, "y n n . n n") + people("sw", "y", base - yes, "n n n . n n"))
    (c,) = compare(uk_summary(specs), study)
    assert c.difference == expected
