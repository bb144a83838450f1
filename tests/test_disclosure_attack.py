"""The minimum cell rule against an attacker who reads only public HTTP, while responses arrive.

Two hand-written scenarios store responses round by round, one at a time and in bursts, with the
publisher run after every round; after each round the attacker reads the served app over HTTP
(the summary API as JSON and CSV for every filter the role filter offers, the charts' embeds as
JSON and CSV, the page callbacks as the browser posts them, frozen embeds made at earlier
releases, the health answers and the headers) and every number becomes a statement about those
published by that round. No statement, and no sum or difference of two or three of them across
filters, outputs, formats and rounds, may single out 1 to ``minimum - 1`` people
(:mod:`tests.attack_support` says how the search works and what else it checks directly).

The scenarios are built to press on the rule: small roles (1 to 9 people) that wait or are
pooled, blanks on every question, question-2 blanks of several roles, role blanks, people asked
question 6 and not, and a burst whose blanks leave each question's groups at the minimum.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tests import attack_support as at
from tests.attack_support import Scenario, alone, burst, times

ALL_YES = "y y y y y y"
MOSTLY_NO = "n n n . n n"


def pool_after_40() -> Scenario:
    """Minimum 5, team managers pooled by setting, and every role with nothing published joins
    the pool once 40 are published. Groups offered: social workers, newly qualified social
    workers (a small role shown on its own) and the pool."""
    return Scenario("pool-after-40", 5, [
        # 0-1: social workers, one at a time: 3 wait, the 5th alike releases all 5 (release 1).
        alone(*times(3, f"sw y {ALL_YES}")),
        alone(*times(2, f"sw y {ALL_YES}")),
        # 2-3: 5 social workers alike and one who left question 3 blank (a blank group of 1:
        # that one waits); 5 team managers (pooled) (release 2: 5 + 5, total 15).
        alone("sw y y n n . n n") + burst(*times(4, "tm y y n n . y y")),
        burst(*times(4, "sw y y n n . n n"), "sw y - n n . n n", "tm y y n n . y y"),
        # 4: three who left question 2 blank, of three roles: they wait (3 < 5).
        alone(f"sw - {ALL_YES}", f"tm - {MOSTLY_NO}", "st - y n ? . y n"),
        # 5: 6 newly qualified social workers, one with question 4 blank: 5 published
        # (release 3, total 20), and the role is shown on its own with 5.
        burst(*times(5, f"nq y {MOSTLY_NO}"), "nq y y - n . n n"),
        # 6-7: 5 social workers who do not use social media (release 4, total 25); 2 family
        # support workers and 3 students wait.
        alone(*times(3, f"sw n {MOSTLY_NO}"), *times(2, f"fsw y {MOSTLY_NO}")),
        alone(*times(2, f"sw n {MOSTLY_NO}")) + burst(*times(3, "st y y y y n y y")),
        # 8: 12 team managers: 2 answer questions 3 and 5, 5 leave question 5 blank, 5 leave
        # question 3 blank. Each question's groups gain 7 and 5, but those who answered both
        # are 2: those 2 wait, the 10 are published (release 5, total 35).
        burst(*times(2, "tm y y n n . y y"), *times(5, "tm y y n - . y y"),
              *times(5, "tm y - n n . y y")),
        # 9: role left blank: 3 using social media, 1 not. The 3 and the 2 team managers are 5
        # alike in the pool (release 6, total 40: from now on unpublished roles are pooled).
        burst(*times(3, f"- y {MOSTLY_NO}"), f"- n {ALL_YES}"),
        # 10: 5 social workers (release 7, total 45).
        burst(*times(5, "sw y y y y ? y y")),
        # 11: 2 more students: the pool now holds 5 students who answered question 6 (release
        # 8, total 50) and 2 family support workers not asked it, who wait.
        alone(*times(2, "st y y y y n y y")),
        # 12-13: a director, a principal social worker and a service manager, one at a time;
        # then 3 others and an independent reviewing officer: the pool's non-users gain 5
        # alike (release 9, total 55); the role blank who answered question 6 still waits.
        alone(f"dir y {ALL_YES}", f"psw n {MOSTLY_NO}", "svm y n n ? . ? n"),
        burst(*times(3, f"oth n {MOSTLY_NO}"), f"iro n {MOSTLY_NO}"),
        # 14: 5 leave question 7 blank, 2 question 8: the 2 wait (release 10, total 60).
        burst(*times(5, "sw y y y n . - y"), *times(2, "sw y y y n . y -")),
        # 15: 4 more who left question 2 blank: 6 of the 7 were not asked question 6 (release
        # 11, total 66); the one asked it waits.
        alone(*times(3, f"fsw - {MOSTLY_NO}"), "dir - y n n . n n"),
        # 16: 5 team managers who do not use social media (release 12, total 71).
        burst(*times(5, f"tm n {MOSTLY_NO}")),
        # 17-19: one at a time, each with another blank: nothing more is published.
        alone("sw y y y y y - y"),
        alone("sw y n - n . n n"),
        alone(f"nq n {MOSTLY_NO}"),
    ], {"pool_after": 40, "pooled_roles": "team_manager"})


def pooled_students() -> Scenario:
    """Minimum 10, students pooled by setting; small roles (2 to 9 alike) never reach 10 and
    are never published. Groups offered: social workers, team managers and the pool."""
    return Scenario("pooled-students", 10, [
        burst(*times(12, f"sw y {ALL_YES}")),  # 0: release 1, 12
        alone(*times(4, f"sw y {MOSTLY_NO}")),  # 1: 4 wait
        alone(*times(4, f"sw y {MOSTLY_NO}")),  # 2: 8 wait
        # 3: 10 alike (release 2, total 22); 3 who left question 5 blank wait.
        burst(*times(2, f"sw y {MOSTLY_NO}"), *times(3, "sw y n n - . n n")),
        # 4: 23 team managers, the first of their role: 3 answer questions 3 and 5, 10 leave
        # question 5 blank, 10 question 3. Each question's groups gain 13 and 10; the 3 who
        # answered both wait (release 3: 20, total 42).
        burst(*times(3, "tm y y n n . y y"), *times(10, "tm y y n - . y y"),
              *times(10, "tm y - n n . y y")),
        # 5: five who left question 2 blank, one at a time: they wait.
        alone(f"sw - {ALL_YES}", f"tm - {MOSTLY_NO}", "st - y n ? . y n", f"dir - {MOSTLY_NO}",
              f"psw - {MOSTLY_NO}"),
        # 6: 7 students and 3 role blanks, alike: the pool's first 10 (release 4, total 52).
        burst(*times(7, "st y y y y n y y"), *times(3, "- y y y y n y y")),
        # 7-8: social workers who do not use social media: 3, then 7 (release 5, total 62);
        # 3 family support workers and 2 independent reviewing officers wait.
        alone(*times(3, f"sw n {MOSTLY_NO}"), *times(3, f"fsw y {MOSTLY_NO}"),
              *times(2, f"iro y {MOSTLY_NO}")),
        burst(*times(7, f"sw n {MOSTLY_NO}")),
        # 9: 7 more who left question 2 blank: the 10 not asked question 6 are published
        # (release 6, total 72); the 2 asked it wait.
        burst(*times(6, f"nq - {MOSTLY_NO}"), f"sp - {ALL_YES}"),
        # 10: 10 leave question 8 blank (release 7, total 82); 1 leaves question 7 blank.
        burst(*times(10, "sw y y y n . y -"), "sw y y y n . - y"),
        # 11-12: team managers who do not use social media, 5 then 5 (release 8, total 92).
        alone(*times(5, "tm n n n n . ? n")),
        alone(*times(5, "tm n n n n . ? n")),
        # 13-15: 9 senior practitioners, one more social worker, 4 newly qualified: all wait.
        burst(*times(9, f"sp y {ALL_YES}")),
        alone("sw y y y y y - y"),
        burst(*times(4, f"nq y {MOSTLY_NO}")),
    ], {"pooled_roles": "student"})


SCENARIOS = {"pool-after-40": pool_after_40, "pooled-students": pooled_students}
RELEASES = {
    # Rounds at which a release is made, and the total published by each (see the comments).
    "pool-after-40": ([1, 3, 5, 7, 8, 9, 10, 11, 13, 14, 15, 16],
                      [5, 15, 20, 25, 35, 40, 45, 50, 55, 60, 66, 71]),
    "pooled-students": ([0, 3, 4, 6, 8, 9, 10, 12], [12, 22, 42, 52, 62, 72, 82, 92]),
}

_attacked: dict[str, at.Result] = {}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Each scenario attacked once per module run."""
    def get(name: str) -> at.Result:
        if name not in _attacked:
            _attacked[name] = at.run(SCENARIOS[name](), tmp_path_factory.mktemp(name))
        return _attacked[name]
    return get


@pytest.mark.parametrize("name", SCENARIOS)
def test_releases_are_made_as_the_rule_says_and_some_responses_wait(attacked, name):
    result = attacked(name)
    rounds, totals = RELEASES[name]
    assert result.releases == rounds
    assert [int(result.ledger.published[r].sum()) for r in rounds] == totals
    # 84 stored in the first scenario, 13 waiting at the end; 120 and 28 in the second.
    stored = len(result.population.specs)
    assert (stored, stored - totals[-1]) == {"pool-after-40": (84, 13),
                                             "pooled-students": (120, 28)}[name]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_number_read_is_a_count_of_what_was_published(attacked, name):
    """Each output covers exactly those published by its round that its filter names
    (recounted from the rows), and every output could be read and understood."""
    result = attacked(name)
    assert result.ledger.mismatches == []
    assert result.ledger.dropped == 0  # every definition of every set kept for the search
    assert {kind: found for kind, found in result.problems.items()
            if kind in ("refused", "unreadable", "inconsistent")} == {}


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_output_or_combination_of_outputs_singles_out_fewer_than_the_minimum(attacked, name):
    result = attacked(name)
    found = len(result.unknown())
    assert found == 0, result.report()


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_release_adds_nobody_or_at_least_the_minimum_to_every_group(attacked, name):
    assert attacked(name).gains == []


@pytest.mark.parametrize("name", SCENARIOS)
def test_nothing_public_changes_between_rounds_without_a_release(attacked, name):
    assert attacked(name).problems.get("changed without a release", []) == []


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_health_answer_version_or_header_carries_a_count(attacked, name):
    problems = attacked(name).problems
    assert problems.get("count in a health answer", []) == []
    assert problems.get("count in a token", []) == []


@pytest.mark.parametrize("name", SCENARIOS)
def test_frozen_embeds_keep_the_release_they_were_made_at(attacked, name):
    result = attacked(name)
    assert result.problems.get("frozen embed changed", []) == []
    # Four frozen at every release read (and the first round's), each read back as of then.
    assert len(result.attacker.frozen) == 4 * result.attacker.full_reads
    frozen = Counter(kind for entries in result.ledger.by_prop.values()
                     for entry in entries.values() for kind in entry.shown_as
                     if "frozen" in kind)
    assert {kind.split("-frozen")[0] for kind in frozen} == {"embed", "crosstab", "by-role",
                                                              "timeline"}


def test_the_search_finds_a_difference_of_releases_and_a_cell_of_those_who_answered_both():
    """The search itself, on statements written by hand: a set shown at two rounds gives who
    came between; a cross-tab cell is about those who answered both its questions."""
    population = at.ds.Population("hand", ["sw y y y y y y y"] * 5 + ["sw y n n n . n n"] * 2
                                  + ["sw y - n y y y y"] * 5, 5)
    ledger = at.Ledger(population)
    ledger.published = [np.arange(12) < 5, np.arange(12) < 12]
    users = at.PUBLIC
    looked = at.ds.code_is("viewed_profile", "yes")
    # "5 of the 5 who answered question 3 looked" at round 0, "5 of 7" at round 1: the 2 who
    # came between and answered question 3 did not.
    ledger.add(users, looked, 5, 0, "api", "round 0")
    ledger.add(users, looked, 5, 1, "api", "round 1")
    # A cross-tab cell at round 1: of the 7 who answered questions 3 and 5, 5 said yes to
    # both (the 5 who left question 3 blank are not among them): a group of 7, no leak.
    ledger.add(users, at.ds.conj(looked, at.ds.code_is("aware_of_guidance", "yes")), 5, 1,
               "crosstab", "cell")
    leaks = at.find_leaks(ledger, 5)
    assert [(leak.kind, leak.members, leak.count, leak.across_releases) for leak in leaks] == [
        ("S1-S2", (5, 6), 0, True)]
    assert ledger.mismatches == []


def test_summary_of_the_attack(attacked):
    """Not a check: the scale of the attack, for the record (pytest -s shows it)."""
    totals = Counter()
    for name in SCENARIOS:
        totals.update(attacked(name).scale())
        totals["leaks on these rows only"] += sum(not leak.structural
                                                  for leak in attacked(name).leaks)
    print(dict(totals))
    assert totals["numbers"] > totals["statements"] > 0
