"""What the release rule costs in freshness: how long a response waits before the public
figures include it.

The goal: a large group (social workers who use social media, say) is published within a
minute of its tenth new arrival, and the pages say when the figures last moved.

Responses arrive as the demo ``simulate`` command makes them (``data_loaders.demo.generate``,
one at a time, each dated at its arrival, at Poisson times: exponential gaps of mean
``1 / rate``) into a real SQLite store, on a simulated clock: nothing waits in real time. A
worker tries to publish every ``RELEASE_INTERVAL_SECONDS``, as dashboard workers do, with
``data_loaders.releases.publish(engine, settings, now=the simulated time)``; the arrivals since
the previous try are stored (``store.store_responses``, one transaction) just before each try, so
the store holds at each try exactly what it would have held. Settings are the product's
defaults otherwise (minimum cell size 10, ``POOL_AFTER`` 500, nothing pooled by setting). One
worker is simulated: several workers try more often between them, which only matters when a
try finds nothing it may publish.

Each scenario (a rate and an interval: by default the ``simulate`` command's 0.5 responses a
second and a faster 5, each at the default interval of 10 s, at 30 s and at 5 s) runs for
``--hours`` of
simulated time from an empty store. Reported, from the store at the end (every response's
arrival, and the time of the release that published it):

* the wait from a response's arrival to the release that includes it: median and p90, for all
  responses published and for the large groups (a role with one answer to question 2);
* for the large groups, the time from the group's tenth new arrival (counted since the last
  release that added to the group) to the next release that adds to it;
* how old the public figures are ("data as of", the last release's time) over the run, and the
  releases made;
* the share of responses still waiting at the end, and of which kinds they are.

Run (from the project's root; a few minutes):

    python -m benchmarks.freshness
    python -m benchmarks.freshness --quick      # 15 simulated minutes per scenario

Results go to the ``freshness`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sqlalchemy import select  # noqa: E402

from analysis.releases import PATTERN_QUESTIONS, pattern_of  # noqa: E402
from benchmarks.common import (DATA_DIR, command_line, machine, percentile,  # noqa: E402
                               release_settings, sqlite_url, table, write_section)
from data_loaders import demo, releases, store  # noqa: E402
from data_loaders.db import WRITE, make_engine, upgrade  # noqa: E402
from data_loaders.models import Release, Response  # noqa: E402
from data_loaders.store import utc  # noqa: E402
from survey.questionnaire import BY_ID, NO_ANSWER, QUESTION_IDS  # noqa: E402
from survey.settings import Settings  # noqa: E402

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
"""The simulated clock's start (any time would do: only differences are reported)."""
GOAL_SECONDS = 60.0
TENTH = 10
LARGE_GROUPS = (("social_worker", "yes"), ("senior_practitioner", "yes"),
                ("team_manager", "yes"), ("social_worker", "no"))
"""The groups followed on their own: the largest role and answer to question 2 combinations of
the demo data (about 33%, 12%, 9% and 5% of arrivals)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")],
                        default=[0.5, 5.0], help="responses a second, comma-separated "
                        "(default 0.5, the simulate command's, and 5)")
    parser.add_argument("--intervals", type=lambda s: [float(x) for x in s.split(",")],
                        default=[Settings.from_env({}).release_interval_seconds, 30.0, 5.0],
                        help="RELEASE_INTERVAL_SECONDS values, comma-separated (default the "
                        "product's, 10, then 30 and 5)")
    parser.add_argument("--hours", type=float, default=2.0,
                        help="simulated hours per scenario (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="15 simulated minutes each")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.hours = min(args.hours, 0.25)
    for name in ("rates", "intervals"):
        if any(value <= 0 for value in getattr(args, name)):
            parser.error(f"--{name} must all be positive")
    if args.hours <= 0:
        parser.error("--hours must be positive")
    return args


# --- Simulating --------------------------------------------------------------------------------


@dataclass
class Run:
    rate: float
    interval: float
    hours: float
    stored: int = 0
    tries: int = 0
    releases: list[tuple[int, float, int]] = field(default_factory=list)
    """(seq, seconds from the start, responses added) of every release."""
    rows: list[tuple] = field(default_factory=list)
    """(arrival s, release s or None, role, answer to question 2, pattern) of every response."""
    pooled: tuple[str, ...] = ()
    """Role codes pooled in the last release."""
    wall: float = 0.0


def simulate(rate: float, interval: float, hours: float, seed: int) -> Run:
    """One scenario from an empty store; see the module's docstring."""
    path = DATA_DIR / f"freshness-{rate:g}-{interval:g}.sqlite3"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    settings = release_settings(release_interval_seconds=interval)
    draw = random.Random(seed)
    run = Run(rate, interval, hours)
    began = time.perf_counter()
    end = hours * 3600
    arrival = draw.expovariate(rate)
    moment = 0.0
    while moment < end:
        moment = min(moment + interval, end)
        batch = []
        while arrival <= moment:
            at = START + timedelta(seconds=arrival)
            batch += demo.generate(1, seed=draw.getrandbits(63), end=at, weeks=1e-9,
                                   prefix="simulated")
            arrival += draw.expovariate(rate)
        if batch:
            with engine.connect().execution_options(**WRITE) as connection, connection.begin():
                run.stored += store.store_responses(connection, demo.DEMO_SOURCE, batch,
                                                    is_demo=True).accepted
        run.tries += 1
        releases.publish(engine, settings, now=START + timedelta(seconds=moment))
    run.wall = time.perf_counter() - began
    with engine.connect() as connection:
        times = {seq: (utc(at) - START).total_seconds() for seq, at, _added in
                 connection.execute(select(Release.seq, Release.published_at, Release.added))}
        run.releases = [(seq, times[seq], int(added)) for seq, _at, added in connection.execute(
            select(Release.seq, Release.published_at, Release.added).order_by(Release.seq))]
        run.pooled = releases.status(connection).pooled
        for row in connection.execute(select(
                Response.submitted_at, Response.release_seq,
                *(getattr(Response, q) for q in QUESTION_IDS)).order_by(Response.submitted_at)):
            codes = dict(zip(QUESTION_IDS, row[2:]))
            run.rows.append(((utc(row.submitted_at) - START).total_seconds(),
                             times.get(row.release_seq), codes["role"],
                             codes["uses_social_media"], pattern_of(codes)))
    engine.dispose()
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    return run


# --- Measures ----------------------------------------------------------------------------------


def quantiles(values: list[float]) -> tuple[float, float, int]:
    return (percentile(values, 50), percentile(values, 90), len(values))


def waits(run: Run, group: tuple[str, str] | None = None) -> list[float]:
    return [published - arrived for arrived, published, role, q2, _p in run.rows
            if published is not None and (group is None or (role, q2) == group)]


@dataclass
class TenthArrivals:
    """For one group: after its tenth new arrival, how long until a release adds to it."""

    delays: list[float]
    """Seconds from the tenth new arrival to the next release adding to the group."""
    tenth_waits: list[float]
    """Seconds from the tenth new arrival to the release that published that response itself
    (those published by the end)."""
    before_tenth: int
    """Releases that added to the group before it had ten new arrivals (older waiting ones of
    the group made up the number)."""
    unpublished: list[float]
    """Ten new arrivals that no release had followed by the end: seconds since the tenth."""


def tenth_arrivals(run: Run, group: tuple[str, str]) -> TenthArrivals:
    """Arrivals of ``group`` and the releases that added to it, in time order: each release
    that adds to the group starts the count of new arrivals again."""
    mine = sorted((arrived, published) for arrived, published, role, q2, _pt in run.rows
                  if (role, q2) == group)
    arrivals = [arrived for arrived, _published in mine]
    added = sorted({published for _a, published in mine if published is not None})
    delays, tenth_waits, unpublished, before = [], [], [], 0
    start = float("-inf")
    for release in [*added, float("inf")]:
        new = arrivals[bisect_right(arrivals, start):bisect_right(arrivals, release)]
        if release == float("inf"):
            if len(new) >= TENTH:
                unpublished.append(run.hours * 3600 - new[TENTH - 1])
            break
        if len(new) >= TENTH:
            delays.append(release - new[TENTH - 1])
            itself = mine[bisect_right(arrivals, start) + TENTH - 1][1]
            if itself is not None:
                tenth_waits.append(itself - new[TENTH - 1])
        else:
            before += 1
        start = release
    return TenthArrivals(delays, tenth_waits, before, unpublished)


def figures_age(run: Run) -> list[float]:
    """How old "data as of" is, sampled every second from the first release to the end."""
    times = np.array([at for _seq, at, _added in run.releases])
    if not len(times):
        return []
    samples = np.arange(np.ceil(times[0]), run.hours * 3600)
    last = times[np.searchsorted(times, samples, side="right") - 1]
    return list(samples - last)


KINDS = ("left question 2 blank", "left the role blank", "left one of questions 3 to 8 blank",
         "answered every question")
"""Why a waiting response is one of few of its kind: the first that applies."""


def kind_of(role: str, q2: str, pattern: int) -> str:
    if q2 == NO_ANSWER:
        return KINDS[0]
    if role == NO_ANSWER:
        return KINDS[1]
    if any((pattern // 3 ** i) % 3 == 1 for i in range(len(PATTERN_QUESTIONS))):
        return KINDS[2]
    return KINDS[3]


def waiting_kinds(run: Run) -> tuple[Counter, Counter]:
    """What waits at the end: by kind (:data:`KINDS`), and those who answered every question
    by role and answer to question 2."""
    kinds: Counter = Counter()
    answered: Counter = Counter()
    for _a, published, role, q2, pattern in run.rows:
        if published is None:
            kind = kind_of(role, q2, pattern)
            kinds[kind] += 1
            if kind == KINDS[3]:
                answered[(role, q2)] += 1
    return kinds, answered


def q6_split(run: Run, group: tuple[str, str]) -> tuple[float, float]:
    """Share of a group's arrivals that answered question 6, and that left some question 3-8
    blank: the groups inside it a release must add 0 or at least ten to."""
    mine = [pattern for _a, _p, role, q2, pattern in run.rows if (role, q2) == group]
    if not mine:
        return (0.0, 0.0)
    q6 = PATTERN_QUESTIONS.index("confident_guidance")
    answered = sum((p // 3 ** q6) % 3 == 0 for p in mine) / len(mine)
    blank = sum(any((p // 3 ** i) % 3 == 1 for i in range(len(PATTERN_QUESTIONS)))
                for p in mine) / len(mine)
    return answered, blank


# --- Reporting ---------------------------------------------------------------------------------


def seconds(value: float) -> str:
    if value != value:  # nan
        return "–"
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.0f} s"


def group_label(group: tuple[str, str]) -> str:
    role, q2 = group
    uses = "uses social media" if q2 == "yes" else "does not use social media"
    return f"{BY_ID['role'].label_of(role)} x {uses}"


def scenario(run: Run) -> str:
    return f"{run.rate:g}/s, every {run.interval:g} s"


def report(args: argparse.Namespace, runs: list[Run], wall: float) -> str:
    overview, groups, tenth, leftovers = [], [], [], []
    verdicts = []
    for run in runs:
        published = sum(1 for row in run.rows if row[1] is not None)
        stored = len(run.rows)
        median, p90, _n = quantiles(waits(run))
        age = figures_age(run)
        gaps = np.diff([at for _s, at, _a in run.releases])
        overview.append([
            scenario(run), f"{stored:,}", f"{published / stored:.1%}" if stored else "–",
            seconds(median), seconds(p90), f"{len(run.releases)} of {run.tries}",
            seconds(float(np.median(gaps))) if len(gaps) else "–",
            seconds(percentile(age, 50)), seconds(percentile(age, 90))])
        for group in LARGE_GROUPS:
            values = waits(run, group)
            arrivals = sum(1 for row in run.rows if (row[2], row[3]) == group)
            g_median, g_p90, n = quantiles(values)
            answered_q6, blank = q6_split(run, group)
            groups.append([scenario(run), group_label(group), f"{arrivals:,}",
                           f"{n / arrivals:.1%}" if arrivals else "–", seconds(g_median),
                           seconds(g_p90), f"{answered_q6:.0%}", f"{blank:.0%}"])
            t = tenth_arrivals(run, group)
            within = sum(d <= GOAL_SECONDS for d in t.delays)
            tenth.append([scenario(run), group_label(group), len(t.delays),
                          seconds(percentile(t.delays, 50)), seconds(percentile(t.delays, 90)),
                          seconds(max(t.delays)) if t.delays else "–",
                          f"{within / len(t.delays):.0%}" if t.delays else "–",
                          seconds(percentile(t.tenth_waits, 50)),
                          t.before_tenth,
                          (f"{len(t.unpublished)} ({seconds(max(t.unpublished))})"
                           if t.unpublished else "0")])
            if group == LARGE_GROUPS[0]:
                verdicts.append((run, t, within))
        kinds, answered = waiting_kinds(run)
        waiting = stored - published
        top = ", ".join(f"{role} x {q2} {n}" for (role, q2), n in answered.most_common(4))
        pooled = ", ".join(code for code in run.pooled if code != NO_ANSWER)
        leftovers.append([scenario(run), f"{waiting:,} of {stored:,} ({waiting / stored:.1%})",
                          *(f"{kinds[kind]:,}" for kind in KINDS), top or "–",
                          pooled or "none"])

    lines = [
        "## Freshness: how long a response waits for a release",
        "",
        f"Command: `{command_line()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *machine(),
        "",
        f"Each scenario: {args.hours:g} simulated hours from an empty SQLite store; responses "
        "arrive as `python -m data_loaders simulate --rate R` makes them (`demo.generate`, one "
        "at a time, Poisson arrivals), and a worker calls `releases.publish()` every "
        "`RELEASE_INTERVAL_SECONDS` of the simulated clock (no real waiting; the whole run took "
        f"{wall:.0f} s). The product's rule as it stands: minimum cell size 10, `POOL_AFTER` "
        "500. A response's wait is from its arrival to the release that published it; the "
        "figures' age is how old \"data as of\" is, sampled every second.",
        "",
        table(["scenario", "arrived", "published at the end", "wait: median", "wait: p90",
               "releases of tries", "between releases (median)", "figures' age: median",
               "figures' age: p90"], overview),
        "",
        "The large groups (a role with one answer to question 2), with the shares of their "
        "arrivals that answered question 6 (the others were not asked it, or left it blank) "
        "and that left some question of 3 to 8 blank:",
        "",
        table(["scenario", "group", "arrived", "published", "wait: median", "wait: p90",
               "answered q6", "left one of q3–q8 blank"], groups),
        "",
        f"From a large group's tenth new arrival (counted since the last release that added to "
        f"it) to the next release that adds to it; goal: within {GOAL_SECONDS:.0f} s. \"before "
        "the tenth\": releases that added to the group before it had ten new arrivals (older "
        "waiting responses of the group made up the number); \"never\": ten new arrivals that "
        "no release had followed by the end (and the longest such wait):",
        "",
        table(["scenario", "group", "times", "median", "p90", "longest",
               f"within {GOAL_SECONDS:.0f} s", "the tenth itself: median", "before the tenth",
               "never"], tenth),
        "",
        "Still waiting at the end, and of which kinds (each response counted under the first "
        "that applies); for those who answered every question, the role groups (role code x "
        "answer to question 2) most of them are in; and the roles pooled by the last release "
        "besides \"no answer\" (those with nothing published once 500 were):",
        "",
        table(["scenario", "waiting", *KINDS, "answered everything: most in", "pooled"],
              leftovers),
        "",
    ]
    lines += verdict_lines(verdicts)
    return "\n".join(lines)


def verdict_lines(verdicts: list[tuple[Run, TenthArrivals, int]]) -> list[str]:
    """The goal, plainly, for the largest group in each scenario, and why it is missed where it
    is, with the numbers of the first scenario (the product's defaults)."""
    group = LARGE_GROUPS[0]
    lines = [f"- Goal (a large group published within {GOAL_SECONDS:.0f} s of its tenth new "
             f"arrival), for {group_label(group)}, the largest group:"]
    for run, t, within in verdicts:
        if not t.delays:
            lines.append(f"  - {scenario(run)}: no ten new arrivals were followed by a release.")
            continue
        share = within / len(t.delays)
        verdict = "met" if share == 1 and not t.unpublished else "**missed**"
        lines.append(f"  - {scenario(run)}: {verdict}: {share:.0%} of {len(t.delays)} times "
                     f"within {GOAL_SECONDS:.0f} s, median {seconds(percentile(t.delays, 50))}, "
                     f"p90 {seconds(percentile(t.delays, 90))}, longest "
                     f"{seconds(max(t.delays))}.")
    run = verdicts[0][0]
    mine = [pattern for _a, _p, role, q2, pattern in run.rows if (role, q2) == group]
    q6 = PATTERN_QUESTIONS.index("confident_guidance")
    states = Counter((pattern // 3 ** q6) % 3 for pattern in mine)
    answered, not_asked = states[0] / len(mine), states[2] / len(mine)
    per_second = len(mine) / (run.hours * 3600)
    blank_each = Counter(i for pattern in mine for i in range(len(PATTERN_QUESTIONS))
                         if (pattern // 3 ** i) % 3 == 1)
    blank_rate = (sum(blank_each.values()) / len(blank_each) / len(mine)) if blank_each else 0
    ten_blank = seconds(10 / blank_rate / per_second) if blank_rate else "forever"
    kinds, _answered = waiting_kinds(run)
    waiting = sum(kinds.values())
    lines += [
        f"- Why ten new arrivals are not always enough: a release adds to each group inside a "
        "role group's atom (here social workers who use social media) nobody or at least ten, "
        "and those groups are not just the atom: for each of questions 3 to 8, those who "
        "answered it, those who left it blank and, for question 6, those not asked it (and "
        "each combination of those states for any two of the questions). In the "
        f"first scenario {answered:.0%} of this group's arrivals answered question 6 and "
        f"{not_asked:.0%} were not asked it, so ten new arrivals hold about "
        f"{10 * answered:.0f} of the first and {10 * not_asked:.0f} of the second: neither part "
        "has ten. The group's figures move when the larger part has ten of its own (about "
        f"{10 / not_asked:.0f} new arrivals, {(10 / not_asked - 10) / per_second:.0f} s after "
        f"the tenth at this group's {per_second * 60:.1f} arrivals a minute), at the next try "
        f"(up to {run.interval:g} s more); those who answered question 6 wait until they are "
        f"ten (about {10 / answered:.0f} arrivals, {10 / answered / per_second / 60:.0f} min). "
        "Someone who left a question blank waits until ten of the same atom left the same "
        f"question blank (about {blank_rate:.1%} of this group do, for each question: ten "
        f"such arrivals take about {ten_blank} in this group, "
        "far longer in smaller ones): "
        f"{kinds[KINDS[2]]} of the {waiting} responses still waiting at the end of the first "
        f"scenario are of that kind, {kinds[KINDS[3]]} answered every question but are in "
        "parts still short of ten (a small role group, or one part of a larger one), and "
        f"{kinds[KINDS[0]] + kinds[KINDS[1]]} left question 2 or the role blank.",
        "- The interval: where ten in every part come quickly (5 responses a second) the wait "
        "after the tenth is mostly the wait for the next try, and a 5 s interval takes it from "
        "about half the interval to a few seconds; at 0.5 a second most of it is gathering "
        "ten in each part, which does not depend on the interval, so a shorter interval "
        "shortens it only by the part of it that was waiting for a try.",
        "- The pages say when the figures last moved: \"data as of\" is the latest release's "
        "time; its age over the run is in the first table.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = []
    began = time.perf_counter()
    for rate in args.rates:
        for interval in args.intervals:
            print(f"{rate:g} responses/s, a release tried every {interval:g} s, "
                  f"{args.hours:g} h...", flush=True)
            run = simulate(rate, interval, args.hours, args.seed)
            published = sum(1 for row in run.rows if row[1] is not None)
            print(f"  {len(run.rows):,} arrived, {published:,} published in "
                  f"{len(run.releases)} releases ({run.wall:.0f} s)")
            runs.append(run)
    markdown = report(args, runs, time.perf_counter() - began)
    print(markdown)
    if not args.no_docs:
        write_section("freshness", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
