"""A release arriving at a worker, the release being made, and a fresh worker's first snapshot.

Issue goals: a worker takes in a release of 1,000 new responses on top of 1,000,000 published in
at most 50 ms, beside the time of a full reload measured in the same run; memory per worker at
most 250 MB.

A store of ``--responses`` responses (SQLite, a cached fixture under benchmarks/.data/, copied
so it can be written to; published as a live dashboard would have published it, so a few of its
responses wait, too few of their kind) is held by a worker's :class:`dashboard.live.LiveData`,
whose settings never publish by themselves. Measured:

* **First load**: in a fresh process that has imported the app (``import dashboard.app``, as a
  gunicorn worker has), the first ``LiveData.refresh()``, which has the database count every
  published response (``loader.load_counts``): its time, and the process's RSS before, at its
  peak and after. Beside it, in another fresh process, every row read into a frame
  (``load_responses``) and the cube built from it, the way workers started before they counted.
* **A release of ``--batch``**: ``--repeats`` times, ``--batch`` fresh responses are written
  through the product's writer (untimed), then ``data_loaders.releases.publish()`` makes the
  release (timed: counting the waiting responses by class, choosing the batch, marking it,
  verifying it, each timed within it), then ``LiveData.refresh()`` takes it in (timed end to
  end: the feed's ``poll()``, which has the database count what the release added,
  ``Cube.add_counts``, the role grouping and the rules); ``Cube.add_counts``, grouping and the
  rules are re-run on the same inputs to time them alone. Then ``publish()`` is timed twice more
  with nothing it may publish: a worker's try while the last release is younger than the
  interval, and one when it is older but what waits cannot be published yet.
* The live probe when no release is new (``LiveData.refresh()``: ``poll()`` looks up the epoch
  and the latest release), and, in this same process, the full reload ``load_responses``
  (``--full-repeats`` times) with and without building the cube from it, and ``load_counts`` as
  many times. ``--breakdown`` also splits one full reload into fetching the rows and building
  the frame.

Run (from the project's root; a full run takes about 5 minutes once the fixture exists, whose
first build takes about 3 more):

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
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (DATA_DIR, PROJECT_ROOT, add_responses, bulk_insert,  # noqa: E402
                               command_line, copy_store, machine, ms, publish_fixture,
                               release_settings, rss_bytes, sqlite_store, sqlite_url, stats,
                               table, timed, write_section)
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from analysis.cube import Cube  # noqa: E402
from analysis.summary import safety  # noqa: E402
from analysis.views import grouping_for  # noqa: E402
from dashboard.live import LiveData  # noqa: E402
from data_loaders import loader, releases  # noqa: E402
from data_loaders.db import make_engine, upgrade  # noqa: E402
from data_loaders.loader import _SELECT, load_counts, load_responses, to_frame  # noqa: E402
from data_loaders.models import Response  # noqa: E402

GOAL_MS = 50.0
GOAL_MB = 250.0
GOAL_RESPONSES = 1_000_000
"""The goals are set at this many responses; a smaller run says so instead of judging them."""
TEST_DATABASE_URL = "TEST_DATABASE_URL"
MB = 10**6


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000,
                        help="responses stored before the timed releases (default 1,000,000)")
    parser.add_argument("--batch", type=int, default=1_000, help="new responses per release")
    parser.add_argument("--repeats", type=int, default=30, help="timed releases")
    parser.add_argument("--full-repeats", type=int, default=5,
                        help="timed full reloads (and database counts)")
    parser.add_argument("--probe-repeats", type=int, default=50,
                        help="timed probes when no release is new")
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
        publish_fixture(self.engine)
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE responses")
        print(f"  filled and published in {time.perf_counter() - started:.0f} s")
        return self.engine

    def __exit__(self, *_exc) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        self.admin.dispose()
        if self.server is not None:
            self.server.stop()


# --- Measuring ---------------------------------------------------------------------------------


class Stopwatch:
    """Replaces ``module.name`` with a wrapper that keeps the time of each call (and its
    result) until :meth:`restore`; ``seconds`` is the sum since the last :meth:`reset`."""

    def __init__(self, module, name: str) -> None:
        self.module, self.name = module, name
        self.inner = getattr(module, name)
        self.seconds = 0.0
        self.result = None
        setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        self.result = self.inner(*args, **kwargs)
        self.seconds += time.perf_counter() - start
        return self.result

    def reset(self) -> None:
        self.seconds = 0.0

    def restore(self) -> None:
        setattr(self.module, self.name, self.inner)


class StatementTimer:
    """The time the database spends executing the statements that mark a release's responses
    (``UPDATE responses``), from SQLAlchemy's cursor events."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.seconds = 0.0
        self._started: float | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn, _cursor, statement, *_rest) -> None:
        if statement.lstrip().upper().startswith("UPDATE RESPONSES"):
            self._started = time.perf_counter()

    def _after(self, *_rest) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def reset(self) -> None:
        self.seconds = 0.0

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def first_load_child(url: str, way: str) -> int:
    """In this fresh process, after the imports of a worker: the first snapshot, the new way
    (``counts``: ``LiveData.refresh()``) or the old (``frame``); prints time and memory."""
    import dashboard.app  # noqa: F401  (a gunicorn worker imports the app first)

    engine = make_engine(url)
    settings = release_settings()
    gc.collect()
    before = rss_bytes(os.getpid())
    start = time.perf_counter()
    if way == "counts":
        total = LiveData(engine, settings).refresh().total
    else:
        with engine.connect() as connection:
            frame = load_responses(connection)
        cube = Cube.from_frame(frame)
        safety(cube, grouping_for(cube, ()), settings.min_cell_size)
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


def store_status(engine) -> releases.Status:
    with engine.connect() as connection:
        return releases.status(connection)


def measure(engine, args: argparse.Namespace) -> dict:
    results: dict = {}
    settings = release_settings()
    minimum = settings.min_cell_size
    url = engine.url.render_as_string(hide_password=False)
    start_status = store_status(engine)
    results["start"] = start_status
    print(f"{start_status.published:,} published, {start_status.waiting:,} waiting")
    print("First load in a fresh process, counted by the database...")
    results["first_load"] = in_fresh_process(url, "counts")
    print(f"  {results['first_load']['seconds']:.1f} s")
    print("First load in a fresh process, every row read into a frame (the old way)...")
    results["first_frame"] = in_fresh_process(url, "frame")
    print(f"  {results['first_frame']['seconds']:.1f} s")
    assert results["first_load"]["total"] == start_status.published
    assert results["first_frame"]["total"] == args.responses

    live = LiveData(engine, settings, min_interval=0.0)
    print("First refresh in this process...")
    results["first"], _ = timed(live.refresh)
    held = live._snapshot.total
    print(f"  {held:,} published responses held after {results['first']:.1f} s")
    poll = Stopwatch(live.feed, "poll")
    counting = Stopwatch(loader, "load_counts")
    waiting = Stopwatch(releases, "waiting_classes")
    choosing = Stopwatch(releases, "select_batch")
    verifying = Stopwatch(releases, "_verify")
    marking = StatementTimer(engine)
    parts = (waiting, choosing, verifying, marking)

    samples: dict[str, list[float]] = {k: [] for k in (
        "refresh", "poll", "counting", "cube", "group", "safety", "publish", "waiting",
        "choosing", "marking", "verifying", "publish_rest", "publish_early", "publish_none",
        "refresh_idle")}
    added: list[int] = []
    seed = 900_000 + int(time.time()) % 10_000 * 100

    print(f"{args.repeats} releases of about {args.batch:,} new responses each...")
    for _ in range(args.repeats):
        seed += 1
        written = add_responses(engine, args.batch, seed)
        assert written == args.batch, f"wrote {written}, not {args.batch}"
        for part in parts:
            part.reset()
        t_publish, made = timed(lambda: releases.publish(engine, settings, interval=0))
        assert made is not None, "no release made"
        added.append(made.added)
        samples["publish"].append(t_publish)
        for key, part in zip(("waiting", "choosing", "verifying", "marking"), parts):
            samples[key].append(part.seconds)
        samples["publish_rest"].append(t_publish - sum(part.seconds for part in parts))

        before = live._snapshot.cube  # not snapshot(): with min_interval 0 it refreshes
        poll.reset()
        counting.reset()
        t_refresh, _ = timed(live.refresh)
        delta = poll.result
        assert delta.counts.total == made.added and not delta.reset, (
            delta.counts.total, made.added, delta.reset)
        samples["refresh"].append(t_refresh)
        samples["poll"].append(poll.seconds)
        samples["counting"].append(counting.seconds)
        t_cube, cube = timed(lambda: before.add_counts(delta.counts))
        t_group, grouping = timed(lambda: grouping_for(cube, delta.state.pooled))
        t_safety, _ = timed(lambda: safety(cube, grouping, minimum))
        samples["cube"].append(t_cube)
        samples["group"].append(t_group)
        samples["safety"].append(t_safety)

        t_early, early = timed(lambda: releases.publish(
            engine, settings, interval=settings.release_interval_seconds or 30.0))
        t_none, none = timed(lambda: releases.publish(engine, settings, interval=0))
        assert early is None and none is None, (early, none)
        samples["publish_early"].append(t_early)
        samples["publish_none"].append(t_none)
    marking.remove()
    for watch in (waiting, choosing, verifying, counting):
        watch.restore()
    assert live._snapshot.total == held + sum(added), (live._snapshot.total, held + sum(added))
    results["added"] = added
    results["end"] = store_status(engine)

    print(f"{args.probe_repeats} probes with no new release...")
    for _ in range(args.probe_repeats):
        samples["refresh_idle"].append(timed(live.refresh)[0])
    poll.restore()

    print(f"{args.full_repeats} full reloads, and as many counts by the database...")
    samples["full"], samples["full_cube"], samples["counts"] = [], [], []
    for _ in range(args.full_repeats):
        with engine.connect() as connection:
            t_load, frame = timed(lambda: load_responses(connection))
        t_build, cube = timed(lambda: Cube.from_frame(frame))
        t_rules, _ = timed(lambda: safety(cube, grouping_for(cube, ()), minimum))
        samples["full"].append(t_load)
        samples["full_cube"].append(t_load + t_build + t_rules)
        frame = None  # let it go before the next load
        with engine.connect() as connection, connection.begin():
            t_counts, counted = timed(lambda: load_counts(connection))
        samples["counts"].append(t_counts)
        assert counted.total == live._snapshot.total
    results["rows_at_end"] = int(cube.total)

    if args.breakdown:
        print("Breaking one full reload down...")
        with engine.connect() as connection:
            t_fetch, rows = timed(lambda: connection.execute(_SELECT.order_by(Response.id)).all())
        t_frame, _ = timed(lambda: to_frame(rows))
        results["breakdown"] = {"fetch": t_fetch, "frame": t_frame}
        del rows
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
    refresh, poll, publish = s["refresh"], s["poll"], s["publish"]
    start, end, added = results["start"], results["end"], results["added"]
    at_goal_size = args.responses >= GOAL_RESPONSES
    goal = (("met" if refresh["p95"] * 1000 <= GOAL_MS else "**missed**") if at_goal_size
            else f"not judged at {args.responses:,} (the goal is at {GOAL_RESPONSES:,})")
    rows = [
        line(f"**A release arriving** (about {args.batch:,} new): `LiveData.refresh()` end to "
             "end", "refresh"),
        line("… of which `ReleaseFeed.poll()`", "poll"),
        line("… … of which `load_counts` of the new release (counted by the database)",
             "counting"),
        line("`Cube.add_counts` of the release (re-run)", "cube"),
        line("`grouping_for` on the new cube (re-run)", "group"),
        line("suppression rules: `analysis.summary.safety` on the new cube (re-run)", "safety"),
        line(f"**Making the release**: `releases.publish()` of {args.batch:,} new (and what "
             "waited before) end to end", "publish"),
        line("… counting the waiting responses by class: `waiting_classes`", "waiting"),
        line("… choosing the batch: `select_batch`", "choosing"),
        line("… marking it: `UPDATE responses SET release_seq` (the database's time)",
             "marking"),
        line("… verifying it: `_verify` (what was marked, counted again by class)", "verifying"),
        line("… the rest: the lock, the latest release, pooling, the release's row, commit",
             "publish_rest"),
        line("`publish()` while the last release is younger than the interval (most workers' "
             "tries)", "publish_early"),
        line("`publish()` when what waits cannot be published yet (counted and chosen, "
             "nothing written)", "publish_none"),
        line("**Live probe**: `LiveData.refresh()`, no new release", "refresh_idle"),
        line("**Full reload**: `load_responses` (baseline; every stored row, published or "
             "not)", "full"),
        line("full reload + `Cube.from_frame` + grouping and rules", "full_cube"),
        line("the published responses counted by the database: `load_counts`", "counts"),
        ("**First load** in a fresh process: `LiveData.refresh()` (counted by the database)",
         ms(new["seconds"]), "", 1),
        ("first load the old way in a fresh process: `load_responses` + `Cube.from_frame` + "
         "rules", ms(old["seconds"]), "", 1),
        ("first `LiveData.refresh()` in this process", ms(results["first"]), "", 1),
    ]
    memory = [
        ("counted by the database: `LiveData.refresh()` (as a worker starts now)",
         f"{new['seconds']:,.1f}", mb(new["rss_before"]), mb(new["peak"]), mb(new["rss_after"])),
        ("every row read into a frame: `load_responses` + `Cube.from_frame`",
         f"{old['seconds']:,.1f}", mb(old["rss_before"]), mb(old["peak"]), mb(old["rss_after"])),
    ]
    memory_goal = (("met" if max(new["peak"], new["rss_after"]) <= GOAL_MB * MB else "**missed**")
                   if at_goal_size else f"not judged at {args.responses:,}")
    parts = [
        f"## A release arriving vs full reload ({target.name})",
        "",
        f"Command: `{command_line()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *machine(extra),
        "",
        f"Store: {target.name}, {args.responses:,} responses stored, {start.published:,} of them "
        f"published (in {start.releases} releases, as a dashboard would have published them "
        f"while they arrived) and {start.waiting:,} waiting. Each repetition writes "
        f"{args.batch:,} new ones through `store.store_responses` (untimed), makes a release "
        f"with `releases.publish()` and has the worker take it in. The releases added "
        f"{statistics.median(added):,.0f} responses at the median ({min(added):,} to "
        f"{max(added):,}: those of a kind still too few to publish wait, and go out with a "
        f"later release); {end.published:,} published and {end.waiting:,} waiting at the end. "
        "Times in milliseconds.",
        "",
        table(("What", "median ms", "p95 ms", "runs"), rows),
        "",
        f"- Goal (a release of {args.batch:,} taken in on top of {GOAL_RESPONSES:,}: at most "
        f"{GOAL_MS:.0f} ms, end to end): {goal}: `LiveData.refresh()` median "
        f"{ms(refresh['median'])} ms, p95 {ms(refresh['p95'])} ms; `ReleaseFeed.poll()` alone "
        f"median {ms(poll['median'])} ms, p95 {ms(poll['p95'])} ms.",
        f"- Making the release (once per release, by one worker, not on any page's path): "
        f"median {ms(publish['median'])} ms, p95 {ms(publish['p95'])} ms; a try that finds "
        f"nothing to publish: median {ms(s['publish_none']['median'])} ms.",
        f"- Full reload / a release taken in (medians): "
        f"**{s['full']['median'] / refresh['median']:,.0f}x** (full reload / `poll()` alone: "
        f"{s['full']['median'] / poll['median']:,.0f}x).",
        f"- First load / full reload, in this process (medians of `load_counts` and "
        f"`load_responses`): {s['counts']['median'] / s['full']['median']:.2f}; in fresh "
        f"processes: {ms(new['seconds'])} ms against {ms(old['seconds'])} ms.",
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
