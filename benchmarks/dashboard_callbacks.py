"""The overview's filter callback under gunicorn: latency, throughput, memory, bytes, first load.

Issue goals, at 1,000,000 stored responses: callback p95 at most 25 ms; throughput at least 80%
of a trivial Dash app's; at least 100 times the naive way's; at most 250 MB per gunicorn worker.

For each store size (``--sizes``, default 1,000, 100,000 and 1,000,000 responses; SQLite
fixtures cached under benchmarks/.data/), three apps are served side by side, each as
``gunicorn --workers 2 --bind 127.0.0.1:PORT APP`` from the project's root, so that the
project's gunicorn.conf.py, if any, supplies the other settings, the same for all three:

* the product: ``app:server`` with ``DATABASE_URL`` naming the store and ``DEMO_RESPONSES=0``;
* the ceiling: ``benchmarks.baseline_apps:trivial()``, whose callback returns a fixed figure;
* the naive way: ``benchmarks.baseline_apps:naive()``, whose callback ``pd.read_sql``-s every
  published response and computes the percentages with pandas on every call.

The fixtures are published as a live dashboard would have published them while they arrived
(benchmarks/common.py), so the pages show nearly all of each store's responses.

All three receive the very request the browser sends for the overview's ``render`` callback
(``overview-content.children`` from ``url.search``, with a role filter in it, and
``data-version.data``), captured from headless Chromium on the first size, POSTed to
``/_dash-update-component``. Measured:

* latency: sequential requests from one client, the product's and the trivial app's interleaved
  (so a slow patch of the shared machine hits both), then the naive app's (bounded by
  ``--naive-budget`` seconds); p50 and p95;
* throughput: Debian's ``wrk`` (installed with apt-get when missing and run as root) on loopback
  with a small Lua script (benchmarks/wrk_post.lua: a new connection per request, so that both
  workers share the load) cycling over four filters, the product and the
  trivial app alternately for ``--wrk-rounds`` rounds, then the naive app once; the share of the
  trivial app's throughput is the median over the rounds of each round's ratio (a slow patch of
  the shared machine hits both runs of a round);
* memory of each gunicorn worker (RSS, PSS, peak RSS, from /proc) after the load;
* bytes of one filter change: the callback's response with and without ``Accept-Encoding: gzip``
  (and what gzip would make of it), and in Chromium the bytes of every request one click on a
  role filter sets off;
* the first load in headless Chromium (a fresh context each time): bytes transferred (CDP's
  encoded lengths, headers included) and the time from navigation start to the first chart's
  ``svg`` and to all eight; median of ``--browser-loads``.

Run (from the project's root; about 10 minutes once the fixture stores exist, whose first build
takes about 2 more):

    python -m benchmarks.dashboard_callbacks
    python -m benchmarks.dashboard_callbacks --quick     # 1,000 responses: under a minute
    python -m benchmarks.dashboard_callbacks --profile   # and where the callback's time goes

Results go to the ``dashboard-callbacks`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gzip
import importlib.util
import io
import itertools
import json
import os
import pstats
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from benchmarks.common import (DATA_DIR, PROJECT_ROOT, children, command_line,  # noqa: E402
                               ensure_debian_package, machine, ms, parse_wrk, process,
                               rss_bytes, sqlite_store, sqlite_url, stats, table, write_section)

GOAL_P95_MS = 25.0
GOAL_THROUGHPUT_SHARE = 0.80
GOAL_NAIVE_RATIO = 100.0
GOAL_WORKER_MB = 250.0
WORKERS = 2
CHARTS = 8
LUA = PROJECT_ROOT / "benchmarks" / "wrk_post.lua"
PAYLOAD_CACHE = DATA_DIR / "overview-payload.json"
SEARCHES = ("?role=social_worker", "?role=social_worker&role=team_manager",
            "?role=team_manager&social_media=yes", "?role=senior_practitioner&social_media=no")
"""Filters the latency and throughput requests cycle over; each names a role."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-gpu", "--no-first-run"]
CHART_OBSERVER = """
(() => {
  const count = () => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter((plot) => plot.querySelector('svg')).length;
  const observer = new MutationObserver(() => {
    const n = count();
    if (n > 0 && window.__firstChart === undefined) window.__firstChart = performance.now();
    if (n >= %d && window.__allCharts === undefined) {
      window.__allCharts = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, {childList: true, subtree: true});
})();
""" % CHARTS

APPS = {
    "product": "app:server",
    "trivial": "benchmarks.baseline_apps:trivial()",
    "naive": "benchmarks.baseline_apps:naive()",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1_000, 100_000, 1_000_000],
                        help="comma-separated store sizes (default 1000,100000,1000000)")
    parser.add_argument("--requests", type=int, default=200,
                        help="sequential requests timed per app (product and trivial)")
    parser.add_argument("--naive-requests", type=int, default=40,
                        help="at most this many sequential requests to the naive app ...")
    parser.add_argument("--naive-budget", type=float, default=30.0,
                        help="... or until this many seconds have passed (at least 3 requests)")
    parser.add_argument("--wrk-duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--wrk-rounds", type=int, default=5,
                        help="wrk runs of the product and the trivial app, alternating")
    parser.add_argument("--wrk-connections", type=int, default=4)
    parser.add_argument("--naive-wrk-duration", type=int, default=20)
    parser.add_argument("--browser-loads", type=int, default=5)
    parser.add_argument("--boot-timeout", type=float, default=600.0,
                        help="seconds to wait for both workers of an app to serve")
    parser.add_argument("--profile", action="store_true",
                        help="also time the product's callback's steps in process, and profile it")
    parser.add_argument("--profile-size", type=int, default=None,
                        help="store size for --profile (default: the smallest of --sizes; the "
                             "callback's time hardly depends on it, and a large store takes long "
                             "to load in process)")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 responses only, fewer requests, short wrk runs")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [1_000]
        args.requests = min(args.requests, 40)
        args.naive_requests = min(args.naive_requests, 5)
        args.naive_budget = min(args.naive_budget, 3.0)
        args.wrk_duration = min(args.wrk_duration, 2)
        args.wrk_rounds = 1
        args.naive_wrk_duration = min(args.naive_wrk_duration, 2)
        args.browser_loads = min(args.browser_loads, 1)
    return args


# --- Serving -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One app under gunicorn (2 workers, loopback), with its access log giving worker pids."""

    def __init__(self, name: str, size: int, store: Path, stack: ExitStack,
                 timeout: int | None = None) -> None:
        self.name, self.size = name, size
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = DATA_DIR / f"gunicorn-{name}-{size}.log"
        self.access = DATA_DIR / f"gunicorn-{name}-{size}.access"
        self.access.unlink(missing_ok=True)
        env = {**os.environ, "DATABASE_URL": sqlite_url(store), "DEMO_RESPONSES": "0"}
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS),
                "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access),
                "--access-logformat", "%(p)s %(s)s %(L)s"]
        if timeout is not None:
            argv += ["--timeout", str(timeout)]
        argv.append(APPS[name])
        self.timeout = timeout
        self.started = time.perf_counter()
        self.proc = stack.enter_context(process(argv, env=env, log=self.log))
        self.boot_seconds: float | None = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def served_by(self) -> set[str]:
        if not self.access.exists():
            return set()
        return {line.split()[0] for line in self.access.read_text().splitlines() if line}

    def wait_ready(self, limit: float) -> None:
        """Until both workers have answered (their boot reads the store), or a worker timeout."""
        deadline = time.perf_counter() + limit

        def hit() -> None:
            try:
                requests.get(f"{self.url}/_dash-layout", timeout=5)
            except requests.RequestException:
                time.sleep(0.2)

        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited:\n{self.log_text()[-3000:]}")
            if "WORKER TIMEOUT" in self.log_text():
                raise WorkerTimeout(self.log_text())
            threads = [threading.Thread(target=hit) for _ in range(WORKERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if len(self.served_by()) >= WORKERS:
                self.boot_seconds = time.perf_counter() - self.started
                return
        raise RuntimeError(f"{self.name}: workers not ready after {limit:.0f} s:\n"
                           f"{self.log_text()[-3000:]}")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def memory(self) -> list[dict[str, int]]:
        return [rss_bytes(pid) for pid in self.workers()]


class WorkerTimeout(RuntimeError):
    pass


def start(names: list[str], size: int, store: Path, stack: ExitStack, args,
          notes: list[str]) -> dict[str, Server]:
    """The apps, started together, each with gunicorn's default worker timeout; a longer one if
    the workers' boot (which reads the store) is killed by it, and a note saying so."""
    servers = {name: Server(name, size, store, stack) for name in names}
    for name in names:
        servers[name] = _ready(servers[name], size, store, stack, args, notes)
    return servers


def _ready(server: Server, size: int, store: Path, stack: ExitStack, args,
           notes: list[str]) -> Server:
    name = server.name
    try:
        server.wait_ready(args.boot_timeout)
        return server
    except WorkerTimeout:
        server.proc.terminate()
        server.proc.wait(timeout=30)
        notes.append(f"{size:,} responses, {name}: gunicorn's default worker timeout (30 s) "
                     "killed the workers while they were still starting (reading the store); "
                     "measured with `--timeout 300` instead.")
        print("  " + notes[-1])
        server = Server(name, size, store, stack, timeout=300)
        server.wait_ready(args.boot_timeout)
        return server


# --- Requests ----------------------------------------------------------------------------------


def find_version(layout: object) -> str | None:
    """The data-version store's value in a /_dash-layout response."""
    if isinstance(layout, dict):
        props = layout.get("props")
        if isinstance(props, dict) and props.get("id") == "data-version":
            return props.get("data")
        return next((v for v in map(find_version, layout.values()) if v is not None), None)
    if isinstance(layout, list):
        return next((v for v in map(find_version, layout) if v is not None), None)
    return None


def bodies_for(payload: dict, version: str | None, fresh: bool = False) -> list[str]:
    """The captured request with each of :data:`SEARCHES` as the URL's search; with ``fresh``,
    the search also carries :data:`FRESH_KEY`, a key the page ignores, set to :data:`FRESH`."""
    out = []
    for search in SEARCHES:
        body = copy.deepcopy(payload)
        for item in body["inputs"]:
            if item["id"] == "url" and item["property"] == "search":
                item["value"] = search + (f"&{FRESH_KEY}={FRESH}" if fresh else "")
            if item["id"] == "data-version" and version is not None:
                item["value"] = version
        out.append(json.dumps(body, separators=(",", ":")))
    return out


def fallback_payload() -> dict:
    """What Dash's renderer sends for ``render``, should capturing it in the browser fail."""
    return {"output": "overview-content.children",
            "outputs": {"id": "overview-content", "property": "children"},
            "inputs": [{"id": "url", "property": "search", "value": SEARCHES[0]},
                       {"id": "data-version", "property": "data", "value": "0-0-0"}],
            "changedPropIds": ["url.search"], "state": []}


def post(session: requests.Session, url: str, body: str) -> tuple[float, requests.Response]:
    began = time.perf_counter()
    response = session.post(f"{url}/_dash-update-component", data=body,
                            headers={"Content-Type": "application/json"}, timeout=300)
    _ = response.content
    return time.perf_counter() - began, response


FRESH = "__N__"
"""Placeholder in a body's URL search, replaced by a number never sent before. The product
remembers each callback response per request inputs (the URL's search among them) and the data
version it holds, whatever data version the browser names; a search never sent before is a
cache miss, and renders what the first request for a view after the data changed renders (the
page ignores the key: its filters, links and numbers are those of the search without it)."""
FRESH_KEY = "n"
LABELS = {"fresh": "product, new view (cache miss)",
          "product": "product, same views again (cache hit)",
          "trivial": "trivial app (ceiling)", "naive": "naive app"}


def targets(servers: dict[str, "Server"], bodies: list[str],
            fresh: list[str]) -> dict[str, tuple["Server", list[str]]]:
    return {"fresh": (servers["product"], fresh), "product": (servers["product"], bodies),
            "trivial": (servers["trivial"], bodies), "naive": (servers["naive"], bodies)}


def latency(servers: dict[str, Server], bodies: list[str], fresh: list[str],
            args) -> dict[str, list[float]]:
    apps = targets(servers, bodies, fresh)
    sessions = {name: requests.Session() for name in apps}
    samples: dict[str, list[float]] = {name: [] for name in apps}
    run = time.time_ns()

    def one(name: str, i: int) -> float:
        server, texts = apps[name]
        body = texts[i % len(texts)].replace(FRESH, f"{run}-{i}")
        seconds, response = post(sessions[name], server.url, body)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.text[:500]}")
        return seconds

    for name in ("product", "trivial"):  # warm up every worker
        for i in range(10):
            one(name, i)
    one("naive", 0)
    for i in range(args.requests):
        for name in ("fresh", "product", "trivial"):
            samples[name].append(one(name, i))
    began = time.perf_counter()
    for i in range(args.naive_requests):
        samples["naive"].append(one("naive", i))
        if len(samples["naive"]) >= 3 and time.perf_counter() - began > args.naive_budget:
            break
    return samples


def sizes_on_the_wire(url: str, body: str) -> dict[str, object]:
    """The callback response's bytes with and without asking for gzip."""
    out: dict[str, object] = {}
    for label, encoding in (("identity", "identity"), ("gzip", "gzip, deflate")):
        response = requests.post(f"{url}/_dash-update-component", data=body, stream=True,
                                 headers={"Content-Type": "application/json",
                                          "Accept-Encoding": encoding}, timeout=300)
        raw = response.raw.read(decode_content=False)
        out[label] = len(raw)
        out[f"{label}_encoding"] = response.headers.get("Content-Encoding", "none")
        if label == "identity":
            out["gzip_would_be"] = len(gzip.compress(raw, compresslevel=6))
    return out


# --- wrk ---------------------------------------------------------------------------------------


def run_wrk(wrk: str, url: str, bodies_file: Path, duration: int, connections: int) -> dict:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "120s",
            "-s", str(LUA), f"{url}/"]
    result = subprocess.run(argv, env={**os.environ, "WRK_BODIES": str(bodies_file)},
                            capture_output=True, text=True, timeout=duration + 180)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    return parse_wrk(result.stdout)


# --- The browser -------------------------------------------------------------------------------


def browser_load(browser, base_url: str, search: str) -> dict:
    """One first load in a fresh context, then one click on a role filter."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  bypass_csp=True)  # the probes below are scripts of ours
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received: dict[str, int] = {}
    cdp.on("Network.loadingFinished",
           lambda event: received.__setitem__(event["requestId"], event["encodedDataLength"]))
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.post_data)
            if "_dash-update-component" in request.url and request.post_data else None)
    page.add_init_script(CHART_OBSERVER)
    page.goto(f"{base_url}/{search}", wait_until="commit")
    page.wait_for_function("window.__allCharts !== undefined", timeout=180_000)
    first = page.evaluate("window.__firstChart") / 1000
    every = page.evaluate("window.__allCharts") / 1000
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    timing = page.evaluate("""() => {
      const entries = performance.getEntriesByType('resource');
      const plotly = entries.find((e) => e.name.includes('plotly.min.js'));
      const callbacks = entries.filter((e) => e.name.includes('_dash-update-component'));
      const biggest = callbacks.sort((a, b) => b.transferSize - a.transferSize)[0];
      return {plotly: plotly ? plotly.responseEnd : null,
              callback: biggest ? biggest.responseEnd : null};
    }""")
    load_bytes, load_requests = sum(received.values()), len(received)
    before = set(received)
    posted_before = len(posted)
    began = time.perf_counter()
    with page.expect_response(lambda r: "_dash-update-component" in r.url
                              and "overview-content" in (r.request.post_data or "")):
        page.locator("#role-filter input[type=checkbox]").nth(1).click()
    change_seconds = time.perf_counter() - began
    page.wait_for_timeout(1000)  # the other callbacks the click sets off
    change = [v for k, v in received.items() if k not in before]
    context.close()
    # The request a filter change sends (the first load's has no changedPropIds).
    overview = [p for p in posted[posted_before:] if '"overview-content.children"' in p]
    payload = json.loads(overview[0]) if overview else None
    return {"first_chart": first, "all_charts": every, "bytes": load_bytes,
            "plotly_loaded": (timing["plotly"] or float("nan")) / 1000,
            "callback_done": (timing["callback"] or float("nan")) / 1000,
            "requests": load_requests, "change_bytes": sum(change),
            "change_requests": len(change), "change_seconds": change_seconds,
            "payload": payload}


# --- Profiling ---------------------------------------------------------------------------------


def profile_callback(store: Path, bodies: list[str], fresh: list[str], count: int = 100,
                     top: int = 30) -> dict:
    """The product's callback in this process (Flask's test client): new views (cache misses)
    and the same views again (cache hits), interleaved as A, B, A; the callback's steps called
    directly; then new views under cProfile."""
    import plotly.io as pio

    from dashboard.app import create_app
    from survey.settings import Settings

    app = create_app(Settings.from_env({}, database_url=sqlite_url(store), demo_responses=0))
    client = app.server.test_client()

    run = time.time_ns()
    sent = itertools.count()

    def call(texts: list[str], i: int) -> bytes:
        body = texts[i % len(texts)].replace(FRESH, f"{run}-{next(sent)}")
        response = client.post("/_dash-update-component", data=body,
                               content_type="application/json")
        assert response.status_code == 200, response.status_code
        return response.data

    def timed_calls(texts: list[str]) -> tuple[list[float], int]:
        for i in range(len(texts)):
            call(texts, i)
        samples = []
        for i in range(count):
            began = time.perf_counter()
            size = len(call(texts, i))
            samples.append(time.perf_counter() - began)
        return samples, size

    engine = pio.json.config.default_engine
    if engine == "auto":
        engine = "orjson" if importlib.util.find_spec("orjson") else "json"
    split: dict[str, list[float]] = {}
    try:  # the callback's own steps, called directly
        from dash._utils import to_json

        from dashboard import query
        from dashboard.context import current_view
        from dashboard.pages import overview

        inputs = {i["id"]: i["value"] for i in json.loads(bodies[0])["inputs"]}
        search, version = inputs["url"], inputs.get("data-version")
        with app.server.test_request_context("/_dash-update-component", method="POST"):
            for _ in range(count):
                steps = {}
                began = time.perf_counter()
                view = current_view(query.filter_from_search(search))
                steps["summary: `current_view` (the store asked for new rows, the cube "
                      "summarised)"] = time.perf_counter() - began
                began = time.perf_counter()
                for result in view.summary.questions:
                    overview.question_figure(result, view.min_cell_size)
                steps["the 8 `question_figure` calls (plain dicts)"] = time.perf_counter() - began
                began = time.perf_counter()
                output = overview.render(search, version)
                steps["`render()` as a whole (the above and the components)"] = (
                    time.perf_counter() - began)
                began = time.perf_counter()
                encoded = to_json(output)
                steps[f"Dash's JSON encoding of its output (plotly.io's `{engine}` engine)"] = (
                    time.perf_counter() - began)
                plain = json.loads(encoded)
                began = time.perf_counter()
                json.dumps(plain)
                steps["`json.dumps` of the same output as plain dicts"] = (
                    time.perf_counter() - began)
                for key, value in steps.items():
                    split.setdefault(key, []).append(value)
    except (AttributeError, ImportError, KeyError, TypeError) as error:
        # The product's internals this step reaches into may move on: say so, not fail the run.
        split = {f"not measured: {error.__class__.__name__}: {error}": [float("nan")]}

    results: dict = {}
    for label, texts in (("new view (cache miss)", fresh),
                         ("same views again (cache hit)", bodies),
                         ("new view, again", fresh)):
        results[label] = timed_calls(texts)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        call(fresh, i)
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    text = buffer.getvalue().replace(str(PROJECT_ROOT) + "/", "").replace(sys.prefix + "/", "")
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return {"experiment": results, "split": split, "profile": "\n".join(lines), "count": count}


MEMORY_VIEWS = 300
OPTIONAL_MODULES = ("scipy.stats", "statsmodels", "openpyxl", "pptx", "reportlab", "kaleido")
MEMORY_SCRIPT = r"""
import json, sys


def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024


given = json.load(sys.stdin)
out = {"start": rss()}
import dashboard.app
out["import"] = rss()
from survey.settings import Settings
app = dashboard.app.create_app(Settings.from_env({}, database_url=given["url"],
                                                 demo_responses=0))
out["create_app"] = rss()
out["loaded_at_start"] = [m for m in given["modules"] if m in sys.modules]
client = app.server.test_client()
for i in range(given["views"]):
    body = given["bodies"][i % len(given["bodies"])].replace(given["fresh"], f"m{i}")
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 200, response.status_code
out["views"] = rss()
out["loaded_after_views"] = [m for m in given["modules"] if m in sys.modules]
print(json.dumps(out))
"""


def process_memory(store: Path, fresh: list[str]) -> dict:
    """RSS of a fresh interpreter: at start, after ``import dashboard.app``, after
    ``create_app`` (which reads the store), and after :data:`MEMORY_VIEWS` new views (more than
    the response cache keeps); and which rarely needed modules were loaded by then."""
    given = {"url": sqlite_url(store), "bodies": fresh, "fresh": FRESH, "views": MEMORY_VIEWS,
             "modules": list(OPTIONAL_MODULES)}
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], input=json.dumps(given),
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    if result.returncode != 0:
        raise RuntimeError(f"memory measurement failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Main --------------------------------------------------------------------------------------


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f}"


def measure_size(size: int, args, wrk: str, browser, state: dict, notes: list[str]) -> dict:
    store = sqlite_store(size)
    result: dict = {"size": size}
    with ExitStack() as stack:
        print(f"[{size:,}] starting the three apps under gunicorn...")
        # The product alone first, so that its boot time (each worker reads the whole store) is
        # not slowed down by the others'; then the two baselines together.
        if args.quick:
            servers = start(list(APPS), size, store, stack, args, notes)
        else:
            servers = start(["product"], size, store, stack, args, notes)
            servers.update(start(["trivial", "naive"], size, store, stack, args, notes))
        for name, server in servers.items():
            print(f"  {name}: both workers serving after {server.boot_seconds:.1f} s")
        result["boot"] = {name: s.boot_seconds for name, s in servers.items()}
        result["timeout"] = {name: s.timeout for name, s in servers.items()}
        product = servers["product"]
        version = find_version(requests.get(f"{product.url}/_dash-layout", timeout=60).json())

        if browser is not None:  # first, so that the first load captures the request
            print(f"  {args.browser_loads} first loads in Chromium...")
            result["browser"] = [browser_load(browser, product.url, SEARCHES[0])
                                 for _ in range(args.browser_loads)]
            if state.get("payload") is None:
                captured = result["browser"][0]["payload"]
                state["payload"], state["captured"] = captured, captured is not None
        if state.get("payload") is None:
            state["payload"], state["captured"] = fallback_payload(), False
        bodies = bodies_for(state["payload"], version)
        fresh = bodies_for(state["payload"], version, fresh=True)
        files = {}
        for name, texts in (("product", bodies), ("fresh", fresh)):
            files[name] = DATA_DIR / f"bodies-{size}-{name}.jsonl"
            files[name].write_text("\n".join(texts) + "\n")
        files["trivial"] = files["naive"] = files["product"]

        print("  latency (sequential requests)...")
        result["latency"] = latency(servers, bodies, fresh, args)
        result["wire"] = sizes_on_the_wire(product.url, bodies[0])

        print("  throughput (wrk)...")
        apps = targets(servers, bodies, fresh)
        runs: dict[str, list[dict]] = {name: [] for name in apps}
        for _ in range(args.wrk_rounds):
            for name in ("fresh", "product", "trivial"):
                runs[name].append(run_wrk(wrk, apps[name][0].url, files[name],
                                          args.wrk_duration, args.wrk_connections))
                print(f"    {name}: {runs[name][-1]['rps']:.1f} requests/s")
        runs["naive"].append(run_wrk(wrk, servers["naive"].url, files["naive"],
                                     args.naive_wrk_duration, args.wrk_connections))
        print(f"    naive: {runs['naive'][-1]['rps']:.2f} requests/s")
        result["wrk"] = runs
        result["memory"] = {name: s.memory() for name, s in servers.items()}
        result["worker_restarts"] = {name: s.log_text().count("Autorestarting worker")
                                     for name, s in servers.items()}
        result["worker_timeouts"] = {name: s.log_text().count("WORKER TIMEOUT")
                                     for name, s in servers.items()}
        worker = re.search(r"Using worker: (\S+)", product.log_text())
        result["worker_class"] = worker.group(1) if worker else "unknown"
    if args.profile and size == (args.profile_size or min(args.sizes)):
        print("  profiling the product's callback in process...")
        result["profile"] = profile_callback(store, bodies, fresh)
        print("  memory of one process...")
        result["profile"]["memory"] = process_memory(store, fresh)
    return result


def report(args, results: list[dict], state: dict, notes: list[str], wrk_version: str,
           chromium_version: str) -> str:
    lat_rows, wrk_rows, mem_rows, wire_rows, browser_rows, goal_lines = [], [], [], [], [], []
    for r in results:
        size = f"{r['size']:,}"
        lat = {name: stats(samples) for name, samples in r["latency"].items()}
        rps = {name: stats([run["rps"] for run in runs]) for name, runs in r["wrk"].items()}
        for name in ("fresh", "product", "trivial", "naive"):
            lat_rows.append((size, LABELS[name], ms(lat[name]["median"]), ms(lat[name]["p95"]),
                             lat[name]["n"]))
        f, p, t, n = lat["fresh"], lat["product"], lat["trivial"], lat["naive"]
        for name, x in (("new view", f), ("same views", p)):
            lat_rows.append((size, f"product ({name}) / trivial", ratio(x["median"] / t["median"]),
                             ratio(x["p95"] / t["p95"]), ""))
        lat_rows.append((size, "naive / product (new view)", ratio(n["median"] / f["median"]),
                         ratio(n["p95"] / f["p95"]), ""))
        for name in ("fresh", "product", "trivial", "naive"):
            runs = r["wrk"][name]
            wrk_rows.append((size, LABELS[name], f"{rps[name]['median']:,.1f}",
                             ", ".join(f"{run['rps']:,.1f}" for run in runs),
                             ms(statistics_median([run["p50"] for run in runs])),
                             ms(statistics_median([run["p99"] for run in runs])),
                             sum(run["non2xx"] for run in runs),
                             "; ".join(run["errors"] for run in runs if run["errors"]) or "none"))
        # Each round's product run against the trivial app's run of the same round, then the
        # median of those ratios: a busy patch of the shared machine hits both runs of a round.
        paired = {name: [run["rps"] / ceiling["rps"] if ceiling["rps"] else 0.0
                         for run, ceiling in zip(r["wrk"][name], r["wrk"]["trivial"])]
                  for name in ("fresh", "product")}
        share = statistics_median(paired["fresh"])
        share_hit = statistics_median(paired["product"])
        naive_done = sum(run["requests"] for run in r["wrk"]["naive"])
        if naive_done:
            naive_ratio = rps["fresh"]["median"] / rps["naive"]["median"]
            naive_text = f"{naive_ratio:,.0f}x"
        else:  # none finished: the naive app managed fewer than 1 per run's duration
            naive_ratio = rps["fresh"]["median"] * args.naive_wrk_duration
            naive_text = (f"more than {naive_ratio:,.0f}x (no naive request finished in "
                          f"{args.naive_wrk_duration} s)")
        wrk_rows.append((size, "product (new view) / trivial", f"{share:.0%}",
                         ", ".join(f"{x:.0%}" for x in paired["fresh"]), "", "", "", ""))
        wrk_rows.append((size, "product (same views) / trivial", f"{share_hit:.0%}",
                         ", ".join(f"{x:.0%}" for x in paired["product"]), "", "", "", ""))
        wrk_rows.append((size, "product (new view) / naive", naive_text, "", "", "", "", ""))
        for name in ("product", "trivial", "naive"):
            memory = r["memory"][name]
            mem_rows.append((size, name, ", ".join(mb(m["rss"]) for m in memory),
                             ", ".join(mb(m["pss"]) for m in memory),
                             ", ".join(mb(m["hwm"]) for m in memory),
                             f"{r['boot'][name]:.1f}"))
        wire = r["wire"]
        wire_rows.append((size, f"{wire['identity']:,}", f"{wire['gzip']:,}",
                          wire["gzip_encoding"], f"{wire['gzip_would_be']:,}"))
        if "browser" in r:
            loads = r["browser"]
            browser_rows.append((
                size, ms(statistics_median([b["callback_done"] for b in loads])),
                ms(statistics_median([b["plotly_loaded"] for b in loads])),
                ms(statistics_median([b["first_chart"] for b in loads])),
                ms(statistics_median([b["all_charts"] for b in loads])),
                f"{statistics_median([b['bytes'] for b in loads]) / 1e6:.2f}",
                int(statistics_median([b["requests"] for b in loads])),
                f"{statistics_median([b['change_bytes'] for b in loads]) / 1e3:,.1f}",
                int(statistics_median([b["change_requests"] for b in loads])),
                ms(statistics_median([b["change_seconds"] for b in loads])), len(loads)))
        if r["size"] == max(args.sizes):
            worst = max(m["rss"] for m in r["memory"]["product"])
            peak = max(m["hwm"] for m in r["memory"]["product"])
            goal_lines = [
                f"- p95 at most {GOAL_P95_MS:.0f} ms: "
                + ("met" if f["p95"] * 1000 <= GOAL_P95_MS else "**missed**")
                + f" for a new view (p95 {ms(f['p95'])} ms, p50 {ms(f['median'])} ms); "
                + ("met" if p["p95"] * 1000 <= GOAL_P95_MS else "**missed**")
                + f" for views asked for again (p95 {ms(p['p95'])} ms, p50 {ms(p['median'])} ms). "
                "Over HTTP from a client on the same two cores; the trivial app's p95 in the "
                f"same run: {ms(t['p95'])} ms.",
                f"- Throughput at least {GOAL_THROUGHPUT_SHARE:.0%} of the trivial app's: "
                + ("met" if share >= GOAL_THROUGHPUT_SHARE else "**missed**")
                + f" for new views ({share:.0%}: {rps['fresh']['median']:,.1f} vs "
                f"{rps['trivial']['median']:,.1f} requests/s); "
                + ("met" if share_hit >= GOAL_THROUGHPUT_SHARE else "**missed**")
                + f" for views asked for again ({share_hit:.0%}: "
                f"{rps['product']['median']:,.1f} requests/s).",
                f"- At least {GOAL_NAIVE_RATIO:.0f}x the naive way: "
                + ("met" if naive_ratio >= GOAL_NAIVE_RATIO
                   and n["median"] / f["median"] >= GOAL_NAIVE_RATIO else "**missed**")
                + f", even for new views (throughput {naive_text}; median latency "
                f"{ratio(n['median'] / f['median'])}).",
                f"- Memory per worker at most {GOAL_WORKER_MB:.0f} MB: "
                + ("met" if max(worst, peak) / 1e6 <= GOAL_WORKER_MB else "**missed**")
                + f" (RSS after the load {mb(worst)} MB, highest RSS since it started "
                f"{mb(peak)} MB).",
                f"- Not a goal, for context: both product workers were serving "
                f"{r['boot']['product']:.0f} s after gunicorn started (each worker builds the app "
                "and counts the store itself); the trivial app's took "
                f"{r['boot']['trivial']:.0f} s. Worker timeouts logged: "
                f"{r['worker_timeouts']['product']}; workers replaced (`max_requests`) during "
                f"the run: {r['worker_restarts']['product']} of the product's, "
                f"{r['worker_restarts']['trivial']} of the trivial app's.",
            ]
    sizes = ", ".join(f"{s:,}" for s in args.sizes)
    gunicorn_conf = gunicorn_settings()
    payload = json.dumps(state["payload"])
    parts = [
        "## Dashboard: the overview's filter callback",
        "",
        f"Command: `{command_line()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *machine({"Load generator": f"{wrk_version}, `-t1 -c{args.wrk_connections}`, "
                                    f"{args.wrk_duration} s per run ({args.naive_wrk_duration} s "
                                    "for the naive app), loopback, a new connection per "
                                    "request (`Connection: close`)",
                  "Browser": chromium_version}),
        "",
        f"Stores: SQLite fixtures of {sizes} responses, published as a dashboard would have "
        "published them while they arrived (those of a kind still too few to publish wait). "
        "Each app runs as `gunicorn --workers 2 "
        "--bind 127.0.0.1:PORT APP` from the project's root, "
        + (f"so the project's `gunicorn.conf.py` supplies the rest ({gunicorn_conf}), "
           if gunicorn_conf else "with gunicorn's defaults otherwise, ")
        + "the same for all three apps; gunicorn reported worker class "
        + ", ".join(sorted({f"`{r['worker_class']}`" for r in results}))
        + ". The product is `app:server` with `DATABASE_URL` and `DEMO_RESPONSES=0`. "
        "The trivial app returns a fixed small figure; the naive app `pd.read_sql`-s every "
        "published response on each call (benchmarks/baseline_apps.py).",
        "",
        "The request (" + ("captured from Chromium" if state.get("captured")
                           else "built by hand: capturing it in Chromium failed")
        + "), POSTed to `/_dash-update-component` with the URL's search cycling over "
        + ", ".join(f"`{s}`" for s in SEARCHES) + ":",
        "",
        "```json",
        payload,
        "```",
        "",
        "### Goals at the largest size",
        "",
        *goal_lines,
        *(f"- Note: {note}" for note in notes),
        "",
        "### Latency of one callback request (sequential, one client, milliseconds)",
        "",
        "The product remembers each page's encoded callback response per request inputs "
        "(the URL's search among them), host and the data version it holds "
        "(`dashboard.context.ResponseCache`). *Same views* cycles over the four filters, so "
        "after the first round every request is a cache hit: a popular view between two data "
        "changes. *New view* adds to each search a key the page ignores "
        f"(`&{FRESH_KEY}=…`), never sent before, so every request renders: what the first "
        "request for a view after the data changed costs (while responses arrive, the data "
        "changes every few seconds). The three kinds of request are interleaved.",
        "",
        table(("responses", "app", "p50 ms", "p95 ms", "requests"), lat_rows),
        "",
        "### Throughput under wrk",
        "",
        f"{args.wrk_rounds} rounds, each running the product's new views, its same views and "
        "the trivial app one after the other. The product's share of the trivial app's "
        "throughput is the median over the rounds of each round's ratio (each round's ratios "
        "in the *each run* column): a busy patch of the shared machine slows both runs of a "
        "round.",
        "",
        table(("responses", "app", "requests/s (median)", "each run", "p50 ms", "p99 ms",
               "non-2xx", "socket errors"), wrk_rows),
        "",
        "### Memory of each gunicorn worker after the load (MB = 10^6 bytes)",
        "",
        "RSS counts pages shared with the master and the other worker; PSS shares them out. "
        "Peak is the worker's high-water RSS since it started (VmHWM). Boot is the "
        "time from starting gunicorn until both workers had answered a request.",
        "",
        table(("responses", "app", "RSS per worker", "PSS per worker", "peak RSS per worker",
               "boot s"), mem_rows),
        "",
        "### Bytes of one filter change",
        "",
        "The product's callback response (body bytes on the wire), asked for without and with "
        "gzip: "
        + ("the product does not compress it" if all(r["wire"]["gzip_encoding"] == "none"
                                                     for r in results)
           else "the product compresses it when asked")
        + ". The last column is what gzip (level 6) makes of the body, for comparison.",
        "",
        table(("responses", "identity bytes", "with Accept-Encoding: gzip", "Content-Encoding",
               "gzip would be"), wire_rows),
    ]
    if browser_rows:
        parts += [
            "",
            "### First load in headless Chromium (fresh context each time, median)",
            "",
            "Bytes are CDP's encoded lengths (headers included) of every response up to the "
            "network going idle. Times are from navigation start (`performance.now()`): until "
            "the overview callback's response had arrived and `plotly.min.js` had been loaded "
            "(Resource Timing's `responseEnd`), and until the first chart's `svg` and all "
            f"{CHARTS} were in the page. Then one click on a role filter: the "
            "bytes of every request it sets off, and the time until the overview callback's "
            "response arrived.",
            "",
            table(("responses", "overview callback's response ms", "plotly.min.js loaded ms",
                   "first chart ms", f"all {CHARTS} charts ms", "first load MB",
                   "requests", "filter change kB", "its requests", "click → response ms",
                   "loads"), browser_rows),
        ]
    for r in results:
        if "profile" in r:
            rows = [(label, ms(stats(samples)["median"]), ms(stats(samples)["p95"]), f"{size:,}",
                     len(samples))
                    for label, (samples, size) in r["profile"]["experiment"].items()]
            parts += [
                "", f"### Where the product's callback spends its time ({r['size']:,} responses)",
                "", "In this process through Flask's test client (no HTTP, no gunicorn), "
                "interleaved as A, B, A: new views (each search names a key never sent before, "
                "so every request renders) and the same four views again (answered from the "
                "remembered responses):", "",
                table(("callback", "median ms", "p95 ms", "response bytes", "calls"), rows), "",
                "The callback's steps called directly, in the same process:", "",
                table(("step", "median ms", "p95 ms"),
                      [(step, ms(stats(v)["median"]), ms(stats(v)["p95"]))
                       for step, v in r["profile"]["split"].items()]), "",
                *memory_lines(r["profile"].get("memory")),
                f"cProfile of {r['profile']['count']} new views (cumulative time; "
                "the profiler's overhead inflates every figure):", "",
                "```", r["profile"]["profile"], "```"]
    return "\n".join(parts)


def memory_lines(memory: dict | None) -> list[str]:
    if not memory:
        return []
    rows = [("at start", mb(memory["start"])),
            ("after `import dashboard.app`", mb(memory["import"])),
            ("after `create_app()` (the store read)", mb(memory["create_app"])),
            (f"after {MEMORY_VIEWS:,} new views", mb(memory["views"]))]
    loaded = ", ".join(f"`{m}`" for m in memory["loaded_after_views"]) or "none"
    left = ", ".join(f"`{m}`" for m in OPTIONAL_MODULES
                     if m not in memory["loaded_after_views"]) or "none"
    return [
        "Memory of one process (a fresh interpreter, the same store, through Flask's test "
        f"client; MB = 10^6 bytes). Of the rarely needed modules, loaded after the views: "
        f"{loaded}; not loaded: {left}.", "",
        table(("when", "RSS MB"), rows), ""]


def gunicorn_settings() -> str:
    """The settings in the project's gunicorn.conf.py, as ``name = value`` text, or ""."""
    path = PROJECT_ROOT / "gunicorn.conf.py"
    if not path.exists():
        return ""
    wanted = ("worker_class", "threads", "timeout", "keepalive", "max_requests", "preload_app")
    found = re.findall(r"^(\w+)\s*=\s*(.+?)\s*$", path.read_text(), re.MULTILINE)
    return ", ".join(f"`{name} = {value}`" for name, value in found if name in wanted)


def ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2f}x"


def statistics_median(values: list[float]) -> float:
    return stats(values)["median"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    wrk = ensure_debian_package("wrk", "wrk")
    if wrk is None:
        print("wrk is needed: apt-get install wrk (as root).", file=sys.stderr)
        return 2
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("[")[0]
    wrk_version = wrk_version.strip() or "wrk"
    chromium = shutil.which("chromium")
    chromium_version = (subprocess.run([chromium, "--version"], capture_output=True,
                                       text=True).stdout.strip() if chromium else "not found")
    for size in args.sizes:  # build every fixture first, so that no build overlaps a measurement
        sqlite_store(size)
    notes: list[str] = []
    state: dict = {}
    if PAYLOAD_CACHE.exists():
        state["payload"], state["captured"] = json.loads(PAYLOAD_CACHE.read_text()), True
    results = []
    with ExitStack() as stack:
        browser = None
        if chromium:
            from playwright.sync_api import sync_playwright
            playwright = stack.enter_context(sync_playwright())
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            stack.callback(browser.close)
            state.pop("payload", None)  # capture afresh: the product may have changed
        else:
            notes.append("Chromium was not found: the browser measurements were not made.")
        for size in args.sizes:
            results.append(measure_size(size, args, wrk, browser, state, notes))
    if state.get("captured"):
        PAYLOAD_CACHE.write_text(json.dumps(state["payload"]))
    markdown = report(args, results, state, notes, wrk_version, chromium_version)
    print(markdown)
    if not args.no_docs:
        write_section("dashboard-callbacks", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
