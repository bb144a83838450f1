"""The release rule (analysis/releases.py): which waiting responses a release publishes, which
roles it pools, and what every release and every step between releases then keeps.

Every batch below is worked out by hand from the waiting classes written beside it, at minimum
10 unless a test says otherwise. The property tests at the end draw waiting classes at random
and check the batch against a brute force over every set of classes, and simulate runs of
releases with responses arriving between them, recounting every group from the simulated
responses themselves (never through the module).

A class's pattern (questions 3 to 8 answered, left blank or not asked) is a number in base 3,
question 3 the least significant digit (1, 3, 9, 27, 81, 243), 0 answered, 1 blank, 2 not asked.
Within an atom, the groups are the atom, each of questions 3 to 8 in each state, and each pair of
them in each combination of states: two classes share a pair's group when they agree on both of
its questions, so two classes that differ only in one question share every pair's group but the
five with that question in it.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.releases import (POOL, ClassKey, atom_of, check_batch, describe_group, groups_of,
                               pattern_of, pattern_states, pooling, select_batch, state_of)
from survey.questionnaire import QUESTION_IDS, ROLE_CODES

ANSWERED = 0           # questions 3 to 8 answered (question 5 yes, so question 6 asked)
NOT_AWARE = 2 * 27     # question 6 not asked (its digit, the fourth, is 2): 54
Q7_BLANK = 81          # question 7 left blank (the fifth digit is 1)
Q8_BLANK = 243         # question 8 left blank (the sixth digit is 1)
NO_ANSWER_ONLY = frozenset({"no_answer"})


def key(role: str, social_media: str, pattern: int = ANSWERED, demo: bool = False) -> ClassKey:
    return ClassKey(role, social_media, demo, pattern)


SW_YES = "social_worker", "yes"
TM_YES = "team_manager", "yes"
TM_NO = "team_manager", "no"


# --- An independent count of the rule's groups ------------------------------------------------


def atom(role: str, social_media: str, demo: bool, pooled) -> tuple:
    if social_media not in ("yes", "no"):
        return ("question 2 blank", demo)
    return ("pooled" if role in pooled else role, social_media, demo)


def class_groups(k: ClassKey, pooled, pairs: bool = True) -> list[tuple]:
    """The groups of a class: its atom; the atom with each of questions 3 to 8 (by its index, 0
    to 5) and the state (the pattern's digit) of the class in it; and, unless ``pairs`` is
    false (the rule as it was, one question at a time), the atom with each pair of questions
    and the class's states in both."""
    home = atom(k.role, k.social_media, k.demo, pooled)
    digits = [(i, (k.pattern // 3 ** i) % 3) for i in range(6)]
    both = [(home, *a, *b) for a, b in itertools.combinations(digits, 2)] if pairs else []
    return [(home,), *((home, *d) for d in digits), *both]


def short_groups(added: dict[ClassKey, int], pooled, minimum: int,
                 pairs: bool = True) -> dict[tuple, int]:
    """The groups that ``added`` would add 1 to ``minimum - 1`` people to."""
    gains: Counter = Counter()
    for k, n in added.items():
        for group in class_groups(k, pooled, pairs):
            gains[group] += n
    return {g: n for g, n in gains.items() if 0 < n < minimum}


def allowed_unions(waiting: dict[ClassKey, int], pooled, minimum: int) -> list[frozenset]:
    """Every set of waiting classes that keeps the rule, found by trying them all."""
    classes = sorted(waiting)
    membership = {k: class_groups(k, pooled) for k in classes}
    found = []
    for size in range(len(classes) + 1):
        for chosen in itertools.combinations(classes, size):
            gains: Counter = Counter()
            for k in chosen:
                for group in membership[k]:
                    gains[group] += waiting[k]
            if all(n >= minimum for n in gains.values()):
                found.append(frozenset(chosen))
    return found


# --- select_batch on small waiting sets --------------------------------------------------------


def test_question_6_splits_an_atom_and_both_parts_must_reach_the_minimum():
    # Social workers using social media: 12 aware (question 6 asked and answered) and 10 not
    # aware (not asked): an atom of 22, with 12 and 10 in its two question 6 groups, and the
    # same 12 and 10 in the pairs of question 6 with each other question (answered by all 22):
    # published. Team managers using social media: 7 + 5 = 12, an atom above the minimum, but
    # question 6 answered by 7 and not asked of 5 (alone and in each pair): both fall short,
    # and nothing of theirs is published.
    waiting = {key(*SW_YES): 12, key(*SW_YES, NOT_AWARE): 10,
               key(*TM_YES): 7, key(*TM_YES, NOT_AWARE): 5}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {key(*SW_YES), key(*SW_YES, NOT_AWARE)}
    # At 5, everything: 7 and 5 reach it.
    assert select_batch(waiting, NO_ANSWER_ONLY, 5) == set(waiting)


def test_a_blank_holds_back_only_its_class_when_fewer_than_the_minimum_share_it():
    # Social workers (yes): 20 answered everything, 3 left question 7 blank (3 in that group,
    # and in its pair with each other question answered): the 3 wait, the 20 go (the atom is
    # then 20, and so is every group of theirs). Team managers (no), none aware: 15 answered
    # everything else, 10 left question 7 blank: question 7 answered 15 and blank 10, alone
    # and with question 6 not asked or any other question answered; all go.
    waiting = {key(*SW_YES): 20, key(*SW_YES, Q7_BLANK): 3,
               key(*TM_NO, NOT_AWARE): 15, key(*TM_NO, NOT_AWARE + Q7_BLANK): 10}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == set(waiting) - {key(*SW_YES, Q7_BLANK)}


def test_blanks_on_different_questions_or_in_different_atoms_do_not_add_up():
    # 5 social workers left question 7 blank and 5 others question 8: 10 in the atom, but 5 in
    # each blank group (and in question 7 blank with question 8 answered, and the other way
    # round). 6 social workers and 6 team managers left question 7 blank: 12 blanks, 6 in each
    # atom (and the team managers' 4 who answered it fall short too). Only the 12 social
    # workers who answered everything are published.
    waiting = {key(*SW_YES): 12, key(*SW_YES, Q7_BLANK): 5, key(*SW_YES, Q8_BLANK): 5}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {key(*SW_YES)}
    spread = {key(*SW_YES, Q7_BLANK): 6, key(*TM_YES, Q7_BLANK): 6, key(*TM_YES): 4}
    assert select_batch(spread, NO_ANSWER_ONLY, 10) == set()


def test_the_question_2_blank_atom_spans_roles_pooled_or_not():
    # 4 social workers and 6 team managers left question 2 blank, alike otherwise: one atom of
    # 10, whatever the pooling.
    waiting = {key("social_worker", "no_answer"): 4, key("team_manager", "no_answer"): 6}
    for pooled in (NO_ANSWER_ONLY, frozenset({"no_answer", "social_worker"})):
        assert select_batch(waiting, pooled, 10) == set(waiting)
    # 4 + 5 = 9: nothing.
    assert select_batch({**waiting, key("team_manager", "no_answer"): 5},
                        NO_ANSWER_ONLY, 10) == set()
    # 10 alike and 3 students not aware: the 3 fall short in question 6 (not asked), alone and
    # with each other question answered.
    waiting = {key("social_worker", "no_answer"): 10, key("student", "no_answer", NOT_AWARE): 3}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {key("social_worker", "no_answer")}


def test_demo_and_real_responses_never_make_up_each_others_numbers():
    real, demo = key(*SW_YES), key(*SW_YES, demo=True)
    assert select_batch({real: 6, demo: 6}, NO_ANSWER_ONLY, 10) == set()  # 6 and 6, not 12
    assert select_batch({real: 10, demo: 4}, NO_ANSWER_ONLY, 10) == {real}
    assert select_batch({real: 4, demo: 10}, NO_ANSWER_ONLY, 10) == {demo}
    # The same for those who left question 2 blank.
    blank, blank_demo = key("student", "no_answer"), key("student", "no_answer", demo=True)
    assert select_batch({blank: 5, blank_demo: 5}, NO_ANSWER_ONLY, 10) == set()


def test_a_pooled_roles_classes_count_with_the_pools():
    # 4 students and 6 directors (yes), alike: pooled together, an atom of 10; on their own,
    # 4 and 6.
    waiting = {key("student", "yes"): 4, key("director", "yes"): 6}
    both = frozenset({"student", "director", "no_answer"})
    assert select_batch(waiting, both, 10) == set(waiting)
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == set()
    assert select_batch(waiting, frozenset({"student", "no_answer"}), 10) == set()
    # Those who left their role blank are always in the pool: 3 of them and 7 students.
    waiting = {key("no_answer", "no"): 3, key("student", "no"): 7}
    assert select_batch(waiting, frozenset({"student", "no_answer"}), 10) == set(waiting)


def test_nobody_waiting_in_a_class_is_no_class():
    waiting = {key(*SW_YES): 10, key(*TM_YES): 0}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {key(*SW_YES)}
    assert select_batch({}, NO_ANSWER_ONLY, 10) == set()


# Social workers using social media, 5 in each of seven classes (35 in all). Questions 3 to 5
# are answered by all; of questions 6 to 8, each class leaves off (not asked question 6, left
# question 7 or 8 blank) none, one or two, and nobody all three:
#   O   answered everything                         (pattern 0)
#   S   not asked question 6                        (54)
#   R   question 7 blank                            (81)
#   T   question 8 blank                            (243)
#   SR  not asked question 6, question 7 blank      (54 + 81 = 135)
#   ST  not asked question 6, question 8 blank      (54 + 243 = 297)
#   RT  questions 7 and 8 blank                     (81 + 243 = 324)
# Each of questions 6 to 8 is left off by three classes (15) and not by four (20); with
# questions 3 to 5 the same 15 and 20. A pair of questions 6 to 8 in a combination of states
# holds the two classes that differ only in the third question, 10: question 6 answered and
# question 7 answered O and T, question 6 not asked and question 7 answered S and ST, and so
# on; but question 6 not asked and question 7 blank is SR alone (the only other class in it
# would be one that left all three off), 5; likewise ST (question 6 not asked, question 8
# blank) and RT (questions 7 and 8 blank).
SW_ATOM = ("social_worker", "yes", False)
O, S, R, T = (key(*SW_YES, p) for p in (ANSWERED, NOT_AWARE, Q7_BLANK, Q8_BLANK))
SR, ST, RT = (key(*SW_YES, p) for p in (NOT_AWARE + Q7_BLANK, NOT_AWARE + Q8_BLANK,
                                        Q7_BLANK + Q8_BLANK))
CUBE = {O: 5, S: 5, R: 5, T: 5, SR: 5, ST: 5, RT: 5}
Q6, Q7, Q8 = 3, 4, 5  # the questions' indices among questions 3 to 8, as class_groups has them


def test_each_removal_can_make_another_group_fall_short_and_the_removals_cascade():
    # At first only the three pairs' groups of one class each are short: SR, ST and RT go.
    assert short_groups(CUBE, NO_ANSWER_ONLY, 10) == {
        (SW_ATOM, Q6, 2, Q7, 1): 5, (SW_ATOM, Q6, 2, Q8, 1): 5, (SW_ATOM, Q7, 1, Q8, 1): 5}
    # Without them, each of S, R and T is alone in the state of the question it left off (not
    # asked question 6: S, 5; question 7 blank: R; question 8 blank: T), and so in every pair
    # of that state with another question (question 6 not asked and question 7 answered: S,
    # without ST): they go. O is left, 5 in its atom: it goes too.
    rest = {k: n for k, n in CUBE.items() if k not in (SR, ST, RT)}
    assert {g: n for g, n in short_groups(rest, NO_ANSWER_ONLY, 10).items() if len(g) == 3} == {
        (SW_ATOM, Q6, 2): 5, (SW_ATOM, Q7, 1): 5, (SW_ATOM, Q8, 1): 5}
    assert short_groups({O: 5}, NO_ANSWER_ONLY, 10)[(SW_ATOM,)] == 5
    assert select_batch(CUBE, NO_ANSWER_ONLY, 10) == set()
    # Each removal was forced: no set of these classes but the empty one keeps the rule.
    assert allowed_unions(CUBE, NO_ANSWER_ONLY, 10) == [frozenset()]


def test_a_cascade_stops_where_the_rest_keeps_the_rule():
    # With 10 who answered everything (O) instead of 5, the pairs O shares are 15 (question 6
    # answered and question 7 answered: O and T), but the cascade goes as before: SR, ST and
    # RT (5 each in a pair of their own), then S, R and T (5 each, alone in the state of the
    # question they left off). O is left, 10 in every group it is in: O is published.
    waiting = {**CUBE, O: 10}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {O}
    assert allowed_unions(waiting, NO_ANSWER_ONLY, 10) == [frozenset(), frozenset({O})]


def test_the_batch_does_not_depend_on_the_order_of_the_waiting_classes():
    X, Y = key(*SW_YES, 1), key(*SW_YES, 1 + NOT_AWARE)
    waiting = {**CUBE, O: 10, X: 12, Y: 10, key(*TM_YES): 7, key(*TM_YES, NOT_AWARE): 5}
    first = select_batch(waiting, NO_ANSWER_ONLY, 10)
    # Beside the cube with 10 in O, 22 more social workers who left question 3 blank and
    # answered questions 4, 5, 7 and 8: X, 12, who answered question 6, and Y, 10, not asked
    # it. Question 3 blank is 22, with question 6 answered X 12, not asked Y 10, with every
    # other question answered 22. They share no pair's group of SR, ST or RT (they answered
    # questions 7 and 8), and those three go first. Then R and T go, alone in question 7 blank
    # and question 8 blank (5). S is no longer alone in question 6 not asked (S + Y = 15, and
    # with question 7 or question 8 answered the same 15), but it is with question 3 answered
    # (Y left question 3 blank): 5, and S goes. O, X and Y are left: question 3 answered O 10,
    # blank X + Y 22; question 6 answered O + X 22, not asked Y 10; in pairs, question 3
    # answered O 10 (with anything), question 3 blank with question 6 answered X 12, with
    # question 6 not asked Y 10, question 6 not asked with anything answered Y 10, the rest 22
    # or 32: they go. The team managers fall short as in the first test.
    assert first == {O, X, Y}
    shuffler = random.Random(7)
    for _ in range(30):
        order = list(waiting)
        shuffler.shuffle(order)
        assert select_batch({k: waiting[k] for k in order}, NO_ANSWER_ONLY, 10) == first


# --- pooling -----------------------------------------------------------------------------------


def test_no_answer_is_always_pooled_and_configured_roles_with_it():
    assert pooling((), (), (), 0, 500) == {"no_answer"}
    assert pooling((), ("student", "director"), (), 0, 500) == {"student", "director",
                                                                "no_answer"}


def test_at_pool_after_every_role_with_nothing_published_joins_the_pool():
    published = ("social_worker", "team_manager", "no_answer")
    assert pooling((), (), published, 499, 500) == {"no_answer"}
    assert pooling((), (), published, 500, 500) == (
        {"no_answer"} | set(ROLE_CODES) - {"social_worker", "team_manager"})
    # Only what was published counts (what waits is not even asked for): a role with anything
    # published (here students who left question 2 blank, counted in no role group) stays on
    # its own.
    assert "student" not in pooling((), (), (*published, "student"), 800, 500)


def test_a_role_never_leaves_the_pool():
    # Students pooled before, published inside the pool since, no longer configured: pooled.
    previous = frozenset({"student", "no_answer"})
    assert pooling(previous, (), ("student", "social_worker"), 1000, 500) >= previous
    assert pooling(frozenset({"director"}), (), ("director",), 0, 500) == {"director",
                                                                           "no_answer"}


# --- check_batch --------------------------------------------------------------------------------


def test_check_batch_names_the_groups_a_batch_would_add_too_few_to():
    # 12 answered everything, 3 left question 7 blank: the atom gains 15, question 7 answered
    # 12, question 7 blank 3, and so do the pairs of question 7 blank with each of the five
    # other questions answered; every other group 15. Six groups of 3, in the order of their
    # names.
    added = {key(*SW_YES): 12, key(*SW_YES, Q7_BLANK): 3}
    sw = "('social_worker', 'yes', False)"
    assert check_batch(added, NO_ANSWER_ONLY, 10) == [
        f"({sw}, 'aware_of_guidance', 0, 'confident_rules', 1): 3",
        f"({sw}, 'confident_guidance', 0, 'confident_rules', 1): 3",
        f"({sw}, 'confident_rules', 1): 3",
        f"({sw}, 'confident_rules', 1, 'knows_who_to_ask', 0): 3",
        f"({sw}, 'viewed_for_evidence', 0, 'confident_rules', 1): 3",
        f"({sw}, 'viewed_profile', 0, 'confident_rules', 1): 3"]
    # And the question 6 split at 10: 7 answered, 5 not asked, in the team managers' atom:
    # question 6 in either state alone and with each of the five other questions answered, 12
    # groups (the atom and the other questions alone or in pairs gain 12).
    added = {key(*TM_YES): 7, key(*TM_YES, NOT_AWARE): 5}
    tm = "('team_manager', 'yes', False)"
    assert check_batch(added, NO_ANSWER_ONLY, 10) == [
        f"({tm}, 'aware_of_guidance', 0, 'confident_guidance', 0): 7",
        f"({tm}, 'aware_of_guidance', 0, 'confident_guidance', 2): 5",
        f"({tm}, 'confident_guidance', 0): 7",
        f"({tm}, 'confident_guidance', 0, 'confident_rules', 0): 7",
        f"({tm}, 'confident_guidance', 0, 'knows_who_to_ask', 0): 7",
        f"({tm}, 'confident_guidance', 2): 5",
        f"({tm}, 'confident_guidance', 2, 'confident_rules', 0): 5",
        f"({tm}, 'confident_guidance', 2, 'knows_who_to_ask', 0): 5",
        f"({tm}, 'viewed_for_evidence', 0, 'confident_guidance', 0): 7",
        f"({tm}, 'viewed_for_evidence', 0, 'confident_guidance', 2): 5",
        f"({tm}, 'viewed_profile', 0, 'confident_guidance', 0): 7",
        f"({tm}, 'viewed_profile', 0, 'confident_guidance', 2): 5"]
    assert check_batch(added, NO_ANSWER_ONLY, 5) == []
    assert check_batch({}, NO_ANSWER_ONLY, 10) == []


def test_groups_of_a_class():
    # A student (pooled) not using social media, not asked question 6, who left question 8
    # blank: states 0, 0, 0, 2, 0, 1 for questions 3 to 8.
    k = key("student", "no", NOT_AWARE + Q8_BLANK)
    home = (POOL, "no", False)
    assert atom_of(k, frozenset({"student"})) == home
    q3, q4, q5, q6, q7, q8 = (("viewed_profile", 0), ("viewed_for_evidence", 0),
                              ("aware_of_guidance", 0), ("confident_guidance", 2),
                              ("confident_rules", 0), ("knows_who_to_ask", 1))
    assert groups_of(k, frozenset({"student"})) == [
        (home,),
        (home, *q3), (home, *q4), (home, *q5), (home, *q6), (home, *q7), (home, *q8),
        # The 15 pairs, in the questions' order.
        (home, *q3, *q4), (home, *q3, *q5), (home, *q3, *q6), (home, *q3, *q7),
        (home, *q3, *q8), (home, *q4, *q5), (home, *q4, *q6), (home, *q4, *q7),
        (home, *q4, *q8), (home, *q5, *q6), (home, *q5, *q7), (home, *q5, *q8),
        (home, *q6, *q7), (home, *q6, *q8), (home, *q7, *q8)]
    assert (home, "confident_guidance", 2, "knows_who_to_ask", 1) in groups_of(
        k, frozenset({"student"}))  # not asked question 6 and left question 8 blank
    assert atom_of(k, NO_ANSWER_ONLY) == ("student", "no", False)
    assert atom_of(key("student", "no_answer", demo=True), NO_ANSWER_ONLY) == (
        "question 2 blank", True)


# --- Pairs of questions ------------------------------------------------------------------------


def test_an_intersection_of_two_questions_is_a_group_even_when_each_question_keeps_the_rule():
    # Social workers using social media, questions 7 and 8:
    #   U  answered both                 10   (pattern 0)
    #   V  question 7 blank              10   (81)
    #   W  question 8 blank               5   (243)
    #   Z  both blank                     5   (81 + 243 = 324)
    # One question at a time, all 30 keep the rule: question 7 answered U + W = 15, blank V + Z
    # = 15; question 8 answered U + V = 20, blank W + Z = 10; questions 3 to 6 answered by 30.
    # But a cross-tab of questions 7 and 8 counts each combination: question 7 answered and
    # question 8 blank is W alone, both blank Z alone: 5 each.
    U, V, W, Z = (key(*SW_YES, p) for p in (ANSWERED, Q7_BLANK, Q8_BLANK, Q7_BLANK + Q8_BLANK))
    waiting = {U: 10, V: 10, W: 5, Z: 5}
    assert short_groups(waiting, NO_ANSWER_ONLY, 10, pairs=False) == {}
    assert short_groups(waiting, NO_ANSWER_ONLY, 10) == {
        (SW_ATOM, Q7, 0, Q8, 1): 5, (SW_ATOM, Q7, 1, Q8, 1): 5}
    sw = "('social_worker', 'yes', False)"
    assert check_batch(waiting, NO_ANSWER_ONLY, 10) == [
        f"({sw}, 'confident_rules', 0, 'knows_who_to_ask', 1): 5",
        f"({sw}, 'confident_rules', 1, 'knows_who_to_ask', 1): 5"]
    # W and Z wait, and only they: without them question 8 blank is 0, question 7 answered U
    # 10 and blank V 10, each with question 8 answered the same 10, every other group 20.
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {U, V}
    assert allowed_unions(waiting, NO_ANSWER_ONLY, 10) == [
        frozenset(), frozenset({U}), frozenset({V}), frozenset({U, V})]
    # With 5 more of each, every combination has 10: all 40 go.
    assert select_batch({**waiting, W: 10, Z: 10}, NO_ANSWER_ONLY, 10) == set(waiting)


def test_not_asked_question_6_and_a_blank_question_8_is_a_group():
    # Team managers using social media: 10 aware who answered everything, 6 aware who left
    # question 8 blank, 10 not aware (not asked question 6), 4 not aware who left question 8
    # blank. Question 6 answered 16, not asked 14; question 8 answered 20, blank 10: each
    # question keeps the rule. Question 6 answered and question 8 blank is 6, not asked and
    # blank 4: those two classes wait, and the 20 who answered question 8 go (question 6
    # answered 10 and not asked 10, alone and with every other question answered).
    aware, aware_blank, not_aware, not_aware_blank = (
        key(*TM_YES, p) for p in (ANSWERED, Q8_BLANK, NOT_AWARE, NOT_AWARE + Q8_BLANK))
    waiting = {aware: 10, aware_blank: 6, not_aware: 10, not_aware_blank: 4}
    assert short_groups(waiting, NO_ANSWER_ONLY, 10, pairs=False) == {}
    tm = ("team_manager", "yes", False)
    assert short_groups(waiting, NO_ANSWER_ONLY, 10) == {
        (tm, Q6, 0, Q8, 1): 6, (tm, Q6, 2, Q8, 1): 4}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {aware, not_aware}
    # At 4 all four combinations reach the minimum.
    assert select_batch(waiting, NO_ANSWER_ONLY, 4) == set(waiting)


def test_pairs_are_counted_within_an_atom_never_across_atoms():
    # Social workers and team managers (both using social media), each: 10 answered everything,
    # 5 left question 7 blank, 5 question 8, 5 both. In each atom question 7 blank is 5 + 5 =
    # 10, answered 10 + 5 = 15, and question 8 the same: each question keeps the rule. But
    # each combination of the two with a blank in it holds 5 in each atom, not 10: in both
    # atoms those with a blank wait, and the 10 who answered everything go.
    patterns = (ANSWERED, Q7_BLANK, Q8_BLANK, Q7_BLANK + Q8_BLANK)
    waiting = {key(*who, p): 10 if p == ANSWERED else 5 for who in (SW_YES, TM_YES)
               for p in patterns}
    assert select_batch(waiting, NO_ANSWER_ONLY, 10) == {key(*SW_YES), key(*TM_YES)}
    # Pooled together, one atom of 50: 20 answered both, 10 in each other combination: all go.
    pooled = frozenset({"social_worker", "team_manager", "no_answer"})
    assert select_batch(waiting, pooled, 10) == set(waiting)


# --- patterns ------------------------------------------------------------------------------------


def _codes(states) -> dict[str, str]:
    code = {0: "not_sure", 1: "no_answer", 2: "not_asked"}
    return {"role": "student", "uses_social_media": "no_answer",
            **{q: code[s] for q, s in zip(QUESTION_IDS[2:], states)}}


@pytest.mark.parametrize("states, pattern", [
    ((0, 0, 0, 0, 0, 0), 0),
    ((1, 0, 0, 0, 0, 0), 1),        # question 3 blank
    ((0, 0, 0, 2, 0, 0), 54),       # question 6 not asked
    ((0, 0, 0, 0, 1, 0), 81),       # question 7 blank
    ((0, 0, 0, 2, 0, 1), 297),      # question 6 not asked, question 8 blank: 54 + 243
    ((1, 1, 1, 2, 1, 1), 1 + 3 + 9 + 54 + 81 + 243),  # 391: nothing answered but the role
])
def test_pattern_by_hand(states, pattern):
    assert pattern_of(_codes(states)) == pattern
    assert pattern_states(pattern) == states


def test_every_pattern_round_trips():
    seen = set()
    for states in itertools.product(range(3), repeat=6):
        pattern = pattern_of(_codes(states))
        assert pattern_states(pattern) == states
        seen.add(pattern)
    assert seen == set(range(3 ** 6))


def test_state_of_each_code():
    assert [state_of(c) for c in ("yes", "no", "not_sure", "no_answer", "not_asked")] == [
        0, 0, 0, 1, 2]


# --- describe_group ------------------------------------------------------------------------------


@pytest.mark.parametrize("group, words", [
    ((("social_worker", "yes", False),), "Social worker, question 2 yes"),
    (((POOL, "no", False),), "the pooled roles, question 2 no"),
    ((("question 2 blank", False),), "those who left question 2 blank"),
    ((("director", "yes", False), "viewed_profile", 0),
     "Director or assistant director, question 2 yes: question 3 answered"),
    ((("team_manager", "no", True), "knows_who_to_ask", 1),
     "Team manager, question 2 no (demo): question 8 no answer"),
    ((("question 2 blank", True), "confident_guidance", 2),
     "those who left question 2 blank (demo): question 6 not asked"),
    ((("social_worker", "yes", False), "viewed_profile", 0, "aware_of_guidance", 1),
     "Social worker, question 2 yes: question 3 answered and question 5 no answer"),
    (((POOL, "no", True), "confident_guidance", 2, "knows_who_to_ask", 1),
     "the pooled roles, question 2 no (demo): question 6 not asked and question 8 no answer"),
    ((("question 2 blank", False), "confident_rules", 1, "knows_who_to_ask", 1),
     "those who left question 2 blank: question 7 no answer and question 8 no answer"),
])
def test_describe_group(group, words):
    assert describe_group(group) == words


def test_describe_group_gives_each_group_of_a_class_its_own_words():
    # The atom, 6 questions and 15 pairs: 22 groups, 22 descriptions.
    k = key("team_manager", "yes", NOT_AWARE + Q7_BLANK)
    words = [describe_group(g) for g in groups_of(k, NO_ANSWER_ONLY)]
    assert len(set(words)) == len(words) == 22
    assert "Team manager, question 2 yes: question 6 not asked and question 7 no answer" in words


# --- Properties ----------------------------------------------------------------------------------

SOME = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

PATTERNS = (ANSWERED, NOT_AWARE, Q7_BLANK, Q8_BLANK, NOT_AWARE + Q8_BLANK, Q7_BLANK + Q8_BLANK,
            1, 1 + Q7_BLANK)
"""A few patterns, so that classes drawn at random share groups (of one question and of
pairs)."""

class_keys = st.builds(
    ClassKey,
    st.sampled_from(("social_worker", "team_manager", "student", "director", "no_answer")),
    st.sampled_from(("yes", "no", "no_answer")),
    st.sampled_from((False, False, False, True)),
    st.one_of(*[st.sampled_from(PATTERNS)] * 3, st.integers(0, 3 ** 6 - 1)))
poolings = st.sets(st.sampled_from(("student", "director", "team_manager"))).map(
    lambda roles: frozenset(roles | {"no_answer"}))
minimums = st.sampled_from((2, 3, 5, 10))


@SOME
@given(waiting=st.dictionaries(class_keys, st.integers(1, 12), max_size=10), pooled=poolings,
       minimum=minimums)
def test_the_batch_keeps_the_rule_and_is_the_greatest_allowed_union(waiting, pooled, minimum):
    batch = select_batch(waiting, pooled, minimum)
    assert batch <= set(waiting)
    chosen = {k: waiting[k] for k in batch}
    # (a) It keeps the rule, by the module's check and by the count here.
    assert check_batch(chosen, pooled, minimum) == []
    assert short_groups(chosen, pooled, minimum) == {}
    # (b) Every set of classes that keeps the rule lies inside it.
    for union in allowed_unions(waiting, pooled, minimum):
        assert union <= batch, sorted(union - batch)
    # And what it leaves could not be published on its own either.
    rest = {k: n for k, n in waiting.items() if k not in batch}
    assert select_batch(rest, pooled, minimum) == set()


ROLES = ("social_worker", "team_manager", "student", "director", "other", "no_answer")


@st.composite
def responses(draw) -> dict:
    """One response: role, answer to question 2, demo or not, and the codes of questions 3-8
    (question 6 asked exactly when question 5 is yes)."""
    def answer(blank_often: bool = False) -> str:
        return draw(st.sampled_from(("yes", "no", "no_answer") if blank_often
                                    else ("yes", "no", "yes", "no", "not_sure", "no_answer")))

    codes = {"role": draw(st.sampled_from(ROLES)),
             "uses_social_media": draw(st.sampled_from(("yes", "yes", "no", "no_answer"))),
             "viewed_profile": answer(), "viewed_for_evidence": answer(),
             "aware_of_guidance": draw(st.sampled_from(("yes", "no", "not_sure", "no_answer")))}
    codes["confident_guidance"] = (answer(True) if codes["aware_of_guidance"] == "yes"
                                   else "not_asked")
    codes["confident_rules"], codes["knows_who_to_ask"] = answer(), answer()
    return {**codes, "demo": draw(st.sampled_from((False, False, False, True)))}


arrivals = st.lists(st.tuples(responses(), st.integers(1, 6)), max_size=6).map(
    lambda pairs: [dict(r) for r, n in pairs for _ in range(n)])
"""Responses arriving between two releases, in clumps of identical ones."""


def response_groups(response: dict, pooled) -> list[tuple]:
    """The groups a simulated response is in, from its own answers."""
    home = atom(response["role"], response["uses_social_media"], response["demo"], pooled)
    states = [("answered" if response[q] not in ("no_answer", "not_asked") else response[q])
              for q in QUESTION_IDS[2:]]
    singles = list(zip(QUESTION_IDS[2:], states))
    return [home, *((home, q, s) for q, s in singles),
            *((home, *a, *b) for a, b in itertools.combinations(singles, 2))]


def assert_none_small(responses_: list[dict], pooled, minimum: int, what: str) -> None:
    counts = Counter(g for r in responses_ for g in response_groups(r, pooled))
    small = {g: n for g, n in counts.items() if n < minimum}
    assert not small, (what, small)


def class_of(response: dict) -> ClassKey:
    pattern = sum({"no_answer": 1, "not_asked": 2}.get(response[q], 0) * 3 ** i
                  for i, q in enumerate(QUESTION_IDS[2:]))
    return ClassKey(response["role"], response["uses_social_media"], response["demo"], pattern)


def simulate(steps: list[list[dict]], configured, pool_after: int, minimum: int):
    """Releases as :func:`data_loaders.releases.publish` makes them: before each, the arrivals
    of a step join those waiting; a release is made when the batch holds anyone. Returns each
    release's pooling and the responses it published."""
    waiting: list[dict] = []
    made: list[tuple[frozenset, list[dict]]] = []
    published_roles: set[str] = set()
    total = 0
    for step in steps:
        waiting += step
        previous = made[-1][0] if made else ()
        pooled = pooling(previous, configured, published_roles, total, pool_after)
        batch = select_batch(Counter(class_of(r) for r in waiting), pooled, minimum)
        if not batch:
            continue
        out = [r for r in waiting if class_of(r) in batch]
        waiting = [r for r in waiting if class_of(r) not in batch]
        made.append((pooled, out))
        published_roles |= {r["role"] for r in out}
        total += len(out)
    return made


@settings(SOME, max_examples=100)
@given(steps=st.lists(arrivals, min_size=2, max_size=6),
       configured=st.sets(st.sampled_from(("student", "director"))),
       pool_after=st.sampled_from((0, 10, 30, 10 ** 6)), minimum=st.sampled_from((2, 3, 4)))
def test_every_release_and_every_step_between_releases_keeps_the_rule(steps, configured,
                                                                      pool_after, minimum):
    made = simulate(steps, tuple(configured), pool_after, minimum)
    poolings_made = [pooled for pooled, _ in made]
    for earlier, later in zip(poolings_made, poolings_made[1:]):
        assert earlier <= later  # a role only ever joins the pool
    published_by = [list(itertools.chain.from_iterable(out for _, out in made[:i]))
                    for i in range(len(made) + 1)]
    for j, pooled in enumerate(poolings_made, start=1):
        # A role joins the pool only while nothing of it is published: counted under release
        # j's pooling, every release up to j, and every step between two of them, holds 0 or
        # at least the minimum in every group.
        joined = pooled - (poolings_made[j - 2] if j > 1 else frozenset())
        assert not joined & {r["role"] for r in published_by[j - 1]}
        for i in range(1, j + 1):
            assert_none_small(published_by[i], pooled, minimum, f"release {i} (pooling {j})")
            for h in range(1, i):
                step = published_by[i][len(published_by[h]):]
                assert_none_small(step, pooled, minimum, f"releases {h + 1} to {i} (pooling {j})")
