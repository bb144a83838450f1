"""Filters, role groups and the minimum cell rule.

Groupings are worked out by hand from the atoms (role x answer to question 2) written beside
each fixture. Public views are computed from a release: the brute-force checks at the end take
the responses a first release publishes, enumerate every view a grouping allows, count each
view's respondents straight from the fixture's rows (not through the analysis code) and check
the rule analysis/releases.py states: every atom, those in it who answered, left blank or were
not asked each question, and those in each combination of those states for each pair of
questions, holds nobody or at least the minimum; small views show no answers; nothing else is
withheld; no difference of views can isolate fewer than the minimum; and every cross-tab's
blocks (those in one state for its row question and one for its column question) hold nobody or
at least the minimum, in every choice of roles and as the difference of two nested choices.
The defensive check (:func:`analysis.views.question_safety`) is tested on a release made under a
smaller minimum than the one it is viewed under.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from analysis.crosstab import CROSSTAB_QUESTIONS, crosstab
from analysis.cube import MARGIN_OFFSETS, MARGIN_WIDTH, Cube
from analysis.releases import check_batch
from analysis.summary import safety, summarise
from analysis.views import (POOLED, POOLED_LABEL, Filter, InvalidFilter, grouping_for, view_mask,
                            view_totals)
from survey.questionnaire import MISSING_CODES, QUESTIONS, ROLE_CODES
from tests.analysis_fixtures import class_key, first_release, frame, parsed, people

ALL_ROLES = ("social_worker", "newly_qualified_social_worker", "senior_practitioner",
             "team_manager", "service_manager", "director", "principal_social_worker",
             "independent_reviewing_officer", "family_support_worker", "student", "other")


def separate_except(*pooled: str) -> tuple[str, ...]:
    """Every role code but ``pooled``, in questionnaire order."""
    return tuple(c for c in ALL_ROLES if c not in pooled)


# ---------------------------------------------------------------------------------------------
# Filter.parse

@pytest.mark.parametrize("roles, social_media, expected", [
    ([], None, Filter((), None)),
    ([], "all", Filter((), None)),
    ([], "", Filter((), None)),
    (["social_worker"], "yes", Filter(("social_worker",), "yes")),
    (["team_manager", "social_worker"], "no", Filter(("social_worker", "team_manager"), "no")),
    (["pooled", "student"], None, Filter(("student", "pooled"), None)),
    (["other", "director", "newly_qualified_social_worker"], "all",
     Filter(("newly_qualified_social_worker", "director", "other"), None)),
    (["student", "student"], None, Filter(("student",), None)),
])
def test_parse_accepts_known_values_in_questionnaire_order(roles, social_media, expected):
    assert Filter.parse(roles, social_media) == expected


def test_parse_defaults_to_everything():
    assert Filter.parse() == Filter((), None)


@pytest.mark.parametrize("roles, named", [
    (["nurse"], ["nurse"]),
    (["social_worker", "zz_unknown", "nurse"], ["zz_unknown", "nurse"]),
    (["no_answer"], ["no_answer"]),  # "no answer" is not a role anyone may pick
    (["Social worker"], ["Social worker"]),  # labels are not codes
])
def test_parse_refuses_unknown_role_codes_naming_them(roles, named):
    with pytest.raises(InvalidFilter) as caught:
        Filter.parse(roles)
    for code in named:
        assert code in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", ["maybe", "YES!", "none", "1"])
def test_parse_refuses_other_social_media_values(value):
    with pytest.raises(InvalidFilter) as caught:
        Filter.parse(["social_worker"], value)
    assert value in str(caught.value)


# ---------------------------------------------------------------------------------------------
# grouping_for: the role groups of a release

# Atoms (question 2 yes, no): sw (10, 7); tm (6, 5); sp (3, 2); st (1, 1); role blank (0, 1).
# Six left question 2 blank (3 social workers, 1 role blank, 2 principal social workers): they
# count in no group's size.
V1 = (people("sw", "y", 10) + people("sw", "n", 7) + people("tm", "y", 6) + people("tm", "n", 5)
      + people("sp", "y", 3) + people("sp", "n", 2) + people("st", "y", 1) + people("st", "n", 1)
      + people("-", "n", 1)
      + people("sw", "-", 3, "y y y y y y") + people("-", "-", 1, "y y y y y y")
      + people("psw", "-", 2, "y y y y y y"))
SP_ST = frozenset({"senior_practitioner", "student"})


def grouping_of(specs, pooled=SP_ST):
    cube = Cube.from_frame(frame(specs))
    return cube, grouping_for(cube, pooled)


def test_pooled_roles_and_no_answer_form_the_pooled_group_sized_by_who_answered_question_2():
    _, g = grouping_of(V1)
    assert g.separate == separate_except("senior_practitioner", "student")
    assert g.pooled == ("senior_practitioner", "student", "no_answer")
    # sw 10 + 7; tm 6 + 5; pool: sp 5 + st 2 + the blank role 1. Principal social workers (only
    # question-2 blanks) and every role nobody gave have size 0.
    assert g.sizes["social_worker"] == 17 and g.sizes["team_manager"] == 11
    assert g.sizes[POOLED] == g.pooled_size == 8
    assert all(g.sizes[r] == 0 for r in g.separate if r not in ("social_worker", "team_manager"))
    assert set(g.sizes) == set(g.separate) | {POOLED}
    assert g.social_media_filter is True
    # Only groups with anyone published in them.
    assert g.groups == ("social_worker", "team_manager", POOLED)


def test_no_answer_is_pooled_whether_named_or_not():
    for pooled in ((), frozenset({"no_answer"}), ("no_answer",)):
        _, g = grouping_of(V1, pooled)
        assert g.pooled == ("no_answer",)
        assert g.separate == ALL_ROLES
        assert g.sizes[POOLED] == 1  # the one who left the role blank and answered question 2
        assert g.groups == ("social_worker", "senior_practitioner", "team_manager", "student",
                            POOLED)


def test_an_empty_pooled_group_is_not_among_the_groups_and_shows_nobody():
    # sw (5, 5), tm (6, 0), nobody without a role: the pool is empty.
    cube, g = grouping_of(people("sw", "y", 5) + people("sw", "n", 5) + people("tm", "y", 6),
                          ("director",))
    assert g.pooled == ("director", "no_answer") and g.pooled_size == 0
    assert g.groups == ("social_worker", "team_manager")
    # Asking for the empty pool (or a pooled role) shows nobody, not everyone.
    assert g.resolve(Filter.parse(["director"])) == Filter((POOLED,), None)
    summary = summarise(cube, g, Filter.parse(["pooled"]), 5)
    assert summary.responses == 0 and summary.suppressed


def test_every_role_pooled():
    cube, g = grouping_of(V1, ROLE_CODES)
    assert g.separate == () and g.pooled == (*ALL_ROLES, "no_answer")
    assert g.groups == (POOLED,) and g.sizes == {POOLED: 36}  # 17 + 11 + 5 + 2 + 1
    assert summarise(cube, g, Filter(), 5).responses == 42  # and the 6 who left question 2 blank
    assert summarise(cube, g, Filter((POOLED,)), 5).responses == 36


def test_empty_cube_has_no_groups():
    g = grouping_for(Cube.empty(), SP_ST)
    assert g.groups == () and g.pooled_size == 0
    assert g.separate == separate_except("senior_practitioner", "student")
    summary = summarise(Cube.empty(), g, Filter(), 5)
    assert summary.responses == 0 and summary.suppressed


def test_labels():
    _, g = grouping_of(V1)
    assert g.label(POOLED) == POOLED_LABEL == "Other roles, pooled"
    assert g.label("social_worker") == "Social worker"
    assert g.label("director") == "Director or assistant director"


# ---------------------------------------------------------------------------------------------
# resolve and role_codes

@pytest.mark.parametrize("view, expected", [
    (Filter.parse(["senior_practitioner"]), Filter((POOLED,), None)),
    (Filter.parse(["student", "social_worker"], "yes"), Filter(("social_worker", POOLED), "yes")),
    (Filter.parse(["senior_practitioner", "pooled", "student"]), Filter((POOLED,), None)),
    (Filter.parse(["team_manager"], "no"), Filter(("team_manager",), "no")),
    (Filter.parse(["director"], "no"), Filter(("director",), "no")),  # separate, with nobody
    (Filter.parse([], "no"), Filter((), "no")),
    (Filter.parse(["team_manager", "social_worker"]), Filter(("social_worker", "team_manager"),
                                                             None)),
])
def test_resolve_maps_pooled_roles_to_the_pooled_group_and_keeps_the_social_media_filter(
        view, expected):
    _, g = grouping_of(V1)
    assert g.resolve(view) == expected


def test_role_codes_expands_the_pooled_group():
    _, g = grouping_of(V1)
    assert g.role_codes((POOLED,)) == ("senior_practitioner", "student", "no_answer")
    assert g.role_codes(("social_worker", POOLED)) == ("social_worker", "senior_practitioner",
                                                       "student", "no_answer")
    assert g.role_codes(("social_worker",)) == ("social_worker",)


@pytest.mark.parametrize("roles, social_media, responses", [
    ([], None, 42),                          # no filter: all, the 6 question-2 blanks too
    (["social_worker", "team_manager", "pooled"], None, 36),  # 17 sw + 11 tm + 5 sp + 2 st + 1
    ([], "yes", 20),                         # 10 + 6 + 3 + 1
    ([], "no", 16),                          # 7 + 5 + 2 + 1 + 1
    (["social_worker"], "no", 7),
    (["team_manager"], None, 11),
    (["student"], "yes", 4),                 # pooled, yes: 3 sp + 1 st
    (["pooled"], None, 8),                   # 5 sp + 2 st + 1 blank role
    (["principal_social_worker"], None, 0),  # only question-2 blanks
    (["director"], "yes", 0),                # nobody
    (["social_worker", "pooled"], None, 25),
])
def test_views_count_respondents_of_resolved_groups_question_2_blanks_only_with_no_filter(
        roles, social_media, responses):
    cube, g = grouping_of(V1)
    assert cube.total == 42  # 36 + 3 + 1 + 2 who left question 2 blank
    summary = summarise(cube, g, Filter.parse(roles, social_media), 5)
    assert summary.responses == responses
    assert summary.view == g.resolve(Filter.parse(roles, social_media))


def test_question_2_blanks_are_its_no_answer_in_the_view_of_no_filter_only():
    cube, g = grouping_of(V1)
    everyone = summarise(cube, g, Filter(), 5)
    # The six who left question 2 blank answered "yes" to question 3; nobody else did.
    assert everyone.question("uses_social_media").no_answer == 6
    assert everyone.question("viewed_profile").answer("yes").count == 6
    for view in (Filter(("social_worker",)), Filter((POOLED,)),
                 Filter(("social_worker", "team_manager", POOLED))):
        summary = summarise(cube, g, view, 5)
        assert summary.question("uses_social_media").no_answer == 0
        assert summary.question("viewed_profile").answer("yes").count == 0
    # Principal social workers only left question 2 blank: their view holds nobody.
    nobody = summarise(cube, g, Filter(("principal_social_worker",)), 5)
    assert nobody.responses == 0 and nobody.question("viewed_profile").base == 0


# ---------------------------------------------------------------------------------------------
# The defensive check: a release made under a smaller minimum, viewed under a larger one

# Published under minimum 2, viewed under 5. Question 6 is answered by 6 social workers who use
# social media and 2 who do not (atoms (6, 2): the 2 would be "everyone" minus "yes"); by 5 team
# managers who use it and none who do not (atoms (5, 0)); and by the 3 pooled students (all
# users: a group of 3). Every other question is answered by whole atoms: sw (10, 6), tm (5, 5),
# pooled (3, 0).
RAISED = (people("sw", "y", 6, "y y y y y y") + people("sw", "y", 4, "y n n . n n")
          + people("sw", "n", 2, "y y y ? y y") + people("sw", "n", 4, "n n n . n n")
          + people("tm", "y", 5, "y y y y y y") + people("tm", "n", 5, "n n n . n n")
          + people("st", "y", 3, "y y y n y y"))


def raised():
    cube, g = grouping_of(RAISED, ("student",))
    return cube, g, safety(cube, g, 5)


def test_the_raised_fixture_is_a_release_under_two_and_not_under_five():
    counts: dict = {}
    for codes in parsed(RAISED):
        key = class_key(codes)
        counts[key] = counts.get(key, 0) + 1
    pooled = frozenset({"student", "no_answer"})
    assert check_batch(counts, pooled, 2) == []
    # At 5: the students' atom (3) and its 21 groups (each of questions 3-8, and each of their
    # 15 pairs, answered by all 3): 22 groups. In the social workers' "no" atom, question 6
    # answered by 2 and not asked of 4, alone and with each of the 5 other questions answered:
    # 2 x 6 = 12. In their "yes" atom, question 6 not asked of 4, alone and in 5 pairs: 6.
    # 22 + 12 + 6 = 40 groups.
    short = check_batch(counts, pooled, 5)
    assert len(short) == 40
    assert sum("(('pooled', 'yes', False)" in s for s in short) == 22
    assert sum("('social_worker', 'no', False)" in s for s in short) == 12
    assert sum("('social_worker', 'yes', False)" in s for s in short) == 6
    assert "(('social_worker', 'no', False), 'confident_guidance', 0): 2" in short
    assert ("(('social_worker', 'no', False), 'aware_of_guidance', 0, 'confident_guidance', 0):"
            " 2") in short
    assert "(('pooled', 'yes', False),): 3" in short


@pytest.mark.parametrize("roles, social_media, shown", [
    # Everyone: 6 + 2 + 5 + 3 = 16 answered, but everyone minus the social workers and team
    # managers would leave the 3 students.
    ((), None, False),
    (("social_worker", "team_manager"), None, True),   # 8 + 5 = 13
    (("social_worker",), None, True),                  # 8
    (("team_manager",), None, True),                   # 5
    (("social_worker",), "yes", False),                # 6, but sw minus it leaves the 2
    (("social_worker",), "no", False),                 # the 2
    ((), "yes", False),
    (("team_manager",), "yes", True),                  # tm's atoms (5, 0) single nobody out
    (("social_worker", "team_manager"), "yes", False),
])
def test_question_safety_withholds_only_from_views_that_would_single_out_a_small_atom(
        roles, social_media, shown):
    cube, g, safe = raised()
    view = Filter(roles, social_media)
    assert safe["confident_guidance"].allows(view, g) is shown
    q6 = summarise(cube, g, view, 5, safe).question("confident_guidance")
    assert q6.suppressed is not shown and (q6.answers == ()) is not shown


def test_question_safety_leaves_the_other_questions_alone():
    cube, g, safe = raised()
    for view in (Filter(("social_worker",), "yes"), Filter(("social_worker",), "no"),
                 Filter(("social_worker", "team_manager"), "yes")):
        summary = summarise(cube, g, view, 5, safe)
        for result in summary.questions:
            if result.question.id != "confident_guidance":
                assert not result.suppressed, (view, result.question.id)
    # sw, no: question 5 answered by all 6: 2 yes, 4 no.
    q5 = summarise(cube, g, Filter(("social_worker",), "no"), 5, safe).question(
        "aware_of_guidance")
    assert (q5.base, q5.answer("yes").count, q5.answer("no").count) == (6, 2, 4)


def test_question_safety_passes_everything_viewed_under_the_minimum_of_the_release():
    cube, g = grouping_of(RAISED, ("student",))
    for result in safety(cube, g, 2).values():
        # Every group, those with nobody published among them (their count, 0, is fine).
        assert result.by_social_media and result.groups == frozenset((*g.separate, POOLED))


# ---------------------------------------------------------------------------------------------
# Brute force: every view of a release, recounted from the rows

def _answered(question, row) -> bool:
    if question.id == "role":
        return True  # question 1 is reported by group: everyone in the view is in its base
    return row[question.id] in question.codes


def _group_of(grouping, role: str) -> str:
    return POOLED if role in grouping.pooled else role


def _state(row, question_id: str) -> str:
    """Answered, or the missing code ("no_answer", "not_asked")."""
    return row[question_id] if row[question_id] in MISSING_CODES else "answered"


def check_release(people_rows, pooled, minimum):
    """Every atom, those in it who answered, left blank or were not asked each question, and
    those in each combination of those states for each pair of questions, hold 0 or at least
    the minimum (counted here from the rows)."""
    groups: dict[tuple, int] = {}
    for row in people_rows:
        if row["uses_social_media"] in ("yes", "no"):
            atom = (POOLED if row["role"] in pooled else row["role"], row["uses_social_media"])
        else:
            atom = ("question 2 blank",)
        states = [(q.id, _state(row, q.id)) for q in QUESTIONS[2:]]
        for group in (atom, *((atom, *s) for s in states),
                      *((atom, *a, *b) for a, b in itertools.combinations(states, 2))):
            groups[group] = groups.get(group, 0) + 1
    small = {g: n for g, n in groups.items() if n < minimum}
    assert not small, small


def crosstab_blocks(table) -> dict[tuple[str, str], int]:
    """A cross-tab's people by their state for the row question and for the column question:
    ("answered", "answered") is the table's answers, ("answered", "no_answer") the "no answer"
    beside the answer rows, and so on."""
    answer_rows = [i for i, code in enumerate(table.row_codes) if code not in MISSING_CODES]
    blocks = {("answered", "answered"): int(table.counts[answer_rows].sum())}
    for j, code in enumerate(table.missing_codes):
        blocks["answered", code] = int(table.missing[answer_rows, j].sum())
    for i, row_code in enumerate(table.row_codes):
        if row_code in MISSING_CODES:
            blocks[row_code, "answered"] = int(table.counts[i].sum())
            for j, code in enumerate(table.missing_codes):
                blocks[row_code, code] = int(table.missing[i, j])
    return {block: n for block, n in blocks.items() if n}


def check_crosstabs(cube, grouping, people_rows, public, subsets, minimum):
    """Every cross-tab of every choice of roles: its blocks are those counted from the rows, and
    each holds 0 or at least the minimum, as does each block's difference between two choices
    of roles one inside the other."""
    for row_id, column_id in itertools.combinations(CROSSTAB_QUESTIONS, 2):
        blocks = {}
        for roles in subsets:
            table = crosstab(cube, grouping, Filter(roles), row_id, column_id, minimum,
                             everyone=True)
            counted: dict[tuple[str, str], int] = {}
            # With no role chosen, those who left question 2 blank are counted too.
            for i in (public if roles else range(len(people_rows))):
                row = people_rows[i]
                if not roles or _group_of(grouping, row["role"]) in roles:
                    block = (_state(row, row_id), _state(row, column_id))
                    counted[block] = counted.get(block, 0) + 1
            blocks[roles] = crosstab_blocks(table)
            assert blocks[roles] == counted, (roles, row_id, column_id)
            assert all(n >= minimum for n in counted.values()), (roles, row_id, column_id)
        for inner, outer in itertools.permutations(subsets, 2):
            if set(inner or grouping.groups) < set(outer or grouping.groups):  # () is everyone
                for block, n in blocks[outer].items():
                    left = n - blocks[inner].get(block, 0)
                    assert left == 0 or left >= minimum, (inner, outer, row_id, column_id, block)


def check_every_view(specs, minimum, pooled):
    """The minimum cell rule for the first release of one fixture, checked view by view from
    the rows themselves. Returns how many responses the release published."""
    published = first_release(specs, minimum, pooled)
    people_rows = parsed(published)
    cube = Cube.from_frame(frame(published)) if published else Cube.empty()
    grouping = grouping_for(cube, pooled)
    check_release(people_rows, grouping.pooled, minimum)
    public = [i for i, r in enumerate(people_rows) if r["uses_social_media"] in ("yes", "no")]

    # Groups partition the public respondents; "no answer" is always pooled.
    assert "no_answer" in grouping.pooled
    assert set(grouping.separate).isdisjoint(grouping.pooled)
    assert set(grouping.separate) | set(grouping.pooled) == set(ROLE_CODES) | {"no_answer"}
    size = {g: sum(1 for i in public if _group_of(grouping, people_rows[i]["role"]) == g)
            for g in (*grouping.separate, POOLED)}
    assert grouping.groups == tuple(g for g, n in size.items() if n)
    assert {g: grouping.sizes[g] for g in size} == size
    assert sum(size.values()) == len(public)

    subsets = [s for k in range(len(grouping.groups) + 1)
               for s in itertools.combinations(grouping.groups, k)]
    check_crosstabs(cube, grouping, people_rows, public, subsets, minimum)
    shown: dict[str, list[frozenset[int]]] = {q.id: [] for q in QUESTIONS}
    safe = safety(cube, grouping, minimum)
    for roles in subsets:
        for social_media in (None, "yes", "no"):
            view = Filter(roles, social_media)
            summary = summarise(cube, grouping, view, minimum, safe)
            assert summary.view == view
            # The view of no filter counts those who left question 2 blank; any other, not.
            everyone = not roles and social_media is None
            assert summary.everyone is everyone, view
            members = [i for i in (range(len(people_rows)) if everyone else public)
                       if (not roles or _group_of(grouping, people_rows[i]["role"]) in roles)
                       and (social_media is None
                            or people_rows[i]["uses_social_media"] == social_media)]
            assert summary.responses == len(members), view
            assert summary.suppressed is (len(members) < minimum), view
            for result in summary.questions:
                question = result.question
                base = [i for i in members if _answered(question, people_rows[i])
                        and (question.id != "role" or i in public)]
                # On a release, only a small view or a small base hides a question.
                hidden = len(members) < minimum or len(base) < minimum
                assert result.suppressed is hidden, (view, question.id)
                if result.suppressed:
                    assert result.answers == ()
                    continue
                assert result.base == len(base), (view, question.id)
                if question.id == "role":
                    # Only groups, never a pooled role on its own.
                    assert [a.code for a in result.answers] == list(roles or grouping.groups)
                    for a in result.answers:
                        assert a.count == sum(
                            1 for i in members if i in public
                            and _group_of(grouping, people_rows[i]["role"]) == a.code)
                else:
                    assert [a.code for a in result.answers] == list(question.codes)
                    for a in result.answers:
                        assert a.count == sum(1 for i in base
                                              if people_rows[i][question.id] == a.code)
                    assert result.no_answer == sum(
                        1 for i in members if people_rows[i][question.id] == "no_answer")
                    assert result.not_asked == sum(
                        1 for i in members if people_rows[i][question.id] == "not_asked")
                shown[question.id].append(frozenset(base))

    # No difference of views isolates fewer than the minimum: respondents who are in exactly the
    # same shown bases can never be told apart by adding and subtracting, so every class of
    # respondents with the same membership pattern must hold at least the minimum.
    for qid, sets in shown.items():
        for a, b in itertools.combinations(sets, 2):
            if a <= b:
                assert len(b - a) == 0 or len(b - a) >= minimum, (qid, sorted(b - a))
        classes: dict[tuple[bool, ...], int] = {}
        for i in range(len(people_rows)):
            pattern = tuple(i in s for s in sets)
            if any(pattern):
                classes[pattern] = classes.get(pattern, 0) + 1
        small = {p: n for p, n in classes.items() if n < minimum}
        assert not small, (qid, small)
    return len(published)


def random_specs(seed: int, n: int) -> list[str]:
    """Responses with a few roles and answers to question 2, and few blanks: a release of them
    publishes a good share."""
    rng = random.Random(seed)

    def answer(choices: str) -> str:
        return "-" if rng.random() < 0.05 else rng.choice(choices)

    out = []
    for _ in range(n):
        role = rng.choice(["sw", "sw", "sw", "tm", "tm", "sp", "st", "fsw", "-"])
        sm = rng.choice(["y", "y", "y", "n", "n", "-"])
        q3, q4, q5 = answer("yyn"), answer("ynn"), answer("yyn?")
        q6 = answer("yn?") if q5 == "y" else "."
        q7, q8 = answer("yn?"), answer("yn?")
        out.append(f"{role} {sm} {q3} {q4} {q5} {q6} {q7} {q8}")
    return out


# Min 5. sw (20, 2): its "no" atom waits; tm (6, 0); fsw (5, 5); sp (4, 8): its "yes" atom waits.
V2 = (people("sw", "y", 20) + people("sw", "n", 2) + people("tm", "y", 6)
      + people("fsw", "y", 5) + people("fsw", "n", 5) + people("sp", "y", 4) + people("sp", "n", 8))

# Question 6 is answered by few: sw yes (10 people, 6 aware and answering question 6), sw no
# (6 people, 2 aware). At 5 the release publishes the 6 (sw, yes) aware only; at 2, everyone.
Q6_FEW = (people("sw", "y", 6, "y y y y y y") + people("sw", "y", 4, "y n n . n n")
          + people("sw", "n", 2, "y y y ? y y") + people("sw", "n", 4, "n n n . n n"))

# Pairs of questions, at 5. Social workers using social media, questions 7 and 8: 5 answered
# both, 5 left 7 blank, 3 left 8 blank, 2 left both (question 7 blank 7, answered 8; question 8
# blank 5, answered 10). Team managers not using it, questions 6 and 8: 5 aware who answered
# everything, 5 not aware (not asked question 6), 3 aware and 2 not aware who left question 8
# blank (question 6 answered 8, not asked 7; question 8 blank 5, answered 10). Each question
# keeps the rule, but the pairs (question 7 answered, 8 blank) 3, (both blank) 2, (question 6
# answered, 8 blank) 3 and (question 6 not asked, 8 blank) 2 do not: at 5 those 10 wait, and a
# cross-tab of questions 7 and 8 (or 6 and 8) never shows them; at 2 everyone is published.
PAIRS = (people("sw", "y", 5) + people("sw", "y", 5, "n n n . - n")
         + people("sw", "y", 3, "n n n . n -") + people("sw", "y", 2, "n n n . - -")
         + people("tm", "n", 5, "n n y y n n") + people("tm", "n", 5)
         + people("tm", "n", 3, "n n y y n -") + people("tm", "n", 2, "n n n . n -"))

FIXTURES = [
    # sw (10, 7) and tm (6, 5) published, and the 6 who left question 2 blank (one class, in
    # no view); the pool's atoms (4, 4) wait.
    pytest.param(V1, 5, SP_ST, 28 + 6, id="V1-min5"),
    pytest.param(V1, 3, SP_ST, 42, id="V1-min3"),  # every atom >= 3
    pytest.param(V1, 5, ROLE_CODES, 42, id="V1-all-pooled"),  # pool (20, 16)
    # sw's "no" atom (2) and sp's "yes" atom (4) wait.
    pytest.param(V2, 5, (), 20 + 6 + 10 + 8, id="V2-min5"),
    # sw and sp pooled: (24, 10); all published.
    pytest.param(V2, 5, ("social_worker", "senior_practitioner"), 50, id="V2-sw-sp-pooled"),
    pytest.param(Q6_FEW, 5, (), 6, id="q6-few-min5"),
    pytest.param(Q6_FEW, 2, (), 16, id="q6-few-min2"),
    pytest.param(people("sw", "y", 2) + people("tm", "n", 1), 5, (), 0, id="three-people"),
    pytest.param(PAIRS, 5, (), 10 + 10, id="pairs-min5"),
    pytest.param(PAIRS, 2, (), 30, id="pairs-min2"),
]


@pytest.mark.parametrize("specs, minimum, pooled, published", FIXTURES)
def test_every_view_of_a_release_respects_the_minimum_cell_rule(specs, minimum, pooled,
                                                                published):
    assert check_every_view(specs, minimum, pooled) == published


@pytest.mark.parametrize("seed, n, minimum, pooled", [
    (1, 150, 5, ()), (2, 150, 5, ("student", "family_support_worker")),
    (3, 150, 3, ("senior_practitioner",)), (4, 300, 5, ("student",)), (5, 300, 10, ()),
])
def test_every_view_of_a_release_of_random_responses_respects_the_rule(seed, n, minimum,
                                                                       pooled):
    published = check_every_view(random_specs(seed, n), minimum, pooled)
    assert published >= n // 4  # the check has something to look at


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_view_totals_from_the_margins_equal_counting_the_views_cells(seed):
    """Every view's answers counted from the cube's margins, against counting the cells the
    view's mask keeps one by one."""
    cube = Cube.from_frame(frame(random_specs(seed, 150)))
    for pooled in ((), ("student", "senior_practitioner")):
        grouping = grouping_for(cube, pooled)
        for size in range(len(grouping.groups) + 1):
            for roles in itertools.combinations(grouping.groups, size):
                for social_media in (None, "yes", "no"):
                    view = Filter(roles, social_media)
                    mask = view_mask(cube, grouping, view)
                    expected = np.zeros(MARGIN_WIDTH, dtype=np.int64)
                    for cell, count in zip(cube.cells[mask], cube.counts[mask]):
                        for column, code in enumerate(cell):
                            expected[MARGIN_OFFSETS[column] + code] += count
                    assert view_totals(cube, grouping, view).tolist() == expected.tolist(), view


def test_a_filter_naming_a_role_with_nothing_published_still_shows_the_others():
    """Frontline practitioners with no family support worker published yet: the view is the
    others, every question shown (a role with nobody published adds 0 to every group)."""
    cube, g = grouping_of(people("sw", "y", 10, "y y y y y y") + people("sw", "n", 10), ())
    assert "family_support_worker" in g.separate and g.sizes["family_support_worker"] == 0
    summary = summarise(cube, g, Filter.parse(["social_worker", "family_support_worker"]), 10)
    assert summary.responses == 20 and not any(q.suppressed for q in summary.questions)
