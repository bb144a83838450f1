"""An attacker with nothing but the public HTTP interface, against responses that arrive one at a
time and in bursts, with the publisher run after every round.

The attacker reads over real HTTP (the app served on a loopback port) what anyone can: the
summary API as JSON and CSV, every chart's embed as JSON and CSV, the page callbacks as a browser
posts them, frozen embeds made at earlier releases, the health answers and the headers. Every
number read becomes a statement "k of the respondents in S have P", S being the filter's
definition *at the round it was read*: those published by then who match it. Which respondents
were published by each round is ground truth (read from the store, never an input of the
attack); everything else the attacker works out from what it read, the pooling included.

The statements are then searched, as :mod:`tests.disclosure_support` searches one release's, for
a set of 1 to ``minimum - 1`` respondents whose count with some property one statement, or two
or three added and subtracted, gives; a definition now has a round as well, and one definition
lies inside another when its conditions do and its round is not later. A derivation counts *by
definition* when the definitions nest as it needs whatever the data (the attacker knows that
much); one that holds on these rows only is reported apart and fails nothing.

Statements about answers are narrowed to those who could give them: for one question, to those
who answered it (or, for "no answer", those asked it), as :mod:`tests.disclosure_support` does;
for a cross-tab's cell, to those in the state (answered, left blank, not asked) the cell names
for each of its two questions, since that is whom the row's figures are of. So "2 said yes to
question 3 and no to question 5" is about those who answered both, however many the view
holds (the release rule keeps such pairs of states as it keeps each question's).

Beside the search, direct checks: between two rounds every group the release rule names (each
role group with each answer to question 2, and everyone who left question 2 blank; within each,
for each of questions 3 to 8 and each pair of them, those who answered, left blank or were not
asked) gains nobody or at least the minimum; nothing public changes between two rounds without
a release; no health answer, data version or header carries a count; a frozen embed never
changes and shows the release it was made at.

The same module runs against a version of the product made before releases existed: publishing
is then a no-op, every stored response is public at once, and the settings are built only from
the fields the product's :class:`~survey.settings.Settings` has.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import itertools
import json
import logging
import re
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlencode, urlsplit

import numpy as np
from sqlalchemy import Engine, inspect, text

from analysis.summary import one_decimal
from dashboard.app import create_app
from data_loaders.bootstrap import open_store
from survey.questionnaire import BY_ID, NO_ANSWER, NOT_ASKED, QUESTION_IDS, QUESTIONS, ROLE_CODES
from survey.settings import Settings
from tests import disclosure_support as ds
from tests.dashboard_support import add, serve

try:
    from data_loaders import releases as _releases
except ImportError:  # before releases, every stored response was public at once
    _releases = None

POOLED = "pooled"
POOLED_LABEL = "Other roles, pooled"
START = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
CHART_QUESTIONS = QUESTION_IDS
BY_ROLE_QUESTIONS = QUESTION_IDS[1:]
CROSSTAB_QUESTIONS = QUESTION_IDS[2:]
CROSSTAB_PAIRS = tuple(itertools.permutations(CROSSTAB_QUESTIONS, 2))
ANSWER_CODES = {q.id: q.codes for q in QUESTIONS}
LABELS = {q.id: {q.label_of(code): code for code in q.stored_codes} for q in QUESTIONS}
"""Each question's answers and blanks by label."""
Pred = ds.Pred
EVERYONE: Pred = ()
PUBLIC = ds.answered("uses_social_media")


# ---------------------------------------------------------------------------------------------
# The product, whichever version it is

def settings_for(url: str, **values: Any) -> Settings:
    """The app's settings: no demo data, no release made by the app itself, freezing not
    limited; of ``values``, only the fields this version's Settings has."""
    known = {f.name for f in fields(Settings)}
    chosen = dict(database_url=url, demo_responses=0, refresh_seconds=1.0,
                  release_interval_seconds=0.0, freeze_rate_per_minute=1_000_000)
    chosen.update(values)
    return Settings.from_env({}, **{k: v for k, v in chosen.items() if k in known})


def publish(engine: Engine, settings: Settings) -> datetime | None:
    """Run the publisher once; the release's time, or None when it made none (always None for a
    product without releases, where nothing waits)."""
    if _releases is None:
        return None
    made = _releases.publish(engine, settings, interval=0)
    return made.published_at if made is not None else None


def published_by(engine: Engine, source: str) -> dict[str, int]:
    """Ground truth, read from the store: each published respondent of ``source`` with the
    release that published it (0 for every stored one when the product has no releases)."""
    columns = {c["name"] for c in inspect(engine).get_columns("responses")}
    seq = "release_seq" if "release_seq" in columns else "0"
    with engine.connect() as connection:
        rows = connection.execute(text(
            f"SELECT source_respondent_id, {seq} FROM responses WHERE source = :source"),
            {"source": source}).all()
    return {str(rid): int(s) for rid, s in rows if s is not None}


# ---------------------------------------------------------------------------------------------
# Scenarios

@dataclass
class Scenario:
    """Hand-written respondents arriving in rounds: each round a list of batches, each batch
    stored by one call (a batch of one is a response arriving alone)."""

    name: str
    minimum: int
    rounds: list[list[list[str]]]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def specs(self) -> list[str]:
        return [s for batches in self.rounds for batch in batches for s in batch]

    def population(self) -> ds.Population:
        return ds.Population(self.name, self.specs, self.minimum)

    def batches(self) -> Iterator[tuple[int, list[tuple[int, str]]]]:
        """(round, [(respondent index, spec), ...]) for every batch, in order."""
        index = itertools.count()
        for r, batches in enumerate(self.rounds):
            for batch in batches:
                yield r, [(next(index), spec) for spec in batch]


def alone(*specs: str) -> list[list[str]]:
    """Batches of one: responses arriving one at a time."""
    return [[s] for s in specs]


def burst(*specs: str) -> list[list[str]]:
    """One batch: responses arriving together."""
    return [list(specs)]


def times(n: int, spec: str) -> list[str]:
    return [spec] * n


# ---------------------------------------------------------------------------------------------
# Statements over rounds

def domain(prop: Pred) -> Pred:
    """Who a property is about. One question's answer (a summary's figure): those who answered
    it, for an answer code; those asked it, for "answered" or "no answer"
    (:func:`tests.disclosure_support.domain`). Two questions' answers (a cross-tab's cell):
    those in the state each names, answered, left blank or not asked, for both; what varies
    within is the answers. Question 1 is about everyone: it is shown by role group, "no answer"
    pooled, over the whole view."""
    if any(q == "role" for q, _ in prop):
        return EVERYONE
    if len(prop) == 1:
        return ds.domain(prop)
    return ds.conj(*(state_of(q, codes) for q, codes in prop))


def state_of(qid: str, codes: frozenset[str]) -> Pred:
    """Those in the answered, blank or not-asked state that ``codes`` lie in (everyone, when
    they span several)."""
    if codes <= set(ANSWER_CODES[qid]):
        return ds.answered(qid)
    if len(codes) == 1:
        return ds.code_is(qid, next(iter(codes)))
    return EVERYONE


@dataclass
class Definition:
    pred: Pred
    mask: np.ndarray
    """The universe points the conditions admit."""
    first: int
    last: int
    """The rounds the set was shown under these conditions (it is the same set in between)."""


MAX_DEFINITIONS = 48
"""Different definitions kept of one set of respondents with one property (a statement past
it is counted in :attr:`Ledger.dropped`)."""


@dataclass
class Entry:
    members: np.ndarray
    count: int
    definitions: dict[bytes, Definition] = field(default_factory=dict)
    shown_as: dict[str, set[bytes]] = field(default_factory=lambda: defaultdict(set))
    first_shown: dict[bytes, str] = field(default_factory=dict)

    def define(self, pred: Pred, round_: int) -> bytes | None:
        mask = ds.universe().mask(pred)
        key = np.packbits(mask).tobytes()
        found = self.definitions.get(key)
        if found is None:
            if len(self.definitions) >= MAX_DEFINITIONS:
                return None
            self.definitions[key] = Definition(pred, mask, round_, round_)
        else:
            found.first, found.last = min(found.first, round_), max(found.last, round_)
        return key


class Ledger:
    """Every statement read, each recounted from the rows published by its round."""

    def __init__(self, population: ds.Population) -> None:
        self.population = population
        self.published: list[np.ndarray] = []
        """Respondents published by each round (ground truth)."""
        self.by_prop: dict[Pred, dict[bytes, Entry]] = defaultdict(dict)
        self.mismatches: list[str] = []
        self.shown = 0
        self.dropped = 0
        self._masks: dict[Pred, np.ndarray] = {}
        self._domains: dict[tuple[Pred, Pred], Pred] = {}

    def mask(self, p: Pred) -> np.ndarray:
        found = self._masks.get(p)
        if found is None:
            found = self._masks[p] = self.population.mask(p)
        return found

    def add(self, group: Pred, prop: Pred, count: Any, round_: int, kind: str,
            where: str) -> None:
        self.shown += 1
        key = (group, prop)
        narrowed = self._domains.get(key)
        if narrowed is None:
            narrowed = self._domains[key] = ds.conj(group, domain(prop))
        members = self.mask(narrowed) & self.published[round_]
        expected = int(np.count_nonzero(members & self.mask(prop)))
        if count is None or float(count) != expected:
            self.mismatches.append(
                f"round {round_}: {kind}: {where}: shows {count!r} for "
                f"[{ds.describe_pred(prop)}] of [{ds.describe_pred(narrowed)}]; "
                f"the rows published give {expected}")
            return
        bits = np.packbits(members).tobytes()
        entry = self.by_prop[prop].get(bits)
        if entry is None:
            entry = self.by_prop[prop][bits] = Entry(members, expected)
        definition = entry.define(narrowed, round_)
        if definition is None:
            self.dropped += 1
            return
        entry.first_shown.setdefault(definition, f"round {round_}: {kind}: {where}")
        entry.shown_as[kind].add(definition)

    @property
    def statements(self) -> int:
        return sum(len(v) for v in self.by_prop.values())


# ---------------------------------------------------------------------------------------------
# Searching the statements

@dataclass
class Leak:
    kind: str
    structural: bool
    members: tuple[int, ...]
    prop: Pred
    count: int
    terms: tuple[tuple[int, Entry], ...]
    definitions: tuple[tuple[bytes, int], ...]
    """Per term, the definition used and the round it is taken at."""

    @property
    def across_releases(self) -> bool:
        return len({r for _, r in self.definitions}) > 1

    def views(self) -> list[str]:
        """Per term, the kinds of output that show it under the definition used."""
        return ["/".join(sorted(k for k, keys in entry.shown_as.items() if key in keys))
                for (_, entry), (key, _) in zip(self.terms, self.definitions)]

    def label(self) -> str:
        """The derivation, whether it spans releases, and the outputs it needs (by family)."""
        when = "across releases" if self.across_releases else "one release"
        families = sorted({FAMILIES.get(kind.split("-")[0], kind) for views in self.views()
                           for kind in views.split("/")})
        return f"{self.kind}, {when}, from {' + '.join(families)}"

    def describe(self, population: ds.Population) -> str:
        how = "by definition" if self.structural else "on these rows only"
        lines = [f"{len(self.members)} respondent(s) {population.describe(self.members)}: "
                 f"{self.count} with [{ds.describe_pred(self.prop)}], derived as {self.kind} "
                 f"({how}) from:"]
        for (sign, entry), (key, round_) in zip(self.terms, self.definitions):
            definition = entry.definitions[key]
            lines.append(f"   {'+' if sign > 0 else '-'} {entry.count} of "
                         f"[{ds.describe_pred(definition.pred)}] at round {round_}: "
                         f"{entry.first_shown[key]}")
        return "\n".join(lines)


FAMILIES = {"api": "summaries", "csv": "summaries", "embed": "summaries",
            "overview": "summaries", "sizes": "group sizes", "crosstab": "cross-tabs",
            "explore": "cross-tabs", "by": "by role", "timeline": "timeline"}
"""Kinds of output (the first word of a statement's kind) by what they show."""


def _within(a: np.ndarray, b: np.ndarray) -> bool:
    return not (a & ~b).any()


def _undetermined(prop: Pred, region: np.ndarray) -> bool:
    has = ds.universe().mask(prop)
    return bool((region & has).any() and (region & ~has).any())


def _judge(kind: str, prop: Pred, terms: list[tuple[int, Entry]], who: tuple[int, ...]
           ) -> Leak | None:
    """The derivation as a leak, if P is not fixed on T for some definitions of the terms that
    nest as the derivation needs (by definition: the attacker knows they do); otherwise, if P
    is not fixed on T's plainest definitions, a leak that holds on these rows only.

    A term's definition is taken at the round that helps most: the latest for the set others
    are taken from, the earliest for those taken away (a set shown at rounds 3 to 5 is the same
    set at each), a common round for S1 + S2 - S3. T's universe points are those its terms'
    conditions give at some moment: before every term's round, and between them, where the
    later sets hold people the earlier do not."""
    count = sum(sign * e.count for sign, e in terms)
    options = [list(e.definitions.items()) for _, e in terms]

    def leak(structural: bool, chosen: tuple[tuple[bytes, int], ...]) -> Leak:
        return Leak(kind, structural, who, prop, count, tuple(terms), chosen)

    if kind == "shown":
        for key, d in options[0]:
            if _undetermined(prop, d.mask):
                return leak(True, ((key, d.last),))
    elif kind == "S1-S2":
        for (k1, d1), (k2, d2) in itertools.product(*options):
            if d2.first <= d1.last and _within(d2.mask, d1.mask):
                region = d1.mask if d2.first < d1.last else d1.mask & ~d2.mask
                if _undetermined(prop, region):
                    return leak(True, ((k1, d1.last), (k2, d2.first)))
    elif kind == "S1-S2-S3":
        for k1, d1 in options[0]:
            inside = [(k, d) for k, d in options[1]
                      if d.first <= d1.last and _within(d.mask, d1.mask)]
            others = [(k, d) for k, d in options[2]
                      if d.first <= d1.last and _within(d.mask, d1.mask)]
            for (k2, d2), (k3, d3) in itertools.product(inside, others):
                if (d2.mask & d3.mask).any():
                    continue
                region = d1.mask.copy()
                if d2.first == d1.last:
                    region &= ~d2.mask
                if d3.first == d1.last:
                    region &= ~d3.mask
                if _undetermined(prop, region):
                    return leak(True, ((k1, d1.last), (k2, d2.first), (k3, d3.first)))
    else:  # S1 + S2 - S3 = S1 & S2, when S3 = S1 | S2 at one round
        for k3, d3 in options[2]:
            firsts = [(k, d) for k, d in options[0] if _within(d.mask, d3.mask)]
            seconds = [(k, d) for k, d in options[1] if _within(d.mask, d3.mask)]
            for (k1, d1), (k2, d2) in itertools.product(firsts, seconds):
                at = max(d1.first, d2.first, d3.first)
                if at <= min(d1.last, d2.last, d3.last) and ((d1.mask | d2.mask) == d3.mask).all():
                    if _undetermined(prop, d1.mask & d2.mask):
                        return leak(True, ((k1, at), (k2, at), (k3, at)))
    plain = [next(iter(e.definitions.items())) for _, e in terms]
    masks = [d.mask for _, d in plain]
    region = {"shown": lambda: masks[0], "S1-S2": lambda: masks[0] & ~masks[1],
              "S1-S2-S3": lambda: masks[0] & ~masks[1] & ~masks[2],
              "S1+S2-S3": lambda: masks[0] & masks[1]}[kind]()
    if _undetermined(prop, region):
        return leak(False, tuple((k, d.last) for k, d in plain))
    return None


def find_leaks(ledger: Ledger, minimum: int, *, triples: bool = True, limit: int = 20_000,
               stats: Counter | None = None) -> list[Leak]:
    """Every set of 1 to ``minimum - 1`` respondents whose count with some property one
    statement, or two or three added and subtracted, gives; one derivation each (see
    :func:`tests.disclosure_support.find_leaks`, whose search this is, over rounds). At most
    ``limit`` candidates are judged (a product without releases gives far more); ``stats``
    counts those judged and those left unjudged."""
    found: dict[tuple, Leak] = {}
    stats = Counter() if stats is None else stats

    def report(kind: str, members: np.ndarray, prop: Pred, terms: list[tuple[int, Entry]]):
        who = tuple(int(i) for i in np.flatnonzero(members))
        if not 0 < len(who) < minimum:
            return
        key = (who, prop)
        held = found.get(key)
        if held is not None and held.structural:
            return
        if stats["judged"] >= limit:
            stats["left unjudged"] += 1
            return
        stats["judged"] += 1
        leak = _judge(kind, prop, terms, who)
        if leak is not None and (held is None or leak.structural):
            found[key] = leak

    ds.derivations(ledger.by_prop, minimum, report, triples=triples)
    return list(found.values())


# ---------------------------------------------------------------------------------------------
# HTTP

@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8").lstrip("\ufeff")


class Client:
    """Requests as a browser or a script sends them, over HTTP/1.1: a connection is used again
    while the server keeps it open (the development server closes each one)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.connection: http.client.HTTPConnection | None = None
        self.sent = 0

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
                continue
            self.sent += 1
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_json(self, path: str, payload: Any) -> Reply:
        return self.request("POST", path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json"})

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _id_text(component_id: Any) -> str:
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


def callback_body(outputs: list[tuple[Any, str]], inputs: list[tuple[Any, str, Any]],
                  state: Iterable[tuple[Any, str, Any]] = (), changed: Iterable[str] = (),
                  output: str | None = None) -> dict:
    """What the browser posts to ``/_dash-update-component`` for a callback."""
    if output is None:
        names = [f"{_id_text(i)}.{p}" for i, p in outputs]
        output = names[0] if len(names) == 1 else ".." + "...".join(names) + ".."
    described = [{"id": i, "property": p} for i, p in outputs]
    return {"output": output, "outputs": described[0] if len(described) == 1 else described,
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": list(changed)}


# ---------------------------------------------------------------------------------------------
# Reading Dash's components

def nodes(tree: Any) -> Iterator[dict]:
    if isinstance(tree, dict):
        if "props" in tree:
            yield tree
            yield from nodes(tree["props"].get("children"))
        else:
            for value in tree.values():
                yield from nodes(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from nodes(item)


def find(tree: Any, component_id: str) -> dict | None:
    return next((n for n in nodes(tree) if n["props"].get("id") == component_id), None)


def text_of(tree: Any) -> str:
    if isinstance(tree, str):
        return tree
    if isinstance(tree, (int, float)):
        return str(tree)
    if isinstance(tree, list):
        return "".join(text_of(t) for t in tree)
    if isinstance(tree, dict):
        return text_of(tree.get("props", {}).get("children"))
    return ""


def number(value: str) -> int:
    return int(value.replace(",", ""))


def leading_number(value: str) -> int | None:
    found = re.match(r"\s*([\d,]+)", value)
    return number(found.group(1)) if found else None


def count_from_percent(percent: float, base: int) -> int | None:
    """The count a one-decimal percentage of ``base`` stands for, if only one does."""
    matches = [k for k in range(base + 1) if one_decimal(100 * k / base) == percent]
    return matches[0] if len(matches) == 1 else None


STANDALONE_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d+(?![0-9A-Za-z])")
"""A decimal number standing alone in a token: "0-42-45" holds three; a hex digest none."""


# ---------------------------------------------------------------------------------------------
# The numbers a page shows, read from what its callback sends (by labels, as a reader sees them)

@dataclass
class Shown:
    """One question's numbers as one part of a page shows them: counts by answer label (or
    group label, for question 1), and the base and blanks where it says them."""

    counts: dict[str, int] = field(default_factory=dict)
    base: int | None = None
    no_answer: int | None = None
    not_asked: int | None = None


def headline(tree: Any, tile_id: str) -> tuple[str, str] | None:
    """A headline tile's value and note."""
    tile = find(tree, tile_id)
    if tile is None:
        return None
    value, _label, note = tile["props"]["children"]
    return text_of(value), text_of(note)


def described(text: str) -> Shown | None:
    """A chart's text alternative: "... Of 34 who answered: Yes 50.0% (17, 95% interval ...);
    No ...". None when it gives no numbers (a chart not shown)."""
    found = re.search(r" Of ([\d,]+) who answered[^:]*: (.*?)\.?$", text)
    if found is None:
        return None
    counts = {label: number(n) for label, _percent, n in re.findall(
        r"(?:^|; )(.+?) (\d+\.\d)% \(([\d,]+), 95%", found.group(2))}
    return Shown(counts, number(found.group(1)))


def card_numbers(card: dict) -> dict[str, Shown]:
    """A question's card on the Overview: its figure's counts (customdata), its numbers table
    with the base note under it, and its text alternative."""
    out = {}
    graph = next((n for n in nodes(card) if n.get("type") == "Graph"), None)
    if graph is not None and graph["props"]["figure"].get("data"):
        bar = graph["props"]["figure"]["data"][0]
        out["figure"] = Shown({label.split(" <b>")[0]: custom[0] for label, custom in
                               zip(bar.get("y", []), bar.get("customdata", []))})
    table = next((n for n in nodes(card) if n.get("type") == "Table"), None)
    if table is not None:
        shown = Shown()
        for row in (n for n in nodes(table) if n.get("type") == "Tr"):
            cells = [text_of(c) for c in nodes(row["props"]["children"]) if c.get("type") == "Td"]
            if len(cells) >= 2:
                shown.counts[cells[0]] = number(cells[1])
        note = next((text_of(n) for n in nodes(card)
                     if n["props"].get("className") == "base-note"), "")
        for key, pattern in (("base", r"Base: ([\d,]+) who answered"),
                             ("no_answer", r"No answer: ([\d,]+)"),
                             ("not_asked", r"Not asked \(question 5 not yes\): ([\d,]+)")):
            match = re.search(pattern, note)
            if match:
                setattr(shown, key, number(match.group(1)))
        out["table"] = shown
    text = next((text_of(n) for n in nodes(card)
                 if "chart-description" in n["props"].get("className", "")), "")
    if described(text) is not None:
        out["text"] = described(text)
    return out


@dataclass
class CrossTabRow:
    label: str
    base: int
    """Those in the row who answered the column question."""
    missing: dict[str, int]
    """Those in the row who left the column question blank or were not asked it, by the
    label written (in lower case), where the row's label says so."""
    percents: dict[str, float]
    """Row percentages by column label."""


def crosstab_rows(heatmap: dict) -> tuple[list[CrossTabRow], list[str]]:
    """The Explore page's cross-tab as drawn: each row's label gives its base and blanks
    ("Yes (n = 12; no answer 3)"), each cell its row percentage. Also the labels not read."""
    rows, unread = [], []
    for label, percents in zip(heatmap["y"], heatmap["z"]):
        found = re.match(r"^(.+?) \(n = ([\d,]+)((?:; [a-z ]+ [\d,]+)*)\)$", label)
        if found is None:
            unread.append(label)
            continue
        missing = {name: number(n) for name, n in re.findall(r"; ([a-z ]+) ([\d,]+)",
                                                              found.group(3))}
        rows.append(CrossTabRow(found.group(1), number(found.group(2)), missing,
                                dict(zip(heatmap["x"], percents))))
    return rows, unread


def breakdown_numbers(tree: Any, labels: Iterable[str]
                      ) -> tuple[dict[str, Shown], list[tuple[str, str, float]]]:
    """The Explore page's breakdown by role: each group's base and counts from its text
    ("Social worker: Question 3, ... Of 20 who answered: ..."), by group label; and the
    figure's bars as (group label, answer label, percent)."""
    text = next((text_of(n) for n in nodes(tree)
                 if n["props"].get("className") == "visually-hidden"), "")
    names = sorted(labels, key=len, reverse=True)
    pieces = re.split("(?:^| )(" + "|".join(re.escape(name) for name in names)
                      + r"): Question ", text)
    groups = {}
    for label, piece in zip(pieces[1::2], pieces[2::2]):
        shown = described(piece)
        if shown is not None:
            groups[label] = shown
    graph = find(tree, "chart-breakdown")
    bars = [(label, trace.get("name"), percent)
            for trace in (graph["props"]["figure"].get("data", []) if graph else [])
            for label, percent in zip(trace.get("y", []), trace.get("x", []))]
    return groups, bars


@dataclass
class LiveNumbers:
    total: int | None = None
    last_hour: int | None = None
    last_day: int | None = None
    days: list[tuple[str, int]] = field(default_factory=list)
    """Published by the end of each day (ISO dates)."""
    precision: list[tuple[str, int]] = field(default_factory=list)
    """Each group's responses, by its label."""


def live_numbers(tree: Any) -> LiveNumbers:
    """The Live page: its headline counts, its timeline's points and its precision table."""
    out = LiveNumbers()
    total = headline(tree, "live-total")
    if total is not None:
        out.total = leading_number(total[0])
    rate = headline(tree, "live-rate")
    if rate is not None:
        out.last_hour, out.last_day = leading_number(rate[0]), leading_number(rate[1])
    graph = find(tree, "chart-timeline")
    data = graph["props"]["figure"].get("data") if graph else None
    if data:
        out.days = [(day[:10], int(n)) for day, n in zip(data[0]["x"], data[0]["y"])]
    table = find(tree, "precision-table")
    for row in (n for n in nodes(table) if n.get("type") == "Tr") if table else ():
        cells = [text_of(c) for c in nodes(row["props"]["children"]) if c.get("type") == "Td"]
        if cells:
            out.precision.append((cells[0], number(cells[1])))
    return out


# ---------------------------------------------------------------------------------------------
# The attacker

@dataclass(frozen=True)
class View:
    """A filter as the product resolved it (its answers say how)."""

    roles: tuple[str, ...]
    social_media: str | None
    query: str
    """The query string it was asked for with."""

    @property
    def core(self) -> bool:
        """Every role, or one group: read in full."""
        return len(self.roles) <= 1


@dataclass
class Plan:
    """How much a release's reading covers. Each figure is a stride: view ``i`` (in the order
    :meth:`Attacker.views_now` gives) is read at the ``k``-th release when ``(i + k) % stride``
    is 0, so that what one release leaves out the next ones read. Every view's summary is read
    at every release, and every chart of the view with no filter."""

    summary_csv: int = 2
    overview: int = 1
    live: int = 2
    explore: int = 1
    timeline: int = 2
    timeline_csv: int = 6
    charts: int = 4
    """The question charts and uk-and-us."""
    by_role: int = 4
    chart_csv: int = 2
    """Of the views whose charts are read, those whose CSV is read too."""
    all_roles_pairs: int = 1
    """The view of every role: one ordered pair of questions in this many, as cross-tabs."""
    group_pairs: int = 1
    """A single group's view: one ordered pair in this many."""
    other_pairs: int = 1
    """Any other view (a set of groups, or a social-media choice): this many pairs."""
    crosstab_csv: int = 4
    frozen_reads: int = 2
    """A frozen embed is read back at the releases after the one it was made at, this many
    times, and at the last round."""
    unchanged_sample: int = 12
    """Outputs read again at a round without a release, beside the summaries."""


WATCHED_HEADERS = ("etag", "last-modified", "x-data-version")
"""Headers that name the data a response shows: they may change only with a release."""
VOLATILE_KEYS = re.compile(r"(_seconds|_seconds_ago)$")
"""Health answers' ages: they grow with the clock, not with the data."""
TIME_TILES = ("live-since",)
"""Tiles that say how long ago something happened: they move with the clock."""


class Attacker:
    """Reads every public output at each round into a :class:`Ledger`, and checks what needs
    no search: changes without a release, counts in tokens and health answers, frozen embeds."""

    def __init__(self, base_url: str, ledger: Ledger, minimum: int,
                 plan: Plan | None = None) -> None:
        self.http = Client(base_url)
        self.ledger = ledger
        self.minimum = minimum
        self.plan = plan or Plan()
        self.problems: dict[str, list[str]] = defaultdict(list)
        self.round = 0
        self.blank_atom = True
        """The view of no filter counts those who left question 2 blank (as the API says)."""
        self.releases = 0
        """Releases made so far (the harness says): what may change public outputs."""
        self.version: Any = None
        self._options: list[dict] | None = None
        self.groups: tuple[str, ...] = ()
        self.labels: dict[str, str] = {}
        self.pooled: frozenset[str] = frozenset({NO_ANSWER})
        self.pooling_at: dict[int, frozenset[str]] = {}
        """The pooled role codes the attacker saw at each round."""
        self.views: list[View] = []
        self.full_reads = 0
        self.reads: Counter = Counter()
        self.frozen: list[tuple[str, int, str]] = []
        """(token, round made, chart) of every frozen embed made."""
        self._frozen_bodies: dict[str, bytes] = {}
        self._seen: dict[str, tuple] = {}
        self._urls: dict[str, tuple[str, str, Any, Any]] = {}
        """Every output read, with how to read it again."""
        self.pubtimes = np.full(len(ledger.population.specs), np.datetime64("NaT"), "M8[us]")
        """When each respondent was published (kept by the harness: the release's time, or the
        submission's for a product without releases), as naive UTC."""

    # -- helpers --------------------------------------------------------------------------------

    def problem(self, kind: str, message: str) -> None:
        self.problems[kind].append(f"round {self.round}: {message}")

    def add(self, group: Pred, prop: Pred, count: Any, kind: str, where: str,
            round_: int | None = None) -> None:
        self.ledger.add(group, prop, count, self.round if round_ is None else round_, kind,
                        where)

    def codes(self, group: str) -> frozenset[str]:
        return self.pooled if group == POOLED else frozenset({group})

    def role_pred(self, groups: Iterable[str]) -> Pred:
        codes: set[str] = set()
        for g in groups:
            codes |= self.codes(g)
        return ds.pred(role=codes)

    def group_pred(self, view: View, *, social_media: bool = True,
                   blank_atom: bool = True) -> Pred:
        """Who a view counts: those who answered question 2 in its groups; in the view of no
        filter (``social_media=False``: of no role), everyone, when the API says it counts
        those who left question 2 blank too."""
        if (blank_atom and self.blank_atom and not view.roles
                and not (social_media and view.social_media)):
            return EVERYONE
        parts = [PUBLIC]
        if view.roles:
            parts.append(self.role_pred(view.roles))
        if social_media and view.social_media:
            parts.append(ds.code_is("uses_social_media", view.social_media))
        return ds.conj(*parts)

    def group_of_label(self, label: str) -> str | None:
        return self.labels.get(label)

    def token_ok(self, value: Any, where: str) -> None:
        """A version or validator names the data; a number standing in it would be a count."""
        if isinstance(value, str) and STANDALONE_NUMBER.search(value.strip('"')):
            self.problem("count in a token", f"{where}: {value!r}")

    def fetch(self, method: str, path: str, payload: Any = None, *,
              volatile: Callable[[Any], Any] | None = None, remember: bool = True) -> Reply:
        """One request; its answer remembered to tell whether it changes without a release."""
        if method == "GET":
            reply = self.http.get(path)
        else:
            reply = self.http.post_json(path, payload)
        self.reads[path.split("?")[0] if method == "GET" else payload["output"][:40]] += 1
        key = path if payload is None else f"{path} {json.dumps(payload, sort_keys=True)}"
        for header in ("etag", "x-data-version"):
            if header in reply.headers:
                self.token_ok(reply.headers[header], f"{path}: {header}")
        if reply.status in (200, 204) and remember:
            content: Any = reply.body
            if volatile is not None and reply.status == 200:
                content = json.dumps(volatile(reply.json()), sort_keys=True).encode()
            digest = hashlib.sha256(content).hexdigest()
            now = (self.releases, digest, *(reply.headers.get(h) for h in WATCHED_HEADERS))
            before = self._seen.get(key)
            if before is not None and before[0] == self.releases and before != now:
                what = [name for name, a, b in zip(("body", *WATCHED_HEADERS), before[1:],
                                                   now[1:]) if a != b]
                self.problem("changed without a release", f"{key[:160]}: {', '.join(what)}")
            self._seen[key] = now
            self._urls.setdefault(key, (method, path, payload, volatile))
        return reply

    def get_json(self, path: str) -> Any | None:
        reply = self.fetch("GET", path)
        if reply.status != 200:
            self.problem("refused", f"{path}: {reply.status} {reply.body[:200]!r}")
            return None
        return reply.json()

    def get_csv(self, path: str) -> tuple[dict[str, str], list[dict[str, str]]] | None:
        reply = self.fetch("GET", path)
        if reply.status != 200:
            self.problem("refused", f"{path}: {reply.status}")
            return None
        # A CSV is tidy, rows only: an embed's n is the same chart's JSON's (read from there).
        rows = list(csv.DictReader(io.StringIO(reply.text().lstrip("\ufeff"))))
        if not path.startswith("/embed/"):
            return {}, rows
        stem, _, query = path.partition("?")
        payload = self.get_json(stem.removesuffix(".csv") + ".json" + (f"?{query}" if query else ""))
        if payload is None:
            return None
        n = payload.get("n")
        return {"n": "not shown" if n is None else str(n)}, rows

    def callback(self, body: dict, *, volatile=None) -> dict | None:
        reply = self.fetch("POST", "/_dash-update-component", body, volatile=volatile)
        if reply.status == 204:
            return None
        if reply.status != 200:
            self.problem("refused", f"callback {body['output'][:60]}: {reply.status}")
            return None
        return reply.json()["response"]

    # -- what the shell says ---------------------------------------------------------------------

    def options(self, options: list[dict], where: str) -> None:
        """The role filter: each group offered with its size; the rest disabled."""
        groups, labels = [], {POOLED_LABEL: POOLED}
        for option in options:
            if option.get("disabled"):
                continue
            found = re.match(r"^(.*) \(([\d,]+)\)$", option["label"])
            if found is None:
                self.problem("unreadable", f"{where}: role option {option['label']!r}")
                continue
            group = option["value"]
            groups.append(group)
            labels[found.group(1)] = group
            self.add(PUBLIC, self.role_pred([group]), number(found.group(2)), "sizes-role-filter",
                     f"{where} :: {group}")
        for code in ROLE_CODES:
            labels.setdefault(BY_ID["role"].label_of(code), code)
        self.groups, self.labels = tuple(groups), labels

    def follow(self) -> bool:
        """The shell's tick, as an open page sends it: whether the data version moved (the
        role filter's options it sends are read once the pooling is known)."""
        body = callback_body(
            [("data-version", "data"), ("demo-banner", "children"), ("store-status", "children"),
             ("as-of", "children"), ("role-filter", "options")],
            [("tick", "n_intervals", self.round + 1)],
            [("data-version", "data", self.version), ("store-status", "children", [])],
            ["tick.n_intervals"])
        response = self.callback(body, volatile=lambda r: r)
        if response is None:
            return False
        version = response.get("data-version", {}).get("data", self.version)
        self.token_ok(version, "data-version store")
        self._options = response.get("role-filter", {}).get("options")
        moved = version != self.version
        self.version = version
        return moved

    def layout(self) -> None:
        """The page's first load: the shell with its role filter."""
        tree = self.get_json("/_dash-layout")
        if tree is None:
            return
        store = find(tree, "data-version")
        if store is not None:
            self.token_ok(store["props"].get("data"), "layout data-version")
        chooser = find(tree, "role-filter")
        if chooser is not None:
            self.options(chooser["props"].get("options", []), "layout role filter")

    def resolve_pooling(self) -> None:
        """Which role codes are pooled, as the API resolves each one asked for alone."""
        answers = {code: self.get_json(f"/api/v1/summary?role={code}") for code in ROLE_CODES}
        self.pooled = frozenset({NO_ANSWER, *(
            code for code, payload in answers.items()
            if payload and payload["filters"]["role"] == [POOLED])})
        for code, payload in answers.items():
            if payload is not None:
                view = View(tuple(payload["filters"]["role"]), payload["filters"]["social_media"],
                            f"role={code}")
                self.summary_statements(view, payload, "api", f"/api/v1/summary?role={code}")

    def health(self) -> None:
        self.fetch("GET", "/healthz")
        reply = self.fetch("GET", "/readyz", volatile=lambda body: {
            k: v for k, v in body.items() if not VOLATILE_KEYS.search(k)})
        if reply.status == 200:
            for key, value in reply.json().items():
                if isinstance(value, bool) or VOLATILE_KEYS.search(key):
                    continue
                if isinstance(value, (int, float)):
                    self.problem("count in a health answer", f"/readyz: {key} = {value}")
                elif key.endswith("version"):
                    self.token_ok(value, f"/readyz: {key}")
        self.fetch("GET", "/healthz/data-version")

    # -- numbers of one question -------------------------------------------------------------------

    def question(self, group: Pred, qid: str, *, base, counts: dict[str, Any], kind: str,
                 where: str, no_answer=None, not_asked=None, round_: int | None = None) -> None:
        """One question's numbers for the respondents in ``group`` (question 1: by role group,
        its base everyone in the view)."""
        def add(prop: Pred, n: Any, what: str) -> None:
            self.add(group, prop, n, kind, f"{where} :: {what}", round_)

        if qid == "role":  # never those who left question 2 blank
            group = ds.conj(group, PUBLIC)
            if base is not None:
                add(EVERYONE, base, "base")
            for g, n in counts.items():
                add(self.role_pred([g]), n, g)
            return
        if base is not None:
            add(ds.answered(qid), base, "base")
        if no_answer is not None:
            add(ds.code_is(qid, NO_ANSWER), no_answer, "no answer")
        if not_asked is not None:
            add(ds.code_is(qid, NOT_ASKED), not_asked, "not asked")
        for code, n in counts.items():
            add(ds.code_is(qid, code), n, code)

    def percent_ok(self, percent: Any, count: Any, base: Any, where: str) -> None:
        if percent in (None, "") or not base:
            return
        if float(percent) != one_decimal(100 * int(count) / int(base)):
            self.problem("inconsistent", f"{where}: {percent}% is not {count} of {base}")

    # -- the summary API ---------------------------------------------------------------------------

    def summary_statements(self, view: View, payload: dict, kind: str, where: str,
                           round_: int | None = None) -> None:
        if not view.roles and not view.social_media:
            self.blank_atom = payload["includes_question_2_blank"]
        group = self.group_pred(view)
        self.add(group, EVERYONE, payload["responses"], kind, f"{where} :: responses", round_)
        self.add(EVERYONE, EVERYONE, payload["total_responses"], kind,
                 f"{where} :: total_responses", round_)
        for q in payload["questions"]:
            qid = q["id"]
            if q["suppressed"]:
                if q.get("base") is not None or any("count" in a for a in q["answers"]):
                    self.problem("inconsistent", f"{where}: suppressed {qid} shows numbers")
                continue
            for a in q["answers"]:
                self.percent_ok(a["percent"], a["count"], q["base"], f"{where} {qid}")
            self.question(group, qid, base=q["base"],
                          counts={a["code"]: a["count"] for a in q["answers"]},
                          no_answer=q.get("no_answer") if qid != "role" else None,
                          not_asked=q.get("not_asked"), kind=kind, where=where, round_=round_)
        self.benchmarks(group, payload["benchmarks"], kind, where, round_)

    def benchmarks(self, group: Pred, rows: list[dict], kind: str, where: str,
                   round_: int | None = None) -> None:
        for row in rows:
            qid, base = row["uk_question"], row["uk_base"]
            if base in (None, ""):
                continue
            base = int(float(base))
            self.add(group, ds.answered(qid), base, kind, f"{where} :: {row['id']} uk_base",
                     round_)
            if row["uk_percent"] not in (None, ""):
                count = count_from_percent(float(row["uk_percent"]), base)
                if count is None:
                    self.problem("inconsistent", f"{where}: uk_percent of {base} is ambiguous")
                    continue
                self.add(group, ds.code_is(qid, "yes"), count, kind,
                         f"{where} :: {row['id']} uk_percent", round_)

    def summary(self, view: View) -> dict | None:
        path = f"/api/v1/summary?{view.query}"
        payload = self.get_json(path)
        if payload is not None:
            self.summary_statements(view, payload, "api", path)
        return payload

    def summary_csv(self, view: View) -> None:
        path = f"/api/v1/summary.csv?{view.query}"
        read = self.get_csv(path)
        if read is None:
            return
        group = self.group_pred(view)
        by_question: dict[str, list[dict]] = defaultdict(list)
        for row in read[1]:
            by_question[row["question_id"]].append(row)
        for qid, rows in by_question.items():
            if rows[0]["suppressed"] == "True":
                continue
            base = int(rows[0]["base"])
            for r in rows:
                self.percent_ok(r["percent"], r["count"], base, f"{path} {qid}")
            self.question(group, qid, base=base,
                          counts={r["answer_code"]: int(r["count"]) for r in rows},
                          kind="csv", where=path)

    # -- embeds ------------------------------------------------------------------------------------

    def chart(self, view: View, chart_id: str, fmt: str) -> None:
        """One of the Overview's or the UK and US page's charts."""
        path = f"/embed/{chart_id}.{fmt}?{view.query}"
        if fmt == "json":
            payload = self.get_json(path)
            if payload is not None:
                self.token_ok(payload.get("version"), f"{path}: version")
                self.chart_payload(view, chart_id, payload, f"embed-{fmt}", path)
            return
        read = self.get_csv(path)
        if read is not None:
            about, rows = read
            n = about.get("n", "")
            self.chart_rows(view, chart_id, None if n.startswith("not shown") else int(n), rows,
                            f"embed-{fmt}", path)

    def chart_payload(self, view: View, chart_id: str, payload: dict, kind: str, where: str,
                      round_: int | None = None) -> None:
        self.chart_rows(view, chart_id, payload["n"], payload["rows"], kind, where, round_)
        if chart_id == "uk-and-us" or payload["n"] is None:
            return
        group = self.group_pred(view)
        data = payload["figure"].get("data", [])
        if data:
            bar = data[0]
            counts = {}
            for label, custom in zip(bar.get("y", []), bar.get("customdata", [])):
                code = self.answer_code(chart_id, label.split(" <b>")[0], where)
                if code is not None:
                    counts[code] = custom[0]
            self.question(group, chart_id, base=None, counts=counts, kind=f"{kind}-figure",
                          where=where, round_=round_)
        self.description(group, chart_id, payload["description"], f"{kind}-text", where, round_)

    def answer_code(self, qid: str, label: str, where: str) -> str | None:
        code = self.group_of_label(label) if qid == "role" else LABELS[qid].get(label)
        if code is None:
            self.problem("unreadable", f"{where}: answer {label!r}")
        return code

    def description(self, group: Pred, qid: str, text: str, kind: str, where: str,
                    round_: int | None = None) -> None:
        """A chart's text alternative, as :func:`described` reads it."""
        shown = described(text)
        if shown is not None:
            self.shown(group, qid, shown, kind, where, round_)

    def chart_rows(self, view: View, chart_id: str, n, rows: list[dict], kind: str, where: str,
                   round_: int | None = None) -> None:
        group = self.group_pred(view)
        if chart_id == "uk-and-us":
            if n is not None:
                self.add(group, EVERYONE, n, kind, f"{where} :: n", round_)
            self.benchmarks(group, rows, kind, where, round_)
            return
        counts = {}
        for row in rows:
            if row.get("count") in (None, ""):
                continue
            code = self.answer_code(chart_id, row["answer"], where)
            if code is None:
                continue
            counts[code] = int(float(row["count"]))
            self.percent_ok(row.get("percent"), row["count"], row.get("base"), where)
        if counts or n is not None:
            self.question(group, chart_id, base=n, counts=counts, kind=kind, where=where,
                          round_=round_)

    def by_role(self, view: View, qid: str, fmt: str) -> None:
        path = f"/embed/by-role.{fmt}?{view.query}{'&' if view.query else ''}by_role={qid}"
        if fmt == "json":
            payload = self.get_json(path)
            if payload is not None:
                self.by_role_rows(view, qid, payload["n"], payload["rows"], "by-role", path)
            return
        read = self.get_csv(path)
        if read is not None:
            n = read[0].get("n", "")
            self.by_role_rows(view, qid, None if n.startswith("not shown") else int(n), read[1],
                              "by-role-csv", path)

    def by_role_rows(self, view: View, qid: str, n, rows: list[dict], kind: str, where: str,
                     round_: int | None = None) -> None:
        group = self.group_pred(view, blank_atom=False)
        by_group: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            g = self.group_of_label(row["group"])
            if g is None:
                self.problem("unreadable", f"{where}: group {row['group']!r}")
                continue
            by_group[g].append(row)
        shown = []
        for g, group_rows in by_group.items():
            if all(r.get("count") in (None, "") for r in group_rows):
                continue
            shown.append(g)
            base = int(float(group_rows[0]["base"]))
            for r in group_rows:
                self.percent_ok(r.get("percent"), r["count"], base, where)
            self.question(ds.conj(group, self.role_pred([g])), qid, base=base,
                          counts={LABELS[qid][r["answer"]]: int(float(r["count"]))
                                  for r in group_rows},
                          kind=kind, where=f"{where} :: {g}", round_=round_)
        if shown and n is not None:
            self.add(ds.conj(group, self.role_pred(shown)), ds.answered(qid), n, kind,
                     f"{where} :: n", round_)

    def crosstab(self, view: View, row_id: str, column_id: str, fmt: str) -> list | None:
        qs = urlencode([("rows", row_id), ("columns", column_id)])
        path = f"/embed/crosstab.{fmt}?{view.query}{'&' if view.query else ''}{qs}"
        if fmt == "json":
            payload = self.get_json(path)
            if payload is None:
                return None
            self.crosstab_rows(view, row_id, column_id, payload["n"], payload["rows"],
                               "crosstab", path)
            return payload["rows"]
        read = self.get_csv(path)
        if read is not None:
            n = read[0].get("n", "")
            self.crosstab_rows(view, row_id, column_id,
                               None if n.startswith("not shown") else int(n), read[1],
                               "crosstab-csv", path)
        return None

    def crosstab_rows(self, view: View, row_id: str, column_id: str, n, rows: list[dict],
                      kind: str, where: str, round_: int | None = None) -> None:
        """Cross-tabs cover the chosen roles whatever the social-media filter: each cell counts
        those with both answers, each row's base those with the row's answer who answered the
        column question."""
        group = self.group_pred(view, social_media=False)
        bases: dict[str, int] = {}
        missing_columns = False
        for row in rows:
            r, c = LABELS[row_id][row["row"]], LABELS[column_id][row["column"]]
            missing_columns |= c not in ANSWER_CODES[column_id]
            base = int(float(row["row_base"]))
            if bases.setdefault(r, base) != base:
                self.problem("inconsistent", f"{where}: row {r} has two bases")
            self.add(group, ds.conj(ds.code_is(row_id, r), ds.code_is(column_id, c)),
                     int(float(row["count"])), kind, f"{where} :: {r} x {c}", round_)
            if c in ANSWER_CODES[column_id]:
                self.percent_ok(row.get("percent"), row["count"], base, f"{where} {r} x {c}")
        for r, base in bases.items():
            self.add(group, ds.conj(ds.code_is(row_id, r), ds.answered(column_id)), base, kind,
                     f"{where} :: {r} n", round_)
        if n is not None:
            # Everyone in the roles; a table without its blanks counts only its rows' bases.
            prop = EVERYONE if missing_columns else ds.conj(ds.pred(**{row_id: set(bases)}),
                                                            ds.answered(column_id))
            self.add(group, prop, n, kind, f"{where} :: n", round_)

    def timeline(self, view: View, fmt: str) -> None:
        path = f"/embed/timeline.{fmt}?{view.query}"
        if fmt == "json":
            payload = self.get_json(path)
            if payload is not None:
                self.timeline_rows(view, payload["n"], payload["rows"], "timeline", path)
            return
        read = self.get_csv(path)
        if read is not None:
            self.timeline_rows(view, int(read[0]["n"]), read[1], "timeline-csv", path)

    def timeline_rows(self, view: View, n, rows: list[dict], kind: str, where: str,
                      round_: int | None = None) -> None:
        group = self.group_pred(view)
        for row in rows:
            self.by_day(group, row["day"], int(float(row["responses"])), kind,
                        f"{where} :: {row['day']}", round_)
        self.add(group, EVERYONE, n, kind, f"{where} :: n", round_)

    def by_day(self, group: Pred, day: str, count: int, kind: str, where: str,
               round_: int | None = None) -> None:
        """Those of ``group`` published by the end of ``day``: the group at the latest round
        by which everyone published then was published on or before that day."""
        round_ = self.round if round_ is None else round_
        end = np.datetime64(datetime.fromisoformat(day) + timedelta(days=1), "us")
        published = self.ledger.published
        wanted = published[round_] & (self.pubtimes < end)
        earlier = next((r for r in range(round_, -1, -1) if (published[r] == wanted).all()),
                       None)
        if earlier is None:
            self.problem("unreadable", f"{where}: day {day} is no round's")
            return
        self.add(group, EVERYONE, count, kind, where, earlier)

    # -- the pages, as their callbacks send them ------------------------------------------------

    def render(self, content: list[str], search: str, *, volatile=None) -> dict | None:
        body = callback_body([(c, "children") for c in content],
                             [("url", "search", search), ("data-version", "data", self.version)],
                             changed=["url.search"])
        return self.callback(body, volatile=volatile)

    def overview(self, view: View) -> None:
        search = f"?{view.query}" if view.query else ""
        where = f"overview{search}"
        response = self.render(["overview-content"], search)
        if response is None:
            return
        tree = response["overview-content"]["children"]
        group = self.group_pred(view)
        tile = headline(tree, "headline-responses")
        if tile is not None:
            self.add(group, EVERYONE, leading_number(tile[0]), "overview", f"{where} :: responses")
            self.add(EVERYONE, EVERYONE, leading_number(tile[1]), "overview",
                     f"{where} :: in all")
        for question in QUESTIONS:
            card = find(tree, f"card-{question.id}")
            if card is None:
                continue
            for part, shown in card_numbers(card).items():
                self.shown(group, question.id, shown, f"overview-{part}",
                           f"{where} :: {question.id}")

    def shown(self, group: Pred, qid: str, shown: Shown, kind: str, where: str,
              round_: int | None = None) -> None:
        """One question's numbers as a page part shows them, by label."""
        counts = {}
        for label, n in shown.counts.items():
            code = self.answer_code(qid, label, where)
            if code is not None:
                counts[code] = n
        self.question(group, qid, base=shown.base, counts=counts, kind=kind, where=where,
                      no_answer=shown.no_answer if qid != "role" else None,
                      not_asked=shown.not_asked, round_=round_)

    def explore(self, view: View, rows: str, columns: str, by_role: str) -> None:
        search = "?" + "&".join(p for p in (view.query, urlencode(
            [("rows", rows), ("columns", columns), ("by_role", by_role)])) if p)
        where = f"explore{search}"
        parts = ["explore-content-crosstab", "explore-content-breakdown"]
        response = self.render(parts, search)
        if response is None:
            return
        table_tree, split_tree = (response[p]["children"] for p in parts)
        graph = find(table_tree, "chart-crosstab")
        data = graph["props"]["figure"].get("data") if graph else None
        if data:
            self.crosstab_figure(view, rows, columns, data[0], f"{where} :: crosstab")
        self.breakdown(view, by_role, split_tree, f"{where} :: by role")

    def crosstab_figure(self, view: View, row_id: str, column_id: str, heatmap: dict,
                        where: str) -> None:
        """The cross-tab as the page draws it: rows labelled with their base and blanks, the
        cells' row percentages (each one count of a known base)."""
        group = self.group_pred(view, social_media=False)
        missing = {BY_ID[column_id].label_of(c).lower(): c
                   for c in BY_ID[column_id].stored_codes[len(ANSWER_CODES[column_id]):]}
        rows, unread = crosstab_rows(heatmap)
        for label in unread:
            self.problem("unreadable", f"{where}: row {label!r}")
        for row in rows:
            r = self.answer_code(row_id, row.label, where)
            in_row = ds.code_is(row_id, r)
            self.add(group, ds.conj(in_row, ds.answered(column_id)), row.base, "explore",
                     f"{where} :: {r} n")
            for name, n in row.missing.items():
                self.add(group, ds.conj(in_row, ds.code_is(column_id, missing[name])), n,
                         "explore", f"{where} :: {r} x {name}")
            if not row.base:
                continue
            for label, percent in row.percents.items():
                count = count_from_percent(float(percent), row.base)
                if count is None:
                    self.problem("unreadable", f"{where}: {percent}% of {row.base}")
                    continue
                c = self.answer_code(column_id, label, where)
                self.add(group, ds.conj(in_row, ds.code_is(column_id, c)), count, "explore",
                         f"{where} :: {r} x {c}")

    def breakdown(self, view: View, qid: str, tree: Any, where: str) -> None:
        """The breakdown by role: its text gives each group's base and counts; its figure's
        percentages must be those counts' shares."""
        group = self.group_pred(view, blank_atom=False)
        groups, bars = breakdown_numbers(tree, self.labels)
        for label, shown in groups.items():
            g = self.labels[label]
            self.shown(ds.conj(group, self.role_pred([g])), qid, shown, "by-role-explore",
                       f"{where} :: {g}")
        for label, answer, percent in bars:
            shown = groups.get(label)
            if shown is None or answer not in shown.counts:
                self.problem("inconsistent", f"{where}: figure {label} {answer} is not in the "
                                             "text")
                continue
            self.percent_ok(percent, shown.counts[answer], shown.base, f"{where} {label}")

    def live(self, view: View) -> None:
        search = f"?{view.query}" if view.query else ""
        where = f"live{search}"

        def steady(reply: dict) -> dict:
            tree = reply["response"]["live-content"]["children"]
            for tile in TIME_TILES:
                found = find(tree, tile)
                if found is not None:
                    found["props"]["children"] = []
            return reply

        response = self.render(["live-content"], search, volatile=steady)
        if response is None:
            return
        shown = live_numbers(response["live-content"]["children"])
        group = self.group_pred(view)
        if shown.total is not None:
            self.add(group, EVERYONE, shown.total, "timeline-live", f"{where} :: total")
        hour = np.datetime64(datetime.now(timezone.utc).replace(
            minute=0, second=0, microsecond=0, tzinfo=None), "us")
        members = self.ledger.mask(group) & self.ledger.published[self.round]
        for n, since in ((shown.last_hour, hour - np.timedelta64(1, "h")),
                         (shown.last_day, hour - np.timedelta64(24, "h"))):
            expected = int(np.count_nonzero(members & (self.pubtimes >= since)))
            if n is not None and n != expected:
                self.problem("inconsistent", f"{where}: {n} published lately, the rows give "
                                             f"{expected}")
        for day, total in shown.days:
            self.by_day(group, day, total, "timeline-live", f"{where} :: {day}")
        for label, n in shown.precision:
            g = self.group_of_label(label)
            if g is None:
                self.problem("unreadable", f"{where}: precision row {label!r}")
                continue
            self.add(PUBLIC, self.role_pred([g]), n, "sizes-live", f"{where} :: {g}")

    # -- frozen embeds ---------------------------------------------------------------------------

    def freeze(self, chart_ref: str, view: View) -> None:
        """The freeze button, as the browser posts it; the embed is read back at later rounds
        as showing this round's release."""
        search = f"?{view.query}" if view.query else ""
        button = {"chart": chart_ref, "type": "freeze"}
        body = callback_body([({"chart": chart_ref, "type": "frozen-snippet"}, "children")],
                             [(button, "n_clicks", 1)], [("url", "search", search)],
                             changed=[json.dumps(button, separators=(",", ":")) + ".n_clicks"],
                             output='{"chart":["MATCH"],"type":"frozen-snippet"}.children')
        reply = self.fetch("POST", "/_dash-update-component", body, remember=False)
        found = re.search(r"/embed/frozen/([A-Za-z0-9_-]+)",
                          json.dumps(reply.json()) if reply.status == 200 else "")
        if reply.status != 200 or found is None:
            self.problem("refused", f"freezing {chart_ref}{search}: {reply.status}")
            return
        token = found.group(1)
        if token not in {t for t, _, _ in self.frozen}:
            self.frozen.append((token, self.round, chart_ref))

    @contextmanager
    def as_of(self, round_: int) -> Iterator[None]:
        """Reading something made at an earlier round: its pooling and its published rows."""
        held = self.round, self.pooled
        self.round, self.pooled = round_, self.pooling_at[round_]
        try:
            yield
        finally:
            self.round, self.pooled = held

    def read_frozen(self, token: str, made: int, chart_ref: str, csv_too: bool) -> None:
        """A frozen embed, read back: the same bytes each time, and the numbers of the release
        it was made at."""
        path = f"/embed/frozen/{token}.json"
        reply = self.fetch("GET", path)
        if reply.status != 200:
            self.problem("refused", f"{path}: {reply.status}")
            return
        first = self._frozen_bodies.setdefault(token, reply.body)
        if first != reply.body:
            self.problem("frozen embed changed", f"{path} (made at round {made})")
        payload = reply.json()
        chart_id, _, choices = chart_ref.partition("?")
        given = dict(re.findall(r"([a-z_]+)=([a-z_]+)", choices))
        view = View(tuple(payload["filters"]["role"]), payload["filters"]["social_media"], "")
        with self.as_of(made):
            self.frozen_rows(view, chart_id, given, payload["n"], payload["rows"], "json", path)
            if chart_id in BY_ID or chart_id == "uk-and-us":
                self.chart_payload(view, chart_id, payload, "embed-frozen", path)
        if csv_too:
            read = self.get_csv(f"/embed/frozen/{token}.csv")
            if read is not None:
                n = read[0].get("n", "")
                with self.as_of(made):
                    self.frozen_rows(view, chart_id, given,
                                     None if n.startswith("not shown") else int(n), read[1],
                                     "csv", f"/embed/frozen/{token}.csv")

    def frozen_rows(self, view: View, chart_id: str, given: dict, n, rows: list[dict],
                    fmt: str, where: str) -> None:
        """A frozen chart's rows, read as the live chart's are (its kind says frozen)."""
        if chart_id == "crosstab":
            self.crosstab_rows(view, given["rows"], given["columns"], n, rows,
                               f"crosstab-frozen-{fmt}", where)
        elif chart_id == "by-role":
            self.by_role_rows(view, given["by_role"], n, rows, f"by-role-frozen-{fmt}", where)
        elif chart_id == "timeline":
            self.timeline_rows(view, n, rows, f"timeline-frozen-{fmt}", where)
        elif fmt == "csv":  # a question chart's JSON is read whole by chart_payload
            self.chart_rows(view, chart_id, n, rows, "embed-frozen-csv", where)

    # -- one round ---------------------------------------------------------------------------------

    def views_now(self) -> list[View]:
        """Every filter the role filter offers (each set of its groups, none meaning every role)
        crossed with each social-media choice, as the product resolves it: one view for each
        filter that differs, with the summary read for every one."""
        views: dict[tuple, View] = {}
        for n in range(len(self.groups) + 1):
            for roles in itertools.combinations(self.groups, n):
                for social in (None, "yes", "no"):
                    query = urlencode([*(("role", g) for g in roles),
                                       *((("social_media", social),) if social else ())])
                    payload = self.get_json(f"/api/v1/summary?{query}")
                    if payload is None:
                        continue
                    resolved = (tuple(payload["filters"]["role"]),
                                payload["filters"]["social_media"])
                    view = View(*resolved, query)
                    if resolved in views:
                        continue
                    views[resolved] = view
                    self.summary_statements(view, payload, "api", f"/api/v1/summary?{query}")
        return list(views.values())

    def full_read(self) -> None:
        """Everything, as far as the plan goes, for the release just seen."""
        plan, k = self.plan, self.full_reads
        self.full_reads += 1
        self.resolve_pooling()
        self.pooling_at[self.round] = self.pooled
        if self._options is not None:
            self.options(self._options, "role filter")
        self.layout()
        self.views = self.views_now()
        single = {g: i for i, g in enumerate(self.groups)}
        pairs = len(CROSSTAB_PAIRS)

        def turn(i: int, stride: int) -> bool:
            return (i + k) % stride == 0

        for i, view in enumerate(self.views):
            everyone = not view.roles and view.social_media is None
            if turn(i, plan.summary_csv):
                self.summary_csv(view)
            if turn(i, plan.timeline):
                self.timeline(view, "json")
            if turn(i, plan.timeline_csv):
                self.timeline(view, "csv")
            if turn(i, plan.overview):
                self.overview(view)
            if turn(i, plan.live):
                self.live(view)
            if turn(i, plan.explore):
                pair = CROSSTAB_PAIRS[(7 * i + 11 * k) % pairs]
                self.explore(view, *pair, BY_ROLE_QUESTIONS[(i + k) % len(BY_ROLE_QUESTIONS)])
            csv_too = turn(i // plan.charts, plan.chart_csv)
            if everyone or turn(i, plan.charts):
                for chart_id in (*CHART_QUESTIONS, "uk-and-us"):
                    self.chart(view, chart_id, "json")
                    if csv_too or everyone:
                        self.chart(view, chart_id, "csv")
            if everyone or turn(i, plan.by_role):
                for qid in BY_ROLE_QUESTIONS:
                    self.by_role(view, qid, "json")
                    if csv_too or everyone:
                        self.by_role(view, qid, "csv")
            if everyone:
                chosen = [j for j in range(pairs) if turn(j, plan.all_roles_pairs)]
            elif len(view.roles) == 1 and view.social_media is None:
                offset = single.get(view.roles[0], 0)
                chosen = [j for j in range(pairs) if turn(j + offset, plan.group_pairs)]
            else:
                chosen = [(3 * i + 5 * k + m) % pairs for m in range(plan.other_pairs)]
            for j in chosen:
                self.crosstab(view, *CROSSTAB_PAIRS[j], "json")
                if turn(j, plan.crosstab_csv):
                    self.crosstab(view, *CROSSTAB_PAIRS[j], "csv")
        for chart_ref, view in self.to_freeze(k):
            self.freeze(chart_ref, view)
        self.read_frozen_embeds(last=False)

    def read_frozen_embeds(self, *, last: bool) -> None:
        made_at = sorted({made for _, made, _ in self.frozen})
        for token, made, chart_ref in self.frozen:
            later = [r for r in made_at if r > made]
            if last or len(later) < self.plan.frozen_reads:
                self.read_frozen(token, made, chart_ref, csv_too=last or not later)

    def to_freeze(self, k: int) -> list[tuple[str, View]]:
        """A few charts to freeze at this release, different ones at each."""
        views = self.views
        if not views:
            return []
        question = CHART_QUESTIONS[(k + 2) % len(CHART_QUESTIONS)]
        pair = CROSSTAB_PAIRS[(5 * k + 3) % len(CROSSTAB_PAIRS)]
        by_role = BY_ROLE_QUESTIONS[k % len(BY_ROLE_QUESTIONS)]
        no_social = [v for v in views if v.social_media is None]
        return [(question, views[k % len(views)]),
                (f"crosstab?columns={pair[1]}&rows={pair[0]}", no_social[k % len(no_social)]),
                (f"by-role?by_role={by_role}", views[(3 * k + 1) % len(views)]),
                ("timeline", views[(5 * k + 2) % len(views)])]

    def sample_read(self) -> None:
        """No new version: what was read at the last release is read again, in part (it must
        not have changed), with the summaries of every role."""
        self.pooling_at[self.round] = self.pooled
        for view in self.views:
            if not view.roles:
                self.summary(view)
        urls = list(self._urls.values())
        if urls:
            step = max(1, len(urls) // self.plan.unchanged_sample)
            for method, path, payload, volatile in urls[self.round % step::step]:
                self.fetch(method, path, payload, volatile=volatile)

    def read_round(self, round_: int, releases: int, *, last: bool = False) -> None:
        self.round, self.releases = round_, releases
        moved = self.follow()
        self.health()
        if moved or not self.full_reads:
            self.full_read()
        else:
            self.sample_read()
        if last:
            self.read_frozen_embeds(last=True)


# ---------------------------------------------------------------------------------------------
# The rule, checked directly

def gain_problems(population: ds.Population, published: list[np.ndarray],
                  pooling: dict[int, frozenset[str]], minimum: int) -> list[str]:
    """Between two rounds, what every group the release rule names gained: each role group
    (as pooled at the later round) with each answer to question 2, and everyone who left
    question 2 blank; within each, for each of questions 3 to 8, those who answered, left it
    blank, were not asked it, and for each pair of them those in each pair of states. Each
    gain must be 0 or at least the minimum."""
    problems = []
    people = population.people
    names = {NO_ANSWER: "no answer", NOT_ASKED: "not asked"}
    before = np.zeros(len(people), dtype=bool)
    for r, now in enumerate(published):
        new = np.flatnonzero(now & ~before)
        before = now
        gains: Counter = Counter()
        for i in new:
            p = people[i]
            if p["uses_social_media"] not in ("yes", "no"):
                atom = "question 2 blank"
            else:
                role = POOLED if p["role"] in pooling[r] else p["role"]
                atom = f"{role} x {p['uses_social_media']}"
            states = [f"{q} {names.get(p[q], 'answered')}" for q in QUESTION_IDS[2:]]
            gains[atom] += 1
            gains.update(f"{atom}: {state}" for state in states)
            gains.update(f"{atom}: {a} & {b}" for a, b in itertools.combinations(states, 2))
        problems += [f"round {r}: {group} gained {n}" for group, n in sorted(gains.items())
                     if n < minimum]
    return problems


# ---------------------------------------------------------------------------------------------
# The whole attack

@dataclass
class Result:
    scenario: Scenario
    population: ds.Population
    ledger: Ledger
    attacker: Attacker
    leaks: list[Leak]
    gains: list[str]
    releases: list[int]
    """The rounds at which a release was made."""
    search: Counter
    """Derivations judged by the search (and any left unjudged past its limit)."""

    @property
    def problems(self) -> dict[str, list[str]]:
        return self.attacker.problems

    def unknown(self) -> list[Leak]:
        return [leak for leak in self.leaks if leak.structural]

    def kinds(self) -> Counter:
        return Counter(leak.label() for leak in self.unknown())

    def report(self, leaks: list[Leak] | None = None, limit: int = 6) -> str:
        leaks = self.unknown() if leaks is None else leaks
        lines = [f"{self.scenario.name} (min {self.scenario.minimum}): {len(leaks)} leak(s) in "
                 f"{self.ledger.statements} distinct statements"]
        lines += [f"  {n} x {label}" for label, n in self.kinds().most_common()]
        lines += [leak.describe(self.population) for leak in leaks[:limit]]
        return "\n".join(lines)

    def scale(self) -> dict[str, int]:
        return {"rounds": len(self.scenario.rounds), "releases": len(self.releases),
                "full reads": self.attacker.full_reads, "requests": self.attacker.http.sent,
                "views at the last release": len(self.attacker.views),
                "frozen embeds": len(self.attacker.frozen), "numbers": self.ledger.shown,
                "statements": self.ledger.statements, "definitions dropped": self.ledger.dropped,
                **self.search}


@contextmanager
def quiet(app) -> Iterator[str]:
    """The app served on a loopback port, without a log line per request."""
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with serve(app) as base:
            yield base
    finally:
        logger.setLevel(level)


def run(scenario: Scenario, directory, plan: Plan | None = None) -> Result:
    """Store the scenario's responses round by round, publish after each round, and let the
    attacker read everything public after each; then search what it read."""
    url = f"sqlite:///{directory / 'store.sqlite3'}"
    engine = open_store(url)
    settings = settings_for(url, min_cell_size=scenario.minimum, **scenario.settings)
    app = create_app(settings)
    population = scenario.population()
    ledger = Ledger(population)
    index = {f"{scenario.name}-{i}": i for i in range(len(population.specs))}
    submitted = [START + timedelta(minutes=i) for i in range(len(population.specs))]
    release_times: dict[int, datetime] = {}
    release_rounds: list[int] = []
    batches = list(scenario.batches())
    with quiet(app) as base:
        attacker = Attacker(base, ledger, scenario.minimum, plan)
        for r in range(len(scenario.rounds)):
            for _, batch in (b for b in batches if b[0] == r):
                rows = [{"source_respondent_id": f"{scenario.name}-{i}",
                         "submitted_at": submitted[i], **ds.parse_spec(spec)}
                        for i, spec in batch]
                assert add(engine, rows, source=scenario.name) == len(rows)
            made = publish(engine, settings)
            if made is not None:
                release_rounds.append(r)
            published = published_by(engine, scenario.name)
            for seq in set(published.values()) - set(release_times):
                release_times[seq] = made if made is not None else START
            mask = np.zeros(len(population.specs), dtype=bool)
            for rid, seq in published.items():
                i = index[rid]
                mask[i] = True
                if np.isnat(attacker.pubtimes[i]):
                    when = release_times[seq] if _releases is not None else submitted[i]
                    attacker.pubtimes[i] = np.datetime64(when.replace(tzinfo=None), "us")
            ledger.published.append(mask)
            attacker.read_round(r, len(release_rounds), last=r == len(scenario.rounds) - 1)
        attacker.http.close()
    engine.dispose()
    search = Counter()
    leaks = find_leaks(ledger, scenario.minimum, stats=search)
    gains = gain_problems(population, ledger.published, attacker.pooling_at, scenario.minimum)
    return Result(scenario, population, ledger, attacker, leaks, gains, release_rounds, search)
