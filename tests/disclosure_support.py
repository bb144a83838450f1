"""Brute-force disclosure check: every number every public view shows, as linear statements, and
every small group that adding and subtracting them singles out.

The fixtures are stored and published by one release, as the dashboard would publish them; the
population every statement is checked against is the published respondents (the store says
which), those waiting being no part of any public figure.

A *statement* says "of the respondents in S, k have property P". S and P are conjunctions of
per-question conditions (a :data:`Pred`), so each can be evaluated on the fixture's own rows (to
recount k, independently of the analysis code) and on the *universe* of every combination of
answers the questionnaire allows (to tell what follows from definitions alone, whatever the data).

Which side of a number is the group (S) and which the answer (P) follows the views: a view's
filter and a by-role group are groups; the question a chart or a breakdown shows is the answer
("3 of the 45 said yes" is an answer count of a group of 45). A cross-tab is the full table of
two questions' answers within the chosen roles: each cell counts those with both answers, each
row's base those with the row's answer who answered the column question.

A statement about an answer code is about those who could give it: S is narrowed to those who
answered the question (for question 6 "no answer", to those asked it), so that "none of the 2 in S
who answered question 6 said yes" is a statement about those 2 however large S is. A cross-tab
cell is about those in the state it names (answered, left blank, not asked) for both its
questions: "2 said yes to question 3 and no to question 5" is about those who answered both.
Question 1 is about everyone in S: it is shown by role group, "no answer" pooled.

A *leak* is a set T of 1 to ``min_cell_size - 1`` respondents whose count with some property P is
shown or derived, as S itself, S1 - S2, S1 - S2 - S3 or S1 + S2 - S3 = S1 & S2, while P is not
fixed by T's definition (P holds on some universe points T's definition admits and fails on
others): "2 of the 3 in T said yes" is a leak; "the 3 in T do not use social media", T being
those of a group who do not, is only T's size. Candidates come from the sets nesting on the rows;
a derivation counts *by definition* when the definitions nest (S2 inside S1 for every possible
data set), since a reader knows that without seeing the rows. Nestings that hold on the fixture's
rows only (every respondent aware of the guidance happens to have looked at a profile) are
reported apart and fail nothing: what they give is a cell of a cross-tab read across, which the
minimum cell rule allows.

What the pages show is read from what their callbacks send (the Overview's, Explore's and Live
page's render callbacks and the role filter's options, posted as the browser posts them), not
from the analysis functions behind them: a page that showed more would be caught.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Iterable, Iterator
from urllib.parse import urlencode

import numpy as np

import pytest

from analysis.crosstab import CROSSTAB_QUESTIONS, crosstab
from analysis.summary import one_decimal
from analysis.views import POOLED, Filter, counts_blank_atom
from dashboard import api, charts, embeds
from dashboard.context import current_view, services
from survey.questionnaire import BY_ID, NO_ANSWER, NOT_ASKED, QUESTION_IDS, QUESTIONS, ROLE_CODES
from tests.analysis_fixtures import answers as parse_spec

START = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
ROLE_VALUES = (*ROLE_CODES, POOLED)
"""Every value the role filter accepts (the UI offers groups and, disabled, the pooled roles; the
presets and the API take any role code)."""
SOCIAL_MEDIA_VALUES = (None, "", "all", "yes", "no")
"""Every value the social-media filter accepts ("", "all" and none mean everyone)."""
ANSWER_CODES = {q.id: q.codes for q in QUESTIONS}
STORED = {q.id: q.stored_codes for q in QUESTIONS}
ASKED_Q6 = "aware_of_guidance"
PAGE_REQUESTS = 1 + len(CROSSTAB_QUESTIONS) * (len(CROSSTAB_QUESTIONS) - 1) + 1
"""Per filter, the pages' render callbacks: the Overview, the Explore page for every ordered
pair of questions (each with one question by role, in turn), and the Live page."""
CROSSTAB_PAIRS = tuple(itertools.permutations(CROSSTAB_QUESTIONS, 2))
PAGE_CHART_REQUESTS = 2 * (len(CROSSTAB_PAIRS) + len(charts.BY_ROLE_QUESTIONS) + 1)
"""Per filter: the Explore and Live pages' charts as embeds, JSON and CSV: the cross-tab of
every ordered pair of questions, every question but role by role, and the timeline."""

# ---------------------------------------------------------------------------------------------
# Conditions on respondents

Pred = tuple[tuple[str, frozenset[str]], ...]
"""A conjunction: for each question id named, the answer codes allowed. () is everyone."""


def pred(**conditions: Iterable[str]) -> Pred:
    return tuple((q, frozenset(conditions[q])) for q in QUESTION_IDS if q in conditions)


def conj(*preds: Pred) -> Pred:
    merged: dict[str, frozenset[str]] = {}
    for p in preds:
        for q, codes in p:
            merged[q] = merged[q] & codes if q in merged else codes
    return tuple((q, merged[q]) for q in QUESTION_IDS if q in merged)


def answered(qid: str) -> Pred:
    return pred(**{qid: ANSWER_CODES[qid]})


def code_is(qid: str, code: str) -> Pred:
    return pred(**{qid: [code]})


PUBLIC = answered("uses_social_media")
EVERYONE: Pred = ()


def domain(p: Pred) -> Pred:
    """Who a property is about: those who could have it (see the module docstring)."""
    if any(qid == "role" for qid, _ in p):
        return EVERYONE  # question 1 is shown by role group over everyone in the view
    if len(p) > 1:
        return conj(*(state_of(qid, codes) for qid, codes in p))
    if not p:
        return EVERYONE
    qid, codes = p[0]
    asked = code_is(ASKED_Q6, "yes") if BY_ID[qid].asked_when else EVERYONE
    answer_codes = set(ANSWER_CODES[qid])
    if codes == answer_codes or codes == {NO_ANSWER}:
        return asked  # answered it at all, or left it blank: of those asked
    if codes <= answer_codes:
        return conj(asked, answered(qid))  # gave this answer: of those who answered
    return EVERYONE  # "not asked": of everyone


def state_of(qid: str, codes: frozenset[str]) -> Pred:
    """Those in the state (answered, left blank, not asked) that ``codes`` lie in: whom a
    cross-tab cell's figures are of, for each of its questions."""
    if codes <= set(ANSWER_CODES[qid]):
        return answered(qid)
    if len(codes) == 1:
        return code_is(qid, next(iter(codes)))
    return EVERYONE


def describe_pred(p: Pred) -> str:
    if not p:
        return "everyone"
    parts = []
    for q, codes in p:
        if codes == set(ANSWER_CODES[q]):
            parts.append(f"answered {q}")
        else:
            parts.append(f"{q} in {{{', '.join(sorted(codes))}}}")
    return " & ".join(parts)


class Universe:
    """Every combination of stored answers the questionnaire allows (question 6 is "not asked"
    exactly when question 5 is not yes), as code indices per question."""

    def __init__(self) -> None:
        q56 = [(i5, i6) for i5, c5 in enumerate(STORED[ASKED_Q6])
               for i6, c6 in enumerate(STORED["confident_guidance"])
               if (c6 == NOT_ASKED) == (c5 != "yes")]
        ranges = [range(len(STORED[q])) for q in ("role", "uses_social_media", "viewed_profile",
                                                  "viewed_for_evidence")]
        combos = np.array([(*a, *b, *c) for a in itertools.product(*ranges) for b in q56
                           for c in itertools.product(range(len(STORED["confident_rules"])),
                                                      range(len(STORED["knows_who_to_ask"])))],
                          dtype=np.int8)
        self.columns = {q: combos[:, i] for i, q in enumerate(QUESTION_IDS)}
        self._cache: dict[Pred, np.ndarray] = {}

    def mask(self, p: Pred) -> np.ndarray:
        found = self._cache.get(p)
        if found is None:
            found = _mask(self.columns, p)
            self._cache[p] = found
        return found


def _mask(columns: dict[str, np.ndarray], p: Pred) -> np.ndarray:
    size = len(next(iter(columns.values())))
    out = np.ones(size, dtype=bool)
    for q, codes in p:
        allowed = np.array([c in codes for c in STORED[q]])
        out &= allowed[columns[q]]
    return out


_UNIVERSE: Universe | None = None


def universe() -> Universe:
    global _UNIVERSE
    if _UNIVERSE is None:
        _UNIVERSE = Universe()
    return _UNIVERSE


# ---------------------------------------------------------------------------------------------
# Fixtures

@dataclass
class Population:
    """Hand-written respondents: the short specs of :mod:`tests.analysis_fixtures`."""

    name: str
    specs: list[str]
    minimum: int
    published: np.ndarray | None = None
    """Those a release has published (every one when None): the only ones public figures
    count."""

    @cached_property
    def people(self) -> list[dict[str, str]]:
        return [parse_spec(s) for s in self.specs]

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:
        return {q: np.array([STORED[q].index(p[q]) for p in self.people], dtype=np.int8)
                for q in QUESTION_IDS}

    def rows(self) -> list[dict]:
        """Rows for the store, a second apart on launch day (one day of arrivals)."""
        return [{"source_respondent_id": f"{self.name}-{i}",
                 "submitted_at": START + timedelta(seconds=i), **codes}
                for i, codes in enumerate(self.people)]

    def mask(self, p: Pred) -> np.ndarray:
        found = _mask(self.columns, p)
        return found if self.published is None else found & self.published

    def public_people(self) -> list[dict[str, str]]:
        """The published respondents' answers."""
        return [p for i, p in enumerate(self.people)
                if self.published is None or self.published[i]]

    def describe(self, members: Iterable[int]) -> str:
        return "; ".join(f"#{i} [{self.specs[i]}]" for i in members)


# ---------------------------------------------------------------------------------------------
# Statements

MAX_DEFINITIONS = 32
"""Different definitions kept of one set of respondents (with one property)."""

@dataclass
class Entry:
    members: np.ndarray
    count: int
    groups: list[Pred] = field(default_factory=list)
    """Every definition the set was shown under (the same respondents on these rows)."""
    origins: list[tuple[str, str]] = field(default_factory=list)
    """(kind, where) of every view that shows it."""
    shown_as: dict[str, set[Pred]] = field(default_factory=lambda: defaultdict(set))
    """The definitions each kind of view shows it under."""
    first_shown: dict[Pred, str] = field(default_factory=dict)
    """A view that shows it under each definition."""
    _same: dict[bytes, Pred] = field(default_factory=dict)
    """Definitions by the universe points they admit: one kept of those that admit the same."""

    def definition(self, group: Pred) -> Pred | None:
        """``group``, or the definition kept that admits the same points; None past the cap."""
        key = np.packbits(universe().mask(group)).tobytes()
        if key not in self._same and len(self.groups) < MAX_DEFINITIONS:
            self._same[key] = group
            self.groups.append(group)
        return self._same.get(key)


@dataclass
class Leak:
    kind: str
    """How T was derived: "shown", "S1-S2", "S1-S2-S3" or "S1+S2-S3"."""
    structural: bool
    """The sets nest by their definitions (as the attacker knows), not only on these rows."""
    members: tuple[int, ...]
    prop: Pred
    count: int
    terms: tuple[tuple[int, Entry], ...]
    """(sign, statement) whose sum is the count."""
    definitions: tuple[Pred, ...]
    """The definition of each term's set under which the derivation holds."""
    known: str | None = None
    """The known leak this derivation is (see :data:`KNOWN`), if any."""

    def needs(self) -> list[set[str]]:
        """For each term, the kinds of view that show it under the definition used."""
        return [{k for k, groups in e.shown_as.items() if g in groups}
                for (_, e), g in zip(self.terms, self.definitions)]

    def describe(self, population: Population) -> str:
        how = "by definition" if self.structural else "on these rows only"
        lines = [f"{len(self.members)} respondent(s) {population.describe(self.members)}: "
                 f"{self.count} with [{describe_pred(self.prop)}], derived as {self.kind} "
                 f"(nesting {how}) from:"]
        for (sign, e), group in zip(self.terms, self.definitions):
            where = e.first_shown[group]
            lines.append(f"   {'+' if sign > 0 else '-'} {e.count} of [{describe_pred(group)}]: "
                         f"{where}")
        return "\n".join(lines)


class Ledger:
    """Every statement shown, checked against a recount from the rows as it is added."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.by_prop: dict[Pred, dict[bytes, Entry]] = defaultdict(dict)
        self.mismatches: list[str] = []
        self.dropped = 0
        """Definitions past :data:`MAX_DEFINITIONS` of one set (none in these fixtures)."""
        self.shown = 0
        self.views: set[str] = set()
        self._masks: dict[Pred, np.ndarray] = {}

    def _mask(self, p: Pred) -> np.ndarray:
        found = self._masks.get(p)
        if found is None:
            found = self.population.mask(p)
            self._masks[p] = found
        return found

    def add(self, group: Pred, prop: Pred, count: Any, kind: str, where: str) -> None:
        self.shown += 1
        self.views.add(where.split(" :: ")[0])
        group = conj(group, domain(prop))
        members = self._mask(group)
        expected = int(np.count_nonzero(members & self._mask(prop)))
        if count is None or int(count) != expected or float(count) != int(count):
            self.mismatches.append(f"{kind}: {where}: shows {count!r} for [{describe_pred(prop)}] "
                                   f"of [{describe_pred(group)}]; the rows give {expected}")
            return
        key = np.packbits(members).tobytes()
        entry = self.by_prop[prop].get(key)
        if entry is None:
            entry = self.by_prop[prop][key] = Entry(members, expected)
        group = entry.definition(group)
        if group is None:
            self.dropped += 1
            return
        entry.first_shown.setdefault(group, f"{kind}: {where}")
        if group not in entry.shown_as[kind]:
            entry.shown_as[kind].add(group)
            entry.origins.append((kind, where))

    @property
    def statements(self) -> int:
        return sum(len(v) for v in self.by_prop.values())


# ---------------------------------------------------------------------------------------------
# Finding small groups

def _undetermined(prop: Pred, region: np.ndarray) -> bool:
    """Whether P takes both values on the universe points a definition admits."""
    has = universe().mask(prop)
    return bool((region & has).any() and (region & ~has).any())


def _within(a: np.ndarray, b: np.ndarray) -> bool:
    return not (a & ~b).any()


def _rank(leak: Leak | None) -> int:
    """Which of two derivations of the same fact to report: one by definition that no known
    leak explains, then one by definition, then one that holds on these rows only."""
    if leak is None:
        return -1
    return 2 if leak.structural and leak.known is None else int(leak.structural)


def _nestings(kind: str, options: list[list[tuple[Pred, np.ndarray]]]) -> Iterator[tuple]:
    """(definitions, T's universe points) for every choice of definitions that nest as the
    derivation needs: S2 (and S3) inside S1; S2 and S3 apart; S3 the union of S1 and S2."""
    if kind == "shown":
        for p, m in options[0]:
            yield (p,), m
    elif kind == "S1-S2":
        for (p1, m1), (p2, m2) in itertools.product(*options):
            if _within(m2, m1):
                yield (p1, p2), m1 & ~m2
    elif kind == "S1-S2-S3":
        for p1, m1 in options[0]:
            inside = [(p, m) for p, m in options[1] if _within(m, m1)]
            others = [(p, m) for p, m in options[2] if _within(m, m1)]
            for (p2, m2), (p3, m3) in itertools.product(inside, others):
                if not (m2 & m3).any():
                    yield (p1, p2, p3), m1 & ~m2 & ~m3
    else:  # S1 + S2 - S3 = S1 & S2, S3 = S1 | S2
        for p3, m3 in options[2]:
            firsts = [(p, m) for p, m in options[0] if _within(m, m3)]
            seconds = [(p, m) for p, m in options[1] if _within(m, m3)]
            for (p1, m1), (p2, m2) in itertools.product(firsts, seconds):
                if ((m1 | m2) == m3).all():
                    yield (p1, p2, p3), m1 & m2


def _judge(kind: str, prop: Pred, terms: list[tuple[int, Entry]], who: tuple[int, ...],
           label) -> Leak | None:
    """The derivation as a leak, if P is not fixed on T for some definitions of the sets:
    preferably definitions that nest as the derivation needs (then the reader knows they do),
    and among those one that no known leak explains (``label`` names the known leak a
    derivation is, or gives None); else definitions that nest only on these rows."""
    u = universe()
    count = sum(sign * e.count for sign, e in terms)
    options = [[(p, u.mask(p)) for p in e.groups] for _, e in terms]
    best: Leak | None = None
    for choice, region in _nestings(kind, options):
        if _undetermined(prop, region):
            leak = Leak(kind, True, who, prop, count, tuple(terms), choice)
            leak.known = label(leak)
            if leak.known is None:
                return leak
            best = best or leak
    if best is None:  # nesting on these rows only: the plainest definitions
        choice = tuple(e.groups[0] for _, e in terms)
        m = [u.mask(p) for p in choice]
        region = {"shown": lambda: m[0], "S1-S2": lambda: m[0] & ~m[1],
                  "S1-S2-S3": lambda: m[0] & ~m[1] & ~m[2],
                  "S1+S2-S3": lambda: m[0] & m[1]}[kind]()
        if _undetermined(prop, region):
            best = Leak(kind, False, who, prop, count, tuple(terms), choice)
    return best


def derivations(by_prop: dict[Pred, dict[bytes, Any]], minimum: int, report, *,
                triples: bool = True) -> None:
    """Every candidate derivation of a small set, handed to ``report(kind, members, prop,
    terms)``: each statement's set of 1 to ``minimum - 1``; S1 - S2 with S2 inside S1 on the
    rows; and (``triples``) S1 - S2 - S3 and S2 + S3 - S1 = S2 & S3 with S2 and S3 inside S1.
    ``by_prop`` maps each property to its statements (anything with ``members``, a boolean mask
    of the rows), as :class:`Ledger` keeps them; whether a candidate holds by definition is for
    ``report`` to judge."""
    for prop, entries in by_prop.items():
        if not prop:
            continue  # "how many in S": a size, never an answer
        items = list(entries.values())
        matrix = np.array([e.members for e in items], dtype=np.float32)
        sizes = matrix.sum(axis=1).astype(np.int64)
        inter = (matrix @ matrix.T).round().astype(np.int64)
        for i, e in enumerate(items):
            if 0 < sizes[i] < minimum:
                report("shown", e.members, prop, [(1, e)])
        # S1 - S2, S2 inside S1 (on these rows; _judge tells whether by definition too).
        subset = inter == sizes[None, :]  # subset[i, j]: S_j inside S_i
        np.fill_diagonal(subset, False)
        gap = sizes[:, None] - sizes[None, :]
        for i, j in zip(*np.nonzero(subset & (gap > 0) & (gap < minimum))):
            a, b = items[i], items[j]
            report("S1-S2", a.members & ~b.members, prop, [(1, a), (-1, b)])
        if not triples:
            continue
        order = np.argsort(sizes, kind="stable")
        for i in range(len(items)):
            inside = order[subset[i][order] & (sizes[order] > 0)]
            if len(inside) < 2:
                continue
            s_in = sizes[inside]
            # S1 - S2 - S3: S2 and S3 inside S1 and apart, leaving 1..min-1.
            lo = np.searchsorted(s_in, sizes[i] - s_in - (minimum - 1), side="left")
            hi = np.searchsorted(s_in, sizes[i] - s_in - 1, side="right")
            for x in np.flatnonzero(hi > np.maximum(lo, np.arange(len(inside)) + 1)):
                for y in range(max(lo[x], x + 1), hi[x]):
                    j, k = inside[x], inside[y]
                    if inter[j, k] == 0:
                        a, b, c = items[i], items[j], items[k]
                        report("S1-S2-S3", a.members & ~b.members & ~c.members, prop,
                               [(1, a), (-1, b), (-1, c)])
            # S2 + S3 - S1 = S2 & S3 when S2 | S3 = S1 (both inside S1).
            lo = np.searchsorted(s_in, sizes[i] - s_in + 1, side="left")
            hi = np.searchsorted(s_in, sizes[i] - s_in + (minimum - 1), side="right")
            for x in np.flatnonzero(hi > np.maximum(lo, np.arange(len(inside)) + 1)):
                for y in range(max(lo[x], x + 1), hi[x]):
                    j, k = inside[x], inside[y]
                    if sizes[j] + sizes[k] - inter[j, k] == sizes[i]:
                        a, b, c = items[j], items[k], items[i]
                        report("S1+S2-S3", a.members & b.members, prop,
                               [(1, a), (1, b), (-1, c)])


def find_leaks(ledger: Ledger, minimum: int, *, triples: bool = True,
               label=lambda leak: None) -> list[Leak]:
    """Every set of 1 to ``minimum - 1`` respondents whose answers some statement, or two or
    three of them added and subtracted, give (see the module docstring); one derivation each."""
    found: dict[tuple, Leak] = {}

    def report(kind: str, members: np.ndarray, prop: Pred, terms: list[tuple[int, Entry]]) -> None:
        who = tuple(int(i) for i in np.flatnonzero(members))
        if not 0 < len(who) < minimum:
            return
        key = (who, prop)
        if _rank(found.get(key)) == 2:
            return
        leak = _judge(kind, prop, terms, who, label)
        if leak is not None and _rank(leak) > _rank(found.get(key)):
            found[key] = leak

    derivations(ledger.by_prop, minimum, report, triples=triples)
    return list(found.values())


# ---------------------------------------------------------------------------------------------
# Filters

def group_of(grouping, role: str) -> str:
    return POOLED if role in grouping.pooled else role


def role_codes(grouping, groups: Iterable[str]) -> set[str]:
    codes: set[str] = set()
    for g in groups:
        codes |= set(grouping.pooled) if g == POOLED else {g}
    return codes


@dataclass(frozen=True)
class ViewClass:
    """The filters that select the same groups (after pooling) and social-media answer."""

    groups: tuple[str, ...]
    social_media: str | None
    raw: tuple[tuple[tuple[str, ...], str | None], ...]
    """Every (role values, social-media value) the UI and API accept that comes to this."""

    def group_pred(self, grouping, blank_atom: bool = False) -> Pred:
        """Who the view counts: those who answered question 2 in its groups, and, for the view
        of no filter when ``blank_atom`` (its figures count those who left question 2 blank
        too), everyone."""
        if blank_atom and not self.groups and not self.social_media:
            return EVERYONE
        parts = [PUBLIC]
        if self.groups:
            parts.append(pred(role=role_codes(grouping, self.groups)))
        if self.social_media:
            parts.append(code_is("uses_social_media", self.social_media))
        return conj(*parts)

    def query_string(self, which: int = 0) -> str:
        roles, social = self.raw[which]
        pairs = [("role", r) for r in roles]
        if social is not None:
            pairs.append(("social_media", social))
        return urlencode(pairs)


NOBODY = ("(nobody)",)
"""The groups of a filter naming only groups with nothing published: it counts nobody."""


def view_classes(grouping) -> list[ViewClass]:
    """Every accepted filter (each subset of the role values crossed with each social-media
    value), resolved by hand from the grouping the dashboard publishes and checked against the
    dashboard's own resolution; one class for the filters that count the same respondents.

    A role with nothing published yet is a group of its own (it is not pooled), with no one in
    it: a filter naming it counts what the same filter without it counts, or nobody when it
    names no other group. Such a filter's class is read through its canonical spelling (the
    groups with anyone published themselves), and another spelling is read beside it."""
    classes: dict[tuple, list] = defaultdict(list)
    published = set(grouping.groups)
    for n in range(len(ROLE_VALUES) + 1):
        for roles in itertools.combinations(ROLE_VALUES, n):
            chosen = {group_of(grouping, r) if r != POOLED else POOLED for r in roles}
            groups = tuple(g for g in (*grouping.separate, POOLED) if g in chosen)
            for social in SOCIAL_MEDIA_VALUES:
                applied = (social if social in ("yes", "no") and grouping.social_media_filter
                           else None)
                resolved = grouping.resolve(Filter.parse(list(roles), social))
                assert resolved == Filter(groups, applied), (roles, social, resolved)
                counted = tuple(g for g in groups if g in published) or (NOBODY if groups
                                                                         else ())
                classes[(counted, applied)].append((roles, social))
    out = []
    for (counted, applied), raw in classes.items():
        # The canonical spelling first (the groups themselves, or for nobody the shortest),
        # then the longest other one.
        if counted == NOBODY:
            raw.sort(key=lambda r: (len(r[0]) != 1 or r[1] != applied, len(r[0])))
            raw.insert(1, raw.pop())
        else:
            raw.sort(key=lambda r: (tuple(r[0]) != counted or r[1] != applied, -len(r[0])))
        roles, _social = raw[0]
        groups = tuple(g for g in (*grouping.separate, POOLED)
                       if g in {group_of(grouping, r) if r != POOLED else POOLED for r in roles})
        out.append(ViewClass(groups, applied, tuple(raw)))
    return out


# ---------------------------------------------------------------------------------------------
# Speed

def _by_summary(function):
    """``function(view)`` (or ``function(summary, ...)``) made once per summary object."""
    made: dict[int, tuple[Any, Any]] = {}

    def once(first, *args):
        summary = getattr(first, "summary", first)
        key = (id(summary), args)
        if key not in made:
            made[key] = (summary, function(first, *args))  # the summary kept: ids stay unique
        return made[key][1]
    return once


@contextmanager
def shared_views() -> Iterator[Any]:
    """Every request of one filter reads one :class:`dashboard.context.View`, and each chart's
    figure, text and rows (and the UK/US comparisons) are made once per view, not once per
    format: a plotly figure costs more than the rest of a request, and this check makes
    thousands of requests. All are pure functions of the view, so every response is the same."""
    views: dict[tuple, Any] = {}

    def view_once(view_filter):
        snapshot = services().live.snapshot()
        key = (id(snapshot), view_filter)
        if key not in views:
            views[key] = (snapshot, current_view(view_filter))
        return views[key][1]

    with pytest.MonkeyPatch.context() as patch:
        for module in (api, embeds):
            patch.setattr(module, "current_view", view_once)
        compare_once = _by_summary(charts.compare)
        patch.setattr(charts, "compare", compare_once)
        patch.setattr(api, "compare", compare_once)
        for chart_id, chart in list(charts.CHARTS.items()):
            patch.setitem(charts.CHARTS, chart_id, replace(
                chart, figure=_by_summary(chart.figure), describe=_by_summary(chart.describe),
                rows=_by_summary(chart.rows), notes=_by_summary(chart.notes)))
        yield view_once


# ---------------------------------------------------------------------------------------------
# Reading each view

LABELS = {q.id: {q.label_of(code): code for code in q.stored_codes} for q in QUESTIONS}
"""Each question's answers and blanks by label."""


def _shows_no_more(other: dict, payload: dict) -> bool:
    """Whether a summary of the same respondents, spelled otherwise (naming groups with
    nothing published too), shows only what ``payload`` shows: the same figures, each question
    either the same or withheld, question 1 with a 0 for each group named beside."""
    if (other["responses"], other["total_responses"]) != (payload["responses"],
                                                          payload["total_responses"]):
        return False
    mine = {q["id"]: q for q in payload["questions"]}
    for q in other["questions"]:
        if q["suppressed"] or q == mine[q["id"]]:
            continue
        if q["id"] != "role" or q["base"] != mine["role"]["base"]:
            return False
        counts = {a["code"]: a["count"] for a in mine["role"]["answers"]}
        if any(a["count"] != counts.get(a["code"], 0) for a in q["answers"]):
            return False
    shown = {(b["id"], b["uk_base"], b["uk_percent"]) for b in payload["benchmarks"]}
    return all(b["uk_percent"] is None or (b["id"], b["uk_base"], b["uk_percent"]) in shown
               for b in other["benchmarks"])


def _float(value) -> float | None:
    return None if value is None or value == "" else float(value)


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    number = float(value)
    assert number == int(number), value
    return int(number)


class Reader:
    """Reads every public view of one app into a :class:`Ledger`."""

    def __init__(self, app, population: Population) -> None:
        self.app = app
        self.client = app.server.test_client()
        self.population = population
        self.ledger = Ledger(population)
        self.problems: list[str] = []
        with app.server.app_context():
            self.snapshot = services().live.snapshot()
        self.grouping = self.snapshot.grouping
        self.blank_atom = counts_blank_atom(Filter(), self.snapshot.safety)
        """The view of no filter counts those who left question 2 blank."""
        self.minimum = population.minimum
        self.requests = 0
        self.views = 0

    # -- helpers -----------------------------------------------------------------------------

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.problems.append(message)

    def group_prop(self, group: str) -> Pred:
        return pred(role=role_codes(self.grouping, [group]))

    def question(self, group: Pred, qid: str, *, base, no_answer=None, not_asked=None,
                 counts: dict[str, Any], kind: str, where: str) -> None:
        """One question's numbers for the respondents in ``group``."""
        add = self.ledger.add
        if qid == "role":  # by role group; its base is everyone in the view who answered q2
            group = conj(group, PUBLIC)
            if base is not None:
                add(group, EVERYONE, base, kind, f"{where} :: base")
            for g, n in counts.items():
                add(group, self.group_prop(g), n, kind, f"{where} :: {g}")
            return
        if base is not None:
            add(group, answered(qid), base, kind, f"{where} :: base")
        if no_answer is not None:
            add(group, code_is(qid, NO_ANSWER), no_answer, kind, f"{where} :: no answer")
        if not_asked is not None:
            add(group, code_is(qid, NOT_ASKED), not_asked, kind, f"{where} :: not asked")
        for code, n in counts.items():
            add(group, code_is(qid, code), n, kind, f"{where} :: {code}")

    def get(self, path: str, *, view: bool = True):
        self.requests += 1
        self.views += view
        response = self.client.get(path)
        self.check(response.status_code == 200, f"{path}: status {response.status_code}")
        return response

    def filters_ok(self, shown: dict, view: ViewClass, where: str) -> None:
        self.check(shown == {"role": list(view.groups), "social_media": view.social_media},
                   f"{where}: filters {shown}, not the resolved "
                   f"{view.groups, view.social_media}")

    # -- (a) the summary API --------------------------------------------------------------------

    def summary_api(self, view: ViewClass) -> None:
        qs = view.query_string()
        path = f"/api/v1/summary?{qs}"
        payload = self.get(path).get_json()
        if len(view.raw) > 1:  # another spelling of the same filter gives the same answer
            other = self.get(f"/api/v1/summary?{view.query_string(1)}", view=False).get_json()
            self.check(_shows_no_more(other, payload),
                       f"{path}: another spelling of the filter shows other figures")
        self.filters_ok(payload["filters"], view, path)
        self.check(payload["includes_question_2_blank"] is (
            self.blank_atom and not view.groups and not view.social_media),
            f"{path}: includes_question_2_blank {payload['includes_question_2_blank']}")
        group = view.group_pred(self.grouping, self.blank_atom)
        add = self.ledger.add
        add(group, EVERYONE, payload["responses"], "api", f"{path} :: responses")
        add(EVERYONE, EVERYONE, payload["total_responses"], "api", f"{path} :: total_responses")
        for q in payload["questions"]:
            qid = q["id"]
            if q["suppressed"]:
                self.check(q["base"] is None and "no_answer" not in q
                           and all(set(a) == {"code", "label"} for a in q["answers"]),
                           f"{path}: suppressed {qid} shows numbers")
                continue
            counts = {}
            for a in q["answers"]:
                counts[a["code"]] = a["count"]
                self.check(a["percent"] == one_decimal(100 * a["count"] / q["base"]),
                           f"{path}: {qid} {a['code']} percent is not count / base")
            self.question(group, qid, base=q["base"],
                          no_answer=q.get("no_answer") if qid != "role" else None,
                          not_asked=q.get("not_asked"), counts=counts, kind="api", where=path)
        self.benchmarks(group, payload["benchmarks"], "api", path)

    def benchmarks(self, group: Pred, rows: list[dict], kind: str, where: str) -> None:
        for row in rows:
            qid, base = row["uk_question"], _int(row["uk_base"])
            if base is not None:
                self.ledger.add(group, answered(qid), base, kind, f"{where} :: {row['id']} uk_base")
            percent = row["uk_percent"]
            if percent not in (None, ""):
                percent = float(percent)
                matches = [k for k in range(base + 1) if one_decimal(100 * k / base) == percent]
                self.check(len(matches) == 1,
                           f"{where}: uk_percent {percent} of {base} is ambiguous")
                if matches:
                    self.ledger.add(group, code_is(qid, "yes"), matches[0], kind,
                                    f"{where} :: {row['id']} uk_percent")

    def summary_csv(self, view: ViewClass) -> None:
        path = f"/api/v1/summary.csv?{view.query_string()}"
        text = self.get(path).get_data(as_text=True)
        group = view.group_pred(self.grouping, self.blank_atom)
        by_question: dict[str, list[dict]] = defaultdict(list)
        for row in csv.DictReader(io.StringIO(text)):
            self.check(row["role"] == " ".join(view.groups)
                       and row["social_media"] == (view.social_media or ""),
                       f"{path}: filters {row['role']!r} {row['social_media']!r}")
            by_question[row["question_id"]].append(row)
        for qid, rows in by_question.items():
            if rows[0]["suppressed"] == "True":
                self.check(all(r["base"] == r["count"] == r["percent"] == "" for r in rows),
                           f"{path}: suppressed {qid} shows numbers")
                continue
            self.question(group, qid, base=_int(rows[0]["base"]),
                          counts={r["answer_code"]: _int(r["count"]) for r in rows},
                          kind="csv", where=path)

    # -- (b) embeds -----------------------------------------------------------------------------

    def embed(self, view: ViewClass, chart_id: str) -> None:
        qs = view.query_string()
        group = view.group_pred(self.grouping, self.blank_atom)
        path = f"/embed/{chart_id}.json?{qs}"
        payload = self.get(path).get_json()
        self.filters_ok(payload["filters"], view, path)
        self.embed_rows(group, chart_id, payload["n"], payload["rows"], "embed-json", path)
        self.figure_ok(chart_id, payload, path)
        path = f"/embed/{chart_id}.csv?{qs}"
        rows = list(csv.DictReader(io.StringIO(self.get(path).get_data(as_text=True)
                                               .lstrip("\ufeff"))))
        self.embed_rows(group, chart_id, payload["n"], rows, "embed-csv", path)

    def embed_rows(self, group: Pred, chart_id: str, n, rows: list[dict], kind: str,
                   where: str) -> None:
        add = self.ledger.add
        if chart_id == charts.COMPARISON.id:
            if n is not None:
                add(group, EVERYONE, n, kind, f"{where} :: n")
            self.benchmarks(group, rows, kind, where)
            return
        counts = {}
        bases = set()
        for row in rows:
            if chart_id == "role":
                label = row["answer"]
                code = next(g for g in (*self.grouping.separate, POOLED)
                            if self.grouping.label(g) == label)
            else:
                code = LABELS[chart_id][row["answer"]]
            if _int(row["count"]) is None:
                self.check(all(row.get(k) in (None, "") for k in
                               ("count", "percent", "base", "ci95_low", "ci95_high")),
                           f"{where}: suppressed row shows numbers")
                continue
            counts[code] = _int(row["count"])
            bases.add(_int(row["base"]))
        self.check(len(bases) <= 1, f"{where}: several bases")
        base = bases.pop() if bases else None
        self.check(n == base or (not counts and n is None), f"{where}: n {n} but base {base}")
        if counts or n is not None:
            self.question(group, chart_id, base=n, counts=counts, kind=kind, where=where)

    def page_chart(self, view: ViewClass, chart_id: str, choices: dict[str, str]) -> None:
        """One chart of the Explore or Live page as an embed's JSON and CSV."""
        qs = "&".join(part for part in (view.query_string(), urlencode(choices)) if part)
        path = f"/embed/{chart_id}.json?{qs}"
        payload = self.get(path).get_json()
        # A cross-tab covers everyone in the chosen roles: it does not echo the social-media
        # filter as if it applied it.
        applied = ViewClass(view.groups, None, view.raw) if chart_id == "crosstab" else view
        self.filters_ok(payload["filters"], applied, path)
        self.check(payload.get("choices", {}) == choices,
                   f"{path}: choices {payload.get('choices')}")
        read = {"crosstab": self.crosstab_embed, "by-role": self.by_role_embed,
                "timeline": self.timeline_embed}[chart_id]
        read(view, choices, payload["n"], payload["rows"], f"embed-{chart_id}", path)
        self.page_figure_ok(chart_id, payload, path)
        path = f"/embed/{chart_id}.csv?{qs}"
        rows = list(csv.DictReader(io.StringIO(self.get(path).get_data(as_text=True)
                                               .lstrip("\ufeff"))))
        read(view, choices, payload["n"], rows, f"embed-{chart_id}-csv", path)

    def crosstab_embed(self, view: ViewClass, choices: dict[str, str], n, rows: list[dict],
                       kind: str, where: str) -> None:
        row_id, column_id = choices["rows"], choices["columns"]
        # Cross-tabs cover the chosen roles, whatever the social-media filter.
        group = ViewClass(view.groups, None, view.raw).group_pred(self.grouping, self.blank_atom)
        add = self.ledger.add
        shown: dict[str, int] = {}
        for row in rows:
            r, c = LABELS[row_id][row["row"]], LABELS[column_id][row["column"]]
            base = _int(row["row_base"])
            self.check(shown.setdefault(r, base) == base, f"{where}: row {r} has several bases")
            count = _int(row["count"])
            add(group, conj(code_is(row_id, r), code_is(column_id, c)), count, kind,
                f"{where} :: {r} x {c}")
            if c in ANSWER_CODES[column_id]:
                expected = one_decimal(100 * count / base) if base else None
                self.check(_float(row["percent"]) == expected,
                           f"{where}: {r} x {c} percent is not count / base")
            else:
                self.check(_float(row["percent"]) is None, f"{where}: {r} x {c} has a percent")
        for r, base in shown.items():
            add(group, conj(code_is(row_id, r), answered(column_id)), base, kind,
                f"{where} :: {r} n")
        add(group, EVERYONE, n or 0, kind, f"{where} :: n")
        # The same rows and columns as the analysis gives: every answer, and the blanks.
        snapshot = self.snapshot
        table = crosstab(snapshot.cube, snapshot.grouping, Filter(view.groups, view.social_media),
                         row_id, column_id, self.minimum,
                         everyone=self.blank_atom and not view.groups)
        self.check(list(shown) == list(table.row_codes), f"{where}: rows {list(shown)}, the "
                                                         f"analysis's {list(table.row_codes)}")
        columns = list(dict.fromkeys(LABELS[column_id][row["column"]] for row in rows))
        self.check(not rows or columns == [*table.column_codes, *table.missing_codes],
                   f"{where}: columns {columns}")

    def by_role_embed(self, view: ViewClass, choices: dict[str, str], n, rows: list[dict],
                      kind: str, where: str) -> None:
        qid = choices["by_role"]
        group = view.group_pred(self.grouping)
        codes = {self.grouping.label(g): g for g in (*self.grouping.separate, POOLED)}
        by_group: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            by_group[codes[row["group"]]].append(row)
        shown = []
        for g, group_rows in by_group.items():
            if all(_int(r["count"]) is None for r in group_rows):
                self.check(all(r.get(k) in (None, "") for r in group_rows for k in
                               ("count", "percent", "base", "ci95_low", "ci95_high")),
                           f"{where}: suppressed group {g} shows numbers")
                continue
            bases = {_int(r["base"]) for r in group_rows}
            self.check(len(bases) == 1, f"{where}: group {g} has several bases")
            shown.append(g)
            self.question(conj(group, self.group_prop(g)), qid, base=bases.pop(),
                          counts={LABELS[qid][r["answer"]]: _int(r["count"]) for r in group_rows},
                          kind=kind, where=f"{where} :: {g}")
        self.check((n is None) == (not shown), f"{where}: n {n} with groups {shown}")
        if shown:
            self.ledger.add(conj(group, pred(role=role_codes(self.grouping, shown))),
                            answered(qid), n, kind, f"{where} :: n")

    def timeline_embed(self, view: ViewClass, choices: dict[str, str], n, rows: list[dict],
                       kind: str, where: str) -> None:
        group = view.group_pred(self.grouping, self.blank_atom)
        for row in rows:
            self.ledger.add(group, EVERYONE, _int(row["responses"]), kind,
                            f"{where} :: total {row['day']}")
        self.ledger.add(group, EVERYONE, n, kind, f"{where} :: n")

    def page_figure_ok(self, chart_id: str, payload: dict, where: str) -> None:
        """The figure shows no percentage or count the rows do not."""
        data = payload["figure"].get("data", [])
        rows = payload["rows"]
        if chart_id == "crosstab":
            shown = [p for line in data[0]["z"] for p in line] if data else []
            answers = set(BY_ID[payload["choices"]["columns"]].codes)
            percents = [r["percent"] or 0.0 for r in rows
                        if LABELS[payload["choices"]["columns"]][r["column"]] in answers]
            if not data:  # nobody in these roles: no figure, and every count 0
                percents = [] if not any(r["count"] for r in rows) else percents
            self.check(shown == percents, f"{where}: figure {shown}")
        elif chart_id == "by-role":
            shown = sorted(p for trace in data for p in trace["x"])
            self.check(shown == sorted(r["percent"] for r in rows if r["percent"] is not None),
                       f"{where}: figure {shown}")
        else:
            shown = data[0]["y"] if data else []
            self.check(shown == [r["responses"] for r in rows], f"{where}: figure {shown}")

    def figure_ok(self, chart_id: str, payload: dict, where: str) -> None:
        """The figure shows no number the rows do not."""
        if chart_id == charts.COMPARISON.id:
            return
        data = payload["figure"].get("data", [])
        if payload["n"] is None:
            self.check(not data, f"{where}: suppressed chart has traces")
            self.check(not re.search(r"\d", payload["description"].split(",", 1)[-1]
                                     .replace(str(self.minimum), "")),
                       f"{where}: suppressed description has numbers")
            return
        shown = [c[0] for c in data[0].get("customdata", [])] if data else []
        self.check(shown == [r["count"] for r in payload["rows"]],
                   f"{where}: figure counts {shown} are not the rows'")

    # -- (c) pages, as their callbacks send them ------------------------------------------------

    def render(self, content: list[str], search: str) -> Any:
        """A page's render callback, posted as the browser posts it (the data version it names
        is the one the worker holds)."""
        from tests import attack_support as pages  # imported here: it imports this module

        body = pages.callback_body([(c, "children") for c in content],
                                   [("url", "search", search),
                                    ("data-version", "data", self.snapshot.version)],
                                   changed=["url.search"])
        self.requests += 1
        self.views += 1
        response = self.client.post("/_dash-update-component", json=body)
        self.check(response.status_code == 200, f"{content} {search}: {response.status_code}")
        return response.get_json()["response"] if response.status_code == 200 else None

    def shown(self, group: Pred, qid: str, shown, kind: str, where: str) -> None:
        """One question's numbers as a page part shows them, by label."""
        codes = LABELS[qid] if qid != "role" else self.group_labels
        unknown = set(shown.counts) - set(codes)
        self.check(not unknown, f"{where}: answers {sorted(unknown)}")
        self.question(group, qid, base=shown.base,
                      counts={codes[label]: n for label, n in shown.counts.items()
                              if label in codes},
                      no_answer=shown.no_answer if qid != "role" else None,
                      not_asked=shown.not_asked, kind=kind, where=where)

    @property
    def group_labels(self) -> dict[str, str]:
        return {self.grouping.label(g): g for g in (*self.grouping.separate, POOLED)}

    def role_options(self) -> None:
        """The role filter, as the shell's tick sends it: each group offered, with its size."""
        from tests import attack_support as pages

        body = pages.callback_body(
            [("data-version", "data"), ("demo-banner", "children"), ("store-status", "children"),
             ("as-of", "children"), ("role-filter", "options")],
            [("tick", "n_intervals", 1)],
            [("data-version", "data", None), ("store-status", "children", [])],
            ["tick.n_intervals"])
        self.requests += 1
        self.views += 1
        response = self.client.post("/_dash-update-component", json=body)
        self.check(response.status_code == 200, f"role filter: {response.status_code}")
        offered = []
        for option in response.get_json()["response"]["role-filter"]["options"]:
            found = re.match(r"^(.*) \(([\d,]+)\)$", option["label"])
            if option.get("disabled"):
                self.check(found is None, f"role filter: {option['label']!r} has a number")
                continue
            offered.append(option["value"])
            self.ledger.add(PUBLIC, self.group_prop(option["value"]),
                            int(found.group(2).replace(",", "")), "role-options",
                            f"role filter :: {option['value']}")
        self.check(offered == list(self.grouping.groups), f"role filter offers {offered}")

    def pages(self, view: ViewClass) -> None:
        from tests import attack_support as pages

        query_string = view.query_string()
        search = f"?{query_string}" if query_string else ""
        group = view.group_pred(self.grouping, self.blank_atom)
        answered_q2 = view.group_pred(self.grouping)  # the breakdown by role never counts blanks
        roles_only = ViewClass(view.groups, None, view.raw).group_pred(self.grouping,
                                                                       self.blank_atom)
        add = self.ledger.add
        # Overview: headline tiles and a card per question (its figure, numbers table and
        # text alternative).
        where = f"overview{search}"
        response = self.render(["overview-content"], search)
        if response is not None:
            tree = response["overview-content"]["children"]
            tile = pages.headline(tree, "headline-responses")
            add(group, EVERYONE, pages.leading_number(tile[0]), "overview",
                f"{where} :: responses")
            add(EVERYONE, EVERYONE, pages.leading_number(tile[1]), "overview",
                f"{where} :: in all")
            for question in QUESTIONS:
                card = pages.find(tree, f"card-{question.id}")
                for part, shown in pages.card_numbers(card).items():
                    self.shown(group, question.id, shown, "overview",
                               f"{where} :: {question.id} {part}")
        # Explore: every cross-tab (over the chosen roles, whatever the social-media filter),
        # each with one question by role in turn, so that every question is shown by role.
        for j, (row_id, column_id) in enumerate(CROSSTAB_PAIRS):
            by_role = charts.BY_ROLE_QUESTIONS[j % len(charts.BY_ROLE_QUESTIONS)]
            choices = urlencode([("rows", row_id), ("columns", column_id), ("by_role", by_role)])
            explore = f"{search}&{choices}" if search else f"?{choices}"
            parts = ["explore-content-crosstab", "explore-content-breakdown"]
            response = self.render(parts, explore)
            if response is None:
                continue
            table, split = (response[part]["children"] for part in parts)
            graph = pages.find(table, "chart-crosstab")
            data = graph["props"]["figure"].get("data") if graph else None
            if data:
                self.crosstab_page(roles_only, row_id, column_id, data[0],
                                   f"explore{explore} :: crosstab")
            groups, bars = pages.breakdown_numbers(split, self.group_labels)
            for label, shown in groups.items():
                self.shown(conj(answered_q2, self.group_prop(self.group_labels[label])), by_role,
                           shown, "breakdown", f"explore{explore} :: {label}")
            for label, answer, percent in bars:
                shown = groups.get(label)
                self.check(shown is not None and answer in shown.counts and percent
                           == one_decimal(100 * shown.counts[answer] / shown.base),
                           f"explore{explore}: bar {label} {answer} {percent}% is not its text's")
        # Live: arrivals of the chosen groups (one release, today), and every group's size.
        where = f"live{search}"
        response = self.render(["live-content"], search)
        if response is not None:
            live = pages.live_numbers(response["live-content"]["children"])
            self.check(len(live.days) <= 1, f"{where}: one release, on {len(live.days)} days")
            for day, n in live.days:
                add(group, EVERYONE, n, "timeline", f"{where} :: total {day}")
            for n, what in ((live.total, "total"), (live.last_hour, "last hour"),
                            (live.last_day, "last 24 hours")):
                add(group, EVERYONE, n, "timeline", f"{where} :: {what}")
            for label, n in live.precision:
                add(PUBLIC, self.group_prop(self.group_labels[label]), n, "timeline",
                    f"{where} :: precision {label}")

    def crosstab_page(self, group: Pred, row_id: str, column_id: str, heatmap: dict,
                      where: str) -> None:
        """The cross-tab as the Explore page draws it: each row's base and blanks from its
        label, each cell's count from its percentage of the row's base."""
        from tests import attack_support as pages

        add = self.ledger.add
        rows, unread = pages.crosstab_rows(heatmap)
        self.check(not unread, f"{where}: rows {unread}")
        missing = {label.lower(): code for label, code in LABELS[column_id].items()
                   if code not in ANSWER_CODES[column_id]}
        for row in rows:
            in_row = code_is(row_id, LABELS[row_id][row.label])
            add(group, conj(in_row, answered(column_id)), row.base, "crosstab",
                f"{where} :: {row.label} n")
            for name, n in row.missing.items():
                add(group, conj(in_row, code_is(column_id, missing[name])), n, "crosstab",
                    f"{where} :: {row.label} x {name}")
            for label, percent in row.percents.items():
                count = pages.count_from_percent(float(percent), row.base) if row.base else 0
                self.check(count is not None, f"{where}: {percent}% of {row.base}")
                add(group, conj(in_row, code_is(column_id, LABELS[column_id][label])), count,
                    "crosstab", f"{where} :: {row.label} x {label}")

    # -- everything ------------------------------------------------------------------------------

    def read_all(self) -> list[ViewClass]:
        classes = view_classes(self.grouping)
        self.role_options()
        for view in classes:
            self.summary_api(view)
            self.summary_csv(view)
            for chart_id in charts.CHARTS:
                self.embed(view, chart_id)
            for row_id, column_id in CROSSTAB_PAIRS:
                self.page_chart(view, "crosstab", {"rows": row_id, "columns": column_id})
            for qid in charts.BY_ROLE_QUESTIONS:
                self.page_chart(view, "by-role", {"by_role": qid})
            self.page_chart(view, "timeline", {})
            self.pages(view)
        return classes


def grouping_problems(population: Population, grouping) -> list[str]:
    """The grouping the dashboard publishes, recounted from the rows: sizes, and every atom
    (group x answer to question 2) empty or at least the minimum."""
    problems = []
    people = population.public_people()
    public = [p for p in people if p["uses_social_media"] in ("yes", "no")]
    for g in grouping.groups:
        size = sum(1 for p in public if group_of(grouping, p["role"]) == g)
        if grouping.sizes.get(g) != size:
            problems.append(f"group {g}: size {grouping.sizes.get(g)}, rows give {size}")
        if grouping.social_media_filter:
            for value in ("yes", "no"):
                n = sum(1 for p in public if group_of(grouping, p["role"]) == g
                        and p["uses_social_media"] == value)
                if 0 < n < population.minimum:
                    problems.append(f"atom {g} x {value}: {n}")
    if "no_answer" not in grouping.pooled:
        problems.append("role 'no answer' is not pooled")
    return problems


# ---------------------------------------------------------------------------------------------
# Kinds of leak this check once found (each now closed, each with a test in test_disclosure.py)

def _needs_only(leak: Leak, kind: str) -> int:
    """How many of the leak's terms are shown (as used) by this kind of view alone."""
    return sum(1 for needs in leak.needs() if needs == {kind})


def _q2_blanks(population: Population) -> set[int]:
    return {i for i, p in enumerate(population.people) if p["uses_social_media"] == NO_ANSWER}


KNOWN: dict[str, Any] = {
    # The live page counts everyone in a role group, question 2 blank or not; every other view
    # leaves those who left question 2 blank out, so the difference gives their role groups.
    "live-counts-question-2-blanks": lambda leak, population: (
        _needs_only(leak, "timeline") > 0 and set(leak.members) <= _q2_blanks(population)),
    # A cross-tab with question 1 as its columns has a column per role code: pooled roles appear
    # one by one, with their answers to the row question.
    "crosstab-columns-by-role-code": lambda leak, population: (
        _needs_only(leak, "crosstab-by-role") > 0),
    # A cross-tab with question 2 as its columns splits every row by social-media use, even where
    # the social-media filter is withdrawn or the row question may not be shown by it.
    "crosstab-columns-by-social-media": lambda leak, population: (
        _needs_only(leak, "crosstab-by-uses_social_media") > 0),
    # Rows of two cross-tabs (another view, or question 6 inside question 5's "yes") nest, and
    # what one shows and the other does not is a small group; each table checks only its own.
    "crosstab-rows-across-tables": lambda leak, population: (
        _needs_only(leak, "crosstab") >= 2),
}


def classify(leak: Leak, population: Population) -> str | None:
    for name, test in KNOWN.items():
        if test(leak, population):
            return name
    return None


@dataclass
class Result:
    population: Population
    grouping: Any
    classes: list[ViewClass]
    ledger: Ledger
    leaks: list[Leak]
    problems: list[str]
    requests: int
    views: int
    """Views read: HTTP responses, and each page's summary, cross-tab, breakdown and timeline."""

    def unknown(self) -> list[Leak]:
        """Leaks by definition that no known leak explains."""
        return [leak for leak in self.leaks if leak.structural and leak.known is None]

    def of_kind(self, name: str) -> list[Leak]:
        return [leak for leak in self.leaks if leak.structural and leak.known == name]

    def report(self, leaks: list[Leak], limit: int = 8) -> str:
        head = (f"{self.population.name} (min {self.population.minimum}): {len(leaks)} leak(s) "
                f"in {self.ledger.statements} distinct statements")
        return "\n".join([head, *(leak.describe(self.population) for leak in leaks[:limit])])


def examine(app, population: Population, *, triples: bool = True) -> Result:
    """Every view of ``app`` (built on ``population``'s rows) read, and the leaks found."""
    with shared_views():
        reader = Reader(app, population)
        problems = grouping_problems(population, reader.grouping)
        classes = reader.read_all()
    leaks = find_leaks(reader.ledger, population.minimum, triples=triples,
                       label=lambda leak: classify(leak, population))
    return Result(population, reader.grouping, classes, reader.ledger, leaks,
                  problems + reader.problems + reader.ledger.mismatches, reader.requests,
                  reader.views)
