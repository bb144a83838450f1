"""Support for the load tests (tests/test_load.py): `gunicorn app:server` in a subprocess, HTTP
clients that post responses and retry as a well-behaved webhook sender would, readers of the
summary API, and the store's own account of what arrived and what it published.

The app publishes by itself here (``RELEASE_INTERVAL_SECONDS`` of :data:`RELEASE_INTERVAL`), so
that the figures the readers watch move while the load runs. Every response posted is
:data:`RESPONSE`: one class for the release rule, so a release takes every waiting response
once at least :data:`MIN_CELL_SIZE` wait, and when the load is over fewer than that wait.

Everything is bounded in count and in time, talks to 127.0.0.1 only, and every process started
here is stopped by the caller's ``finally`` (see :meth:`Gunicorn.stop`).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from data_loaders.db import make_engine, upgrade
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "load-test-token"
MIN_CELL_SIZE = 10
RELEASE_INTERVAL = 1.0
"""Seconds between two releases: short, so that tests wait for releases rather than for time."""
TAG_HEADER = "X-Load-Tag"
# The project's access log leaves out query strings; this one does too, and adds the worker's pid
# and the test's tag of each request, so that every answer can be traced to the worker that gave
# it. Written to a pipe (not a file), so that a file size limit on a worker cannot touch it.
ACCESS_LOG_FORMAT = '%(p)s "%(m)s %(U)s" %(s)s tag=%({x-load-tag}i)s'
_ACCESS_LINE = re.compile(r'^<(\d+)> "(\S+) (\S+)" (\d+) tag=(\S*)')
RESPONSE = {"submitted_at": "2018-09-20T10:15:00+01:00", "role": "social_worker",
            "uses_social_media": "yes", "viewed_profile": "Yes", "viewed_for_evidence": "no",
            "aware_of_guidance": "not sure", "confident_rules": "no", "knows_who_to_ask": "yes"}


# --- The store --------------------------------------------------------------------------------


def prepare_store(database_url: str) -> None:
    """Create and migrate the store before the server starts, as a deployment does."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def stored_ids(database_url: str) -> list[str]:
    """Every respondent id the ingestion API stored, once per row (duplicates kept)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT source_respondent_id FROM responses WHERE source = 'api'")).scalars())
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Publication:
    """What the store has published: responses published and waiting, and each release's total
    (responses published up to and including it), in order."""

    published: int
    waiting: int
    release_totals: tuple[int, ...]


def publication(engine) -> Publication:
    """The store's own account of its releases, by SQL."""
    with engine.connect() as connection:
        published, waiting = connection.execute(text(
            "SELECT count(release_seq), count(*) - count(release_seq) FROM responses")).one()
        totals = connection.execute(text("SELECT total FROM releases ORDER BY seq")).scalars()
        return Publication(int(published), int(waiting), tuple(int(t) for t in totals))


def count_rows(database_url: str) -> tuple[int, int]:
    """(rows, distinct respondent ids) in the responses table, by SQL."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows, distinct = connection.execute(text(
                "SELECT count(*), count(DISTINCT source || ':' || source_respondent_id) "
                "FROM responses")).one()
            return int(rows), int(distinct)
    finally:
        engine.dispose()


# --- The server -------------------------------------------------------------------------------


def _start_time(pid: int) -> int | None:
    """When the process started (clock ticks since boot), to tell it from a later one that
    reuses its pid; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


@dataclass(frozen=True)
class Served:
    pid: int
    method: str
    path: str
    status: int
    tag: str


class Gunicorn:
    """`gunicorn app:server` with the project's gunicorn.conf.py, on a free port."""

    def __init__(self, database_url: str, *, workers: int = 2, env: dict | None = None):
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self._drain: threading.Thread | None = None

    def start(self, timeout: float = 120.0) -> "Gunicorn":
        env = {**os.environ, "DATABASE_URL": self.database_url, "DEMO_RESPONSES": "0",
               "INGEST_TOKEN": TOKEN, "INGEST_RATE_PER_MINUTE": "100000000",
               "MIN_CELL_SIZE": str(MIN_CELL_SIZE),
               "RELEASE_INTERVAL_SECONDS": str(RELEASE_INTERVAL), **self.extra_env}
        env.pop("GUNICORN_CMD_ARGS", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--access-logformat", ACCESS_LOG_FORMAT,
             # gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl, one path for every server
             # on the machine: servers started at once (other tests, other sessions) would
             # take it from each other.
             "--no-control-socket"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()
        self.wait_until_every_worker_serves(timeout)
        return self

    def _read_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> set[int]:
        if not self.alive:
            return set()
        return _children(self.process.pid)

    def served(self) -> list[Served]:
        out = []
        for line in list(self.lines):
            match = _ACCESS_LINE.match(line)
            if match:
                pid, method, path, status, tag = match.groups()
                out.append(Served(int(pid), method, path, int(status), tag))
        return out

    def pids_by_tag(self) -> dict[str, int]:
        return {s.tag: s.pid for s in self.served() if s.tag != "-"}

    def wait_until_every_worker_serves(self, timeout: float, *,
                                       max_requests: int = 3000) -> set[int]:
        """Until each current worker has answered a request: its app is built and it accepts."""
        deadline = time.monotonic() + timeout
        for n in range(max_requests):
            if not self.alive:
                raise AssertionError("gunicorn exited:\n" + self.output_tail())
            pids = self.worker_pids()
            tag = f"warmup-{self.port}-{n}"
            try:
                request(self.port, "GET", "/healthz", tag=tag, timeout=10)
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
            served = {s.pid for s in self.served() if s.tag.startswith("warmup-")}
            if len(pids) == self.workers and pids <= served:
                return pids
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        raise AssertionError(f"workers {sorted(self.worker_pids())} did not all serve within "
                             f"{timeout:.0f} s:\n" + self.output_tail())

    def output_tail(self, lines: int = 60) -> str:
        return "\n".join(self.lines[-lines:])

    def stop(self) -> None:
        if self.process is None:
            return
        workers = {pid: _start_time(pid) for pid in self.worker_pids()}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for pid, started in workers.items():  # this master's workers, if any outlived it
            if started is not None and _start_time(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if self._drain is not None:
            self._drain.join(timeout=10)


# --- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(port: int, method: str, path: str, *, body: bytes | None = None,
            headers: dict | None = None, tag: str | None = None,
            timeout: float = 30.0) -> Reply:
    """One request on a connection of its own (so that any worker may take it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = {"Connection": "close", **(headers or {})}
        if tag:
            sent[TAG_HEADER] = tag
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    finally:
        connection.close()


class KeepAlive:
    """One persistent connection, opened again after any error or when asked to."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.port, self.timeout = port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict | None = None) -> Reply:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                         timeout=self.timeout)
        try:
            self.connection.request(method, path, body=body, headers=headers or {})
            answer = self.connection.getresponse()
            reply = Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()},
                          answer.read())
        except BaseException:
            self.close()
            raise
        if reply.headers.get("connection", "").lower() == "close":
            self.close()
        return reply

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --- Posting clients --------------------------------------------------------------------------


@dataclass
class ClientLog:
    """What one posting client saw."""

    acknowledged: list[str] = field(default_factory=list)
    """Ids the server answered 201 for (stored, or found already stored)."""
    results: Counter = field(default_factory=Counter)
    """Per-response results in 201 bodies: stored / duplicate."""
    statuses: Counter = field(default_factory=Counter)
    connection_errors: Counter = field(default_factory=Counter)
    retries: int = 0
    retried_ids: set[str] = field(default_factory=set)
    slept_for_retry_after: float = 0.0
    unexpected: list[tuple[str, int, str]] = field(default_factory=list)
    """(id, status, body) of answers other than 201, 429 and 503."""
    given_up: list[str] = field(default_factory=list)
    """Ids never acknowledged: attempts or time ran out."""
    refusals: list[tuple[float, int, str]] = field(default_factory=list)
    """(monotonic time, status, Retry-After) of every 429 and 503."""
    posted_at: list[float] = field(default_factory=list)
    """Monotonic time of every acknowledgement."""


def merge(logs: list[ClientLog]) -> ClientLog:
    total = ClientLog()
    for log in logs:
        total.acknowledged += log.acknowledged
        total.results += log.results
        total.statuses += log.statuses
        total.connection_errors += log.connection_errors
        total.retries += log.retries
        total.retried_ids |= log.retried_ids
        total.slept_for_retry_after += log.slept_for_retry_after
        total.unexpected += log.unexpected
        total.given_up += log.given_up
        total.refusals += log.refusals
        total.posted_at += log.posted_at
    return total


def payload(respondent: str) -> bytes:
    return json.dumps({"respondent_id": respondent, **RESPONSE}).encode()


def post_all(port: int, ids: list[str], log: ClientLog, *, deadline: float,
             stop: threading.Event, max_attempts: int = 40, max_wait: float = 10.0,
             before: Callable[[int], None] | None = None) -> None:
    """Post each id as one response, until 201, on one keep-alive connection.

    503 and 429 are retried after their Retry-After (at most ``max_wait`` s); a connection error
    (the request may or may not have been handled) is retried at once on a new connection, which
    the ingestion API's idempotency makes safe. Bounded by ``max_attempts`` per id and by
    ``deadline`` overall. ``before(n)`` is called before the n-th id is first sent.
    """
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    client = KeepAlive(port)
    try:
        for position, respondent in enumerate(ids):
            if before is not None:
                before(position)
            body = payload(respondent)
            for attempt in range(max_attempts):
                if time.monotonic() > deadline or stop.is_set():
                    log.given_up.append(respondent)
                    break
                if attempt:
                    log.retries += 1
                    log.retried_ids.add(respondent)
                try:
                    reply = client.request("POST", "/api/v1/responses", body=body, headers=headers)
                except (OSError, http.client.HTTPException) as error:
                    log.connection_errors[type(error).__name__] += 1
                    time.sleep(min(0.05 * (attempt + 1), 1.0))
                    continue
                log.statuses[reply.status] += 1
                if reply.status == 201:
                    result = reply.json()["results"][0]
                    if result.get("respondent_id") != respondent:
                        log.unexpected.append((respondent, reply.status, reply.body.decode()))
                    log.results[result["status"]] += 1
                    log.acknowledged.append(respondent)
                    log.posted_at.append(time.monotonic())
                    break
                if reply.status in (429, 503):
                    retry_after = reply.headers.get("retry-after", "")
                    log.refusals.append((time.monotonic(), reply.status, retry_after))
                    wait = min(float(retry_after) if retry_after.isdigit() else 1.0, max_wait,
                               max(0.0, deadline - time.monotonic()))
                    log.slept_for_retry_after += wait
                    client.close()  # the server's keep-alive (5 s) may not outlast the wait
                    stop.wait(wait)
                    continue
                log.unexpected.append((respondent, reply.status, reply.body[:300].decode(
                    errors="replace")))
                time.sleep(0.2)
            else:
                log.given_up.append(respondent)
    finally:
        client.close()


class Load:
    """``clients`` threads posting ``per_client`` responses each, ids ``{prefix}-{client}-{n}``.

    ``holds`` are positions in each client's ids where every client stops, once all before them
    are acknowledged, until the test says :meth:`go`: so that a test doing something "in the
    middle of the load" knows that its clients are still posting when it does it, however fast
    or slow the machine is."""

    def __init__(self, port: int, clients: int, per_client: int, *, deadline: float,
                 prefix: str = "load", max_wait: float = 10.0, holds: tuple[int, ...] = ()):
        if list(holds) != sorted(set(holds)) or any(not 0 < h < per_client for h in holds):
            raise ValueError(f"holds must be increasing positions within 1..{per_client - 1}, "
                             f"not {holds}")
        self.port, self.deadline, self.max_wait = port, deadline, max_wait
        self.ids = [[f"{prefix}-{c}-{n}" for n in range(per_client)] for c in range(clients)]
        self.logs = [ClientLog() for _ in range(clients)]
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.started = self.finished = 0.0
        self.holds = holds
        self._released = [threading.Event() for _ in holds]
        self._arrived = [0 for _ in holds]
        self._arrival = threading.Condition()
        self._next_hold = 0

    @property
    def all_ids(self) -> list[str]:
        return [i for ids in self.ids for i in ids]

    def start(self) -> "Load":
        self.started = time.monotonic()
        for ids, log in zip(self.ids, self.logs):
            thread = threading.Thread(target=self._run, args=(ids, log), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _run(self, ids: list[str], log: ClientLog) -> None:
        try:
            post_all(self.port, ids, log, deadline=self.deadline, stop=self.stop,
                     max_wait=self.max_wait, before=self._hold)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.errors.append(error)

    def _hold(self, position: int) -> None:
        if position not in self.holds:
            return
        n = self.holds.index(position)
        with self._arrival:
            self._arrived[n] += 1
            self._arrival.notify_all()
        while not self._released[n].wait(0.5):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                return

    def wait_until_held(self, timeout: float) -> bool:
        """Whether every client came to the next hold within ``timeout`` seconds (and the
        deadline): then each has had all its ids before it acknowledged, and waits."""
        n = self._next_hold
        limit = max(0.0, min(timeout, self.deadline - time.monotonic()))
        with self._arrival:
            return self._arrival.wait_for(lambda: self._arrived[n] == len(self.threads), limit)

    def go(self) -> None:
        """Let the clients go on from the hold they wait at."""
        self._released[self._next_hold].set()
        self._next_hold += 1

    def refused_since(self, start: float, status: int = 503) -> int:
        return sum(1 for log in self.logs for at, refused, _ in list(log.refusals)
                   if at >= start and refused == status)

    def wait_for_refusal(self, start: float, timeout: float, status: int = 503) -> int:
        """Until some client has been refused with ``status`` since ``start`` (or ``timeout``
        seconds pass); how many times they were."""
        limit = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            if self.refused_since(start, status) or time.monotonic() > limit:
                break
            time.sleep(0.05)
        return self.refused_since(start, status)

    def acknowledged_count(self) -> int:
        return sum(len(log.acknowledged) for log in self.logs)

    def wait_for_acknowledged(self, count: int, timeout: float) -> int:
        limit = min(self.deadline, time.monotonic() + timeout)
        for _ in range(int(timeout / 0.05) + 1):
            if self.acknowledged_count() >= count or time.monotonic() > limit:
                break
            if not any(t.is_alive() for t in self.threads):
                break
            time.sleep(0.05)
        return self.acknowledged_count()

    def join(self) -> ClientLog:
        for released in self._released:
            released.set()
        for thread in self.threads:
            thread.join(max(0.0, self.deadline - time.monotonic()) + 15)
        self.stop.set()
        for thread in self.threads:
            thread.join(15)
        self.finished = time.monotonic()
        if self.errors:
            raise self.errors[0]
        assert not any(t.is_alive() for t in self.threads), "posting clients still running"
        return merge(self.logs)

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


# --- Readers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    reader: str
    tag: str
    started: float
    finished: float
    status: int
    total: int | None
    """total_responses of a 200 answer to /api/v1/summary, else None."""
    error: str = ""


class Readers:
    """Threads polling a path with a new connection each time (so that both workers answer)."""

    def __init__(self, port: int, names: list[str], *, path: str = "/api/v1/summary",
                 deadline: float, interval: float = 0.05, max_polls: int = 5000):
        self.port, self.path, self.deadline = port, path, deadline
        self.interval, self.max_polls = interval, max_polls
        self.names = names
        self.observations: dict[str, list[Observation]] = {name: [] for name in names}
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> "Readers":
        for name in self.names:
            thread = threading.Thread(target=self._run, args=(name,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _run(self, name: str) -> None:
        seen = self.observations[name]
        for n in range(self.max_polls):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                return
            tag = f"{name}-{n}"
            started = time.monotonic()
            try:
                reply = request(self.port, "GET", self.path, tag=tag, timeout=30)
            except (OSError, http.client.HTTPException) as error:
                seen.append(Observation(name, tag, started, time.monotonic(), 0, None,
                                        type(error).__name__))
            else:
                total = None
                if reply.status == 200 and self.path.startswith("/api/v1/summary"):
                    total = reply.json()["total_responses"]
                seen.append(Observation(name, tag, started, time.monotonic(), reply.status,
                                        total))
            self.stop.wait(self.interval)

    def join(self) -> dict[str, list[Observation]]:
        self.stop.set()
        for thread in self.threads:
            thread.join(40)
        assert not any(t.is_alive() for t in self.threads), "readers still running"
        return self.observations


def decreases(observations: list[Observation]) -> list[tuple[Observation, Observation]]:
    """Consecutive 200 answers (in the order asked) where total_responses went down."""
    answered = [o for o in observations if o.total is not None]
    return [(a, b) for a, b in zip(answered, answered[1:]) if b.total < a.total]


def by_worker(observations: list[Observation],
              pids: dict[str, int]) -> dict[int, list[Observation]]:
    grouped: dict[int, list[Observation]] = {}
    for o in observations:
        if o.tag in pids:
            grouped.setdefault(pids[o.tag], []).append(o)
    return grouped


def latest_by_worker(server: Gunicorn, prefix: str, path: str, *, until, timeout: float,
                     interval: float = 0.1, max_requests: int = 2000) -> dict[int, Reply]:
    """Ask ``path`` on new connections until ``until(latest)`` holds, where ``latest`` maps each
    current worker's pid to its latest answer (or the time or the count runs out)."""
    replies: dict[str, Reply] = {}
    latest: dict[int, Reply] = {}
    deadline = time.monotonic() + timeout
    for n in range(max_requests):
        tag = f"{prefix}-{n}"
        try:
            replies[tag] = request(server.port, "GET", path, tag=tag, timeout=10)
        except (OSError, http.client.HTTPException):
            pass
        pids = server.pids_by_tag()
        latest = {}
        for asked, reply in replies.items():  # in the order asked
            if asked in pids:
                latest[pids[asked]] = reply
        current = server.worker_pids()
        latest = {pid: reply for pid, reply in latest.items() if pid in current}
        if set(latest) == current and until(latest):
            return latest
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    return latest


def totals_at_rest(server: Gunicorn, timeout: float = 60) -> tuple[dict[int, int], Publication]:
    """Each worker's total_responses once no release can be made any more (fewer than
    :data:`MIN_CELL_SIZE` wait, all alike) and every worker reports what the store has
    published; with the store's account. If the time runs out first: what they said last.

    The workers' own requests make the releases: asking them is what lets a due one be made."""
    engine = create_engine(server.database_url)
    seen: list[Publication] = []

    def at_rest(latest: dict[int, Reply]) -> bool:
        state = publication(engine)
        seen.append(state)
        return state.waiting < MIN_CELL_SIZE and all(
            r.status == 200 and r.json()["total_responses"] == state.published
            for r in latest.values())

    try:
        latest = latest_by_worker(server, "final", "/api/v1/summary", timeout=timeout,
                                  until=at_rest)
        state = seen[-1] if seen else publication(engine)
    finally:
        engine.dispose()
    return ({pid: (r.json()["total_responses"] if r.status == 200 else -r.status)
             for pid, r in latest.items()}, state)


def readiness_by_worker(server: Gunicorn, timeout: float = 60) -> dict[int, tuple[int, dict]]:
    """Each worker's /readyz answer once every worker answers 200 and no longer says the store
    was unreachable (or the time runs out)."""
    latest = latest_by_worker(server, "ready", "/readyz", timeout=timeout,
                              until=lambda latest: all(
                                  r.status == 200 and r.json()["unreachable_since"] is None
                                  for r in latest.values()))
    return {pid: (r.status, r.json()) for pid, r in latest.items()}


def report(name: str, **numbers) -> None:
    """One line of what a load test observed (shown with ``pytest -s`` or on failure)."""
    print(f"LOAD {name}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()), flush=True)


class TotalWentDown(AssertionError):
    """A reader saw total_responses go down (the known problem across workers)."""


class ServerHalted(AssertionError):
    """gunicorn's master exited while it should have kept serving."""


def nonzero_totals_by_worker(server: Gunicorn, timeout: float = 30) -> dict[int, int]:
    """Each worker's total_responses once every worker has read some responses."""
    latest = latest_by_worker(
        server, "before", "/api/v1/summary", timeout=timeout,
        until=lambda latest: all(r.status == 200 and r.json()["total_responses"] > 0
                                 for r in latest.values()))
    return {pid: r.json()["total_responses"] for pid, r in latest.items() if r.status == 200}
