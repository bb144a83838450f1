"""Incremental refresh against a full reload: what a dashboard worker pays when responses arrive,
and what its first snapshot costs.

Issue goals: taking in 1,000 new responses on top of 1,000,000 held takes at most 50 ms, beside
the time of a full reload measured in the same run; memory per worker at most 250 MB.

A store of ``--responses`` responses (SQLite, a cached fixture under benchmarks/.data/, copied
so it can be written to) is held by a worker's :class:`dashboard.live.LiveData`. Measured:

* **First load**: in a fresh process that has imported the app (``import dashboard.app``, as a
  gunicorn worker has), the first ``LiveData.refresh()``, which has the database count every
  response (``loader.load_counts``): its time, and the process's RSS before, at its peak and
  after. Beside it, in another fresh process, the old way: every row read into a frame
  (``load_responses``) and the cube built from it.
* **Incremental intake**: ``--repeats`` times, ``--batch`` fresh responses are written through
  the product's writer (untimed), then ``LiveData.refresh()`` is timed end to end (the feed's
  ``poll()``, ``Cube.add_counts``, role grouping and the suppression rules), and within it
  ``ResponseFeed.poll()`` alone (timed by wrapping the feed's method) and the turning of the new
  rows into numpy counts; ``Cube.add_counts``, grouping and the rules are re-run on the same
  inputs to time them alone. ``ResponseFeed.changed()`` is timed before each refresh (the
  refresh does not call it).
* **The reconcile**: ``--reconcile-repeats`` more intakes with the reconcile due at every poll,
  each batch written with ``--holes`` extra responses that are deleted before the poll
  (scattered ids, as rolled-back inserts leave them), so the feed gives those ids up and looks
  for all of them at each reconcile; then as many with the feed told that it could not track
  every skipped id, when the reconcile counts the store's rows instead.
* The live probe when nothing changed (``changed()`` and ``LiveData.refresh()``), and, in this
  same process, the full reload ``load_responses`` (``--full-repeats`` times) with and without
  building the cube from it, and ``load_counts`` as many times. ``--breakdown`` also splits one
  full reload into fetching the rows and building the frame.

Run (from the project's root; a full run takes about 5 minutes once the fixture exists, whose
first build takes about 2 more):

    python -m benchmarks.refresh                 # 1,000,000 responses, SQLite
    python -m benchmarks.refresh --quick         # 20,000 responses, well under a minute
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        python -m benchmarks.refresh --backend postgresql
    python -m benchmarks.refresh --backend postgresql --start-postgres   # a throwaway server

Results go to the ``refresh-sqlite`` / ``refresh-postgresql`` sections of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (DATA_DIR, PROJECT_ROOT, add_responses, bulk_insert,  # noqa: E402
                               command_line, copy_store, machine, ms, rss_bytes, sqlite_store,
                               sqlite_url, stats, table, timed, write_section)
from sqlalchemy import create_engine, delete, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from analysis.cube import Cube  # noqa: E402
from analysis.summary import safety  # noqa: E402
from analysis.views import group_roles  # noqa: E402
from dashboard.live import LiveData  # noqa: E402
from data_loaders import loader  # noqa: E402
from data_loaders.db import WRITE, make_engine, upgrade  # noqa: E402
from data_loaders.loader import _SELECT, load_counts, load_responses, to_frame  # noqa: E402
from data_loaders.models import Response  # noqa: E402

GOAL_MS = 50.0
GOAL_MB = 250.0
MIN_CELL_SIZE = 10
TEST_DATABASE_URL = "TEST_DATABASE_URL"
MB = 10**6


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000,
                        help="responses held before the timed batches (default 1,000,000)")
    parser.add_argument("--batch", type=int, default=1_000, help="new responses per repetition")
    parser.add_argument("--repeats", type=int, default=30, help="timed incremental refreshes")
    parser.add_argument("--reconcile-repeats", type=int, default=5,
                        help="timed intakes with the reconcile due, for each kind of reconcile")
    parser.add_argument("--holes", type=int, default=200,
                        help="ids left unused by each batch of the reconcile runs")
    parser.add_argument("--full-repeats", type=int, default=5,
                        help="timed full reloads (and database counts)")
    parser.add_argument("--probe-repeats", type=int, default=50,
                        help="timed probes when nothing changed")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get(TEST_DATABASE_URL),
                        help=f"PostgreSQL server (default: ${TEST_DATABASE_URL}); a database is "
                             "created on it for the run and dropped afterwards")
    parser.add_argument("--start-postgres", action="store_true",
                        help="start a throwaway PostgreSQL server (tests/services.py) for the run")
    parser.add_argument("--breakdown", action=argparse.BooleanOptionalAction, default=True,
                        help="split one full reload into fetch and frame building")
    parser.add_argument("--quick", action="store_true",
                        help="a small run: 20,000 responses, fewer repetitions")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--first-load-child", nargs=2, metavar=("URL", "WAY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.responses = min(args.responses, 20_000)
        args.repeats = min(args.repeats, 10)
        args.full_repeats = min(args.full_repeats, 3)
        args.reconcile_repeats = min(args.reconcile_repeats, 3)
        args.probe_repeats = min(args.probe_repeats, 20)
    return args


# --- Stores ------------------------------------------------------------------------------------


class SqliteTarget:
    name = "SQLite"

    def __init__(self, responses: int) -> None:
        self.responses = responses
        self.path = DATA_DIR / f"refresh-work-{responses}.sqlite3"

    def __enter__(self):
        copy_store(sqlite_store(self.responses), self.path)
        self.engine = make_engine(sqlite_url(self.path))
        upgrade(self.engine)
        return self.engine

    def __exit__(self, *_exc) -> None:
        self.engine.dispose()
        for stale in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            stale.unlink(missing_ok=True)


class PostgresTarget:
    name = "PostgreSQL"

    def __init__(self, responses: int, url: str | None, start: bool) -> None:
        self.responses, self.url, self.start = responses, url, start
        self.server = None

    def __enter__(self):
        if self.start:
            from tests.services import PostgresServer
            self.server = PostgresServer.start_new()
            self.url = self.server.url()
        url = make_url(self.url).set(drivername="postgresql+psycopg")
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.database = f"survey_bench_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.database}"'))
            self.version = connection.scalar(text("SHOW server_version"))
        self.engine = make_engine(url.set(database=self.database).render_as_string(False))
        upgrade(self.engine)
        print(f"Filling a PostgreSQL database with {self.responses:,} responses")
        started = time.perf_counter()
        bulk_insert(self.engine, self.responses)
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE responses")
        print(f"  filled in {time.perf_counter() - started:.0f} s")
        return self.engine

    def __exit__(self, *_exc) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        self.admin.dispose()
        if self.server is not None:
            self.server.stop()


# --- Measuring ---------------------------------------------------------------------------------


class TimedPoll:
    """Wraps a feed's ``poll`` so the time of each call, and its delta, can be read back."""

    def __init__(self, feed) -> None:
        self.inner = feed.poll
        self.seconds = 0.0
        self.delta = None
        feed.poll = self

    def __call__(self):
        start = time.perf_counter()
        self.delta = self.inner()
        self.seconds = time.perf_counter() - start
        return self.delta


class TimedCounting:
    """Wraps ``data_loaders.loader._counts_of_rows`` as ``poll()`` calls it."""

    def __init__(self) -> None:
        self.inner = loader._counts_of_rows
        self.seconds = 0.0
        loader._counts_of_rows = self

    def __call__(self, rows):
        start = time.perf_counter()
        counts = self.inner(rows)
        self.seconds = time.perf_counter() - start
        return counts

    def restore(self) -> None:
        loader._counts_of_rows = self.inner


def first_load_child(url: str, way: str) -> int:
    """In this fresh process, after the imports of a worker: the first snapshot, the new way
    (``counts``: ``LiveData.refresh()``) or the old (``frame``); prints time and memory."""
    import dashboard.app  # noqa: F401  (a gunicorn worker imports the app first)

    engine = make_engine(url)
    gc.collect()
    before = rss_bytes(os.getpid())
    start = time.perf_counter()
    if way == "counts":
        total = LiveData(engine, MIN_CELL_SIZE).refresh().total
    else:
        with engine.connect() as connection:
            frame = load_responses(connection)
        cube = Cube.from_frame(frame)
        safety(cube, group_roles(cube, MIN_CELL_SIZE), MIN_CELL_SIZE)
        total = cube.total
        del frame
    seconds = time.perf_counter() - start
    gc.collect()
    after = rss_bytes(os.getpid())
    engine.dispose()
    print(json.dumps({"seconds": seconds, "total": total, "rss_before": before["rss"],
                      "peak": after["hwm"], "rss_after": after["rss"]}))
    return 0


def in_fresh_process(url: str, way: str) -> dict:
    argv = [sys.executable, "-m", "benchmarks.refresh", "--first-load-child", url, way]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def leave_holes(engine, after_id: int, holes: int) -> None:
    """Delete ``holes`` of the responses with ids above ``after_id``, spread out among them,
    before the feed has seen them: ids left unused, as rolled-back inserts leave them."""
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        fresh = connection.scalars(select(Response.id).where(Response.id > after_id)
                                   .order_by(Response.id)).all()
        doomed = fresh[::max(1, len(fresh) // holes)][:holes]
        connection.execute(delete(Response).where(Response.id.in_(doomed)))


def measure(engine, args: argparse.Namespace) -> dict:
    results: dict = {}
    url = engine.url.render_as_string(hide_password=False)
    print("First load in a fresh process, counted by the database...")
    results["first_load"] = in_fresh_process(url, "counts")
    print(f"  {results['first_load']['seconds']:.1f} s")
    print("First load in a fresh process, every row read into a frame (the old way)...")
    results["first_frame"] = in_fresh_process(url, "frame")
    print(f"  {results['first_frame']['seconds']:.1f} s")
    assert results["first_load"]["total"] == results["first_frame"]["total"] == args.responses

    live = LiveData(engine, MIN_CELL_SIZE, min_interval=0.0)
    feed = live.feed
    feed.reconcile_seconds = math.inf  # the reconcile is measured on its own below
    print("First refresh in this process...")
    results["first"], _ = timed(live.refresh)
    held = live._snapshot.total
    print(f"  {held:,} responses held after {results['first']:.1f} s")
    poll = TimedPoll(feed)
    counting = TimedCounting()

    samples: dict[str, list[float]] = {k: [] for k in (
        "refresh", "poll", "counting", "cube", "group", "safety", "changed_true",
        "reconcile_refresh", "reconcile_poll", "count_refresh", "count_poll")}
    seed = 900_000 + int(time.time()) % 10_000 * 100
    kinds = {"steady": ("refresh", "poll"), "given up": ("reconcile_refresh", "reconcile_poll"),
             "count": ("count_refresh", "count_poll")}

    def one_batch(kind: str, holes: int = 0) -> None:
        nonlocal seed
        seed += 1
        written = add_responses(engine, args.batch + holes, seed)
        assert written == args.batch + holes, f"wrote {written}, not {args.batch + holes}"
        if holes:
            leave_holes(engine, feed.max_id, holes)
        t_changed, changed = timed(feed.changed)
        assert changed
        before = live._snapshot.cube  # not snapshot(): with min_interval 0 it refreshes
        t_refresh, _ = timed(live.refresh)
        delta = poll.delta
        assert delta.counts.total == args.batch and not delta.reset, (
            delta.counts.total, delta.reset)
        refresh_key, poll_key = kinds[kind]
        samples[refresh_key].append(t_refresh)
        samples[poll_key].append(poll.seconds)
        if kind == "steady":
            t_cube, cube = timed(lambda: before.add_counts(delta.counts))
            t_group, grouping = timed(lambda: group_roles(cube, MIN_CELL_SIZE))
            t_safety, _ = timed(lambda: safety(cube, grouping, MIN_CELL_SIZE))
            samples["counting"].append(counting.seconds)
            samples["cube"].append(t_cube)
            samples["group"].append(t_group)
            samples["safety"].append(t_safety)
            samples["changed_true"].append(t_changed)

    print(f"{args.repeats} incremental refreshes of {args.batch:,} new responses each...")
    for _ in range(args.repeats):
        one_batch("steady")
    print(f"{args.reconcile_repeats} more with the reconcile due, {args.holes} ids given up "
          "each time...")
    feed.reconcile_seconds, feed.gap_retention_seconds = 0.0, -1.0
    for _ in range(args.reconcile_repeats):
        one_batch("given up", args.holes)
    results["given_up"] = len(feed.abandoned)
    print(f"{args.reconcile_repeats} more with the reconcile counting the store's rows...")
    feed._untracked = True
    for _ in range(args.reconcile_repeats):
        one_batch("count")
    feed._untracked = False
    feed.reconcile_seconds, feed.gap_retention_seconds = math.inf, 600.0
    added = args.batch * (args.repeats + 2 * args.reconcile_repeats)
    assert live._snapshot.total == held + added, (live._snapshot.total, held + added)

    print(f"{args.probe_repeats} probes with nothing new...")
    samples["changed_false"] = []
    samples["refresh_idle"] = []
    for _ in range(args.probe_repeats):
        t, changed = timed(feed.changed)
        assert not changed
        samples["changed_false"].append(t)
        samples["refresh_idle"].append(timed(live.refresh)[0])

    print(f"{args.full_repeats} full reloads, and as many counts by the database...")
    samples["full"], samples["full_cube"], samples["counts"], samples["gaps"] = [], [], [], []
    for _ in range(args.full_repeats):
        with engine.connect() as connection:
            t_load, frame = timed(lambda: load_responses(connection))
        t_build, cube = timed(lambda: Cube.from_frame(frame))
        t_rules, _ = timed(lambda: safety(cube, group_roles(cube, MIN_CELL_SIZE), MIN_CELL_SIZE))
        samples["full"].append(t_load)
        samples["full_cube"].append(t_load + t_build + t_rules)
        del frame
        with engine.connect() as connection, connection.begin():
            t_counts, counted = timed(lambda: load_counts(connection))
            # As if one id were missing: what a reset adds when the store's ids have gaps.
            top = connection.scalar(select(func.max(Response.id)))
            t_gaps, _ = timed(lambda: loader._missing_ids(connection, top, top - 1,
                                                          loader.MAX_TRACKED_GAPS))
        samples["counts"].append(t_counts)
        samples["gaps"].append(t_gaps)
        assert counted.total == cube.total
    results["rows_at_end"] = int(cube.total)

    if args.breakdown:
        print("Breaking one full reload down...")
        with engine.connect() as connection:
            t_fetch, rows = timed(lambda: connection.execute(_SELECT.order_by(Response.id)).all())
        t_frame, _ = timed(lambda: to_frame(rows))
        results["breakdown"] = {"fetch": t_fetch, "frame": t_frame}
        del rows
    counting.restore()
    results["samples"] = samples
    results["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return results


# --- Reporting ---------------------------------------------------------------------------------


def mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:,.0f}"


def report(target, args: argparse.Namespace, results: dict, extra: dict[str, str]) -> str:
    s = {k: stats(v) for k, v in results["samples"].items() if v}

    def line(label: str, key: str) -> tuple:
        return (label, ms(s[key]["median"]), ms(s[key]["p95"]), s[key]["n"])

    new, old = results["first_load"], results["first_frame"]
    refresh, poll = s["refresh"], s["poll"]
    goal = "met" if refresh["p95"] * 1000 <= GOAL_MS else "**missed**"
    rows = [
        line(f"**Incremental intake of {args.batch:,}**: `LiveData.refresh()` end to end",
             "refresh"),
        line("… of which `ResponseFeed.poll()`", "poll"),
        line("… … of which the new rows turned into numpy counts", "counting"),
        line(f"`Cube.add_counts` of the {args.batch:,} (re-run)", "cube"),
        line("`group_roles` on the new cube (re-run)", "group"),
        line("suppression rules: `analysis.summary.safety` on the new cube (re-run)", "safety"),
        line("`ResponseFeed.changed()` when there is something new (not part of the refresh)",
             "changed_true"),
        line(f"`LiveData.refresh()` with the reconcile due, looking for the ids given up "
             f"({args.holes} more each time, {results['given_up']:,} at the end)",
             "reconcile_refresh"),
        line("… of which `ResponseFeed.poll()`", "reconcile_poll"),
        line("`LiveData.refresh()` with the reconcile due, counting the store's rows (when more "
             "ids were skipped than the feed can track)", "count_refresh"),
        line("… of which `ResponseFeed.poll()`", "count_poll"),
        line("**Live probe**: `ResponseFeed.changed()`, nothing new", "changed_false"),
        line("`LiveData.refresh()`, nothing new", "refresh_idle"),
        line("**Full reload**: `load_responses` (baseline)", "full"),
        line("full reload + `Cube.from_frame` + grouping and rules", "full_cube"),
        line("the store counted by the database: `load_counts`", "counts"),
        line("… and, when the store's ids have gaps, finding them: a window function over the "
             "ids (run here as if one were missing)", "gaps"),
        ("**First load** in a fresh process: `LiveData.refresh()` (counted by the database)",
         ms(new["seconds"]), "", 1),
        ("first load the old way in a fresh process: `load_responses` + `Cube.from_frame` + "
         "rules", ms(old["seconds"]), "", 1),
        ("first `LiveData.refresh()` in this process", ms(results["first"]), "", 1),
    ]
    memory = [
        ("counted by the database: `LiveData.refresh()` (as a worker starts now)",
         f"{new['seconds']:,.1f}", mb(new["rss_before"]), mb(new["peak"]), mb(new["rss_after"])),
        ("every row read into a frame: `load_responses` + `Cube.from_frame` (as before)",
         f"{old['seconds']:,.1f}", mb(old["rss_before"]), mb(old["peak"]), mb(old["rss_after"])),
    ]
    memory_goal = "met" if max(new["peak"], new["rss_after"]) <= GOAL_MB * MB else "**missed**"
    parts = [
        f"## Incremental refresh vs full reload ({target.name})",
        "",
        f"Command: `{command_line()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *machine(extra),
        "",
        f"Store: {target.name}, {args.responses:,} responses held; each repetition writes "
        f"{args.batch:,} new ones through `store.store_responses` (untimed) and then times the "
        f"intake. {results['rows_at_end']:,} responses at the end. Times in milliseconds.",
        "",
        table(("What", "median ms", "p95 ms", "runs"), rows),
        "",
        f"- Goal (intake of {args.batch:,} on top of {args.responses:,}: at most {GOAL_MS:.0f} ms, "
        f"end to end): {goal}: `LiveData.refresh()` median {ms(refresh['median'])} ms, "
        f"p95 {ms(refresh['p95'])} ms; `ResponseFeed.poll()` alone median {ms(poll['median'])} "
        f"ms, p95 {ms(poll['p95'])} ms.",
        f"- Full reload / incremental intake (medians): "
        f"**{s['full']['median'] / refresh['median']:,.0f}x** (full reload / `poll()` alone: "
        f"{s['full']['median'] / poll['median']:,.0f}x).",
        f"- First load / full reload, in this process (medians of `load_counts` and "
        f"`load_responses`): {s['counts']['median'] / s['full']['median']:.2f}; in fresh "
        f"processes: {new['seconds']:,.1f} s against {old['seconds']:,.1f} s.",
        f"- Peak RSS of this benchmark process: {mb(results['peak_rss'])} MB (dominated by "
        "the full reloads).",
        "",
        "First load of a fresh process, after `import dashboard.app` (the imports of a worker); "
        "RSS in MB (10^6 bytes), peak is the process's high-water mark (VmHWM), after is once "
        "the load is done and garbage collected:",
        "",
        table(("First snapshot", "s", "RSS before", "peak RSS", "RSS after"), memory),
        "",
        f"- Memory goal (at most {GOAL_MB:.0f} MB per worker): {memory_goal} for the first load "
        f"(peak {mb(new['peak'])} MB, {mb(new['rss_after'])} MB after; "
        f"{mb(new['peak'] - new['rss_before'])} MB above the imports at the peak).",
    ]
    if "breakdown" in results:
        b = results["breakdown"]
        parts += [
            "",
            "Where one full reload's time goes (single run each):",
            "",
            table(("Step", "ms"), [
                ("fetch: `connection.execute(select ... order by id).all()` (SQLAlchemy rows)",
                 ms(b["fetch"])),
                ("`to_frame(rows)`", ms(b["frame"])),
            ]),
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.first_load_child:
        return first_load_child(*args.first_load_child)
    extra: dict[str, str] = {}
    if args.backend == "postgresql":
        if not (args.postgres_url or args.start_postgres):
            print(f"No PostgreSQL server: set {TEST_DATABASE_URL} or pass --start-postgres.",
                  file=sys.stderr)
            return 2
        target = PostgresTarget(args.responses, args.postgres_url, args.start_postgres)
    else:
        target = SqliteTarget(args.responses)
        pg = "not run in this invocation" + (
            "" if os.environ.get(TEST_DATABASE_URL) else f" ({TEST_DATABASE_URL} is unset)")
        extra["PostgreSQL"] = pg + "; run with `--backend postgresql` for it"
    with target as engine:
        if isinstance(target, PostgresTarget):
            extra["PostgreSQL server"] = (f"{target.version}, "
                                          + ("throwaway local server (fsync off)"
                                             if args.start_postgres else "from the given URL"))
        results = measure(engine, args)
    markdown = report(target, args, results, extra)
    print(markdown)
    if not args.no_docs:
        write_section(f"refresh-{args.backend}", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
