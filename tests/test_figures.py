"""Figures carry the numbers, titles and notes of the results they are built from."""

from __future__ import annotations

import pytest

from analysis.benchmark import compare, load_study
from analysis.cube import Cube
from analysis.summary import safety, summarise
from analysis.views import Filter, group_roles
from dashboard.figures import (comparison_figure, describe_comparisons, describe_question,
                               question_figure)
from data_loaders.loader import to_frame
from tests.dashboard_support import FIXTURE, responses

MINIMUM = 10


@pytest.fixture(scope="module")
def summary():
    rows = [(i, r["submitted_at"], False, *(r[q] for q in list(r)[2:]))
            for i, r in enumerate(responses(FIXTURE), start=1)]
    cube = Cube.from_frame(to_frame(rows))
    grouping = group_roles(cube, MINIMUM)
    return summarise(cube, grouping, Filter(), MINIMUM, safety(cube, grouping, MINIMUM))


def test_question_figure_carries_percentages_and_intervals(summary):
    result = summary.question("viewed_profile")
    figure = question_figure(result, MINIMUM)
    bar = figure.data[0]
    # 25 of 45 said yes (55.6%), 20 no (44.4%); the error bars reach the Wilson bounds.
    assert list(bar.x) == [55.6, 44.4]
    assert list(bar.y) == ["Yes <b>55.6%</b>", "No <b>44.4%</b>"]
    yes = result.answer("yes")
    assert bar.error_x.array[0] == pytest.approx(yes.ci95[1] - 55.6, abs=0.051)
    assert bar.error_x.arrayminus[0] == pytest.approx(55.6 - yes.ci95[0], abs=0.051)
    assert figure.layout.title.text == "Q3. Looked at a service user's profile"
    assert "Base: 45 who answered" in figure.layout.annotations[0].text


def test_suppressed_question_shows_no_numbers(summary):
    result = summary.question("confident_guidance")
    figure = question_figure(result, MINIMUM)
    assert figure.data == ()
    assert "Not shown" in figure.layout.annotations[0].text
    text = describe_question(result, MINIMUM)
    assert "Not shown" in text and "%" not in text


def test_text_alternative_is_written_from_the_numbers(summary):
    text = describe_question(summary.question("viewed_profile"), MINIMUM)
    assert text.startswith("Question 3, Have you ever used social media to look at a service "
                           "user's profile? Of 45 who answered: Yes 55.6% (25, 95% interval")
    assert "No 44.4% (20," in text


def test_comparison_figure_marks_the_benchmark_and_approximate_figures(summary):
    study = load_study()
    comparisons = compare(summary, study)
    figure = comparison_figure(comparisons, study)
    uk, us = figure.data
    assert uk.name == "UK, this survey" and "n = 171" in us.name
    assert list(us.x) == [c.figure.percent for c in comparisons]
    symbols = list(us.marker.symbol)
    approximate = [c.figure.approximate for c in comparisons]
    assert symbols == ["diamond-open" if a else "diamond" for a in approximate]
    assert any(approximate) and not all(approximate)
    assert list(uk.x) == [c.uk_percent for c in comparisons if c.uk_percent is not None]
    assert "Sage et al. 2017" in figure.layout.title.text
    assert "difference +12.6 points" in describe_comparisons(comparisons)
