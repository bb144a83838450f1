"""The product under load, as deployed: `gunicorn app:server` (the project's gunicorn.conf.py, two
workers) in a subprocess, many clients posting to the ingestion API at once, readers of the
summary API, and the store stopped or a worker killed in the middle.

What must hold whatever happens (docs/deploy.md, dashboard/ingest.py): every response answered
201 is in the store; each respondent is stored once however often a client retries; the store
being unreachable gives 503 with Retry-After to ingestion and never a 5xx to pages; the app
recovers by itself. The workers publish by themselves (every second here, see
tests/load_support.py): readers only ever see the total of a release, each release adds at least
the minimum cell size, and once the load is over every release that can be made is made and
every worker counts exactly what was published. Speed is reported (``pytest -s`` shows the
``LOAD`` lines), never asserted.
Every loop is bounded in count and time, traffic goes to 127.0.0.1 only, and every process
started here is stopped in a ``finally``.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import time
from collections import Counter

import pytest

from tests.load_support import (
    MIN_CELL_SIZE, TOKEN, Gunicorn, Load, Publication, Readers, ServerHalted, TotalWentDown,
    by_worker, count_rows, decreases, nonzero_totals_by_worker, payload, prepare_store,
    readiness_by_worker, report, request, stored_ids, totals_at_rest,
)
from tests.services import PostgresServer, ServiceUnavailable

POST_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """A migrated, empty store: an SQLite file, or a new database on the tests' PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")()
    prepare_store(url)
    return url


def own_postgres() -> PostgresServer:
    """A PostgreSQL server of this test's own, which it may stop and start."""
    try:
        return PostgresServer.start_new()
    except ServiceUnavailable as error:
        pytest.fail(f"PostgreSQL is needed by this test and is unavailable: {error}",
                    pytrace=False)


def assert_stored_exactly_once(url: str, expected_ids: set[str], acknowledged: list[str]) -> None:
    rows, distinct = count_rows(url)
    ids = stored_ids(url)
    twice = {i: n for i, n in Counter(ids).items() if n > 1}
    assert twice == {}, f"stored more than once: {sorted(twice.items())[:20]}"
    lost = set(acknowledged) - set(ids)
    assert lost == set(), f"acknowledged with 201 but not in the store: {sorted(lost)[:20]}"
    assert (rows, distinct) == (len(expected_ids), len(expected_ids))
    assert set(ids) == expected_ids


def assert_clients_finished(log, posted: int) -> None:
    assert log.given_up == [], (f"{len(log.given_up)} responses never acknowledged (attempts or "
                                f"time ran out), e.g. {log.given_up[:5]}")
    assert log.unexpected == [], f"answers other than 201/429/503: {log.unexpected[:5]}"
    assert len(log.acknowledged) == posted == len(set(log.acknowledged))
    assert log.results["stored"] + log.results["duplicate"] == posted
    # A "duplicate" answer means an earlier attempt of that id committed without its answer
    # reaching the client: only an id that was retried can get one.
    assert log.results["duplicate"] <= len(log.retried_ids)


def assert_each_worker_never_goes_back(observations: dict, pids: dict[str, int]) -> int:
    """Per reader and per worker, total_responses never decreases. Returns how many times it
    did decrease between two answers of different workers (reported, not asserted here; see
    test_one_reader_never_sees_the_total_go_down_across_workers)."""
    across = 0
    for name, seen in observations.items():
        for pid, answers in by_worker(seen, pids).items():
            went_down = decreases(answers)
            assert went_down == [], (f"{name}: worker {pid} went from {went_down[0][0].total} "
                                     f"to {went_down[0][1].total} responses")
        across += len(decreases(seen))
    return across


def assert_figures_moved_by_releases_only(observations: dict, published: Publication) -> None:
    """Every total a reader saw is that of a release (or 0, before the first), and each release
    added at least the minimum cell size (all the responses posted are alike: one class)."""
    releases = published.release_totals
    assert releases, "no release was made"
    steps = [b - a for a, b in zip((0, *releases), releases)]
    assert min(steps) >= MIN_CELL_SIZE, steps
    seen = {o.total for answers in observations.values() for o in answers if o.total is not None}
    assert seen <= {0, *releases}, f"totals that no release had: {sorted(seen - {0, *releases})}"


def assert_every_worker_counts_the_published(totals: dict[int, int], published: Publication,
                                             posted: int) -> None:
    """At rest: what waits is too few for a release (fewer than the minimum, all alike), and
    every worker counts each published response once."""
    assert published.published + published.waiting == posted, published
    assert published.waiting < MIN_CELL_SIZE, published
    assert len(totals) == 2 and set(totals.values()) == {published.published}, (totals,
                                                                                 published)


def server_output_is_clean(server: Gunicorn) -> None:
    output = "\n".join(server.lines)
    assert "Traceback" not in output, server.output_tail(120)


# --- 1. Many clients at once --------------------------------------------------------------------

CLIENTS, PER_CLIENT = 20, 500
LOAD_SECONDS = 170.0


def test_twenty_clients_post_ten_thousand_responses_each_stored_once(store_url):
    """20 clients x 500 posts, one response each, on keep-alive connections; two readers poll
    the summary API (a new connection each time, so both workers answer) meanwhile."""
    server = Gunicorn(store_url)
    try:
        server.start()
        load = Load(server.port, CLIENTS, PER_CLIENT, deadline=time.monotonic() + LOAD_SECONDS)
        readers = Readers(server.port, ["reader-1", "reader-2"], deadline=load.deadline + 10,
                          interval=0.05)
        readers.start()
        load.start()
        log = load.join()
        observations = readers.join()
        totals, published = totals_at_rest(server)
        master_alive = server.alive
    finally:
        server.stop()

    posted = CLIENTS * PER_CLIENT
    pids = server.pids_by_tag()
    answers = [o for seen in observations.values() for o in seen]
    across = [d for seen in observations.values() for d in decreases(seen)]
    report("many-clients", store=store_url.split(":")[0], posted=posted,
           seconds=round(load.seconds, 1), per_second=round(posted / load.seconds, 1),
           statuses=dict(log.statuses), retries=log.retries,
           connection_errors=dict(log.connection_errors), duplicates=log.results["duplicate"],
           reader_answers=len(answers), cross_worker_decreases=len(across),
           largest_cross_worker_drop=max((a.total - b.total for a, b in across), default=0),
           releases=len(published.release_totals), waiting=published.waiting,
           final_totals=totals)
    assert master_alive
    assert_clients_finished(log, posted)
    assert set(log.statuses) <= {201, 429, 503}
    assert_stored_exactly_once(store_url, set(load.all_ids), log.acknowledged)
    assert all(o.status == 200 for o in answers), Counter((o.status, o.error) for o in answers)
    assert all(len(seen) >= 10 for seen in observations.values())  # they polled throughout
    assert_each_worker_never_goes_back(observations, pids)
    assert_figures_moved_by_releases_only(observations, published)
    assert_every_worker_counts_the_published(totals, published, posted)
    server_output_is_clean(server)


def test_one_reader_never_sees_the_total_go_down_across_workers(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    prepare_store(url)
    server = Gunicorn(url)
    try:
        server.start()
        load = Load(server.port, 4, 2500, deadline=time.monotonic() + 60, prefix="monotonic")
        readers = Readers(server.port, ["reader-1", "reader-2"], deadline=load.deadline,
                          interval=0.02)
        readers.start()
        load.start()
        for _ in range(600):  # until some reader saw a decrease, or 40 s
            if any(decreases(list(seen)) for seen in readers.observations.values()) or \
                    time.monotonic() - load.started > 40:
                break
            time.sleep(0.1)
        time.sleep(1)
        load.stop.set()
        log = load.join()
        observations = readers.join()
    finally:
        server.stop()

    pids = server.pids_by_tag()
    assert log.unexpected == [] and set(log.statuses) <= {201, 429, 503}
    answers = [o for seen in observations.values() for o in seen]
    assert answers and all(o.status == 200 for o in answers)
    # The figures moved while the readers watched (0, then at least two releases): otherwise
    # there was nothing that could have gone down.
    assert len({o.total for o in answers}) >= 3, sorted({o.total for o in answers})
    assert_each_worker_never_goes_back(observations, pids)
    for name, seen in observations.items():
        went_down = decreases(seen)
        if went_down:
            first, then = went_down[0]
            raise TotalWentDown(
                f"{name} saw total_responses go from {first.total} (worker {pids.get(first.tag)})"
                f" to {then.total} (worker {pids.get(then.tag)}) in consecutive requests, "
                f"{len(went_down)} times in {len(seen)} answers; largest drop "
                f"{max(a.total - b.total for a, b in went_down)}")


# --- 2. The store stopped in the middle of a load -----------------------------------------------

OUTAGE_CLIENTS, OUTAGE_PER_CLIENT = 10, 150
OUTAGE_SECONDS = 3.0
PROBE_ID = "outage-probe"
FIRST_HOLD, SECOND_HOLD = 30, 60
"""Where the posting clients wait (see :class:`tests.load_support.Load`) for what the test does
in the middle of the load: each has posted that many and has more to post."""


def probe_during_outage(port: int, seconds: float) -> list[tuple[str, int, object, str]]:
    """GET /, GET /api/v1/summary, GET /readyz and a POST of one response, on new connections
    (so both workers answer), for ``seconds``: (what, status, detail, tag)."""
    probes: list[tuple[str, int, object, str]] = []
    until = time.monotonic() + seconds
    for n in range(200):
        if time.monotonic() > until and n >= 4:
            break
        page = request(port, "GET", "/", tag=f"probe-page-{n}")
        probes.append(("GET /", page.status, None, f"probe-page-{n}"))
        summary = request(port, "GET", "/api/v1/summary", tag=f"probe-summary-{n}")
        probes.append(("GET /api/v1/summary", summary.status,
                       summary.json()["total_responses"] if summary.status == 200 else None,
                       f"probe-summary-{n}"))
        ready = request(port, "GET", "/readyz", tag=f"probe-ready-{n}")
        probes.append(("GET /readyz", ready.status, None, f"probe-ready-{n}"))
        posted = request(port, "POST", "/api/v1/responses", body=payload(PROBE_ID),
                         headers=POST_HEADERS, tag=f"probe-post-{n}")
        probes.append(("POST", posted.status, posted.headers.get("retry-after"),
                       f"probe-post-{n}"))
        time.sleep(0.1)
    return probes


def refusals_between(log, start: float, end: float) -> Counter:
    return Counter(status for at, status, _ in log.refusals if start <= at <= end)


def post_probe_after_recovery(port: int) -> dict:
    """The response refused during the outage, sent again: stored now, and only now."""
    for attempt in range(20):
        reply = request(port, "POST", "/api/v1/responses", body=payload(PROBE_ID),
                        headers=POST_HEADERS, tag=f"probe-again-{attempt}")
        if reply.status == 201:
            return reply.json()["results"][0]
        time.sleep(1)
    raise AssertionError(f"the probe response was not accepted after the outage: {reply}")


def check_outage(name: str, server: Gunicorn, url: str, load: Load, log, observations,
                 probes, readiness, at_rest: tuple[dict[int, int], Publication],
                 outage: tuple[float, float], probe_result: dict, *, before: dict[int, int],
                 master_alive: bool, expect_ready_during: bool) -> None:
    """``before``: each worker's total_responses just before the outage."""
    totals, published = at_rest
    pids = server.pids_by_tag()
    answers = [o for seen in observations.values() for o in seen]
    by_kind = Counter((what, status) for what, status, _, _ in probes)
    report(name, posted=len(load.all_ids), seconds=round(load.seconds, 1),
           per_second=round(len(load.all_ids) / load.seconds, 1),
           statuses=dict(log.statuses), refused_in_outage=dict(refusals_between(log, *outage)),
           retries=log.retries, retried_ids=len(log.retried_ids),
           slept_for_retry_after=round(log.slept_for_retry_after, 1),
           connection_errors=dict(log.connection_errors), duplicates=log.results["duplicate"],
           probes=dict(by_kind), reader_answers=len(answers),
           readiness={pid: status for pid, (status, _) in readiness.items()},
           releases=len(published.release_totals), waiting=published.waiting)
    # Pages keep answering, with the last figures; ingestion refuses with 503 and Retry-After.
    assert {what: status for what, status, _, _ in probes if what.startswith("GET /") and
            what != "GET /readyz" and status != 200} == {}, by_kind
    assert len(before) == 2 and all(total > 0 for total in before.values()), before
    summaries = [(pids.get(tag), total) for what, _, total, tag in probes
                 if what == "GET /api/v1/summary"]
    assert summaries and all(pid in before and total >= before[pid]
                             for pid, total in summaries), (
        f"the last figures were not kept: before the outage {before}, during it "
        f"(worker, total) {summaries}")
    posts = [(status, retry_after) for what, status, retry_after, _ in probes if what == "POST"]
    assert posts and all(status == 503 and retry_after and retry_after.isdigit()
                         for status, retry_after in posts), posts
    if not expect_ready_during:
        assert {status for what, status, _, _ in probes if what == "GET /readyz"} == {503}
    # The load's clients were refused too (they were let go on from a hold once the outage
    # had begun, and the test waited for one of them to be refused before ending it).
    assert refusals_between(log, *outage)[503] >= 1
    # Nothing refused was stored; retried responses are stored once; nothing acknowledged lost.
    assert probe_result["status"] == "stored", probe_result
    assert_clients_finished(log, len(load.all_ids))
    assert set(log.statuses) <= {201, 503}
    assert_stored_exactly_once(url, {*load.all_ids, PROBE_ID}, [*log.acknowledged, PROBE_ID])
    # Readers of the summary never got a 5xx (nor anything else but 200).
    assert all(o.status == 200 for o in answers), Counter((o.status, o.error) for o in answers)
    assert_each_worker_never_goes_back(observations, pids)
    assert_figures_moved_by_releases_only(observations, published)
    # Recovered without a restart: every worker ready again, the releases going on, and every
    # worker counting each published response once.
    assert master_alive
    assert len(readiness) == 2 and all(
        status == 200 and body["store_reachable"] and body["unreachable_since"] is None
        for status, body in readiness.values()), readiness
    assert_every_worker_counts_the_published(totals, published, len(load.all_ids) + 1)
    server_output_is_clean(server)


@pytest.mark.postgres
def test_postgresql_stopped_in_the_middle_of_a_load():
    database = own_postgres()
    try:
        url = database.url()
        prepare_store(url)
        server = Gunicorn(url)
        try:
            server.start()
            load = Load(server.port, OUTAGE_CLIENTS, OUTAGE_PER_CLIENT,
                        deadline=time.monotonic() + 150, prefix="pg-outage",
                        holds=(FIRST_HOLD,))
            readers = Readers(server.port, ["reader-1", "reader-2"], deadline=load.deadline,
                              interval=0.1)
            readers.start()
            load.start()
            assert load.wait_until_held(90), "the load did not get going"
            before = nonzero_totals_by_worker(server)  # once a release is made
            went_down = time.monotonic()
            database.pause()  # pg_ctl stop --mode fast: sessions cut, data kept
            load.go()
            probes = probe_during_outage(server.port, OUTAGE_SECONDS)
            load.wait_for_refusal(went_down, 60)
            database.resume()
            came_back = time.monotonic()
            readiness = readiness_by_worker(server)
            probe_result = post_probe_after_recovery(server.port)
            log = load.join()
            observations = readers.join()
            at_rest = totals_at_rest(server)
            master_alive = server.alive
        finally:
            server.stop()
        check_outage("postgresql-outage", server, url, load, log, observations, probes,
                     readiness, at_rest, (went_down, came_back), probe_result,
                     before=before, master_alive=master_alive, expect_ready_during=False)
    finally:
        database.stop()


def limit_file_size(pids: set[int], limit: int) -> None:
    for pid in pids:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_sqlite_store_unwritable_in_the_middle_of_a_load(tmp_path):
    """What "the SQLite file is unavailable" can mean to workers that hold it open, and which
    of those really makes writes fail with the current code:

    - chmod of the file or its directory: no effect on descriptors already open, and none at
      all for root; replacing or moving the file: open connections go on writing to the old
      inode (an operator's error that loses data, not an outage);
    - another process holding the write lock (BEGIN EXCLUSIVE) for a few seconds: writers
      wait (busy_timeout is 30 s) and then succeed. Checked first here: no 503, nothing lost.
    - the disk refusing writes (full, or a quota): each worker's RLIMIT_FSIZE is set to 0 for
      a few seconds, so that every write(2) to the store fails with EFBIG (CPython ignores
      SIGXFSZ), which SQLite reports as a disk I/O error. Reads still work. This is the outage
      that makes ingestion answer 503.

    The clients wait at a hold before each of the two, and are let go once it has begun, so
    that they post during it whatever the machine's speed.
    """
    path = tmp_path / "store.sqlite3"
    url = f"sqlite:///{path}"
    prepare_store(url)
    server = Gunicorn(url)
    limited: set[int] = set()
    try:
        server.start()
        load = Load(server.port, OUTAGE_CLIENTS, OUTAGE_PER_CLIENT,
                    deadline=time.monotonic() + 150, prefix="sqlite-outage",
                    holds=(FIRST_HOLD, SECOND_HOLD))
        readers = Readers(server.port, ["reader-1", "reader-2"], deadline=load.deadline,
                          interval=0.1)
        readers.start()
        load.start()
        assert load.wait_until_held(90), "the load did not get going"

        before_lock = load.acknowledged_count()
        holder = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            locked_at = time.monotonic()
            load.go()
            time.sleep(OUTAGE_SECONDS)
            holder.execute("COMMIT")
        finally:
            holder.close()
        unlocked_at = time.monotonic()
        during_lock = load.acknowledged_count() - before_lock
        assert load.wait_until_held(90), "the load did not go on after the lock"
        before = nonzero_totals_by_worker(server)

        went_down = time.monotonic()
        limited = server.worker_pids()
        limit_file_size(limited, 0)
        load.go()
        probes = probe_during_outage(server.port, OUTAGE_SECONDS)
        load.wait_for_refusal(went_down, 60)
        limit_file_size(limited, resource.RLIM_INFINITY)
        limited = set()
        came_back = time.monotonic()
        readiness = readiness_by_worker(server)
        probe_result = post_probe_after_recovery(server.port)
        log = load.join()
        observations = readers.join()
        at_rest = totals_at_rest(server)
        master_alive = server.alive
    finally:
        try:
            if limited:
                limit_file_size(limited & server.worker_pids(), resource.RLIM_INFINITY)
        finally:
            server.stop()
    lock_window = (locked_at, min(unlocked_at + 0.5, went_down))
    report("sqlite-lock-held", seconds=round(unlocked_at - locked_at, 1),
           acknowledged_while_locked=during_lock,
           refused_while_locked=dict(refusals_between(log, *lock_window)))
    assert refusals_between(log, *lock_window) == Counter(), (
        "a write lock held for a few seconds by another process made ingestion refuse")
    check_outage("sqlite-disk-refuses-writes", server, url, load, log, observations, probes,
                 readiness, at_rest, (went_down, came_back), probe_result,
                 before=before, master_alive=master_alive, expect_ready_during=True)


# --- 3. A worker killed ---------------------------------------------------------------------------

KILL_CLIENTS, KILL_PER_CLIENT = 10, 300


def test_a_worker_killed_under_load_loses_nothing(store_url):
    server = Gunicorn(store_url)
    try:
        server.start()
        workers = server.worker_pids()
        load = Load(server.port, KILL_CLIENTS, KILL_PER_CLIENT, deadline=time.monotonic() + 150,
                    prefix="kill")
        readers = Readers(server.port, ["reader-1", "reader-2"], deadline=load.deadline,
                          interval=0.1)
        readers.start()
        load.start()
        assert load.wait_for_acknowledged(600, 90) >= 600, "the load did not get going"
        # The worker holding most of the posting clients' keep-alive connections.
        posts = Counter(s.pid for s in server.served() if s.method == "POST")
        victim = max(workers, key=lambda pid: posts[pid])
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        replaced_after = None
        for _ in range(1200):
            now = server.worker_pids()
            if len(now) == 2 and victim not in now:
                replaced_after = time.monotonic() - killed_at
                break
            if time.monotonic() - killed_at > 60:
                break
            time.sleep(0.05)
        log = load.join()
        observations = readers.join()
        serving = server.wait_until_every_worker_serves(120)  # the replacement too
        totals, published = totals_at_rest(server)
        master_alive = server.alive
    finally:
        server.stop()

    answers = [o for seen in observations.values() for o in seen]
    report("worker-killed", store=store_url.split(":")[0], posted=len(load.all_ids),
           seconds=round(load.seconds, 1),
           per_second=round(len(load.all_ids) / load.seconds, 1),
           replaced_after=replaced_after and round(replaced_after, 2),
           statuses=dict(log.statuses), connection_errors=dict(log.connection_errors),
           retries=log.retries, duplicates=log.results["duplicate"],
           reader_statuses=dict(Counter(o.status or o.error for o in answers)))
    assert master_alive
    assert replaced_after is not None, "the master did not replace the killed worker"
    assert victim not in serving and len(serving - workers) == 1 and len(serving) == 2
    assert_clients_finished(log, len(load.all_ids))
    # Clients saw connection errors at most, which they retried: no 5xx, no refusal.
    assert set(log.statuses) == {201}, log.statuses
    assert_stored_exactly_once(store_url, set(load.all_ids), log.acknowledged)
    assert all(o.status in (200, 0) for o in answers)  # 0: a connection cut by the kill
    assert_every_worker_counts_the_published(totals, published, len(load.all_ids))
    assert_each_worker_never_goes_back(observations, server.pids_by_tag())
    assert_figures_moved_by_releases_only(observations, published)


@pytest.mark.postgres
def test_a_worker_replaced_while_postgresql_is_down_keeps_the_server_up():
    database = own_postgres()
    try:
        url = database.url()
        prepare_store(url)
        server = Gunicorn(url)
        try:
            server.start()
            workers = server.worker_pids()
            for n in range(20):
                assert request(server.port, "POST", "/api/v1/responses",
                               body=payload(f"before-{n}"), headers=POST_HEADERS).status == 201
            readiness_by_worker(server)  # both workers have read the store
            database.pause()
            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            statuses: Counter = Counter()
            replacement_served = False
            for n in range(400):  # until the replacement serves, the master exits, or 90 s
                if not server.alive or time.monotonic() - killed_at > 90:
                    break
                try:
                    statuses[request(server.port, "GET", "/api/v1/summary", tag=f"down-{n}",
                                     timeout=10).status] += 1
                except OSError as error:
                    statuses[type(error).__name__] += 1
                replacement = server.worker_pids() - workers
                if replacement and replacement & {s.pid for s in server.served()}:
                    replacement_served = True
                    break
                time.sleep(0.25)
            halted = not server.alive
            database.resume()
            if not halted:
                readiness = readiness_by_worker(server)
        finally:
            server.stop()
        report("worker-replaced-during-outage", halted=halted,
               exit_code=server.process.returncode, summary_statuses=dict(statuses),
               replacement_served=replacement_served)
        if halted:
            raise ServerHalted(
                f"gunicorn exited (code {server.process.returncode}) after a worker was "
                f"replaced while PostgreSQL was down; pages answered {dict(statuses)} "
                f"meanwhile.\n" + "\n".join(line for line in server.lines[-40:]
                                           if "tag=" not in line))
        assert set(statuses) == {200}, statuses
        assert all(status == 200 for status, _ in readiness.values()), readiness
    finally:
        database.stop()
