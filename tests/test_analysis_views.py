"""Filters, role groups and the minimum cell rule.

Groupings are worked out by hand from the atoms (role x answer to question 2) written beside
each fixture. The brute-force checks at the end enumerate every view a grouping allows, count
each view's respondents straight from the fixture's rows (not through the analysis code) and check
the rule the module's docstring states: every atom holds nobody or at least the minimum, small
views show no answers, and no difference of views can isolate fewer than the minimum.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from analysis.cube import MARGIN_OFFSETS, MARGIN_WIDTH, Cube
from analysis.summary import summarise
from analysis.views import (POOLED, POOLED_LABEL, Filter, InvalidFilter, group_roles, view_mask,
                            view_totals)
from survey.questionnaire import QUESTIONS, ROLE_CODES
from tests.analysis_fixtures import frame, parsed, people

ALL_ROLES = ("social_worker", "newly_qualified_social_worker", "senior_practitioner",
             "team_manager", "service_manager", "director", "principal_social_worker",
             "independent_reviewing_officer", "family_support_worker", "student", "other")


def pooled_except(*separate: str) -> tuple[str, ...]:
    """Every role code but ``separate``, in questionnaire order, then "no answer"."""
    return tuple(c for c in ALL_ROLES if c not in separate) + ("no_answer",)


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
# group_roles on hand-made fixtures

# Min 5. Atoms (yes, no): sw (10, 7) safe; tm (6, 5) safe; sp (3, 2) small; st (1, 1) small;
# role blank (0, 1) always pooled. Pool = sp + st + blank = (3+1+0, 2+1+1) = (4, 4): small, so
# the smallest remaining role joins: tm (11) before sw (17) -> pool (10, 9), safe.
# Respondents who left question 2 blank (3 social workers, 1 role blank, 2 principal social
# workers) count in no atom: principal social workers, like every role nobody gave, are listed
# with the pool and add nobody to it.
V1 = (people("sw", "y", 10) + people("sw", "n", 7) + people("tm", "y", 6) + people("tm", "n", 5)
      + people("sp", "y", 3) + people("sp", "n", 2) + people("st", "y", 1) + people("st", "n", 1)
      + people("-", "n", 1)
      + people("sw", "-", 3, "y y y y y y") + people("-", "-", 1, "y y y y y y")
      + people("psw", "-", 2, "y y y y y y"))

# Min 5. sw (20, 2): its "no" atom is small, so it is pooled despite 22 people; tm (6, 0) is safe
# (an empty atom is fine); fsw (5, 5) safe; sp (4, 8): small "yes" atom, pooled.
# Pool = sw + sp = (24, 10), safe: nothing more joins.
V2 = (people("sw", "y", 20) + people("sw", "n", 2) + people("tm", "y", 6)
      + people("fsw", "y", 5) + people("fsw", "n", 5) + people("sp", "y", 4) + people("sp", "n", 8))

# Min 5. tm (6, 1) small -> pool (6, 1); sw (10, 0) joins -> (16, 1): still small with no role
# left to add, so the social-media filter is withdrawn.
V3 = people("sw", "y", 10) + people("tm", "y", 6) + people("tm", "n", 1)

# Min 5. st (2, 2) small -> pool (2, 2). tm (5, 5), dir (5, 5), iro (5, 0), sw (30, 30) are
# safe. Remaining sizes: iro 5, tm 10, dir 10, sw 60.
# iro joins -> (7, 2), still small; tm and dir tie at 10, tm comes first in the questionnaire ->
# (12, 7), safe.
V4 = (people("st", "y", 2) + people("st", "n", 2) + people("sw", "y", 30) + people("sw", "n", 30)
      + people("tm", "y", 5) + people("tm", "n", 5) + people("dir", "y", 5) + people("dir", "n", 5)
      + people("iro", "y", 5))

# Min 3. sw (2, 7): small "yes" atom -> pooled; pool (2, 7) small; tm (3, 3) total 6 is smaller
# than fsw (4, 4) total 8 -> tm joins -> (5, 10), safe.
V6 = (people("sw", "y", 2) + people("sw", "n", 7) + people("tm", "y", 3) + people("tm", "n", 3)
      + people("fsw", "y", 4) + people("fsw", "n", 4))


def grouping_of(specs, minimum):
    cube = Cube.from_frame(frame(specs))
    return cube, group_roles(cube, minimum)


def test_small_atoms_pooled_then_smallest_role_added():
    _, g = grouping_of(V1, 5)
    # Roles nobody gave (principal social workers only left question 2 blank) are listed with
    # the pool and add nobody to it.
    assert g.separate == ("social_worker",)
    assert g.pooled == pooled_except("social_worker")
    assert {"senior_practitioner", "team_manager", "student"} <= set(g.pooled)
    assert g.groups == ("social_worker", POOLED)
    assert g.pooled_size == 19  # 11 tm + 5 sp + 2 st + 1 blank
    assert g.social_media_filter is True
    assert g.sizes == {"social_worker": 17, POOLED: 19}


def test_a_large_role_with_one_small_atom_is_pooled_and_an_empty_atom_is_fine():
    _, g = grouping_of(V2, 5)
    assert g.separate == ("team_manager", "family_support_worker")
    assert g.pooled == pooled_except("team_manager", "family_support_worker")
    assert "social_worker" in g.pooled and "senior_practitioner" in g.pooled
    assert g.pooled_size == 34  # 22 sw + 12 sp
    assert g.sizes["team_manager"] == 6 and g.sizes["family_support_worker"] == 10
    assert g.social_media_filter is True


def test_social_media_filter_withdrawn_when_everyone_pooled_is_still_small():
    _, g = grouping_of(V3, 5)
    assert g.separate == ()
    assert g.pooled == pooled_except()
    assert g.groups == (POOLED,)
    assert g.pooled_size == 17
    assert g.social_media_filter is False
    assert g.sizes == {POOLED: 17}


def test_smallest_remaining_role_joins_first_ties_in_questionnaire_order():
    _, g = grouping_of(V4, 5)
    assert g.separate == ("social_worker", "director")
    assert g.pooled == pooled_except("social_worker", "director")
    assert {"team_manager", "independent_reviewing_officer", "student"} <= set(g.pooled)
    assert g.pooled_size == 19  # 4 st + 5 iro + 10 tm
    assert g.sizes["director"] == 10 and g.sizes["social_worker"] == 60
    assert g.social_media_filter is True


def test_small_yes_atom_pooled_at_min_three():
    _, g = grouping_of(V6, 3)
    assert g.separate == ("family_support_worker",)
    assert g.pooled == pooled_except("family_support_worker")
    assert g.sizes["family_support_worker"] == 8 and g.pooled_size == 15
    assert g.social_media_filter is True


@pytest.mark.parametrize("minimum, separate", [
    # sw (2, 7), tm (3, 3), fsw (4, 4)
    (2, ("social_worker", "team_manager", "family_support_worker")),  # every atom >= 2
    (4, ("family_support_worker",)),                                  # sw, tm small; pool (5, 10)
    (5, ()),
])
def test_pooling_depends_on_the_minimum(minimum, separate):
    _, g = grouping_of(V6, minimum)
    assert g.separate == separate
    assert g.pooled == pooled_except(*separate)
    # At 5: sw, tm, fsw all have a small atom -> pool (9, 14), safe.
    assert g.social_media_filter is True


def test_no_answer_is_pooled_even_when_nobody_left_the_role_blank():
    # sw (5, 5), tm (6, 0): every role safe at 5, nobody without a role.
    cube, g = grouping_of(people("sw", "y", 5) + people("sw", "n", 5) + people("tm", "y", 6), 5)
    assert "no_answer" in g.pooled
    assert g.pooled == pooled_except("social_worker", "team_manager")
    assert g.pooled_size == 0
    assert g.separate == ("social_worker", "team_manager")
    assert g.groups == ("social_worker", "team_manager")
    assert g.social_media_filter is True
    # Asking for the empty pool shows nobody (not everyone).
    assert g.resolve(Filter.parse(["pooled"])) == Filter((POOLED,), None)
    summary = summarise(cube, g, Filter.parse(["pooled"]), 5)
    assert summary.responses == 0 and summary.suppressed


def test_no_answer_is_pooled_even_when_it_would_be_safe_alone():
    # Blank role (5, 5) is as large as sw (5, 5) but is still only ever shown pooled.
    _, g = grouping_of(people("sw", "y", 5) + people("sw", "n", 5)
                       + people("-", "y", 5) + people("-", "n", 5), 5)
    assert g.pooled == pooled_except("social_worker")
    assert g.separate == ("social_worker",)
    assert g.pooled_size == 10
    assert g.groups == ("social_worker", POOLED)


def test_empty_cube_pools_every_role():
    g = group_roles(Cube.empty(), 5)
    assert g.separate == () and g.pooled == pooled_except()
    assert g.pooled_size == 0 and g.social_media_filter is True
    summary = summarise(Cube.empty(), g, Filter(), 5)
    assert summary.responses == 0 and summary.suppressed


def test_labels():
    _, g = grouping_of(V1, 5)
    assert g.label(POOLED) == POOLED_LABEL == "Other roles, pooled"
    assert g.label("social_worker") == "Social worker"
    assert g.label("director") == "Director or assistant director"


# ---------------------------------------------------------------------------------------------
# resolve and role_codes

@pytest.mark.parametrize("view, expected", [
    (Filter.parse(["team_manager"]), Filter((POOLED,), None)),
    (Filter.parse(["student", "social_worker"], "yes"), Filter(("social_worker", POOLED), "yes")),
    (Filter.parse(["senior_practitioner", "pooled", "student"]), Filter((POOLED,), None)),
    (Filter.parse(["director"], "no"), Filter((POOLED,), "no")),  # nobody: listed with the pool
    (Filter.parse([], "no"), Filter((), "no")),
    (Filter.parse(["social_worker"]), Filter(("social_worker",), None)),
])
def test_resolve_maps_pooled_roles_to_the_pooled_group(view, expected):
    _, g = grouping_of(V1, 5)
    assert g.resolve(view) == expected


@pytest.mark.parametrize("view, expected", [
    (Filter.parse(["team_manager"], "no"), Filter((POOLED,), None)),
    (Filter.parse([], "yes"), Filter((), None)),
    (Filter.parse(["social_worker", "team_manager"], "yes"), Filter((POOLED,), None)),
])
def test_resolve_drops_a_withdrawn_social_media_filter(view, expected):
    _, g = grouping_of(V3, 5)
    assert g.resolve(view) == expected


def test_role_codes_expands_the_pooled_group():
    _, g = grouping_of(V1, 5)
    assert g.role_codes((POOLED,)) == pooled_except("social_worker")
    assert g.role_codes(("social_worker", POOLED)) == ("social_worker",
                                                       *pooled_except("social_worker"))
    assert g.role_codes(("social_worker",)) == ("social_worker",)


@pytest.mark.parametrize("roles, social_media, responses", [
    ([], None, 36),                          # 17 sw + 11 tm + 5 sp + 2 st + 1 blank
    ([], "yes", 20),                         # 10 + 6 + 3 + 1
    ([], "no", 16),                          # 7 + 5 + 2 + 1 + 1
    (["social_worker"], "no", 7),
    (["team_manager"], None, 19),            # the pooled group
    (["student"], "yes", 10),                # pooled, yes: 6 tm + 3 sp + 1 st
    (["principal_social_worker"], None, 19),  # only question-2 blanks: the pool
    (["social_worker", "pooled"], None, 36),
])
def test_views_count_respondents_of_resolved_groups_never_question_2_blanks(
        roles, social_media, responses):
    cube, g = grouping_of(V1, 5)
    assert cube.total == 42  # 36 + 3 + 1 + 2 who left question 2 blank
    summary = summarise(cube, g, Filter.parse(roles, social_media), 5)
    assert summary.responses == responses
    assert summary.view == g.resolve(Filter.parse(roles, social_media))


def test_question_2_blanks_appear_in_no_answer_of_no_view():
    cube, g = grouping_of(V1, 5)
    for view in (Filter(), Filter(("social_worker",)), Filter((POOLED,))):
        summary = summarise(cube, g, view, 5)
        q2 = summary.question("uses_social_media")
        assert q2.no_answer == 0
        # Those six answered "yes" to question 3; nobody else did ("n" throughout).
        assert summary.question("viewed_profile").answer("yes").count == 0


# ---------------------------------------------------------------------------------------------
# Brute force: every view a grouping allows, recounted from the rows

def _answered(question, row) -> bool:
    if question.id == "role":
        return True  # question 1 is reported by group: everyone in the view is in its base
    return row[question.id] in question.codes


def _group_of(grouping, role: str) -> str:
    return POOLED if role in grouping.pooled else role


def check_every_view(specs, minimum):
    """The minimum cell rule for one fixture, checked view by view from the rows themselves."""
    people_rows = parsed(specs)
    cube = Cube.from_frame(frame(specs))
    grouping = group_roles(cube, minimum)
    public = [i for i, r in enumerate(people_rows) if r["uses_social_media"] in ("yes", "no")]

    # Groups partition the public respondents; "no answer" is always pooled.
    assert "no_answer" in grouping.pooled
    assert set(grouping.separate).isdisjoint(grouping.pooled)
    assert set(grouping.separate) | set(grouping.pooled) == set(ROLE_CODES) | {"no_answer"}
    size = {g: sum(1 for i in public if _group_of(grouping, people_rows[i]["role"]) == g)
            for g in grouping.groups}
    assert sum(size.values()) == len(public)
    assert {g: grouping.sizes[g] for g in grouping.groups} == size

    # Atoms: every group x answer to question 2 holds nobody or at least the minimum. Where the
    # social-media filter is withdrawn, every respondent is in the one pooled group.
    for g in grouping.groups:
        for value in ("yes", "no"):
            n = sum(1 for i in public if _group_of(grouping, people_rows[i]["role"]) == g
                    and people_rows[i]["uses_social_media"] == value)
            if grouping.social_media_filter:
                assert n == 0 or n >= minimum, (g, value, n)
    if not grouping.social_media_filter:
        assert [g for g in grouping.groups if size[g]] in ([POOLED], [])

    nonempty = [g for g in grouping.groups if size[g]]
    empty = [g for g in grouping.groups if not size[g]]
    subsets = [s for k in range(len(nonempty) + 1) for s in itertools.combinations(nonempty, k)]
    subsets += [(g,) for g in empty]
    shown: dict[str, list[frozenset[int]]] = {q.id: [] for q in QUESTIONS}
    views = 0
    for roles in subsets:
        for social_media in (None, "yes", "no"):
            view = Filter(roles, social_media)
            summary = summarise(cube, grouping, view, minimum)
            views += 1
            applied = social_media if grouping.social_media_filter else None
            assert summary.view == Filter(roles, applied)
            members = [i for i in public
                       if (not roles or _group_of(grouping, people_rows[i]["role"]) in roles)
                       and (applied is None or people_rows[i]["uses_social_media"] == applied)]
            assert summary.responses == len(members), view
            if len(members) < minimum:
                assert summary.suppressed, view
            for result in summary.questions:
                question = result.question
                base = [i for i in members if _answered(question, people_rows[i])]
                if len(members) < minimum:
                    assert result.suppressed and result.answers == (), (view, question.id)
                if result.suppressed:
                    assert result.answers == ()
                    continue
                assert result.base == len(base) >= minimum, (view, question.id)
                if question.id == "role":
                    # Only groups, never a pooled role on its own.
                    groups_shown = roles or grouping.groups
                    assert [a.code for a in result.answers] == list(groups_shown)
                    for a in result.answers:
                        assert a.count == sum(
                            1 for i in members
                            if _group_of(grouping, people_rows[i]["role"]) == a.code)
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
        for i in public:
            pattern = tuple(i in s for s in sets)
            if any(pattern):
                classes[pattern] = classes.get(pattern, 0) + 1
        small = {p: n for p, n in classes.items() if n < minimum}
        assert not small, (qid, small)
    return views


def random_specs(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        role = rng.choice(["sw", "sw", "sw", "tm", "tm", "sp", "st", "fsw", "-"])
        sm = rng.choice(["y", "y", "y", "n", "n", "-"])
        q3, q4 = rng.choice("yyn-"), rng.choice("ynn-")
        q5 = rng.choice("yyn?-")
        q6 = rng.choice("yn?-") if q5 == "y" else "."
        q7, q8 = rng.choice("yn?-"), rng.choice("yn?")
        out.append(f"{role} {sm} {q3} {q4} {q5} {q6} {q7} {q8}")
    return out


# Question 6 is answered by few: sw yes (10 people, 6 aware and answering question 6), sw no
# (6 people, 2 aware). Atoms (10, 6) are safe at 5, but "all" minus "yes" would isolate the two
# sw-no respondents' answers to question 6.
Q6_FEW = (people("sw", "y", 6, "y y y y y y") + people("sw", "y", 4, "y n n . n n")
          + people("sw", "n", 2, "y y y ? y y") + people("sw", "n", 4, "n n n . n n"))

FIXTURES = [
    pytest.param(V1, 5, id="V1-min5"),
    pytest.param(V1, 3, id="V1-min3"),
    pytest.param(V2, 5, id="V2-min5"),
    pytest.param(V3, 5, id="V3-withdrawn"),
    pytest.param(V4, 5, id="V4-min5"),
    pytest.param(V6, 3, id="V6-min3"),
    pytest.param(Q6_FEW, 5, id="q6-few-min5"),
    pytest.param(Q6_FEW, 3, id="q6-few-min3"),
    pytest.param(people("sw", "y", 2) + people("tm", "n", 1), 5, id="three-people"),
    *(pytest.param(random_specs(seed, 40), m, id=f"random{seed}-min{m}")
      for seed in (1, 2, 3) for m in (3, 5)),
    pytest.param(random_specs(4, 120), 5, id="random4-120-min5"),
]


@pytest.mark.parametrize("specs, minimum", FIXTURES)
def test_every_view_respects_the_minimum_cell_rule(specs, minimum):
    assert check_every_view(specs, minimum) >= 3


def test_tiny_population_shows_nothing():
    # Three people: every view holds fewer than five; the filter is withdrawn.
    specs = people("sw", "y", 2) + people("tm", "n", 1)
    cube, g = grouping_of(specs, 5)
    assert g.social_media_filter is False
    for view in (Filter(), Filter((POOLED,), "yes"), Filter(("social_worker",), "no")):
        summary = summarise(cube, g, view, 5)
        assert summary.responses == 3 and summary.suppressed
        assert all(q.suppressed and q.answers == () for q in summary.questions)


def test_question_answered_by_few_is_hidden_from_social_media_views():
    # Q6_FEW at 5: question 6 answered by 6 (sw, yes) + 2 (sw, no) = 8. "All" shows it (8 >= 5);
    # "yes" would show 6 and so, subtracted from "all", the 2 -> hidden; "no" shows 2 -> hidden.
    cube, g = grouping_of(Q6_FEW, 5)
    assert g.social_media_filter is True and g.separate == ("social_worker",)
    everyone = summarise(cube, g, Filter(), 5).question("confident_guidance")
    assert not everyone.suppressed and everyone.base == 8
    assert everyone.answer("yes").count == 6 and everyone.answer("not_sure").count == 2
    for value in ("yes", "no"):
        q6 = summarise(cube, g, Filter((), value), 5).question("confident_guidance")
        assert q6.suppressed and q6.answers == ()
    # Question 5 is answered by everyone in each atom (10 and 6): shown in every view.
    q5 = summarise(cube, g, Filter((), "no"), 5).question("aware_of_guidance")
    assert not q5.suppressed and q5.answer("yes").count == 2 and q5.answer("no").count == 4


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_view_totals_from_the_margins_equal_counting_the_views_cells(seed):
    """Every view's answers counted from the cube's margins, against counting the cells the
    view's mask keeps one by one."""
    cube = Cube.from_frame(frame(random_specs(seed, 150)))
    for minimum in (1, 5):
        grouping = group_roles(cube, minimum)
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
