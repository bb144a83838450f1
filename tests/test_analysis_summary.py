"""Per-question results: bases, counts, "no answer", "not asked", percentages and Wilson intervals.

Every count and percentage below is tallied by hand from the 22 responses of :data:`TWENTY_TWO`.
Intervals are checked against the Wilson score formula written out here with ``math`` (not
statsmodels), and against values worked out independently.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.cube import Cube
from analysis.summary import one_decimal, summarise, wilson
from analysis.views import POOLED, Filter, group_roles
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
    q3 = summarise(cube, group_roles(cube, 10), Filter(), 10).question("viewed_profile")
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
# Atoms (question 2 yes, no): sw (8, 2), tm (4, 2), st (2, 1), blank role (0, 1). At minimum 3
# or 5 every role has a small atom, so all are pooled: pool (14, 6), safe at 3 and 5.


def summary_of(minimum: int, view: Filter = Filter()):
    cube = Cube.from_frame(frame(TWENTY_TWO))
    assert cube.total == 22
    return summarise(cube, group_roles(cube, minimum), view, minimum)


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
    grouping = group_roles(cube, 5)
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
    # Minimum 7: question 6's base 6 < 7 -> hidden; question 3's base 17 shown. Non-users (6)
    # form an atom below 7, so the social-media filter is withdrawn and "no" shows everyone.
    summary = summary_of(7, Filter((), "no"))
    assert summary.view == Filter((), None) and summary.responses == 20
    q6 = summary.question("confident_guidance")
    assert q6.suppressed and q6.answers == () and q6.answer("yes") is None
    assert_result(summary.question("viewed_profile"), *EVERYONE["viewed_profile"])


@pytest.mark.parametrize("minimum", [6, 7])
def test_question_6_at_the_edge_of_the_minimum(minimum):
    # Base 6: shown at 6 (not below it), hidden at 7. At 6 the pool's atoms (14, 6) are safe.
    q6 = summary_of(minimum).question("confident_guidance")
    assert q6.suppressed is (minimum == 7)
    assert (q6.answers == ()) is (minimum == 7)


def test_question_shown_with_a_large_base_is_hidden_where_a_difference_would_isolate_few():
    # Minimum 5, users only (14). Question 3 answered by 13 users and by 4 non-users: "everyone"
    # (17) minus "users" (13) would give the 4 non-users' answers, so users' view hides it.
    # Question 5: 14 users and 4 non-users answered, hidden likewise. Question 4: 13 and 5: shown.
    summary = summary_of(5, Filter((), "yes"))
    assert summary.responses == 14
    assert summary.question("viewed_profile").suppressed
    assert summary.question("aware_of_guidance").suppressed
    q4 = summary.question("viewed_for_evidence")
    # yes 1, 2, 11, 12, 17 = 5; blank 5; no 14 - 6 = 8. 5/13 = 38.46%, 8/13 = 61.54%.
    assert_result(q4, 13, 1, 0, [("yes", 5, 38.5), ("no", 8, 61.5)])
    q6 = summary.question("confident_guidance")
    # Everyone aware uses social media: as for everyone, with 14 - 7 = 7 not asked.
    assert_result(q6, 6, 1, 7, [("yes", 3, 50.0), ("no", 1, 16.7), ("not_sure", 2, 33.3)])


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
    summary = summarise(cube, group_roles(cube, 5), Filter(), 5)
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
