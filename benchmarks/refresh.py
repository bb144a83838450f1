"""Incremental refresh against a full reload: what a dashboard worker pays when responses arrive.

Issue goal: taking in 1,000 new responses on top of 1,000,000 held takes at most 50 ms.

A store of ``--responses`` responses (SQLite, a cached fixture under benchmarks/.data/, copied
so it can be written to) is held by a worker's :class:`dashboard.live.LiveData` (the first
refresh reads everything). Then, ``--repeats`` times, ``--batch`` fresh responses are written
through the product's writer (untimed) and timed are:

* ``LiveData.refresh()``: the whole intake, end to end (``changed()``, ``poll()``, ``Cube.add``,
  role grouping and the suppression rules);
* within it, ``ResponseFeed.poll()`` alone (timed by wrapping the feed's method);
* ``Cube.add`` of the batch, and grouping + suppression rules, re-run on the same inputs;
* ``ResponseFeed.changed()`` when something did change.

And, in the same run: ``ResponseFeed.changed()`` and ``LiveData.refresh()`` when nothing changed
(the live probe every open page triggers), a poll when the once-a-minute reconciliation (a
``COUNT(*)``) is due, and the full reload ``load_responses`` (``--full-repeats`` times) with and
without building the cube from it. ``--breakdown`` also splits one full reload into fetching the
rows and building the frame, to show where its time goes.

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
import math
import os
import resource
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (DATA_DIR, add_responses, bulk_insert, command_line, copy_store,  # noqa: E402
                               machine, ms, sqlite_store, sqlite_url, stats, table, timed,
                               write_section)
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from analysis.cube import Cube  # noqa: E402
from analysis.summary import safety  # noqa: E402
from analysis.views import group_roles  # noqa: E402
from dashboard.live import LiveData  # noqa: E402
from data_loaders import loader  # noqa: E402
from data_loaders.db import make_engine, upgrade  # noqa: E402
from data_loaders.loader import _SELECT, load_responses, to_frame  # noqa: E402
from data_loaders.models import Response  # noqa: E402

GOAL_MS = 50.0
MIN_CELL_SIZE = 10
TEST_DATABASE_URL = "TEST_DATABASE_URL"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000,
                        help="responses held before the timed batches (default 1,000,000)")
    parser.add_argument("--batch", type=int, default=1_000, help="new responses per repetition")
    parser.add_argument("--repeats", type=int, default=15, help="timed incremental refreshes")
    parser.add_argument("--reconcile-repeats", type=int, default=5,
                        help="timed polls with the reconciling COUNT(*) due")
    parser.add_argument("--full-repeats", type=int, default=5, help="timed full reloads")
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
    args = parser.parse_args(argv)
    if args.quick:
        args.responses = min(args.responses, 20_000)
        args.repeats = min(args.repeats, 7)
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


class TimedToFrame:
    """Wraps ``data_loaders.loader.to_frame`` as ``poll()`` calls it, keeping its last rows."""

    def __init__(self) -> None:
        self.inner = loader.to_frame
        self.seconds = 0.0
        self.rows: list = []
        loader.to_frame = self

    def __call__(self, rows):
        start = time.perf_counter()
        frame = self.inner(rows)
        self.seconds = time.perf_counter() - start
        self.rows = rows
        return frame

    def restore(self) -> None:
        loader.to_frame = self.inner


def measure(engine, args: argparse.Namespace) -> dict:
    results: dict = {}
    live = LiveData(engine, MIN_CELL_SIZE, min_interval=0.0)
    feed = live.feed
    feed.reconcile_seconds = math.inf  # the reconciling COUNT(*) is measured on its own below
    print("First refresh (reads every response)...")
    results["first"], _ = timed(live.refresh)
    held = live._snapshot.total
    print(f"  {held:,} responses held after {results['first']:.1f} s")
    poll = TimedPoll(feed)
    framing = TimedToFrame()

    samples: dict[str, list[float]] = {k: [] for k in (
        "refresh", "poll", "to_frame", "to_frame_plain", "cube", "group", "safety",
        "changed_true")}
    seed = 900_000 + int(time.time()) % 10_000 * 100

    def one_batch(label: str) -> None:
        nonlocal seed
        seed += 1
        written = add_responses(engine, args.batch, seed)
        assert written == args.batch, f"wrote {written}, not {args.batch}"
        t_changed, changed = timed(feed.changed)
        assert changed
        before = live._snapshot.cube  # not snapshot(): with min_interval 0 it refreshes
        t_refresh, _ = timed(live.refresh)
        delta = poll.delta
        assert len(delta.rows) == args.batch and not delta.reset, (len(delta.rows), delta.reset)
        t_cube, cube = timed(lambda: before.add(delta.rows))
        t_group, grouping = timed(lambda: group_roles(cube, MIN_CELL_SIZE))
        t_safety, _ = timed(lambda: safety(cube, grouping, MIN_CELL_SIZE))
        t_plain, _ = timed(lambda: to_frame([tuple(r) for r in framing.rows]))
        if label == "steady":
            samples["refresh"].append(t_refresh)
            samples["poll"].append(poll.seconds)
            samples["to_frame"].append(framing.seconds)
            samples["to_frame_plain"].append(t_plain)
            samples["cube"].append(t_cube)
            samples["group"].append(t_group)
            samples["safety"].append(t_safety)
            samples["changed_true"].append(t_changed)
        else:
            samples.setdefault("reconcile_refresh", []).append(t_refresh)
            samples.setdefault("reconcile_poll", []).append(poll.seconds)

    print(f"{args.repeats} incremental refreshes of {args.batch:,} new responses each...")
    for _ in range(args.repeats):
        one_batch("steady")
    print(f"{args.reconcile_repeats} more with the reconciling COUNT(*) due...")
    feed.reconcile_seconds = 0.0
    for _ in range(args.reconcile_repeats):
        one_batch("reconcile")
    feed.reconcile_seconds = math.inf
    assert live._snapshot.total == held + args.batch * (args.repeats + args.reconcile_repeats)

    print(f"{args.probe_repeats} probes with nothing new...")
    samples["changed_false"] = []
    samples["refresh_idle"] = []
    for _ in range(args.probe_repeats):
        t, changed = timed(feed.changed)
        assert not changed
        samples["changed_false"].append(t)
        samples["refresh_idle"].append(timed(live.refresh)[0])

    print(f"{args.full_repeats} full reloads...")
    samples["full"], samples["full_cube"] = [], []
    for _ in range(args.full_repeats):
        with engine.connect() as connection:
            t_load, frame = timed(lambda: load_responses(connection))
        t_build, cube = timed(lambda: Cube.from_frame(frame))
        t_rules, _ = timed(lambda: safety(cube, group_roles(cube, MIN_CELL_SIZE), MIN_CELL_SIZE))
        samples["full"].append(t_load)
        samples["full_cube"].append(t_load + t_build + t_rules)
        del frame
    results["rows_at_end"] = int(cube.total)

    if args.breakdown:
        print("Breaking one full reload down...")
        with engine.connect() as connection:
            t_fetch, rows = timed(lambda: connection.execute(_SELECT.order_by(Response.id)).all())
        t_frame, _ = timed(lambda: to_frame(rows))
        t_tuples, plain = timed(lambda: [tuple(r) for r in rows])
        t_frame_plain, _ = timed(lambda: to_frame(plain))
        results["breakdown"] = {"fetch": t_fetch, "frame": t_frame, "tuples": t_tuples,
                                "frame_plain": t_frame_plain}
        del rows, plain
    framing.restore()
    results["samples"] = samples
    results["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return results


# --- Reporting ---------------------------------------------------------------------------------


def report(target, args: argparse.Namespace, results: dict, extra: dict[str, str]) -> str:
    s = {k: stats(v) for k, v in results["samples"].items()}
    incremental = s["refresh"]["median"]
    ratio = s["full"]["median"] / incremental
    ratio_poll = s["full"]["median"] / s["poll"]["median"]
    goal = "met" if s["refresh"]["p95"] * 1000 <= GOAL_MS else "**missed**"
    rows = [
        (f"**Incremental intake of {args.batch:,}**: `LiveData.refresh()` end to end",
         ms(s["refresh"]["median"]), ms(s["refresh"]["p95"]), s["refresh"]["n"]),
        ("… of which `ResponseFeed.poll()`", ms(s["poll"]["median"]), ms(s["poll"]["p95"]),
         s["poll"]["n"]),
        ("… … of which `to_frame` of the new rows (SQLAlchemy `Row` objects)",
         ms(s["to_frame"]["median"]), ms(s["to_frame"]["p95"]), s["to_frame"]["n"]),
        ("(`to_frame` of the same rows as plain tuples, re-run for comparison)",
         ms(s["to_frame_plain"]["median"]), ms(s["to_frame_plain"]["p95"]),
         s["to_frame_plain"]["n"]),
        (f"`Cube.add` of the {args.batch:,} rows (re-run)", ms(s["cube"]["median"]),
         ms(s["cube"]["p95"]), s["cube"]["n"]),
        ("`group_roles` on the new cube (re-run)", ms(s["group"]["median"]),
         ms(s["group"]["p95"]), s["group"]["n"]),
        ("suppression rules: `analysis.summary.safety` on the new cube (re-run)",
         ms(s["safety"]["median"]), ms(s["safety"]["p95"]), s["safety"]["n"]),
        ("`ResponseFeed.changed()` when there is something new", ms(s["changed_true"]["median"]),
         ms(s["changed_true"]["p95"]), s["changed_true"]["n"]),
        ("`LiveData.refresh()` when the minute's reconciling `COUNT(*)` is due",
         ms(s["reconcile_refresh"]["median"]), ms(s["reconcile_refresh"]["p95"]),
         s["reconcile_refresh"]["n"]),
        ("… of which `ResponseFeed.poll()`", ms(s["reconcile_poll"]["median"]),
         ms(s["reconcile_poll"]["p95"]), s["reconcile_poll"]["n"]),
        ("**Live probe**: `ResponseFeed.changed()`, nothing new", ms(s["changed_false"]["median"]),
         ms(s["changed_false"]["p95"]), s["changed_false"]["n"]),
        ("`LiveData.refresh()`, nothing new", ms(s["refresh_idle"]["median"]),
         ms(s["refresh_idle"]["p95"]), s["refresh_idle"]["n"]),
        ("**Full reload**: `load_responses` (baseline)", ms(s["full"]["median"]),
         ms(s["full"]["p95"]), s["full"]["n"]),
        ("full reload + `Cube.from_frame` + grouping and rules", ms(s["full_cube"]["median"]),
         ms(s["full_cube"]["p95"]), s["full_cube"]["n"]),
        ("first `LiveData.refresh()` of a worker (reads everything)", ms(results["first"]), "", 1),
    ]
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
        f"- Goal (intake of {args.batch:,} on top of {args.responses:,}: at most {GOAL_MS:.0f} ms): "
        f"{goal}: p95 {ms(s['refresh']['p95'])} ms, median {ms(incremental)} ms.",
        f"- Full reload / incremental intake (medians): **{ratio:,.0f}x** "
        f"(full reload / `poll()` alone: {ratio_poll:,.0f}x).",
        f"- Peak RSS of the benchmark process: {results['peak_rss'] / 2**20:,.0f} MiB "
        "(dominated by the full reloads).",
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
                ("`to_frame(rows)` on those SQLAlchemy `Row` objects", ms(b["frame"])),
                ("`[tuple(r) for r in rows]`", ms(b["tuples"])),
                ("`to_frame(...)` on plain tuples instead", ms(b["frame_plain"])),
            ]),
        ]
        if b["frame"] > 1.5 * (b["tuples"] + b["frame_plain"]):
            parts += [
                "",
                "`pandas.DataFrame.from_records` does not recognise SQLAlchemy 2 `Row` objects as "
                "tuples and falls back to probing each row with `hasattr(row, \"dtype\")`, which "
                "makes SQLAlchemy raise and catch an `AttributeError` per row; converting the rows "
                "to tuples first avoids it (see the table)."]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
