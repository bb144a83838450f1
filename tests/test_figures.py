"""Figures carry the numbers, titles and notes of the results they are built from.

The figures are drawn from what a release of the dashboard tests' :data:`FIXTURE` publishes (at
minimum 10, the 42 social workers and team managers who answered question 2, on 13 September
2018 at 10:00): the numbers below are tallied from its rows by hand.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis.benchmark import compare, load_study
from analysis.crosstab import breakdown, crosstab
from analysis.cube import Cube
from analysis.releases import ClassKey, pattern_of, pooling, select_batch
from analysis.summary import question_result, safety, summarise
from analysis.timeline import timeline
from analysis.views import Filter, grouping_for
from dashboard.figures import (breakdown_figure, comparison_figure, crosstab_figure,
                               describe_chi_square, describe_comparisons, describe_crosstab,
                               describe_question, question_figure, suppressed_figure,
                               suppressed_text, timeline_figure)
from data_loaders.loader import to_frame
from survey.questionnaire import BY_ID, QUESTION_IDS
from tests.dashboard_support import FIXTURE, START, responses

MINIMUM = 10
RELEASED_AT = datetime(2018, 9, 13, 10, 0, tzinfo=timezone.utc)
POOLED = pooling((), (), (), 0, 500)
"""The first release's pooling: "no answer" only."""


@pytest.fixture(scope="module")
def rows():
    """:data:`FIXTURE`'s rows that its first release publishes."""
    every = [(i, r["submitted_at"], False, *(r[q] for q in QUESTION_IDS))
             for i, r in enumerate(responses(FIXTURE, start=START), start=1)]
    keys = [ClassKey(r[3], r[4], False, pattern_of(dict(zip(QUESTION_IDS, r[3:]))))
            for r in every]
    waiting: dict[ClassKey, int] = {}
    for key in keys:
        waiting[key] = waiting.get(key, 0) + 1
    batch = select_batch(waiting, POOLED, MINIMUM)
    published = [r for r, key in zip(every, keys) if key in batch]
    assert len(every) == 47 and len(published) == 42  # the 3 students and 2 blanks wait
    assert {r[3] for r in published} == {"social_worker", "team_manager"}
    return published


@pytest.fixture(scope="module")
def cube(rows):
    frame = to_frame(rows)
    frame["published_at"] = pd.Timestamp(RELEASED_AT)
    return Cube.from_frame(frame)


@pytest.fixture(scope="module")
def grouping(cube):
    return grouping_for(cube, POOLED)


@pytest.fixture(scope="module")
def summary(cube, grouping):
    return summarise(cube, grouping, Filter(), MINIMUM, safety(cube, grouping, MINIMUM))


def team_managers(cube, grouping):
    """The team managers' summary: none of the 20 was asked question 6 (none aware)."""
    return summarise(cube, grouping, Filter(("team_manager",)), MINIMUM,
                     safety(cube, grouping, MINIMUM))


@pytest.fixture(scope="module")
def every_figure(cube, grouping, summary):
    view = grouping.resolve(Filter())
    study = load_study()
    return {
        "question": question_figure(summary.question("viewed_profile"), MINIMUM),
        "suppressed": question_figure(team_managers(cube, grouping).question(
            "confident_guidance"), MINIMUM),
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
    # Yes: 12 social workers and the 10 team managers using social media, 22 of 42 (52.38%);
    # no: the other 10 social workers and 10 team managers, 20 (47.62%). The error bars reach
    # the Wilson bounds.
    assert bar["type"] == "bar" and bar["orientation"] == "h"
    assert bar["x"] == [52.4, 47.6]
    assert bar["y"] == ["Yes <b>52.4%</b>", "No <b>47.6%</b>"]
    yes = result.answer("yes")
    assert bar["error_x"]["array"][0] == pytest.approx(yes.ci95[1] - 52.4, abs=0.051)
    assert bar["error_x"]["arrayminus"][0] == pytest.approx(52.4 - yes.ci95[0], abs=0.051)
    assert [row[0] for row in bar["customdata"]] == [22, 20]
    assert "of 42)" in bar["hovertemplate"]
    layout = figure["layout"]
    assert layout["title"]["text"] == "Q3. Looked at a service user's profile"
    assert "Base: 42 who answered" in layout["annotations"][0]["text"]
    assert layout["height"] == 80 + 34 * 2 and layout["template"] == {}


def test_a_question_nobody_in_the_view_answered_shows_no_numbers(cube, grouping):
    result = team_managers(cube, grouping).question("confident_guidance")
    assert (result.base, result.not_asked, result.suppressed) == (0, 20, True)
    figure = question_figure(result, MINIMUM)
    assert figure["data"] == []
    assert figure["layout"]["annotations"][0]["text"] == "No answers published for this view yet"
    assert figure["layout"]["xaxis"]["visible"] is False
    text = describe_question(result, MINIMUM)
    assert text.endswith("No answers published for this view yet.") and "%" not in text


@pytest.mark.parametrize("counts, suppress, expected", [
    # 3 yes and 2 no: a base of 5, below 10.
    ([3, 2, 0], False, "Fewer than 10 answers: not shown"),
    # 30 answered, but the defensive check withholds it (a release made under a smaller
    # minimum): the reason says so.
    ([20, 10, 0], True, "Not shown for this selection: a role group in it has fewer than 10 "
                        "published answers to this question (published under a smaller "
                        "minimum)"),
    ([0, 0, 7], False, "No answers published for this view yet"),  # 7 left it blank
])
def test_a_suppressed_question_says_why(counts, suppress, expected):
    result = question_result(BY_ID["viewed_profile"], counts, MINIMUM, suppress=suppress)
    assert result.suppressed and result.answers == ()
    assert suppressed_text(result, MINIMUM) == expected
    assert question_figure(result, MINIMUM)["layout"]["annotations"][0]["text"] == expected


def test_text_alternative_is_written_from_the_numbers(summary):
    # The view of no filter: its base counts those who left question 2 blank (none here).
    text = describe_question(summary.question("viewed_profile"), MINIMUM, summary.everyone)
    assert text.startswith("Question 3, Have you ever used social media to look at a service "
                           "user's profile? Of 42 who answered this question (low base): Yes "
                           "52.4% (22, 95% interval")
    assert "No 47.6% (20," in text


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
    # Question 3, 22/42 = 52.38%, against 43%: 9.38 points.
    text = describe_comparisons(comparisons, study)
    assert "difference +9.4 points (95% interval" in text
    # "About a third", read as 30% to 37%: 52.38 - 37 = 15.4 and 52.38 - 30 = 22.4, whole points.
    assert "difference +15 to +22 points, approximate (95% interval" in text
    assert "about a third (approximate: read as 30% to 37%)" in text


def test_crosstab_figure_writes_the_row_percentages_in(every_figure):
    # Question 5 by question 4: the 12 aware social workers all looked for evidence; the 20 not
    # aware (10 social workers, 10 team managers) and the 10 not sure (team managers) did not.
    figure = every_figure["crosstab"]
    [heatmap] = figure["data"]
    assert heatmap["type"] == "heatmap"
    assert heatmap["z"] == [[100.0, 0.0], [0.0, 100.0], [0.0, 100.0]]
    assert heatmap["x"] == ["Yes", "No"]
    assert heatmap["y"] == ["Yes (n = 12)", "No (n = 20)", "Not sure (n = 10)"]
    assert heatmap["text"][1][1].startswith("100.0%<br>(")
    assert figure["layout"]["xaxis"]["side"] == "top" and "range" not in figure["layout"]["xaxis"]
    assert figure["layout"]["margin"]["t"] == 80


def test_crosstab_figure_and_text_give_those_who_did_not_answer_the_column_question(
        cube, grouping):
    # Question 5 by question 6: only the 12 aware were asked question 6 (all said yes); the 20
    # not aware and the 10 not sure were not asked it.
    table = crosstab(cube, grouping, grouping.resolve(Filter()), "aware_of_guidance",
                     "confident_guidance", MINIMUM)
    [heatmap] = crosstab_figure(table)["data"]
    assert heatmap["y"] == ["Yes (n = 12)", "No (n = 0; not asked 20)",
                            "Not sure (n = 0; not asked 10)"]
    assert heatmap["text"][0][0].startswith("100.0%<br>(")
    assert heatmap["text"][1] == heatmap["text"][2] == ["–", "–", "–"]  # nobody to count
    assert describe_crosstab(table) == (
        "Of 12 who answered Yes to question 5 and answered question 6: Yes 100.0%, No 0.0%, "
        "Not sure 0.0%. No to question 5: none answered question 6; not asked: 20. Not sure to "
        "question 5: none answered question 6; not asked: 10.")
    assert describe_chi_square(table) == ("Test of independence: not enough answers in two rows "
                                          "and two columns to test.")


def test_test_text_says_which_test_of_which_table_and_what_it_leaves_out(cube, grouping):
    # Question 5 by question 4: [[12, 0], [0, 20], [0, 10]], a perfect association: chi² = n x
    # (min(rows, columns) - 1) = 42 x 1 = 42.00; expected counts 12 x 12 / 42 = 3.4 and
    # 10 x 12 / 42 = 2.9 are below 5, so the exact test by Monte Carlo, whose least p is
    # 1 / 10,000.
    table = crosstab(cube, grouping, grouping.resolve(Filter()), "aware_of_guidance",
                     "viewed_for_evidence", MINIMUM)
    assert describe_chi_square(table) == (
        "Exact test of independence by Monte Carlo (9,999 random tables with the same totals, "
        "as some expected counts are below 5), of the 3 × 2 table of the 42 who answered both "
        "questions (question 5: Yes, No, Not sure; question 4: Yes, No): χ² = 42.00, "
        "p < 0.001.")


def test_an_empty_crosstab_says_nothing_is_published():
    table = crosstab(Cube.empty(), grouping_for(Cube.empty(), POOLED), Filter(),
                     "aware_of_guidance", "viewed_for_evidence", MINIMUM)
    assert table.total == 0
    figure = crosstab_figure(table)
    assert figure["data"] == []
    assert figure["layout"]["annotations"][0]["text"] == ("No responses published for these "
                                                          "roles yet")
    assert describe_crosstab(table) == "Cross-tab: no responses published for these roles yet."


def test_breakdown_figure_has_a_trace_for_each_answer_and_a_bar_for_each_group(every_figure):
    # Social workers: 12 of 22 looked (54.5%); team managers, on their own: 10 of 20 (50.0%).
    # Nobody pooled is published: no bar for the pool.
    yes, no = every_figure["breakdown"]["data"]
    assert (yes["name"], no["name"]) == ("Yes", "No")
    assert yes["y"] == ["Social worker", "Team manager"]
    assert yes["x"] == [54.5, 50.0] and no["x"] == [45.5, 50.0]
    assert every_figure["breakdown"]["layout"]["barmode"] == "group"


def test_timeline_figure_counts_the_responses_and_their_margin(every_figure):
    responses_line, margin_line = every_figure["timeline"]["data"]
    # All 42 published by one release on 13 September (submitted on the 12th: what counts is
    # when they were published); 1.96 x sqrt(0.25 / 42) = 15.1%.
    assert responses_line["x"] == ["2018-09-13T00:00:00"] and responses_line["y"] == [42]
    assert margin_line["y"] == [15.1] and margin_line["yaxis"] == "y2"
    layout = every_figure["timeline"]["layout"]
    assert layout["xaxis"]["type"] == "date" and layout["yaxis"]["title"]["text"] == "Responses"


def test_a_one_day_timeline_shows_its_points(every_figure):
    # One day of releases: a line through one point draws nothing, so each point is marked,
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

    payload = {"figure": every_figure["question"], "n": 42, "sources": ["Community Care"],
               "filters_text": "All roles; everyone", "as_of": "2018-10-24T12:00:00+00:00"}
    image = figure_with_footer(payload)
    layout = image["layout"]
    assert layout["width"] == IMAGE_WIDTH and layout["height"] == 148 + 70
    assert layout["margin"] == {"l": 10, "r": 20, "t": 50, "b": 40 + 70}
    footer = layout["annotations"][-1]
    assert footer["text"].startswith("All roles; everyone · n = 42 · data as of 2018-10-24T12:00")
    assert footer["yshift"] == -50
    assert len(every_figure["question"]["layout"]["annotations"]) == 1  # the chart unchanged
