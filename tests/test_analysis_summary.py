"""Per-question results: bases, counts, "no answer", "not asked", percentages and Wilson
intervals; and the cross-tab of two questions, whose rows and columns add up to them.

Every count and percentage below is tallied by hand from the 22 responses of :data:`TWENTY_TWO`.
Intervals are checked against the Wilson score formula written out here with ``math`` (not
statsmodels), and against values worked out independently; the chi-square test likewise.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.cube import Cube
from analysis.crosstab import CROSSTAB_QUESTIONS, breakdown, crosstab, independence
from analysis.summary import one_decimal, round_exact, safety, summarise, wilson
from analysis.timeline import timeline
from analysis.views import POOLED, Filter, grouping_for
from survey.questionnaire import BY_ID, ROLE_CODES
from tests.analysis_fixtures import frame, people

Z = NormalDist().inv_cdf(0.975)  # 1.95996...


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval, in percent: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denominator
    return 100 * (centre - half), 100 * (centre + half)


def rounded(pair) -> tuple[float, float]:
    return round(pair[0], 1), round(pair[1], 1)


# ---------------------------------------------------------------------------------------------
# Wilson intervals

@pytest.mark.parametrize("k, n, expected", [
    (43, 100, (33.7, 52.8)),
    (57, 100, (47.2, 66.3)),   # the mirror image of 43 of 100
    (0, 10, (0.0, 27.8)),
    (10, 10, (72.2, 100.0)),
    (1, 1, (20.7, 100.0)),
    (3, 6, (18.8, 81.2)),
])
def test_wilson_known_values(k, n, expected):
    assert rounded(wilson_by_hand(k, n)) == expected  # the hand formula agrees with the values
    low, high = wilson(k, n)
    assert rounded((float(low), float(high))) == expected


def test_wilson_vectorised_and_zero_base():
    low, high = wilson(np.array([43, 0, 10, 0]), np.array([100, 10, 10, 0]))
    assert [rounded(p) for p in zip(low.tolist(), high.tolist())] == [
        (33.7, 52.8), (0.0, 27.8), (72.2, 100.0), (0.0, 0.0)]


def test_wilson_through_summarise_for_43_of_100():
    specs = people("sw", "y", 43, "y n n . n n") + people("sw", "y", 57, "n n n . n n")
    cube = Cube.from_frame(frame(specs))
    q3 = summarise(cube, grouping_for(cube, ()), Filter(), 10).question("viewed_profile")
    assert q3.base == 100
    assert (q3.answer("yes").count, q3.answer("yes").percent, q3.answer("yes").ci95) == (
        43, 43.0, (33.7, 52.8))
    assert (q3.answer("no").count, q3.answer("no").percent, q3.answer("no").ci95) == (
        57, 57.0, (47.2, 66.3))


# ---------------------------------------------------------------------------------------------
# The 22-response fixture
#
#        role q2 q3 q4 q5 q6 q7 q8
TWENTY_TWO = [
    "sw y y y y y y y",    # 1
    "sw y y y y y n y",    # 2
    "sw y y n y ? ? y",    # 3
    "sw y y n y n n y",    # 4
    "sw y y - y ? ? n",    # 5
    "sw y n n y - n y",    # 6
    "sw y n n n . n y",    # 7
    "sw y - n n . ? -",    # 8
    "sw n n n ? . n ?",    # 9
    "sw n - - ? . y y",    # 10
    "tm y y y y y n y",    # 11
    "tm y y y n . ? n",    # 12
    "tm y n n n . n ?",    # 13
    "tm y n n ? . n ?",    # 14
    "tm n - n - . y y",    # 15
    "tm n n n - . ? y",    # 16
    "st y y y ? . n ?",    # 17
    "st y n n n . ? n",    # 18
    "st n n n ? . n ?",    # 19
    "- n y n n . - y",     # 20 role left blank
    # Question 2 left blank: in no view. Their answers would change every count below.
    "sw - y y y y y y",    # 21
    "st - y y y n y y",    # 22
]
# Atoms (question 2 yes, no): sw (8, 2), tm (4, 2), st (2, 1), blank role (0, 1). Summarised
# with every role pooled, (14, 6), unless a test says otherwise.


def summary_of(minimum: int, view: Filter = Filter()):
    cube = Cube.from_frame(frame(TWENTY_TWO))
    assert cube.total == 22
    return summarise(cube, grouping_for(cube, ROLE_CODES), view, minimum)


# Everyone (rows 1-20), minimum 5: (base, no_answer, not_asked, [(code, count, percent)]).
EVERYONE = {
    # yes: rows 1-8, 11-14, 17, 18 = 14; no: 9, 10, 15, 16, 19, 20 = 6. 14/20 = 70.0%.
    "uses_social_media": (20, 0, 0, [("yes", 14, 70.0), ("no", 6, 30.0)]),
    # yes: 1-5, 11, 12, 17, 20 = 9; no: 6, 7, 9, 13, 14, 16, 18, 19 = 8; blank: 8, 10, 15 = 3.
    # 9/17 = 52.94%, 8/17 = 47.06%.
    "viewed_profile": (17, 3, 0, [("yes", 9, 52.9), ("no", 8, 47.1)]),
    # yes: 1, 2, 11, 12, 17 = 5; blank: 5, 10 = 2; no: 20 - 7 = 13. 5/18 = 27.78%, 13/18 = 72.22%.
    "viewed_for_evidence": (18, 2, 0, [("yes", 5, 27.8), ("no", 13, 72.2)]),
    # yes: 1-6, 11 = 7; no: 7, 8, 12, 13, 18, 20 = 6; not sure: 9, 10, 14, 17, 19 = 5;
    # blank: 15, 16 = 2. 7/18 = 38.89%, 6/18 = 33.33%, 5/18 = 27.78%.
    "aware_of_guidance": (18, 2, 0, [("yes", 7, 38.9), ("no", 6, 33.3), ("not_sure", 5, 27.8)]),
    # Asked of the 7 aware (1-6, 11): yes 1, 2, 11 = 3; no 4 = 1; not sure 3, 5 = 2; blank 6 = 1.
    # Not asked: 20 - 7 = 13. Base 6: 3/6 = 50.0%, 1/6 = 16.67%, 2/6 = 33.33%.
    "confident_guidance": (6, 1, 13, [("yes", 3, 50.0), ("no", 1, 16.7), ("not_sure", 2, 33.3)]),
    # yes: 1, 10, 15 = 3; not sure: 3, 5, 8, 12, 16, 18 = 6; blank: 20; no: 19 - 9 = 10.
    # 3/19 = 15.79%, 10/19 = 52.63%, 6/19 = 31.58%.
    "confident_rules": (19, 1, 0, [("yes", 3, 15.8), ("no", 10, 52.6), ("not_sure", 6, 31.6)]),
    # yes: 1-4, 6, 7, 10, 11, 15, 16, 20 = 11; no: 5, 12, 18 = 3; not sure: 9, 13, 14, 17, 19 = 5;
    # blank: 8. 11/19 = 57.89%, 3/19 = 15.79%, 5/19 = 26.32%.
    "knows_who_to_ask": (19, 1, 0, [("yes", 11, 57.9), ("no", 3, 15.8), ("not_sure", 5, 26.3)]),
}


def assert_result(result, base, no_answer, not_asked, answers):
    assert not result.suppressed
    assert (result.base, result.no_answer, result.not_asked) == (base, no_answer, not_asked)
    assert [(a.code, a.count, a.percent) for a in result.answers] == answers
    assert sum(a.count for a in result.answers) == base
    for a in result.answers:
        assert a.ci95 == rounded(wilson_by_hand(a.count, base)), (result.question.id, a.code)
        assert a.label == result.question.label_of(a.code)


@pytest.mark.parametrize("question_id", list(EVERYONE))
def test_every_question_for_everyone(question_id):
    summary = summary_of(5)
    assert summary.responses == 20 and not summary.suppressed
    assert_result(summary.question(question_id), *EVERYONE[question_id])


def test_role_question_reported_by_group():
    # All roles pooled here: one group, the pool, with all 20 (the blank role too); no single
    # role is shown.
    summary = summary_of(5)
    q1 = summary.question("role")
    assert q1.base == 20 and q1.no_answer == 0 and not q1.suppressed
    assert [(a.code, a.count, a.percent) for a in q1.answers] == [(POOLED, 20, 100.0)]
    assert q1.answer(POOLED).label == "Other roles, pooled"
    assert q1.answer(POOLED).ci95 == rounded(wilson_by_hand(20, 20))  # (83.9, 100.0)


def test_role_question_with_a_separate_role():
    # 17 sw (10 yes, 7 no) separate; tm 11, sp 5, st 2 and one blank role pooled (19), min 5.
    specs = (people("sw", "y", 10) + people("sw", "n", 7) + people("tm", "y", 6)
             + people("tm", "n", 5) + people("sp", "y", 3) + people("sp", "n", 2)
             + people("st", "y", 1) + people("st", "n", 1) + people("-", "n", 1))
    cube = Cube.from_frame(frame(specs))
    grouping = grouping_for(cube, [r for r in ROLE_CODES if r != "social_worker"])
    q1 = summarise(cube, grouping, Filter(), 5).question("role")
    assert q1.base == 36
    # 17/36 = 47.22%, 19/36 = 52.78%
    assert [(a.code, a.count, a.percent) for a in q1.answers] == [
        ("social_worker", 17, 47.2), (POOLED, 19, 52.8)]
    # Social-media users only: sw 10, pool 6 + 3 + 1 = 10; 10/20 = 50.0% each.
    q1_yes = summarise(cube, grouping, Filter((), "yes"), 5).question("role")
    assert {a.code: a.count for a in q1_yes.answers}["social_worker"] == 10
    assert q1_yes.answer(POOLED).count == 10 and q1_yes.answer(POOLED).percent == 50.0


def test_question_2_blanks_in_no_base():
    # Rows 21 and 22 said yes to question 3: were they counted, yes would be 11 of 19.
    summary = summary_of(5)
    assert summary.responses == 20
    assert summary.question("viewed_profile").answer("yes").count == 9
    assert summary.question("uses_social_media").no_answer == 0


# Not using social media (rows 9, 10, 15, 16, 19, 20), minimum 3.
NON_USERS = {
    # rows 9 n, 10 -, 15 -, 16 n, 19 n, 20 y: 1/4 = 25.0%, 3/4 = 75.0%.
    "viewed_profile": (4, 2, 0, [("yes", 1, 25.0), ("no", 3, 75.0)]),
    # 9 n, 10 -, 15 n, 16 n, 19 n, 20 n.
    "viewed_for_evidence": (5, 1, 0, [("yes", 0, 0.0), ("no", 5, 100.0)]),
    # 9 ?, 10 ?, 15 -, 16 -, 19 ?, 20 n: 0/4, 1/4 = 25.0%, 3/4 = 75.0%.
    "aware_of_guidance": (4, 2, 0, [("yes", 0, 0.0), ("no", 1, 25.0), ("not_sure", 3, 75.0)]),
    # 9 n, 10 y, 15 y, 16 ?, 19 n, 20 -: 2/5 = 40.0%, 2/5, 1/5 = 20.0%.
    "confident_rules": (5, 1, 0, [("yes", 2, 40.0), ("no", 2, 40.0), ("not_sure", 1, 20.0)]),
    # 9 ?, 10 y, 15 y, 16 y, 19 ?, 20 y: 4/6 = 66.67%, 0, 2/6 = 33.33%.
    "knows_who_to_ask": (6, 0, 0, [("yes", 4, 66.7), ("no", 0, 0.0), ("not_sure", 2, 33.3)]),
    "uses_social_media": (6, 0, 0, [("yes", 0, 0.0), ("no", 6, 100.0)]),
}


@pytest.mark.parametrize("question_id", list(NON_USERS))
def test_every_question_for_non_users(question_id):
    summary = summary_of(3, Filter.parse([], "no"))
    assert summary.view == Filter((), "no")
    assert summary.responses == 6 and not summary.suppressed
    assert_result(summary.question(question_id), *NON_USERS[question_id])


def test_question_6_not_asked_of_anyone_in_the_view_is_suppressed():
    # None of the six non-users is aware of the guidance: base 0, all six "not asked".
    q6 = summary_of(3, Filter((), "no")).question("confident_guidance")
    assert q6.suppressed and q6.answers == ()
    assert (q6.base, q6.no_answer, q6.not_asked) == (0, 0, 6)


def test_question_6_base_counts_only_the_aware_who_answered():
    q6 = summary_of(3).question("confident_guidance")
    # 7 said yes to question 5; one of them left question 6 blank; 13 were not asked.
    assert (q6.base, q6.no_answer, q6.not_asked) == (6, 1, 13)
    assert q6.base + q6.no_answer + q6.not_asked == 20


def test_question_suppressed_when_its_base_is_below_the_minimum():
    # Minimum 7: question 6's base 6 < 7 -> hidden; question 3's base 17 shown.
    summary = summary_of(7)
    assert summary.responses == 20
    q6 = summary.question("confident_guidance")
    assert q6.suppressed and q6.answers == () and q6.answer("yes") is None
    assert (q6.base, q6.no_answer, q6.not_asked) == (6, 1, 13)  # the counts beside stay
    assert_result(summary.question("viewed_profile"), *EVERYONE["viewed_profile"])
    # The 6 non-users, a view below 7: nothing of theirs is shown (the filter is not dropped).
    non_users = summary_of(7, Filter((), "no"))
    assert non_users.view == Filter((), "no") and non_users.responses == 6
    assert non_users.suppressed and all(q.answers == () for q in non_users.questions)


@pytest.mark.parametrize("minimum", [6, 7])
def test_question_6_at_the_edge_of_the_minimum(minimum):
    # Base 6: shown at 6 (not below it), hidden at 7.
    q6 = summary_of(minimum).question("confident_guidance")
    assert q6.suppressed is (minimum == 7)
    assert (q6.answers == ()) is (minimum == 7)


# Using social media (rows 1-8, 11-14, 17, 18), minimum 3.
USERS = {
    # y 1-5, 11, 12, 17; n 6, 7, 13, 14, 18; blank 8. 8/13 = 61.54%, 5/13 = 38.46%.
    "viewed_profile": (13, 1, 0, [("yes", 8, 61.5), ("no", 5, 38.5)]),
    # y 1, 2, 11, 12, 17; blank 5; n the other 8. 5/13 = 38.46%, 8/13 = 61.54%.
    "viewed_for_evidence": (13, 1, 0, [("yes", 5, 38.5), ("no", 8, 61.5)]),
    # y 1-6, 11; n 7, 8, 12, 13, 18; not sure 14, 17. 7/14 = 50.0%, 5/14 = 35.71%,
    # 2/14 = 14.29%.
    "aware_of_guidance": (14, 0, 0, [("yes", 7, 50.0), ("no", 5, 35.7), ("not_sure", 2, 14.3)]),
    # Everyone aware uses social media: as for everyone, with 14 - 7 = 7 not asked.
    "confident_guidance": (6, 1, 7, [("yes", 3, 50.0), ("no", 1, 16.7), ("not_sure", 2, 33.3)]),
    # y 1; n 2, 4, 6, 7, 11, 13, 14, 17; not sure 3, 5, 8, 12, 18. 1/14 = 7.14%, 8/14 = 57.14%,
    # 5/14 = 35.71%.
    "confident_rules": (14, 0, 0, [("yes", 1, 7.1), ("no", 8, 57.1), ("not_sure", 5, 35.7)]),
    # y 1-4, 6, 7, 11; n 5, 12, 18; not sure 13, 14, 17; blank 8. 7/13 = 53.85%,
    # 3/13 = 23.08% twice.
    "knows_who_to_ask": (13, 1, 0, [("yes", 7, 53.8), ("no", 3, 23.1), ("not_sure", 3, 23.1)]),
    "uses_social_media": (14, 0, 0, [("yes", 14, 100.0), ("no", 0, 0.0)]),
}


@pytest.mark.parametrize("question_id", list(USERS))
def test_every_question_for_users(question_id):
    summary = summary_of(3, Filter((), "yes"))
    assert summary.responses == 14 and not summary.suppressed
    assert_result(summary.question(question_id), *USERS[question_id])


@pytest.mark.parametrize("question_id", list(USERS))
def test_users_and_non_users_add_up_to_everyone(question_id):
    # The hand tallies agree with one another: yes + no = either, answer by answer. No
    # non-user was asked question 6 (base 0, 6 not asked).
    users, everyone = USERS[question_id], EVERYONE[question_id]
    non_users = NON_USERS.get(question_id, (0, 0, 6, [(c, 0, 0.0) for c in ("yes", "no",
                                                                              "not_sure")]))
    assert [u + n for u, n in zip(users[:3], non_users[:3])] == list(everyone[:3])
    assert [u[1] + n[1] for u, n in zip(users[3], non_users[3])] == [e[1] for e in everyone[3]]


@pytest.mark.parametrize("minimum", [21, 25])
def test_view_below_the_minimum_shows_no_answers(minimum):
    summary = summary_of(minimum)
    assert summary.responses == 20 and summary.suppressed
    for result in summary.questions:
        assert result.suppressed and result.answers == (), result.question.id
        assert result.answer("yes") is None


def test_view_at_the_minimum_is_shown():
    # 20 respondents, minimum 17: the view (20) and question 3 (17) are shown, question 4 (18)
    # too, question 6 (6) is not.
    summary = summary_of(17)
    assert not summary.suppressed
    assert not summary.question("viewed_profile").suppressed
    assert summary.question("confident_guidance").suppressed


def test_empty_cube_is_suppressed():
    cube = Cube.empty()
    summary = summarise(cube, grouping_for(cube, ()), Filter(), 5)
    assert summary.responses == 0 and summary.suppressed
    assert all(q.suppressed and q.answers == () and q.base == 0 for q in summary.questions)


def test_questions_in_questionnaire_order():
    summary = summary_of(5)
    assert [q.question.number for q in summary.questions] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert summary.question("knows_who_to_ask").question.number == 8


def _written_half_up(value: float) -> float:
    """The definition: the number as written (its repr), rounded half away from zero."""
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(("value", "expected"), [
    (6.25, 6.3), (6.35, 6.4), (1.15, 1.2), (2.675, 2.7), (0.05, 0.1), (-0.05, -0.1),
    (-6.25, -6.3), (6.2499999, 6.2), (100 * 1 / 8, 12.5), (100 * 5 / 8, 62.5), (41.25, 41.3),
    (41.249999999999996, 41.2), (0.0, 0.0), (99.95, 100.0), (1e16, 1e16),
])
def test_one_decimal_rounds_the_written_number_half_up(value, expected):
    assert one_decimal(value) == expected == _written_half_up(value)


def test_one_decimal_agrees_with_decimal_rounding_on_every_percentage_of_small_bases():
    for base in range(1, 1001):
        for count in range(base + 1):
            value = 100 * count / base
            assert one_decimal(value) == _written_half_up(value), (count, base)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
       | st.integers(-10**6, 10**6).map(lambda k: k / 100)
       | st.integers(-10**7, 10**7).map(lambda k: k / 1000))
def test_one_decimal_agrees_with_decimal_rounding(value):
    assert repr(one_decimal(value)) == repr(_written_half_up(value))


# ---------------------------------------------------------------------------------------------
# Cross-tabs: the whole table of two questions, blanks included

def twenty_two(pooled=ROLE_CODES):
    cube = Cube.from_frame(frame(TWENTY_TWO))
    return cube, grouping_for(cube, pooled)


SW_TM = [r for r in ROLE_CODES if r not in ("social_worker", "team_manager")]
"""Social workers (rows 1-10) and team managers (11-16) on their own; the students (17-19) and
the blank role (20) pooled."""


def test_crosstab_has_a_row_for_every_answer_and_for_no_answer_with_the_blanks_beside():
    # Question 3 (rows) by question 4 (columns), rows 1-20:
    #   q3 yes (1-5, 11, 12, 17, 20): q4 yes 1, 2, 11, 12, 17 = 5; no 3, 4, 20 = 3; blank 5.
    #   q3 no (6, 7, 9, 13, 14, 16, 18, 19): q4 no, all 8.
    #   q3 blank (8, 10, 15): q4 no 8, 15 = 2; blank 10.
    cube, g = twenty_two()
    table = crosstab(cube, g, Filter(), "viewed_profile", "viewed_for_evidence", 5)
    assert table.row_codes == ("yes", "no", "no_answer")
    assert table.column_codes == ("yes", "no")
    assert table.missing_codes == ("no_answer",)  # question 4 is asked of everyone
    assert table.counts.tolist() == [[5, 3], [0, 8], [0, 2]]
    assert table.missing.tolist() == [[1], [0], [1]]
    # Percentages of those in the row who answered question 4: 5/8 = 62.5%, 3/8 = 37.5%;
    # 0/8, 8/8; 0/2, 2/2.
    assert table.row_bases.tolist() == [8, 8, 2]
    assert table.percents.tolist() == [[62.5, 37.5], [0.0, 100.0], [0.0, 100.0]]
    assert table.ci_low[0, 0] == round(wilson_by_hand(5, 8)[0], 1)
    assert table.ci_high[2, 1] == round(wilson_by_hand(2, 2)[1], 1)
    # The margins are the summary's: rows 9, 8, 3 (question 3 yes, no, no answer); columns 5,
    # 13 and 2 (question 4 yes, no, no answer); 20 in all.
    assert table.row_totals.tolist() == [9, 8, 3]
    assert table.counts.sum(axis=0).tolist() == [5, 13] and table.missing.sum() == 2
    assert table.total == 20


def test_a_2_by_2_crosstab_gets_fishers_exact_test_of_those_who_answered_both():
    # [[5, 3], [0, 8]]: rows 8 and 8, columns 5 and 11, of 16. With the margins fixed, the
    # top-left count k has probability C(8, k) C(8, 5 - k) / C(16, 5), C(16, 5) = 4,368: for
    # k = 0..5, 56, 560, 1568, 1568, 560, 56. Observed k = 5 (56); as or less likely: k = 0
    # and 5, so the two-sided p = 112 / 4,368 = 1 / 39. The "no answer" row is left out.
    cube, g = twenty_two()
    test = crosstab(cube, g, Filter(), "viewed_profile", "viewed_for_evidence", 5).test
    assert test.method == "fisher" and test.statistic is None
    assert test.p_value == pytest.approx(1 / 39)
    assert (test.n, test.rows, test.columns) == (16, ("yes", "no"), ("yes", "no"))
    assert test.smallest_expected == pytest.approx(2.5)  # 8 x 5 / 16


def test_a_larger_table_gets_pearsons_test_when_every_expected_count_is_at_least_5():
    # [[20, 10], [10, 20], [15, 15]]: rows 30 each, columns 45 each, of 90: 15 expected in
    # every cell. chi² = 4 x 5² / 15 + 2 x 0 = 100 / 15 on 2 degrees of freedom; p = exp(-chi²/2).
    test = independence(np.array([[20, 10], [10, 20], [15, 15]]), ("yes", "no", "not_sure"),
                        ("yes", "no"))
    assert test.method == "pearson" and test.dof == 2 and test.n == 90
    assert test.statistic == pytest.approx(100 / 15)
    assert test.p_value == pytest.approx(math.exp(-100 / 30))


def test_a_larger_table_with_small_expected_counts_gets_an_exact_monte_carlo_test():
    # [[12, 0], [0, 20], [0, 10]] (its "not sure" column, nobody, left out): expected 12 x 12 /
    # 42 = 3.4 < 5. No random table with these margins is as far from independence as this
    # one, so p is the least the 9,999 tables can give: (0 + 1) / (9,999 + 1).
    test = independence(np.array([[12, 0, 0], [0, 20, 0], [0, 10, 0]]),
                        ("yes", "no", "not_sure"), ("yes", "no", "not_sure"))
    assert test.method == "monte_carlo" and test.columns == ("yes", "no")
    assert test.p_value == pytest.approx(1 / 10_000)
    assert test.statistic == pytest.approx(42.0) and test.dof == 2


def test_crosstab_by_question_6_has_a_not_asked_row():
    # Question 6 (rows) by question 3: yes 1, 2, 11 (q3 yes); no 4 (yes); not sure 3, 5 (yes);
    # blank 6 (q3 no); not asked, the 13 others: q3 yes 12, 17, 20; no 7, 9, 13, 14, 16, 18,
    # 19; blank 8, 10, 15.
    cube, g = twenty_two()
    table = crosstab(cube, g, Filter(), "confident_guidance", "viewed_profile", 5)
    assert table.row_codes == ("yes", "no", "not_sure", "no_answer", "not_asked")
    assert table.counts.tolist() == [[3, 0], [1, 0], [2, 0], [0, 1], [3, 7]]
    assert table.missing.tolist() == [[0], [0], [0], [0], [3]]
    assert table.row_totals.tolist() == [3, 1, 2, 1, 13]  # question 6's counts, as summarised
    assert table.percents[4].tolist() == [30.0, 70.0]  # 3/10, 7/10: the 3 blanks left out
    # The answer rows alone have nobody in the "no" column: nothing to test. (With the "no
    # answer" and "not asked" rows it would have two of each.)
    assert table.test is None


def test_crosstab_by_question_6_as_columns_has_no_answer_and_not_asked_beside():
    # Question 5 (rows) by question 6: those aware (1-6, 11) answered 6 (yes 1, 2, 11; no 4;
    # not sure 3, 5) and left it blank (6); everyone else was not asked it: no 6, not sure 5,
    # question 5 blank 2 (15, 16).
    cube, g = twenty_two()
    table = crosstab(cube, g, Filter(), "aware_of_guidance", "confident_guidance", 5)
    assert table.row_codes == ("yes", "no", "not_sure", "no_answer")
    assert table.missing_codes == ("no_answer", "not_asked")
    assert table.counts.tolist() == [[3, 1, 2], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert table.missing.tolist() == [[1, 0], [0, 6], [0, 5], [0, 2]]
    assert table.row_bases.tolist() == [6, 0, 0, 0]
    assert table.percents[0].tolist() == [50.0, 16.7, 33.3]  # 3/6, 1/6, 2/6
    assert table.percents[1:].tolist() == [[0.0, 0.0, 0.0]] * 3
    assert table.test is None  # one row with answers


def test_crosstab_of_a_role_group_and_rows_and_columns_where_present():
    cube, g = twenty_two(SW_TM)
    # Team managers (11-16), q3 by q4: yes 11, 12 (q4 yes); no 13, 14, 16 (no); blank 15 (no).
    table = crosstab(cube, g, Filter(("team_manager",)), "viewed_profile",
                     "viewed_for_evidence", 5)
    assert table.row_codes == ("yes", "no", "no_answer")
    assert table.counts.tolist() == [[2, 0], [0, 3], [0, 1]]
    assert table.missing.tolist() == [[0], [0], [0]]
    # The pool (17-20): q3 yes 17 (q4 yes), 20 (no); no 18, 19 (no). Nobody left question 3
    # blank: no such row. The "no answer" column stays, with nobody in it.
    pooled = crosstab(cube, g, Filter(("student",)), "viewed_profile", "viewed_for_evidence", 5)
    assert pooled.row_codes == ("yes", "no")
    assert pooled.counts.tolist() == [[1, 1], [0, 2]]
    assert pooled.missing_codes == ("no_answer",) and pooled.missing.tolist() == [[0], [0]]
    # Every answer of the row question has its row, even with nobody in it: only team managers
    # 11 and 12 looked for evidence (q4 yes), both q3 yes.
    by_q4 = crosstab(cube, g, Filter(("team_manager",)), "viewed_for_evidence",
                     "viewed_profile", 5)
    assert by_q4.row_codes == ("yes", "no") and by_q4.counts.tolist() == [[2, 0], [0, 3]]
    assert by_q4.missing.tolist() == [[0], [1]]


def test_crosstab_covers_everyone_in_the_roles_whatever_the_social_media_filter():
    cube, g = twenty_two(SW_TM)
    for roles in ((), ("social_worker",), (POOLED,)):
        either = crosstab(cube, g, Filter(roles), "aware_of_guidance", "knows_who_to_ask", 5)
        for value in ("yes", "no"):
            filtered = crosstab(cube, g, Filter(roles, value), "aware_of_guidance",
                                "knows_who_to_ask", 5)
            assert filtered.counts.tolist() == either.counts.tolist()
            assert filtered.missing.tolist() == either.missing.tolist()
    # Social workers: 10 (rows 1-10), the question-2 blank social worker (row 21) left out.
    assert crosstab(cube, g, Filter(("social_worker",)), "viewed_profile",
                    "viewed_for_evidence", 5).total == 10


def _summary_count(result, code: str) -> int:
    if code == "no_answer":
        return result.no_answer
    if code == "not_asked":
        return result.not_asked
    answer = result.answer(code)
    return answer.count if answer else 0  # a question nobody answered shows no answers


@pytest.mark.parametrize("roles", [(), ("social_worker",), ("team_manager",), (POOLED,),
                                   ("social_worker", POOLED)])
def test_every_crosstab_row_and_column_adds_up_to_the_summary_of_the_same_roles(roles):
    cube, g = twenty_two(SW_TM)
    # Minimum 1: the summary shows every count it has.
    summary = summarise(cube, g, Filter(roles), 1)
    for row_id in CROSSTAB_QUESTIONS:
        for column_id in CROSSTAB_QUESTIONS:
            if row_id == column_id:
                continue
            table = crosstab(cube, g, Filter(roles), row_id, column_id, 5,
                             everyone=summary.everyone)
            rows, columns = summary.question(row_id), summary.question(column_id)
            assert table.total == summary.responses
            for code in BY_ID[row_id].stored_codes:
                total = _summary_count(rows, code)
                if code in table.row_codes:
                    at = table.row_codes.index(code)
                    assert table.row_totals[at] == total, (row_id, column_id, code)
                else:
                    assert code not in BY_ID[row_id].codes and total == 0
            for j, code in enumerate(table.column_codes):
                assert table.counts[:, j].sum() == _summary_count(columns, code)
            for code in BY_ID[column_id].stored_codes[len(BY_ID[column_id].codes):]:
                total = _summary_count(columns, code)
                if code in table.missing_codes:
                    assert table.missing[:, table.missing_codes.index(code)].sum() == total
                else:
                    assert code == "not_asked" and total == 0
            assert table.row_bases.tolist() == table.counts.sum(axis=1).tolist()
            for counts, base, percents in zip(table.counts, table.row_bases, table.percents):
                assert percents.tolist() == [one_decimal(100 * n / base) if base else 0.0
                                             for n in counts.tolist()]


def test_breakdown_by_role_gives_each_groups_results():
    # Question 3 by group, rows 1-20: social workers y 1-5, n 6, 7, 9 (8, 10 blank): 5/8 =
    # 62.5%; team managers y 11, 12, n 13, 14, 16 (15 blank): 2/5 = 40.0%; the pool y 17, 20,
    # n 18, 19: 2/4 = 50.0%.
    cube, g = twenty_two(SW_TM)
    result = breakdown(cube, g, Filter(), "viewed_profile", safety(cube, g, 3), 3)
    assert result.groups == ("social_worker", "team_manager", POOLED)
    assert result.labels == ("Social worker", "Team manager", "Other roles, pooled")
    assert not result.suppressed
    assert [(r.base, r.no_answer, r.answer("yes").percent) for r in result.results] == [
        (8, 2, 62.5), (5, 1, 40.0), (4, 0, 50.0)]
    # At 5 the pool's 4 (not a release under 5) would be everyone's 17 less the others' 8 and
    # 5: the breakdown of every group is withheld, that of the two others is not.
    at_five = breakdown(cube, g, Filter(), "viewed_profile", safety(cube, g, 5), 5)
    assert at_five.suppressed and all(r.suppressed and r.answers == () for r in at_five.results)
    two = breakdown(cube, g, Filter(("social_worker", "team_manager")), "viewed_profile",
                    safety(cube, g, 5), 5)
    assert not two.suppressed and [r.answer("no").percent for r in two.results] == [37.5, 60.0]


def test_crosstab_whole_point_intervals_are_rounded_once_from_the_exact_bound():
    # 12 of 21: Wilson 95% interval 36.5466...% to 75.5300...% (by hand below). In whole points
    # that is 37 to 76; the one-decimal 36.5 rounded again (half to even) would have said 36.
    specs = people("sw", "y", 12, "y y n . n n") + people("sw", "y", 9, "y n n . n n")
    cube = Cube.from_frame(frame(specs))
    table = crosstab(cube, grouping_for(cube, ()), Filter(), "viewed_profile",
                     "viewed_for_evidence", 10)
    low, high = wilson_by_hand(12, 21)
    assert 36.54 < low < 36.55 and 75.53 < high < 75.54
    assert (table.ci_low[0, 0], table.ci_high[0, 0]) == (36.5, 75.5)
    assert table.ci_low_whole[0, 0] == 37 and table.ci_high_whole[0, 0] == 76


@pytest.mark.parametrize("value, places, expected", [
    (Fraction(2705, 100), 1, 27.1), (Fraction(-2705, 100), 1, -27.1), (Fraction(73, 2), 0, 37.0),
    (Fraction(-73, 2), 0, -37.0), (Fraction(-1, 100), 1, 0.0), (Fraction(1, 3), 1, 0.3),
    (Fraction(-3649, 100), 0, -36.0),
])
def test_round_exact_rounds_halves_away_from_zero_once(value, places, expected):
    assert round_exact(value, places) == expected
    assert math.copysign(1, round_exact(value, places)) == math.copysign(1, expected)


def test_timeline_days_are_uk_days():
    # 23:45 UTC on 27 October 2018 is 00:45 on 28 October in the UK (BST ends at 01:00 UTC
    # that night); 23:30 UTC on 28 October is 23:30 GMT, still 28 October. 12:00 UTC on
    # 26 October is 13:00 BST on the 26th. So: 26th 10, 27th 0, 28th 20.
    when = ([datetime(2018, 10, 26, 12, 0, tzinfo=timezone.utc)] * 10
            + [datetime(2018, 10, 27, 23, 45, tzinfo=timezone.utc)] * 10
            + [datetime(2018, 10, 28, 23, 30, tzinfo=timezone.utc)] * 10)
    cube = Cube.from_frame(frame(people("sw", "y", 30), times=when))
    line = timeline(cube, grouping_for(cube, ()), now=datetime(2018, 11, 1, tzinfo=timezone.utc))
    assert [d.date().isoformat() for d in line.days] == ["2018-10-26", "2018-10-27", "2018-10-28"]
    assert line.daily.tolist() == [10, 0, 20] and line.cumulative.tolist() == [10, 10, 30]


# 30 social workers who use social media, 12 team managers who do not, and 11 of any role who
# left question 2 blank (3 social workers, 8 team managers): 10 of the 11 answered question 3
# yes, 1 left it blank.
WITH_BLANK_Q2 = (people("sw", "y", 30, "y n n . n n") + people("tm", "n", 12, "n n n . n n")
                 + people("sw", "-", 3, "y n n . n n") + people("tm", "-", 7, "y n n . n n")
                 + people("tm", "-", 1, "- n n . n n"))


def test_the_view_of_no_filter_counts_those_who_left_question_2_blank():
    cube = Cube.from_frame(frame(WITH_BLANK_Q2))
    g = grouping_for(cube, ())
    everyone = summarise(cube, g, Filter(), 10)
    assert everyone.everyone and everyone.responses == 53 and everyone.blank_q2 == 11
    q2 = everyone.question("uses_social_media")
    assert (q2.base, q2.no_answer, q2.answer("yes").count) == (42, 11, 30)
    q3 = everyone.question("viewed_profile")  # 30 + 10 yes, 12 no, 1 blank
    assert (q3.base, q3.no_answer, q3.answer("yes").count, q3.answer("yes").percent) == (
        52, 1, 40, 76.9)
    role = everyone.question("role")  # by role: only those who answered question 2
    assert role.base == 42 and [a.count for a in role.answers] == [30, 12]
    # Any filter leaves the blank atom out: it would split it by role or by question 2.
    for view in (Filter(("social_worker",)), Filter(social_media="yes"),
                 Filter(("social_worker", "team_manager"))):
        shown = summarise(cube, g, view, 10)
        assert not shown.everyone and shown.blank_q2 == 0
        assert shown.question("uses_social_media").no_answer == 0
    both = summarise(cube, g, Filter(("social_worker", "team_manager")), 10)
    assert both.responses == 42 and both.question("viewed_profile").base == 42
    # The cross-tab of no filter counts them too, so its rows add up to the summary's.
    table = crosstab(cube, g, Filter(), "viewed_profile", "viewed_for_evidence", 10,
                     everyone=True)
    assert table.total == 53 and table.row_totals.tolist() == [40, 12, 1]


def test_the_blank_atom_is_left_out_where_it_is_below_the_minimum():
    # 11 left question 2 blank, under a minimum of 12: the view of no filter leaves them out.
    cube = Cube.from_frame(frame(WITH_BLANK_Q2))
    shown = summarise(cube, grouping_for(cube, ()), Filter(), 12)
    assert not shown.everyone and shown.responses == 42
    assert shown.question("uses_social_media").no_answer == 0
