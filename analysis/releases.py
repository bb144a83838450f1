"""The release rule: what the public sees moves only in steps that single nobody out.

Every public output (pages, callbacks, the API, embeds, images, downloads, decks, frozen embeds)
is computed from a *release*: the responses published so far, as one whole. A release adds
responses waiting to be published, and this module decides which.

**Atoms.** A role group (a role shown on its own, or the pooled group of small roles, "no
answer" among them) with one answer to question 2, yes or no. Those who left question 2 blank
are one atom more, whatever their role. Demo responses are atoms of their own, so that removing
them leaves real figures that kept the rule by themselves.

**Groups a public output can single out.** Within each atom: the atom itself; for each of
questions 3 to 8, those who answered it, those who left it blank and (question 6) those not
asked it; and for each pair of those questions, those in each combination of the two states
(answered both, answered the first and left the second blank, and so on). Every figure the
product publishes is, for some filter, a count of the answers given within a union of such
groups: a view is a union of atoms, a question's base is a union of the "answered" groups, its
"no answer" a union of the "blank" groups, and a cross-tab's figures are of those in the state
its row and column name for each of its two questions (those who answered both, for its
percentages and its test).

**The rule.** A release adds to each of these groups either nobody or at least the minimum cell
size. Releases start from nothing, so in every release each group holds 0 or at least the
minimum, and so does the difference between any two releases (what came in between is a sum of
steps of 0 or at least the minimum). Any sum or difference of published figures, across filters,
outputs and releases, is then a union of such pieces, none with 1 to ``minimum - 1`` people.

**Which responses.** Two responses of the same atom that answered, left blank and were not asked
the same questions belong to the same groups: a *class*. Including all of a class's waiting
responses never makes a group's gain fall below what including some would, so a batch is a union
of whole classes. The batch is the greatest one the rule allows: start from every waiting class;
while some group would gain 1 to ``minimum - 1``, drop every class in it. Each drop is forced (no
allowed batch inside the current one can include a member of that group, since its gain could
only shrink), so what is left is the largest allowed batch, and it does not depend on the order
the drops are made in.

**Pooling.** Role codes are pooled by setting (``POOLED_ROLES``), "no answer" always, and, once
``POOL_AFTER`` responses are published, every role none of whose responses has been published
yet. The last is decided from the previous release alone (public figures), so it tells nothing
of what waits. A role only ever joins the pool, never leaves it: joining adds to the pool a role
that had nothing published, and leaving would show the role's earlier figures, which the pool
hid. Pooling therefore cannot flip back and forth as responses arrive.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

from survey.questionnaire import BY_ID, NO_ANSWER, NOT_ASKED, QUESTION_IDS, ROLE_CODES

POOL = "pooled"
PATTERN_QUESTIONS = QUESTION_IDS[2:]
"""Questions 3 to 8: a class says, for each, whether it was answered, left blank or not asked."""
ANSWERED, BLANK, NOT_ASKED_STATE = 0, 1, 2
STATES = {NO_ANSWER: BLANK, NOT_ASKED: NOT_ASKED_STATE}
STATE_NAMES = ("answered", "no answer", "not asked")
SOCIAL_MEDIA_ATOMS = ("yes", "no")


def state_of(code: str) -> int:
    """Answered, blank or not asked, for one stored answer code."""
    return STATES.get(code, ANSWERED)


def pattern_of(codes: Mapping[str, str]) -> int:
    """The answered/blank/not-asked pattern of questions 3 to 8 as one number (base 3, question
    3 the least significant digit), as :func:`data_loaders.loader.release_class` has the store
    compute it."""
    return sum(state_of(codes[q]) * 3 ** i for i, q in enumerate(PATTERN_QUESTIONS))


def pattern_states(pattern: int) -> tuple[int, ...]:
    return tuple((pattern // 3 ** i) % 3 for i in range(len(PATTERN_QUESTIONS)))


@dataclass(frozen=True, order=True)
class ClassKey:
    """Waiting responses alike for the rule: the same role code, answer to question 2 (a code,
    "no_answer" included), demo or not, and pattern of questions 3 to 8."""

    role: str
    social_media: str
    demo: bool
    pattern: int


def atom_of(key: ClassKey, pooled: frozenset[str]) -> tuple:
    """The atom a class belongs to under a pooling."""
    if key.social_media not in SOCIAL_MEDIA_ATOMS:
        return ("question 2 blank", key.demo)
    group = POOL if key.role in pooled else key.role
    return (group, key.social_media, key.demo)


def groups_of(key: ClassKey, pooled: frozenset[str]) -> list[tuple]:
    """The groups (see the module's docstring) a response of this class is in: its atom, its
    state for each of questions 3 to 8, and its states for each pair of them."""
    atom = atom_of(key, pooled)
    states = list(zip(PATTERN_QUESTIONS, pattern_states(key.pattern)))
    return [(atom,), *((atom, q, s) for q, s in states),
            *((atom, q1, s1, q2, s2) for (q1, s1), (q2, s2) in itertools.combinations(states, 2))]


def select_batch(waiting: Mapping[ClassKey, int], pooled: frozenset[str],
                 minimum: int) -> frozenset[ClassKey]:
    """The greatest set of waiting classes that adds to every group 0 or at least ``minimum``
    people (see the module's docstring)."""
    chosen = {key for key, n in waiting.items() if n > 0}
    membership = {key: groups_of(key, pooled) for key in chosen}
    while True:
        gains: dict[tuple, int] = defaultdict(int)
        for key in chosen:
            for group in membership[key]:
                gains[group] += waiting[key]
        short = {group for group, n in gains.items() if 0 < n < minimum}
        if not short:
            return frozenset(chosen)
        chosen = {key for key in chosen if not short.intersection(membership[key])}


def pooling(previous: Iterable[str], configured: Iterable[str], published_roles: Iterable[str],
            published_total: int, pool_after: int) -> frozenset[str]:
    """The role codes pooled in the next release: those pooled before, those the settings
    name, "no answer", and (once ``pool_after`` responses are published) every role with
    nothing published. Decided from the previous release's public figures only."""
    pooled = set(previous) | set(configured) | {NO_ANSWER}
    if published_total >= pool_after:
        published = set(published_roles)
        pooled |= {role for role in ROLE_CODES if role not in published}
    return frozenset(pooled)


def short_groups(added: Mapping[ClassKey, int], pooled: frozenset[str],
                 minimum: int) -> list[tuple[tuple, int]]:
    """The groups a batch would add 1 to ``minimum - 1`` people to, with how many (empty: the
    batch keeps the rule)."""
    gains: dict[tuple, int] = defaultdict(int)
    for key, n in added.items():
        for group in groups_of(key, pooled):
            gains[group] += n
    return [(group, n) for group, n in sorted(gains.items(), key=str) if 0 < n < minimum]


def check_batch(added: Mapping[ClassKey, int], pooled: frozenset[str], minimum: int) -> list[str]:
    """:func:`short_groups` as ``"group: n"`` strings."""
    return [f"{group}: {n}" for group, n in short_groups(added, pooled, minimum)]


def describe_group(group: tuple) -> str:
    """A group of :func:`groups_of` in words (a refused release names them so)."""
    atom = group[0]
    if atom[0] == "question 2 blank":
        where = "those who left question 2 blank"
    else:
        role = "the pooled roles" if atom[0] == POOL else BY_ID["role"].label_of(atom[0])
        where = f"{role}, question 2 {atom[1]}"
    if atom[-1]:
        where += " (demo)"
    if len(group) == 1:
        return where
    parts = [f"question {BY_ID[q].number} {STATE_NAMES[state]}"
             for q, state in zip(group[1::2], group[2::2])]
    return f"{where}: {' and '.join(parts)}"
