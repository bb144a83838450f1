"""nginx's proxy cache in front of gunicorn: embed and API traffic, and what reaches the app.

Issue goals: at least 5,000 requests a second served through nginx on this machine, with the
application seeing at most one request per data version per URL.

A copy of a fixture SQLite store (``--responses``, default 20,000) is served by ``gunicorn
app:server`` (the project's gunicorn.conf.py, 2 workers, ``DEMO_RESPONSES=0``, ``PROXY_COUNT=1``)
on a loopback port, with Debian's nginx in front of it on another, running deploy/nginx.conf
itself: rendered for loopback (TLS with a throwaway self-signed certificate) and for a temporary
directory that holds nginx's cache, temporary files, pid and logs, and included from a minimal
main configuration. nginx keys its copies of embeds and API answers by the data version, which it
learns from the app's ``/healthz/data-version`` (kept for a second). Debian's ``wrk``
(benchmarks/wrk_get.lua) cycles over :data:`URLS` (embeds, their data and an image, the summary
API), sending browsers' Accept-Encoding values in turn (and none one time in ten), and names each
phase in its User-Agent.

1. Throughput: ``--rounds`` rounds of ``--duration`` s, straight to gunicorn (the baseline) and
   through nginx, alternately: requests/s, latency p50 and p99, non-2xx answers.
2. Data changing: wrk through nginx, each connection pacing its requests (``--pace-ms``), for
   ``--versions`` data versions of ``--version-seconds`` each; between two versions,
   ``--new-responses`` responses are stored with the product's writer (store.store_responses)
   and published (``releases.publish``: the data version is the release's), and every URL is
   asked for straight from the app to learn its ETag at the new version.
3. Releases in quick succession: the same load while a release is made every
   ``--trickle-seconds`` for ``--trickle-versions`` versions, each of the minimum cell size's
   worth of responses alike for the release rule (so that each can be published at once):
   versions that last less than the data-version answer nginx keeps.

The app's workers never publish by themselves (``RELEASE_INTERVAL_SECONDS=0``): the data
versions are the releases this script makes.

What reaches the app comes from gunicorn's access log (a temporary file, with the query string,
the User-Agent, the status, the ETag, the X-Data-Version answered and the time). An ETag names
the data version for its URL, so the requests for one URL at one data version are those that got
the same ETag. nginx's own log gives the cache status of every request it served, and for those
it fetched from the app the version it kept the answer under and the answer's ETag.

    python -m benchmarks.proxy_cache            # about 5 minutes
    python -m benchmarks.proxy_cache --quick    # about a minute

Results go to the ``proxy-cache`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from benchmarks import common  # noqa: E402
from data_loaders import loader  # noqa: E402
from data_loaders.db import make_engine  # noqa: E402
from data_loaders.models import Release  # noqa: E402
from survey.settings import Settings  # noqa: E402

NGINX_SITE = common.PROJECT_ROOT / "deploy" / "nginx.conf"
LUA = common.PROJECT_ROOT / "benchmarks" / "wrk_get.lua"
PLACEHOLDER = re.compile(r"\$\{(SURVEY_[A-Z0-9_]+)\}")
GOAL_RPS = 5_000
GOAL_PER_VERSION = 1
GOAL_PROBES_PER_SECOND = 1
WORKERS = 2
URLS = (
    "/embed/viewed_profile?role=social_worker",
    "/embed/viewed_profile?role=social_worker&social_media=yes",
    "/embed/aware_of_guidance?role=team_manager&role=senior_practitioner",
    "/embed/uk-and-us",
    "/embed/viewed_for_evidence.json?role=social_worker",
    "/embed/uk-and-us.json",
    "/embed/confident_rules.csv?social_media=yes",
    "/embed/viewed_profile.png?role=social_worker",
    "/api/v1/summary",
    "/api/v1/summary?role=social_worker",
    "/api/v1/summary?role=social_worker&role=team_manager&social_media=yes",
    "/api/v1/summary.csv?role=team_manager",
)
"""What articles and their readers ask for: embeds (page, data, image) and the summary API."""
VERSION_PROBE = "/healthz/data-version"
"""What nginx asks the app for the data version (deploy/nginx.conf)."""
AGENT = "proxy-cache-benchmark"
PHASES = {"direct": "straight to gunicorn", "nginx": "through nginx",
          "changing": "through nginx, data changing",
          "trickle": "through nginx, releases in quick succession"}
CACHED = ("nginx", "changing", "trickle")
"""The phases through nginx."""
PROBE = f"{AGENT}/probe"
ACCESS_FORMAT = "\t".join(("%(a)s", "%(m)s", "%(U)s", "%(q)s", "%(s)s", "%({etag}o)s",
                           "%({x-data-version}o)s", "%(t)s"))
"""gunicorn's access log for this benchmark: the User-Agent, the request with its query string,
the status, the ETag and X-Data-Version sent, and the time (to the second)."""
NGINX_LOG_FORMAT = ("$http_user_agent\\t$request_uri\\t$status\\t$upstream_cache_status\\t"
                    "$survey_data_version\\t$upstream_status\\t$upstream_http_etag")
"""nginx's log: the User-Agent, the URL, the status, the cache status, the data version the URL
was looked up under, and, when nginx asked the app, the app's status and ETag."""


# --- nginx -------------------------------------------------------------------------------------


def render_site(values: dict[str, str], template: str | None = None) -> str:
    """deploy/nginx.conf with its ``${SURVEY_...}`` names filled in (all of them, no others)."""
    text = NGINX_SITE.read_text(encoding="utf-8") if template is None else template
    names = set(PLACEHOLDER.findall(text))
    if names != set(values):
        raise ValueError(f"deploy/nginx.conf names {sorted(names)}; given {sorted(values)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key, made by the openssl command."""
    openssl = common.ensure_debian_package("openssl", "openssl")
    if not openssl:
        raise SystemExit("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def local_nginx(prefix: Path, *, listen: str, upstream: str,
                server_name: str = "127.0.0.1") -> Path:
    """A main configuration under ``prefix`` that serves deploy/nginx.conf, rendered for this
    machine; returns its path. Everything nginx writes (cache, temporary files, pid, logs) stays
    under ``prefix``; when run as root, its workers run as Debian's www-data."""
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    cert, key = self_signed_certificate(prefix)
    site = prefix / "survey.conf"
    site.write_text(render_site({
        "SURVEY_LISTEN": listen, "SURVEY_SERVER_NAME": server_name,
        "SURVEY_TLS_CERT": str(cert), "SURVEY_TLS_KEY": str(key),
        "SURVEY_CACHE_DIR": str(prefix / "cache"),
        "SURVEY_APP_SERVERS": f"server {upstream};"}), encoding="utf-8")
    temp = {name: prefix / "temp" / name for name in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                      "scgi")}
    main = prefix / "nginx.conf"
    main.write_text(f"""{'user www-data;' if os.geteuid() == 0 else ''}
daemon off;
worker_processes auto;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} warn;

events {{
    worker_connections 4096;
}}

http {{
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    log_format served '{NGINX_LOG_FORMAT}';
    access_log {prefix / 'access.log'} served buffer=256k flush=1s;
    client_body_temp_path {temp['client_body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {site};
}}
""", encoding="utf-8")
    (prefix / "temp").mkdir(exist_ok=True)
    return main


def nginx_version(nginx: str) -> str:
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    return (result.stderr or result.stdout).strip().split(": ", 1)[-1]


# --- HTTP --------------------------------------------------------------------------------------

INSECURE = ssl.create_default_context()
INSECURE.check_hostname = False
INSECURE.verify_mode = ssl.CERT_NONE


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": PROBE, **(headers or {})})
    with urllib.request.urlopen(request, timeout=120, context=INSECURE) as response:
        return response.status, dict(response.headers), response.read()


def wait_until_up(url: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while True:
        try:
            get(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def wait_idle(access: Path, limit: float = 180) -> None:
    """Until the app has answered what was already sent (its access log stops growing)."""
    deadline = time.monotonic() + limit
    size = -1
    while time.monotonic() < deadline:
        now = access.stat().st_size if access.exists() else 0
        if now == size:
            return
        size = now
        time.sleep(1.0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tag_of(header: str | None) -> str:
    """The data's part of an ETag: without W/, quotes or the ``:gzip`` compression adds (quotes
    as gunicorn's log escapes them, ``\\"``, and nginx's, ``\\x22``)."""
    if not header or header == "-":
        return ""
    header = header.replace('\\"', '"').replace("\\x22", '"')
    return header.removeprefix("W/").strip('"').split(":", 1)[0]


@dataclass
class Version:
    label: str
    token: str
    responses: int
    at: float
    """Seconds into the data-changing phase when this version was stored (0: before it)."""
    tags: dict[str, str] = field(default_factory=dict)
    """URL -> the ETag (data part) the app gives it at this version."""


def release_totals(engine) -> dict[str, int]:
    """Every release's public data version (as the app names it) -> the responses published by
    then."""
    with engine.connect() as connection:
        epoch = loader._epoch(connection)
        rows = connection.execute(select(Release.seq, Release.token, Release.total)).all()
    return {loader.ReleaseState(epoch, seq, token, None, (), None).token: int(total)
            for seq, token, total in rows}


def probe_version(app: str, engine, label: str, at: float) -> Version:
    """The app's data version, and the ETag of every URL at that version, asked directly; the
    responses it counts, from the store."""
    for _ in range(5):
        before = json.loads(get(app + "/readyz")[2])
        tags = {}
        for url in URLS:
            status, headers, _body = get(app + url, {"Accept-Encoding": "gzip"})
            if status != 200:
                raise RuntimeError(f"{url} answered {status}")
            tags[url] = tag_of(headers.get("ETag"))
        after = json.loads(get(app + "/readyz")[2])
        if before["data_version"] == after["data_version"]:
            responses = release_totals(engine).get(after["data_version"], 0)
            return Version(label, after["data_version"], responses, at, tags)
    raise RuntimeError("the data version kept changing while probing")


# --- wrk ---------------------------------------------------------------------------------------


def wrk_argv(wrk: str, base: str, *, threads: int, connections: int, duration: float) -> list[str]:
    return [wrk, f"-t{threads}", f"-c{connections}", f"-d{int(duration)}s", "--latency",
            "--timeout", "60s", "-s", str(LUA), base]


def wrk_env(urls_file: Path, phase: str, pace_ms: int = 0) -> dict[str, str]:
    return {**os.environ, "WRK_URLS": str(urls_file), "WRK_AGENT": f"{AGENT}/{phase}",
            "WRK_PACE_MS": str(pace_ms)}


def run_wrk(argv: list[str], env: dict[str, str], duration: float) -> dict:
    result = subprocess.run(argv, env=env, capture_output=True, text=True,
                            timeout=duration + 120)
    return common.parse_wrk(result.stdout + result.stderr)


# --- Logs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppRequest:
    """One request the app answered, from gunicorn's access log."""

    phase: str
    """From the User-Agent; nginx's data-version requests carry none, and are put in the phase
    during which they came (see :func:`phase_at`)."""
    url: str
    status: int
    tag: str
    """The ETag's data part."""
    version: str
    """The X-Data-Version answered (data-version requests only)."""
    at: int
    """Unix time, to the second."""


@dataclass(frozen=True)
class Served:
    """One request nginx served, from its log."""

    phase: str
    url: str
    status: int
    cache: str
    key_version: str
    """The data version nginx looked the URL up under (empty outside the versioned location)."""
    upstream: str
    """The app's status when nginx asked it ("-" when it did not)."""
    tag: str
    """The ETag's data part of the app's answer, when nginx asked it."""


def app_requests(log: Path) -> list[AppRequest]:
    """Every request the app answered for this benchmark (and every data-version request)."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) != 8:
            continue
        agent, _method, path, query, status, etag, version, when = fields
        if path == VERSION_PROBE:
            phase = ""
        elif agent.startswith(AGENT + "/"):
            phase = agent.split("/", 1)[1]
        else:
            continue
        url = f"{path}?{query}" if query and query != "-" else path
        at = int(datetime.strptime(when.strip("[]"), "%d/%b/%Y:%H:%M:%S %z").timestamp())
        found.append(AppRequest(phase, url, int(status), tag_of(etag),
                                "" if version == "-" else version, at))
    return found


def nginx_served(log: Path) -> list[Served]:
    """Every request of this benchmark that nginx served."""
    found = []
    if not log.exists():
        return found
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) != 7 or not fields[0].startswith(AGENT + "/"):
            continue
        agent, url, status, cache, key_version, upstream, etag = fields
        found.append(Served(agent.split("/", 1)[1], url, int(status), cache,
                            "" if key_version == "-" else key_version, upstream, tag_of(etag)))
    return found


def phase_at(windows: dict[str, list[tuple[float, float]]], at: int) -> str:
    """The phase whose wrk run covered this second ("" for none)."""
    for phase, spans in windows.items():
        if any(int(start) <= at <= end for start, end in spans):
            return phase
    return ""


def version_of(versions: list[Version], url: str, tag: str) -> str:
    for version in versions:
        if version.tags.get(url) == tag:
            return version.label
    return "unmatched"


def cached_summaries(cache: Path) -> list[tuple[str, str, int]]:
    """(URL, data version of its key, responses its answer counts) of every summary API answer
    (JSON) in nginx's cache, whatever version it was kept under."""
    found = []
    for path in cache.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        start = data.find(b"\nKEY: ")
        if start < 0:
            continue
        key, _, rest = data[start + 6:].partition(b"\n")
        kept_as, _, version = key.decode(errors="replace").rpartition("@")
        url = kept_as[kept_as.find("/"):] if "/" in kept_as else ""
        if url.split("?", 1)[0] != "/api/v1/summary":
            continue
        headers, _, body = rest.partition(b"\r\n\r\n")
        if re.search(rb"(?im)^content-encoding:\s*gzip", headers):
            body = gzip.decompress(body)
        found.append((url, version, json.loads(body)["total_responses"]))
    return found


# --- The run -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=20_000,
                        help="responses in the fixture store (default 20,000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="throughput rounds, each straight to gunicorn and through nginx")
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--versions", type=int, default=3,
                        help="data versions in the data-changing phase")
    parser.add_argument("--version-seconds", type=int, default=None,
                        help="how long each version lasts (default: the API's max-age + 15 s)")
    parser.add_argument("--pace-ms", type=int, default=20,
                        help="pause of each connection between requests while the data changes")
    parser.add_argument("--new-responses", type=int, default=100,
                        help="responses stored and published to make a new data version")
    parser.add_argument("--trickle-versions", type=int, default=120,
                        help="releases made in quick succession")
    parser.add_argument("--trickle-seconds", type=float, default=0.5,
                        help="time between two of them")
    parser.add_argument("--embed-refresh-seconds", type=float, default=None,
                        help="EMBED_REFRESH_SECONDS for the app (default: the product's)")
    parser.add_argument("--quick", action="store_true",
                        help="1 round of 3 s, 2 versions of 8 s, 10 releases in quick "
                             "succession, embeds cached for 8 s by browsers")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.versions, args.trickle_versions = 1, 3, 2, 10
        if args.embed_refresh_seconds is None:
            args.embed_refresh_seconds = 8.0
    defaults = Settings.from_env({})
    args.embed_max_age = int(args.embed_refresh_seconds or defaults.embed_refresh_seconds)
    args.api_max_age = int(defaults.refresh_seconds)
    if args.version_seconds is None:
        args.version_seconds = args.api_max_age + (3 if args.quick else 15)
    return args


@dataclass
class Results:
    runs: dict[str, list[dict]] = field(default_factory=lambda: {"direct": [], "nginx": []})
    changing: dict = field(default_factory=dict)
    trickle: dict = field(default_factory=dict)
    versions: list[Version] = field(default_factory=list)
    trickle_stored: int = 0
    """Releases made in quick succession."""
    totals: dict[str, int] = field(default_factory=dict)
    """Data version -> responses published in it."""
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    windows: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: collections.defaultdict(list))
    served: list[Served] = field(default_factory=list)
    upstream: list[AppRequest] = field(default_factory=list)
    cached: list[tuple[str, str, int]] = field(default_factory=list)
    errors: str = ""


def timed_wrk(results: Results, phase: str, argv: list[str], env: dict[str, str],
              duration: float) -> dict:
    started = time.time()
    outcome = run_wrk(argv, env, duration)
    results.windows[phase].append((started, time.time()))
    return outcome


def paced_load(results: Results, phase: str, wrk: str, proxy: str, urls_file: Path, args,
               length: float, between) -> dict:
    """wrk through nginx for ``length`` s, paced, calling ``between(seconds_in)`` meanwhile until
    it returns False."""
    argv = wrk_argv(wrk, proxy, threads=1, connections=args.connections, duration=length)
    started_wall = time.time()
    running = subprocess.Popen(argv, env=wrk_env(urls_file, phase, args.pace_ms),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    while between(started):
        pass
    output, _ = running.communicate(timeout=length + 120)
    results.windows[phase].append((started_wall, time.time()))
    return common.parse_wrk(output)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    wrk = common.ensure_debian_package("wrk", "wrk")
    nginx = common.ensure_debian_package("nginx", "nginx")
    if not wrk or not nginx:
        raise SystemExit("wrk and nginx are needed (Debian packages wrk and nginx; run as root "
                         "to have them installed)")
    fixture = common.sqlite_store(args.responses)
    results = Results()
    with tempfile.TemporaryDirectory(prefix="proxy-cache-") as temp, ExitStack() as stack:
        root = Path(temp)
        root.chmod(0o711)  # nginx's workers (www-data) reach their directory through it
        store = common.copy_store(fixture, root / "store.sqlite3")
        urls_file = root / "urls.txt"
        urls_file.write_text("\n".join(URLS) + "\n", encoding="utf-8")
        app_port, proxy_port = free_port(), free_port()
        app, proxy = f"http://127.0.0.1:{app_port}", f"https://127.0.0.1:{proxy_port}"
        access = root / "gunicorn-access.log"
        env = {**os.environ, "DATABASE_URL": common.sqlite_url(store), "DEMO_RESPONSES": "0",
               "PROXY_COUNT": "1", "RELEASE_INTERVAL_SECONDS": "0"}
        if args.embed_refresh_seconds is not None:
            env["EMBED_REFRESH_SECONDS"] = str(args.embed_refresh_seconds)
        print(f"gunicorn on {app}, nginx on {proxy}")
        stack.enter_context(common.process(
            [sys.executable, "-m", "gunicorn", "app:server", "--workers", str(WORKERS),
             "--bind", f"127.0.0.1:{app_port}", "--access-logfile", str(access),
             "--access-logformat", ACCESS_FORMAT], env=env, log=root / "gunicorn.log"))
        wait_until_up(app + "/healthz")
        config = local_nginx(root / "nginx", listen=f"127.0.0.1:{proxy_port} ssl http2",
                             upstream=f"127.0.0.1:{app_port}")
        stack.enter_context(common.process([nginx, "-p", str(root / "nginx"), "-c", str(config)],
                                           log=root / "nginx" / "stderr.log"))
        wait_until_up(proxy + "/healthz", limit=30)

        engine = make_engine(common.sqlite_url(store))
        settings = common.release_settings()
        print("asking every URL straight from the app...")
        results.versions.append(probe_version(app, engine, "v1", 0.0))
        results.headers = {url: get(app + url, {"Accept-Encoding": "gzip"})[1] for url in URLS}

        print("throughput...")
        for url in URLS:  # the cache's first copy of each URL, before the clock starts
            get(proxy + url, {"User-Agent": f"{AGENT}/nginx", "Accept-Encoding": "gzip"})
        for round_ in range(args.rounds):
            for phase, base in (("direct", app), ("nginx", proxy)):
                wait_idle(access)
                argv = wrk_argv(wrk, base, threads=args.threads, connections=args.connections,
                                duration=args.duration)
                results.runs[phase].append(
                    timed_wrk(results, phase, argv, wrk_env(urls_file, phase), args.duration))
                print(f"  round {round_ + 1} {phase}: "
                      f"{results.runs[phase][-1]['rps']:,.0f} requests/s")

        print(f"data changing: {args.versions} versions of {args.version_seconds} s...")
        wait_idle(access)
        stored = iter(range(1, args.versions))

        def next_version(started: float) -> bool:
            index = next(stored, None)
            if index is None:
                return False
            time.sleep(max(0.0, started + index * args.version_seconds - time.monotonic()))
            at = time.monotonic() - started
            common.add_responses(engine, args.new_responses, seed=700_000 + index)
            if not common.publish_now(engine, settings):
                raise RuntimeError(f"the {args.new_responses} new responses made no release")
            results.versions.append(probe_version(app, engine, f"v{index + 1}", at))
            print(f"  {results.versions[-1].label} at {at:.0f} s: "
                  f"{results.versions[-1].responses:,} responses published")
            return True

        results.changing = paced_load(results, "changing", wrk, proxy, urls_file, args,
                                      args.versions * args.version_seconds, next_version)

        length = args.trickle_versions * args.trickle_seconds + 4
        print(f"releases in quick succession: one every {args.trickle_seconds:g} s, "
              f"{args.trickle_versions} in all...")
        wait_idle(access)

        def next_response(started: float) -> bool:
            if results.trickle_stored >= args.trickle_versions:
                time.sleep(max(0.0, started + length - time.monotonic()))
                return False
            time.sleep(max(0.0, started + 2 + results.trickle_stored * args.trickle_seconds
                           - time.monotonic()))
            common.add_uniform(engine, settings.min_cell_size,
                               seed=800_000 + results.trickle_stored)
            if not common.publish_now(engine, settings):
                raise RuntimeError("responses alike for the rule made no release")
            results.trickle_stored += 1
            return True

        results.trickle = paced_load(results, "trickle", wrk, proxy, urls_file, args, length,
                                     next_response)
        results.totals = release_totals(engine)
        engine.dispose()
        time.sleep(1.5)  # nginx flushes its buffered log every second
        results.served = nginx_served(root / "nginx" / "access.log")
        results.upstream = app_requests(access)
        results.errors = (root / "nginx" / "error.log").read_text(errors="replace")
        results.cached = cached_summaries(root / "nginx" / "cache")

    markdown = report(args, results, wrk_version(wrk), nginx_version(nginx))
    common.write_section("proxy-cache", markdown)
    print(markdown)
    return 0


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    return (result.stdout + result.stderr).split(" [", 1)[0].strip()


# --- The report --------------------------------------------------------------------------------


def per_version(upstream: list[AppRequest]) -> collections.Counter:
    """(URL, ETag data part, status kind) -> requests for that URL that reached the app through
    nginx, over every phase through nginx."""
    counts: collections.Counter = collections.Counter()
    for request in upstream:
        if request.phase in CACHED and request.url in URLS:
            kind = {200: "200", 304: "304"}.get(request.status, "other")
            counts[(request.url, request.tag, kind)] += 1
    return counts


def served_counts(served: list[Served], phase: str) -> collections.Counter:
    return collections.Counter(s.url for s in served if s.phase == phase)


def labelled_table(upstream: list[AppRequest], served: list[Served], phase: str,
                   versions: list[Version]) -> str:
    """Per URL: requests nginx served, and full answers + 304s from the app per data version."""
    counts: collections.Counter = collections.Counter()
    for request in upstream:
        if request.phase == phase and request.url in URLS:
            kind = {200: "200", 304: "304"}.get(request.status, "other")
            counts[(request.url, version_of(versions, request.url, request.tag), kind)] += 1
    labels = [v.label for v in versions]
    columns = [*labels, *sorted({label for (_u, label, _k) in counts if label not in labels})]
    other = any(kind == "other" for (_u, _l, kind) in counts)
    header = ["URL", "served by nginx", *[f"{label}: 200 + 304" for label in columns]]
    if other:
        header.append("other statuses")
    served_per_url = served_counts(served, phase)
    rows = []
    for url in [*URLS, None]:
        wanted = URLS if url is None else (url,)
        row = ["all" if url is None else f"`{url}`",
               f"{sum(served_per_url[u] for u in wanted):,}"]
        for label in columns:
            row.append(f"{sum(counts[(u, label, '200')] for u in wanted)} + "
                       f"{sum(counts[(u, label, '304')] for u in wanted)}")
        if other:
            row.append(sum(counts[(u, label, "other")] for u in wanted for label in columns))
        rows.append(row)
    return common.table(header, rows)


def trickle_table(upstream: list[AppRequest], served: list[Served]) -> str:
    """Per URL: requests nginx served, data versions the app answered, and requests per version."""
    requests: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    not_modified: collections.Counter = collections.Counter()
    for request in upstream:
        if request.phase == "trickle" and request.url in URLS:
            requests[request.url][request.tag] += 1
            not_modified[request.url] += request.status == 304
    served_per_url = served_counts(served, "trickle")
    rows = []
    for url in [*URLS, None]:
        wanted = URLS if url is None else (url,)
        tags = [n for u in wanted for n in requests[u].values()]
        rows.append(["all" if url is None else f"`{url}`",
                     f"{sum(served_per_url[u] for u in wanted):,}", len(tags),
                     f"{sum(tags) - sum(not_modified[u] for u in wanted)} + "
                     f"{sum(not_modified[u] for u in wanted)}", max(tags, default=0)])
    return common.table(["URL", "served by nginx", "data versions answered", "200 + 304",
                         "most for one version"], rows)


def probe_rows(upstream: list[AppRequest], windows: dict) -> tuple[list[list], int, int]:
    """Per phase through nginx: nginx's data-version requests; and the most in one second."""
    probes = [r for r in upstream if r.phase == "" and r.url == VERSION_PROBE]
    by_phase: dict[str, list[AppRequest]] = collections.defaultdict(list)
    for probe in probes:
        by_phase[phase_at(windows, probe.at)].append(probe)
    rows = []
    for phase in CACHED:
        found = by_phase.get(phase, [])
        seconds = sum(end - start for start, end in windows.get(phase, []))
        per_second = collections.Counter(p.at for p in found)
        statuses = collections.Counter(p.status for p in found)
        rows.append([PHASES[phase], f"{seconds:,.0f}", f"{len(found):,}",
                     f"{len(found) / seconds:.2f}" if seconds else "–",
                     max(per_second.values(), default=0),
                     len({p.version for p in found if p.version}),
                     ", ".join(f"{status}: {n:,}" for status, n in sorted(statuses.items()))
                     or "–"])
    between = by_phase.get("", [])
    worst = max(collections.Counter(p.at for p in probes).values(), default=0)
    return rows, len(between), worst


def races(served: list[Served]) -> tuple[int, int, int]:
    """From nginx's log: (answers fetched from the app, those kept under a data version other
    than one they were also fetched under, distinct URL and version pairs fetched)."""
    keys: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    fetched = 0
    for line in served:
        if line.phase in CACHED and line.url in URLS and line.upstream not in ("", "-"):
            fetched += 1
            keys[(line.url, line.tag)].add(line.key_version)
    return fetched, sum(len(k) - 1 for k in keys.values()), len(keys)


def report(args, results: Results, wrk_text: str, nginx_text: str) -> str:
    runs, versions, served, upstream = (results.runs, results.versions, results.served,
                                        results.upstream)
    first = versions[0]
    rps_rows = []
    medians = {}
    for phase, samples in runs.items():
        rps = [run["rps"] for run in samples]
        medians[phase] = statistics.median(rps)
        rps_rows.append([
            PHASES[phase], f"{medians[phase]:,.0f}", f"{min(rps):,.0f}–{max(rps):,.0f}",
            common.ms(statistics.median(run["p50"] for run in samples)),
            common.ms(statistics.median(run["p99"] for run in samples)),
            f"{sum(run['requests'] for run in samples):,}",
            f"{sum(run['non2xx'] for run in samples):,}", len(samples)])
    for phase, run in (("changing", results.changing), ("trickle", results.trickle)):
        rps_rows.append([
            PHASES[phase] + f" (paced, {args.pace_ms} ms between a connection's requests)",
            f"{run['rps']:,.0f}", "", common.ms(run["p50"]), common.ms(run["p99"]),
            f"{run['requests']:,}", f"{run['non2xx']:,}", 1])
    errors_seen = [run["errors"] for samples in runs.values() for run in samples if run["errors"]]
    errors_seen += [run["errors"] for run in (results.changing, results.trickle) if run["errors"]]

    statuses = ("HIT", "MISS", "STALE", "UPDATING", "REVALIDATED", "EXPIRED")
    cache_rows = []
    for phase in CACHED:
        counts = collections.Counter(line.cache for line in served if line.phase == phase)
        cache_rows.append([PHASES[phase], f"{sum(counts.values()):,}"]
                          + [f"{counts.get(name, 0):,}" for name in statuses]
                          + [", ".join(f"{k or '(none)'} {v:,}" for k, v in counts.items()
                                       if k not in statuses) or "–"])

    both = per_version(upstream)
    per_pair: collections.Counter = collections.Counter()
    for (url, tag, _kind), n in both.items():
        per_pair[(url, tag)] += n
    worst_all = max(per_pair.values(), default=0)
    worst_full = max((n for (_u, _t, kind), n in both.items() if kind == "200"), default=0)
    revalidated = sum(n for (_u, _t, kind), n in both.items() if kind == "304")
    over = {pair: n for pair, n in per_pair.items() if n > GOAL_PER_VERSION}
    fetched, raced, pairs = races(served)
    newer = sum(1 for _url, version, total in results.cached
                if results.totals.get(version, total) != total)
    probe_table, probes_between, probes_worst = probe_rows(upstream, results.windows)
    probes_total = sum(1 for r in upstream if r.phase == "" and r.url == VERSION_PROBE)

    version_lines = [f"{v.label}: {v.responses:,} responses published" + (
        " (at the start)" if v.at == 0 else f", stored {v.at:.0f} s into the data-changing phase")
        for v in versions]
    direct_seen = sum(1 for r in upstream if r.phase == "direct")
    direct_sent = sum(run["requests"] for run in runs["direct"])
    embed_cc = results.headers[URLS[0]].get("Cache-Control", "none")
    api_cc = results.headers["/api/v1/summary"].get("Cache-Control", "none")
    run_seconds = args.rounds * args.duration
    rps_met = medians["nginx"] >= GOAL_RPS
    error_lines = [line for line in results.errors.splitlines()
                   if any(f"[{level}]" in line for level in ("error", "crit", "emerg", "alert"))]

    lines = [
        "## nginx proxy cache in front of gunicorn",
        "",
        f"Command: `{common.command_line()}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        *common.machine({
            "Server": f"gunicorn app:server, {WORKERS} workers, the project's gunicorn.conf.py "
                      "(gthread, 4 threads), `PROXY_COUNT=1`, on loopback",
            "Proxy": f"{nginx_text} (Debian's), deploy/nginx.conf rendered for loopback with TLS "
                     "(a self-signed P-256 certificate), `worker_processes auto`, access log on",
            "Load generator": f"{wrk_text} with benchmarks/wrk_get.lua, "
                              f"`-t{args.threads} -c{args.connections}`, on the same two cores "
                              "as nginx and gunicorn",
        }),
        "",
        f"Store: SQLite, {first.responses:,} responses published at the start (the workers "
        "never publish by themselves: each data version is a release this script makes). "
        f"{len(URLS)} URLs (embeds, "
        "their data, an image, the summary API), requested in turn, with browsers' "
        "Accept-Encoding values in turn (Chrome's and Firefox's `gzip, deflate, br, zstd` six "
        "times in ten, Safari's `gzip, deflate, br` three, none once). The app sends embeds "
        f"`Cache-Control: {embed_cc}` and the API `Cache-Control: {api_cc}`"
        + (f" (`EMBED_REFRESH_SECONDS={args.embed_refresh_seconds:g}` for this run)"
           if args.embed_refresh_seconds is not None else "") + ", each with an ETag naming "
        "the data version; nginx passes that on to readers and keeps its own copy of each URL "
        "under the data version it learns from the app's `/healthz/data-version` (an answer it "
        "keeps for a second). Straight to gunicorn is plain HTTP; through nginx is HTTPS.",
        "",
        "### Throughput",
        "",
        f"{args.rounds} round(s) of {args.duration} s, straight to gunicorn and through nginx "
        "alternately, each once the app has answered what the previous one left queued; "
        "medians over the rounds. nginx's cache starts empty and gets its first copy of each "
        "URL from one request, before the first round.",
        "",
        common.table(["target", "requests/s (median)", "range", "p50 ms", "p99 ms", "requests",
                      "non-2xx", "runs"], rps_rows),
        "",
        f"- Straight to gunicorn every request reaches the app: {direct_seen:,} in its log, for "
        f"{direct_sent:,} answers wrk counted (it stops waiting when its time is up). Through "
        "nginx / straight to gunicorn: "
        f"**{medians['nginx'] / medians['direct']:,.0f}x**.",
        *([f"- wrk reported socket errors: {'; '.join(errors_seen)}"] if errors_seen else []),
        "- While the data changes, the slowest requests are those that came first for a URL at "
        "a new data version, and those that waited for them (nginx lets one request through to "
        "the app and looks again every half second whether its answer has come).",
        "",
        "How nginx answered (its `$upstream_cache_status`):",
        "",
        common.table(["phase", "served", *statuses, "other"], cache_rows),
        "",
        "### Requests that reached the app, per URL and data version",
        "",
        "Counted from gunicorn's access log; \"200 + 304\" is full answers + answers to "
        "conditional requests (If-None-Match) that found the data unchanged. Data versions:",
        "",
        *[f"- {line}" for line in version_lines],
        "",
        f"Throughput phase through nginx ({args.rounds} × {args.duration} s of load, spread over "
        f"about {2 * run_seconds} s with the direct runs between them; one data version):",
        "",
        labelled_table(upstream, served, "nginx", versions[:1]),
        "",
        f"Data changing ({args.versions} versions of {args.version_seconds} s, one wrk run of "
        f"{args.connections} connections; the cache is the throughput phase's):",
        "",
        labelled_table(upstream, served, "changing", versions),
        "",
        f"Releases in quick succession ({results.trickle_stored} releases, each of "
        f"{common.release_settings().min_cell_size} new responses alike for the release rule, "
        f"{args.trickle_seconds:g} s apart, so {results.trickle_stored} data versions shorter "
        "than the second nginx keeps the app's data-version answer; the same load):",
        "",
        trickle_table(upstream, served),
        "",
        "nginx's data-version requests (`GET /healthz/data-version`, one shared by every URL), "
        "per phase; \"most in one second\" counts them by the second gunicorn's log gives:",
        "",
        common.table(["phase", "seconds of load", "requests", "per second", "most in one second",
                      "versions named", "statuses"], probe_table),
        "",
        f"- In all, {probes_total:,} data-version requests reached the app"
        + (f" ({probes_between} of them outside the load runs: the first copies, and the "
           "seconds between runs)" if probes_between else "") + ".",
        f"- nginx fetched {fetched:,} answers from the app, for {pairs:,} URL and data-version "
        "pairs (from its log). The race: the data changes between nginx's data-version answer "
        "and the app's answer for a URL, so that newer data is kept under the older version. "
        f"Of the {len(results.cached)} summary API answers (JSON) in nginx's cache at the end, "
        f"kept under every version they were fetched at, {newer} counted more responses than "
        "the version they were kept under; an answer kept twice, under two versions, as the "
        "race makes when nginx learns the very version that answer had (the app then computes "
        f"it again): {raced} (every URL).",
        "",
        f"- Goal (at least {GOAL_RPS:,} requests/s served through nginx): "
        f"{'met' if rps_met else '**missed**'}: median {medians['nginx']:,.0f} requests/s.",
    ]
    goal = f"- Goal (the app sees at most {GOAL_PER_VERSION} request per data version per URL): "
    if not over:
        lines.append(goal + f"met: at most {worst_all} for one URL at one data version, over "
                     "every phase through nginx together ("
                     + ("no conditional requests" if not revalidated
                        else f"{revalidated} of them conditional, answered 304") + ").")
    else:
        extra = sum(n - GOAL_PER_VERSION for n in over.values())
        where = sorted({r.phase for r in upstream if (r.url, r.tag) in over
                        and r.phase in CACHED}, key=CACHED.index)
        lines.append(
            goal + f"**missed** for {len(over)} of {len(per_pair)} URL and data-version pairs, "
            f"in the phase(s) {', '.join(PHASES[p] for p in where)}: up to {worst_all} "
            f"requests for one URL at one data version ({worst_full} full answers at most; "
            f"{revalidated} conditional requests answered 304 in all), {extra} requests beyond "
            f"one per pair; {raced} of them the race described above."
            + (" Met in the other phases." if len(where) < len(CACHED) else ""))
    probe_goal = (f"- The data-version requests: at most {probes_worst} in any one second "
                  f"(every phase; nginx keeps an answer for a second)")
    lines.append(probe_goal + (
        "." if probes_worst <= GOAL_PROBES_PER_SECOND else
        f"; more than {GOAL_PROBES_PER_SECOND} in a second of the log happens when one "
        "answered at the end of a second is logged in the next."))
    if error_lines:
        lines += ["", "nginx's error log:", "", "```", *error_lines[:10], "```"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
