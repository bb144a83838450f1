"""Figures carry the numbers, titles and notes of the results they are built from."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import plotly.graph_objects as go
import pytest

from analysis.benchmark import compare, load_study
from analysis.crosstab import breakdown, crosstab
from analysis.cube import Cube
from analysis.summary import safety, summarise
from analysis.timeline import timeline
from analysis.views import Filter, group_roles
from dashboard.figures import (breakdown_figure, comparison_figure, crosstab_figure,
                               describe_comparisons, describe_question, question_figure,
                               suppressed_figure, timeline_figure)
from data_loaders.loader import to_frame
from tests.dashboard_support import FIXTURE, START, responses

MINIMUM = 10


@pytest.fixture(scope="module")
def rows():
    return [(i, r["submitted_at"], False, *(r[q] for q in list(r)[2:]))
            for i, r in enumerate(responses(FIXTURE, start=START), start=1)]


@pytest.fixture(scope="module")
def cube(rows):
    return Cube.from_frame(to_frame(rows))


@pytest.fixture(scope="module")
def grouping(cube):
    return group_roles(cube, MINIMUM)


@pytest.fixture(scope="module")
def summary(cube, grouping):
    return summarise(cube, grouping, Filter(), MINIMUM, safety(cube, grouping, MINIMUM))


@pytest.fixture(scope="module")
def every_figure(cube, grouping, summary):
    view = grouping.resolve(Filter())
    study = load_study()
    return {
        "question": question_figure(summary.question("viewed_profile"), MINIMUM),
        "suppressed": question_figure(summary.question("confident_guidance"), MINIMUM),
        "comparison": comparison_figure(compare(summary, study), study),
        "crosstab": crosstab_figure(crosstab(cube, grouping, view, "aware_of_guidance",
                                             "viewed_for_evidence", MINIMUM)),
        "breakdown": breakdown_figure(breakdown(cube, grouping, view, "viewed_profile",
                                                safety(cube, grouping, MINIMUM), MINIMUM),
                                      MINIMUM),
        "timeline": timeline_figure(timeline(cube, grouping, (), None,
                                             now=datetime(2018, 9, 20, tzinfo=timezone.utc))),
    }


def test_question_figure_carries_percentages_and_intervals(summary):
    result = summary.question("viewed_profile")
    figure = question_figure(result, MINIMUM)
    [bar] = figure["data"]
    # 25 of 45 said yes (55.6%), 20 no (44.4%); the error bars reach the Wilson bounds.
    assert bar["type"] == "bar" and bar["orientation"] == "h"
    assert bar["x"] == [55.6, 44.4]
    assert bar["y"] == ["Yes <b>55.6%</b>", "No <b>44.4%</b>"]
    yes = result.answer("yes")
    assert bar["error_x"]["array"][0] == pytest.approx(yes.ci95[1] - 55.6, abs=0.051)
    assert bar["error_x"]["arrayminus"][0] == pytest.approx(55.6 - yes.ci95[0], abs=0.051)
    assert [row[0] for row in bar["customdata"]] == [25, 20]
    assert "of 45)" in bar["hovertemplate"]
    layout = figure["layout"]
    assert layout["title"]["text"] == "Q3. Looked at a service user's profile"
    assert "Base: 45 who answered" in layout["annotations"][0]["text"]
    assert layout["height"] == 80 + 34 * 2 and layout["template"] == {}


def test_suppressed_question_shows_no_numbers(summary):
    result = summary.question("confident_guidance")
    figure = question_figure(result, MINIMUM)
    assert figure["data"] == []
    assert "Not shown" in figure["layout"]["annotations"][0]["text"]
    assert figure["layout"]["xaxis"]["visible"] is False
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
    uk, us = figure["data"]
    assert uk["name"] == "UK, this survey" and "n = 171" in us["name"]
    assert us["x"] == [c.figure.percent for c in comparisons]
    symbols = us["marker"]["symbol"]
    approximate = [c.figure.approximate for c in comparisons]
    assert symbols == ["diamond-open" if a else "diamond" for a in approximate]
    assert any(approximate) and not all(approximate)
    assert uk["x"] == [c.uk_percent for c in comparisons if c.uk_percent is not None]
    assert "Sage et al. 2017" in figure["layout"]["title"]["text"]
    assert figure["layout"]["showlegend"] is True
    assert "difference +12.6 points" in describe_comparisons(comparisons)


def test_crosstab_figure_writes_the_row_percentages_in(every_figure):
    # Of the 20 not aware of the guidance (10 social workers, 10 team managers), none looked
    # for evidence; the rows of the aware (15, of whom 3 students) are too small to show.
    figure = every_figure["crosstab"]
    [heatmap] = figure["data"]
    assert heatmap["type"] == "heatmap"
    assert heatmap["z"] == [[0.0, 100.0]]
    assert heatmap["x"] == ["Yes", "No"] and heatmap["y"] == ["No (n = 20)"]
    assert heatmap["text"][0][1].startswith("100.0%<br>(")
    assert figure["layout"]["xaxis"]["side"] == "top" and "range" not in figure["layout"]["xaxis"]
    assert figure["layout"]["margin"]["t"] == 80


def test_breakdown_figure_has_a_trace_for_each_answer_and_a_bar_for_each_group(every_figure):
    # Social workers: 12 of 22 looked (54.5%); the pooled others: 10 team managers and 3
    # students of 23 (56.5%).
    yes, no = every_figure["breakdown"]["data"]
    assert (yes["name"], no["name"]) == ("Yes", "No")
    assert yes["y"] == ["Social worker", "Other roles, pooled"]
    assert yes["x"] == [54.5, 56.5] and no["x"] == [45.5, 43.5]
    assert every_figure["breakdown"]["layout"]["barmode"] == "group"


def test_timeline_figure_counts_the_responses_and_their_margin(every_figure):
    responses_line, margin_line = every_figure["timeline"]["data"]
    # All 45 who answered question 2 arrived on the first day, a minute apart from 09:01;
    # 1.96 * sqrt(0.25 / 45) = 14.6%.
    assert responses_line["x"] == ["2018-09-12T00:00:00+00:00"] and responses_line["y"] == [45]
    assert margin_line["y"] == [14.6] and margin_line["yaxis"] == "y2"
    layout = every_figure["timeline"]["layout"]
    assert layout["xaxis"]["type"] == "date" and layout["yaxis"]["title"]["text"] == "Responses"


def test_a_one_day_timeline_shows_its_points(every_figure):
    # One day of responses: a line through one point draws nothing, so each point is marked,
    # the two by shape as well as colour.
    responses_line, margin_line = every_figure["timeline"]["data"]
    assert len(responses_line["x"]) == len(margin_line["x"]) == 1
    assert "markers" in responses_line["mode"] and "markers" in margin_line["mode"]
    assert responses_line["marker"]["size"] > 0
    assert responses_line["marker"]["symbol"] != margin_line["marker"]["symbol"]


def test_suppressed_figure_has_its_title_and_reason_only():
    figure = suppressed_figure("Q1. Role", "Not shown: too few")
    assert figure["data"] == []
    assert figure["layout"]["title"]["text"] == "Q1. Role"
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["Not shown: too few"]


def test_figures_are_plain_json_that_plotly_accepts(every_figure):
    for name, figure in every_figure.items():
        # Any JSON encoder writes them: no numpy arrays, no graph objects.
        assert json.loads(json.dumps(figure, allow_nan=False)) == figure, name
        # Every property is one plotly knows (graph objects refuse unknown ones), and the empty
        # template keeps plotly's default template out when plotly.py reads the figure.
        validated = go.Figure(figure).to_plotly_json()["layout"]["template"]
        assert validated == go.Figure(layout={"template": "none"}).to_plotly_json()["layout"][
            "template"], name


def test_a_slide_figure_has_larger_type_no_title_and_leaves_the_chart_alone(every_figure):
    from dashboard.pages.present import FONT_SIZE, projector_figure

    chart = every_figure["question"]
    before = json.dumps(chart)
    slide = projector_figure(chart)
    assert json.dumps(chart) == before
    layout = slide["layout"]
    assert "title" not in layout and "height" not in layout and layout["autosize"] is True
    assert layout["font"]["size"] == FONT_SIZE and layout["font"]["family"] == chart["layout"][
        "font"]["family"]
    # The base note, 11 points on the page, grows with the type (11 x 20 / 13 = 16.9).
    assert [a["font"]["size"] for a in layout["annotations"]] == [17]
    assert slide["data"] == chart["data"]  # bars keep their markers; only scatter's grow
    points = projector_figure(every_figure["comparison"])["data"]
    assert [trace["marker"]["size"] for trace in points] == [18, 18]


def test_an_image_figure_has_the_footer_inside_and_room_for_it(every_figure):
    from dashboard.images import IMAGE_WIDTH, figure_with_footer

    payload = {"figure": every_figure["question"], "n": 45, "sources": ["Community Care"],
               "filters_text": "All roles; everyone", "as_of": "2018-10-24T12:00:00+00:00"}
    image = figure_with_footer(payload)
    layout = image["layout"]
    assert layout["width"] == IMAGE_WIDTH and layout["height"] == 148 + 70
    assert layout["margin"] == {"l": 10, "r": 20, "t": 50, "b": 40 + 70}
    footer = layout["annotations"][-1]
    assert footer["text"].startswith("All roles; everyone · n = 45 · data as of 2018-10-24T12:00")
    assert footer["yshift"] == -50
    assert len(every_figure["question"]["layout"]["annotations"]) == 1  # the chart unchanged
