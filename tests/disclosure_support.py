"""Brute-force disclosure check: every number every public view shows, as linear statements, and
every small group that adding and subtracting them singles out.

A *statement* says "of the respondents in S, k have property P". S and P are conjunctions of
per-question conditions (a :data:`Pred`), so each can be evaluated on the fixture's own rows (to
recount k, independently of the analysis code) and on the *universe* of every combination of
answers the questionnaire allows (to tell what follows from definitions alone, whatever the data).

Which side of a number is the group (S) and which the answer (P) follows the views: a view's
filter, a cross-tab row and a by-role group are groups; the question a chart, a cross-tab column or
a breakdown shows is the answer ("3 of the 45 said yes" is an answer count of a group of 45).
Cross-tab columns by role or by use of social media are read both ways as well, since role and
social media are what filters select on: such a column is a group.

A statement about an answer code is about those who could give it: S is narrowed to those who
answered the question (for question 6 "no answer", to those asked it), so that "none of the 2 in S
who answered question 6 said yes" is a statement about those 2 however large S is.

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

from analysis.crosstab import CROSSTAB_QUESTIONS, breakdown, crosstab
from analysis.summary import one_decimal
from analysis.timeline import timeline
from analysis.views import POOLED, Filter
from dashboard import api, charts, embeds, query
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
PAGE_VIEWS = 1 + 1 + len(CROSSTAB_QUESTIONS) * (len(CROSSTAB_QUESTIONS) - 1) + 7 + 1
"""Per filter: the overview, the role filter's sizes, a cross-tab per ordered pair of questions,
every question but role by role, and the live page."""
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
    if len(p) != 1:
        return EVERYONE
    qid, codes = p[0]
    asked = code_is(ASKED_Q6, "yes") if BY_ID[qid].asked_when else EVERYONE
    answer_codes = set(ANSWER_CODES[qid])
    if codes == answer_codes or codes == {NO_ANSWER}:
        return asked  # answered it at all, or left it blank: of those asked
    if codes <= answer_codes:
        return conj(asked, answered(qid))  # gave this answer: of those who answered
    return EVERYONE  # a role group with "no answer" in it, "not asked": of everyone


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
        return _mask(self.columns, p)

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

    for prop, entries in ledger.by_prop.items():
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

    def group_pred(self, grouping) -> Pred:
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


def view_classes(grouping) -> list[ViewClass]:
    """Every accepted filter (each subset of the role values crossed with each social-media
    value), resolved by hand from the grouping the dashboard publishes, and checked against the
    dashboard's own resolution."""
    classes: dict[tuple, list] = defaultdict(list)
    for n in range(len(ROLE_VALUES) + 1):
        for roles in itertools.combinations(ROLE_VALUES, n):
            chosen = {group_of(grouping, r) if r != POOLED else POOLED for r in roles}
            groups = tuple(g for g in (*grouping.separate, POOLED) if g in chosen)
            for social in SOCIAL_MEDIA_VALUES:
                applied = (social if social in ("yes", "no") and grouping.social_media_filter
                           else None)
                resolved = grouping.resolve(Filter.parse(list(roles), social))
                assert resolved == Filter(groups, applied), (roles, social, resolved)
                classes[(groups, applied)].append((roles, social))
    out = []
    for (groups, applied), raw in classes.items():
        # The canonical spelling first (the groups themselves), then the longest other one.
        raw.sort(key=lambda r: (tuple(r[0]) != groups or r[1] != applied, -len(r[0])))
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

LABELS = {q.id: {a.label: a.code for a in q.answers} for q in QUESTIONS}


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    number = float(value)
    assert number == int(number), value
    return int(number)


class Reader:
    """Reads every public view of one app into a :class:`Ledger`."""

    def __init__(self, app, population: Population, view_of=current_view) -> None:
        self.app = app
        self.view_of = view_of
        self.client = app.server.test_client()
        self.population = population
        self.ledger = Ledger(population)
        self.problems: list[str] = []
        with app.server.app_context():
            self.snapshot = services().live.snapshot()
        self.grouping = self.snapshot.grouping
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
        if qid == "role":  # by role group; its base is everyone in the view
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
            self.check(other == payload, f"{path}: another spelling of the filter differs")
        self.filters_ok(payload["filters"], view, path)
        group = view.group_pred(self.grouping)
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
        group = view.group_pred(self.grouping)
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
        group = view.group_pred(self.grouping)
        path = f"/embed/{chart_id}.json?{qs}"
        payload = self.get(path).get_json()
        self.filters_ok(payload["filters"], view, path)
        self.embed_rows(group, chart_id, payload["n"], payload["rows"], "embed-json", path)
        self.figure_ok(chart_id, payload, path)
        path = f"/embed/{chart_id}.csv?{qs}"
        text = self.get(path).get_data(as_text=True).lstrip("\ufeff")
        about = dict(re.findall(r"^# ([^:]+): (.*)$", text, flags=re.M))
        n = about["n"]
        rows = list(csv.DictReader(io.StringIO(
            "\n".join(line for line in text.splitlines() if not line.startswith("#")))))
        self.embed_rows(group, chart_id, None if n.startswith("not shown") else int(n), rows,
                        "embed-csv", path)

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
        self.filters_ok(payload["filters"], view, path)
        self.check(payload.get("choices", {}) == choices,
                   f"{path}: choices {payload.get('choices')}")
        read = {"crosstab": self.crosstab_embed, "by-role": self.by_role_embed,
                "timeline": self.timeline_embed}[chart_id]
        read(view, choices, payload["n"], payload["rows"], f"embed-{chart_id}", path)
        self.page_figure_ok(chart_id, payload, path)
        path = f"/embed/{chart_id}.csv?{qs}"
        text = self.get(path).get_data(as_text=True).lstrip("\ufeff")
        n = dict(re.findall(r"^# ([^:]+): (.*)$", text, flags=re.M))["n"]
        rows = list(csv.DictReader(io.StringIO(
            "\n".join(line for line in text.splitlines() if not line.startswith("#")))))
        read(view, choices, None if n.startswith("not shown") else int(n), rows,
             f"embed-{chart_id}-csv", path)

    def crosstab_embed(self, view: ViewClass, choices: dict[str, str], n, rows: list[dict],
                       kind: str, where: str) -> None:
        row_id, column_id = choices["rows"], choices["columns"]
        # Cross-tabs cover the chosen roles, whatever the social-media filter.
        group = ViewClass(view.groups, None, view.raw).group_pred(self.grouping)
        add = self.ledger.add
        shown: dict[str, int] = {}
        for row in rows:
            r, c = LABELS[row_id][row["row"]], LABELS[column_id][row["column"]]
            in_row = conj(group, code_is(row_id, r))
            base = _int(row["row_base"])
            self.check(shown.setdefault(r, base) == base, f"{where}: row {r} has several bases")
            add(in_row, code_is(column_id, c), _int(row["count"]), kind, f"{where} :: {r} x {c}")
            count = _int(row["count"])
            if base:
                self.check(float(row["percent"]) == one_decimal(100 * count / base),
                           f"{where}: {r} x {c} percent is not count / base")
        for r, base in shown.items():
            add(conj(group, code_is(row_id, r)), answered(column_id), base, kind,
                f"{where} :: {r} n")
        self.check((n is None) == (not shown), f"{where}: n {n} with rows {sorted(shown)}")
        if shown:
            add(conj(group, pred(**{row_id: shown})), answered(column_id), n, kind,
                f"{where} :: n")
        # The same rows as the Explore page's cross-tab.
        snapshot = self.snapshot
        table = crosstab(snapshot.cube, snapshot.grouping, Filter(view.groups, view.social_media),
                         row_id, column_id, self.minimum)
        self.check(list(shown) == list(table.row_codes), f"{where}: rows {list(shown)}, the "
                                                         f"page's {list(table.row_codes)}")

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
        group = view.group_pred(self.grouping)
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
            self.check(shown == [r["percent"] for r in rows], f"{where}: figure {shown}")
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

    # -- (c) pages ------------------------------------------------------------------------------

    def pages(self, view: ViewClass) -> None:
        search = "?" + view.query_string()
        group = view.group_pred(self.grouping)
        with self.app.server.test_request_context("/" + search):
            shown = self.view_of(query.filter_from_search(search))
            snapshot = shown.snapshot
            summary = shown.summary
            where = f"page{search}"
            self.views += PAGE_VIEWS
            self.check(summary.view == Filter(view.groups, view.social_media),
                       f"{where}: page view {summary.view}")
            add = self.ledger.add
            # Overview: headline tiles and a card per question.
            add(group, EVERYONE, summary.responses, "overview", f"overview{search} :: responses")
            add(EVERYONE, EVERYONE, snapshot.total, "overview", f"overview{search} :: in all")
            for result in summary.questions:
                if result.suppressed:
                    self.check(result.answers == (), f"{where}: suppressed {result.question.id}")
                    continue
                qid = result.question.id
                self.question(group, qid, base=result.base,
                              no_answer=None if qid == "role" else result.no_answer,
                              not_asked=result.not_asked if result.question.asked_when else None,
                              counts={a.code: a.count for a in result.answers},
                              kind="overview", where=f"overview{search} :: {qid}")
            # The role filter's options (every page): each group's size.
            for g in snapshot.grouping.groups:
                add(PUBLIC, self.group_prop(g), snapshot.grouping.sizes.get(g, 0), "role-options",
                    f"role filter :: {g}")
            # Explore: every cross-tab (over the chosen roles, whatever the social-media
            # filter), and every question by role.
            roles_only = ViewClass(view.groups, None, view.raw).group_pred(self.grouping)
            for row_id, column_id in CROSSTAB_PAIRS:
                table = crosstab(snapshot.cube, snapshot.grouping, summary.view, row_id,
                                 column_id, self.minimum)
                self.crosstab(roles_only, table,
                              f"explore{search}&rows={row_id}&columns={column_id}")
            for qid in QUESTION_IDS:
                if qid == "role":
                    continue  # the page offers every question but role
                split = breakdown(snapshot.cube, snapshot.grouping, summary.view, qid,
                                  snapshot.safety, self.minimum)
                for g, result in zip(split.groups, split.results):
                    if result.suppressed:
                        continue
                    self.question(conj(group, pred(role=role_codes(self.grouping, [g]))), qid,
                                  base=result.base,
                                  counts={a.code: a.count for a in result.answers},
                                  kind="breakdown", where=f"explore{search}&by_role={qid} :: {g}")
            # Live: arrivals of the chosen groups, and every group's precision.
            line = timeline(snapshot.cube, snapshot.grouping, summary.view.roles,
                            summary.view.social_media)
            self.check(len(line.days) <= 1, "fixtures arrive on one day")
            # Arrivals: those who answered question 2, in the view's groups and answer to it.
            for day, n in zip(line.days, line.cumulative):
                add(group, EVERYONE, int(n), "timeline", f"live{search} :: total {day:%Y-%m-%d}")
            for p in line.precision:
                add(PUBLIC, self.group_prop(p.group), p.responses, "timeline",
                    f"live{search} :: precision {p.group}")
            self.check(line.last_hour == 0 and line.last_day == 0, "fixtures arrived in 2018")

    def crosstab(self, group: Pred, table, where: str) -> None:
        rows, columns = table.rows.id, table.columns.id
        add = self.ledger.add
        for r, base, cells in zip(table.row_codes, table.row_bases, table.counts):
            in_row = conj(group, code_is(rows, r))
            add(in_row, answered(columns), int(base), "crosstab", f"{where} :: {r} n")
            for c, n in zip(table.column_codes, cells):
                add(in_row, code_is(columns, c), int(n), "crosstab", f"{where} :: {r} x {c}")
                if columns in ("role", "uses_social_media"):
                    # Role and social media are what filters select on: a column of them is a group.
                    add(conj(group, code_is(columns, c)), code_is(rows, r), int(n),
                        f"crosstab-by-{columns}", f"{where} :: {c} column x {r}")

    # -- everything ------------------------------------------------------------------------------

    def read_all(self) -> list[ViewClass]:
        classes = view_classes(self.grouping)
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
    people = population.people
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
    with shared_views() as view_of:
        reader = Reader(app, population, view_of)
        problems = grouping_problems(population, reader.grouping)
        classes = reader.read_all()
    leaks = find_leaks(reader.ledger, population.minimum, triples=triples,
                       label=lambda leak: classify(leak, population))
    return Result(population, reader.grouping, classes, reader.ledger, leaks,
                  problems + reader.problems + reader.ledger.mismatches, reader.requests,
                  reader.views)
