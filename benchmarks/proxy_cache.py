"""nginx's proxy cache in front of gunicorn: embed and API traffic, and what reaches the app.

Issue goals: at least 5,000 requests a second served through nginx on this machine, with the
application seeing at most one request per data version per URL.

A copy of a fixture SQLite store (``--responses``, default 20,000) is served by ``gunicorn
app:server`` (the project's gunicorn.conf.py, 2 workers, ``DEMO_RESPONSES=0``, ``PROXY_COUNT=1``)
on a loopback port, with Debian's nginx in front of it on another, running deploy/nginx.conf
itself: rendered for loopback (TLS with a throwaway self-signed certificate) and for a temporary
directory that holds nginx's cache, temporary files, pid and logs, and included from a minimal
main configuration. Debian's ``wrk`` (benchmarks/wrk_get.lua) cycles over :data:`URLS` (embeds,
their data and an image, the summary API), sending browsers' Accept-Encoding values in turn (and
none one time in ten), and names each phase in its User-Agent.

1. Throughput: ``--rounds`` rounds of ``--duration`` s, straight to gunicorn (the baseline) and
   through nginx, alternately: requests/s, latency p50 and p99, non-2xx answers.
2. Data changing: wrk through nginx, each connection pacing its requests (``--pace-ms``), for
   ``--versions`` data versions of ``--version-seconds`` each; between two versions,
   ``--new-responses`` responses are stored with the product's writer (store.store_responses).

What reaches the app comes from gunicorn's access log (a temporary file, with the query string,
the User-Agent, the status and the ETag). ETags name the data version: the app is asked directly
for every URL at every version, and what it answers maps each ETag to its version. nginx's own
log gives the cache status of every request it served.

    python -m benchmarks.proxy_cache            # about 6 minutes
    python -m benchmarks.proxy_cache --quick    # under a minute

Results go to the ``proxy-cache`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import collections
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
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402
from data_loaders.db import make_engine  # noqa: E402
from survey.settings import Settings  # noqa: E402

NGINX_SITE = common.PROJECT_ROOT / "deploy" / "nginx.conf"
LUA = common.PROJECT_ROOT / "benchmarks" / "wrk_get.lua"
PLACEHOLDER = re.compile(r"\$\{(SURVEY_[A-Z0-9_]+)\}")
GOAL_RPS = 5_000
GOAL_PER_VERSION = 1
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
AGENT = "proxy-cache-benchmark"
PHASES = {"direct": "straight to gunicorn", "nginx": "through nginx",
          "changing": "through nginx, data changing"}
PROBE = f"{AGENT}/probe"
ACCESS_FORMAT = "\t".join(("%(a)s", "%(m)s", "%(U)s", "%(q)s", "%(s)s", "%({etag}o)s"))
"""gunicorn's access log for this benchmark: the User-Agent, the request with its query string,
the status and the ETag sent."""
NGINX_LOG_FORMAT = "$http_user_agent\\t$request_uri\\t$status\\t$upstream_cache_status"


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
    """The data's part of an ETag: without W/, quotes or the ``:gzip`` compression adds."""
    if not header or header == "-":
        return ""
    return header.replace('\\"', '"').removeprefix("W/").strip('"').split(":", 1)[0]


@dataclass
class Version:
    label: str
    token: str
    responses: int
    at: float
    """Seconds into the data-changing phase when this version was stored (0: before it)."""
    tags: dict[str, str] = field(default_factory=dict)
    """URL -> the ETag (data part) the app gives it at this version."""


def probe_version(app: str, label: str, at: float) -> Version:
    """The app's data version, and the ETag of every URL at that version, asked directly."""
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
            return Version(label, after["data_version"], after["responses"], at, tags)
    raise RuntimeError("the data version kept changing while probing")


# --- wrk ---------------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk_argv(wrk: str, base: str, *, threads: int, connections: int, duration: float) -> list[str]:
    return [wrk, f"-t{threads}", f"-c{connections}", f"-d{int(duration)}s", "--latency",
            "--timeout", "60s", "-s", str(LUA), base]


def wrk_env(urls_file: Path, phase: str, pace_ms: int = 0) -> dict[str, str]:
    return {**os.environ, "WRK_URLS": str(urls_file), "WRK_AGENT": f"{AGENT}/{phase}",
            "WRK_PACE_MS": str(pace_ms)}


def parse_wrk(text: str) -> dict:
    if "Requests/sec" not in text:
        raise RuntimeError(f"wrk failed:\n{text}")
    out = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
           "requests": int(re.search(r"(\d+) requests in", text).group(1)),
           "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text))
           else 0,
           "errors": re.search(r"Socket errors:.*", text).group(0) if "Socket errors" in text
           else ""}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.MULTILINE)
        out[f"p{pct}"] = _seconds(match.group(1)) if match else float("nan")
    return out


def run_wrk(argv: list[str], env: dict[str, str], duration: float) -> dict:
    result = subprocess.run(argv, env=env, capture_output=True, text=True,
                            timeout=duration + 120)
    return parse_wrk(result.stdout + result.stderr)


# --- Logs --------------------------------------------------------------------------------------


def app_requests(log: Path) -> list[tuple[str, str, int, str]]:
    """(phase, URL, status, ETag data part) of every request the app answered."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) != 6 or not fields[0].startswith(AGENT + "/"):
            continue
        agent, _method, path, query, status, etag = fields
        url = f"{path}?{query}" if query and query != "-" else path
        found.append((agent.split("/", 1)[1], url, int(status), tag_of(etag)))
    return found


def nginx_served(log: Path) -> list[tuple[str, str, int, str]]:
    """(phase, URL, status, cache status) of every request nginx served."""
    found = []
    if not log.exists():
        return found
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or not fields[0].startswith(AGENT + "/"):
            continue
        agent, url, status, cache = fields
        found.append((agent.split("/", 1)[1], url, int(status), cache))
    return found


def version_of(versions: list[Version], url: str, tag: str) -> str:
    for version in versions:
        if version.tags.get(url) == tag:
            return version.label
    return "unmatched"


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
                        help="how long each version lasts (default: the embeds' max-age + 10 s)")
    parser.add_argument("--pace-ms", type=int, default=20,
                        help="pause of each connection between requests while the data changes")
    parser.add_argument("--new-responses", type=int, default=100,
                        help="responses stored to make a new data version")
    parser.add_argument("--embed-refresh-seconds", type=float, default=None,
                        help="EMBED_REFRESH_SECONDS for the app (default: the product's)")
    parser.add_argument("--quick", action="store_true",
                        help="1 round of 3 s, 2 versions of 12 s, embeds cached for 8 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.versions = 1, 3, 2
        if args.embed_refresh_seconds is None:
            args.embed_refresh_seconds = 8.0
    defaults = Settings.from_env({})
    args.embed_max_age = int(args.embed_refresh_seconds or defaults.embed_refresh_seconds)
    args.api_max_age = int(defaults.refresh_seconds)
    if args.version_seconds is None:
        args.version_seconds = max(args.embed_max_age, args.api_max_age) + (4 if args.quick else 10)
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    wrk = common.ensure_debian_package("wrk", "wrk")
    nginx = common.ensure_debian_package("nginx", "nginx")
    if not wrk or not nginx:
        raise SystemExit("wrk and nginx are needed (Debian packages wrk and nginx; run as root "
                         "to have them installed)")
    fixture = common.sqlite_store(args.responses)
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
               "PROXY_COUNT": "1"}
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

        print("probing every URL straight from the app...")
        versions = [probe_version(app, "v1", 0.0)]
        first = versions[0]
        headers = {url: get(app + url, {"Accept-Encoding": "gzip"})[1] for url in URLS}

        print("throughput...")
        for url in URLS:  # the cache's first copy of each URL, before the clock starts
            get(proxy + url, {"User-Agent": f"{AGENT}/nginx", "Accept-Encoding": "gzip"})
        runs: dict[str, list[dict]] = {"direct": [], "nginx": []}
        for round_ in range(args.rounds):
            for phase, base in (("direct", app), ("nginx", proxy)):
                wait_idle(access)
                argv = wrk_argv(wrk, base, threads=args.threads, connections=args.connections,
                                duration=args.duration)
                runs[phase].append(run_wrk(argv, wrk_env(urls_file, phase), args.duration))
                print(f"  round {round_ + 1} {phase}: {runs[phase][-1]['rps']:,.0f} requests/s")

        print(f"data changing: {args.versions} versions of {args.version_seconds} s...")
        wait_idle(access)
        engine = make_engine(common.sqlite_url(store))
        length = args.versions * args.version_seconds
        argv = wrk_argv(wrk, proxy, threads=1, connections=args.connections, duration=length)
        changing = subprocess.Popen(argv, env=wrk_env(urls_file, "changing", args.pace_ms),
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started = time.monotonic()
        for index in range(1, args.versions):
            time.sleep(max(0.0, started + index * args.version_seconds - time.monotonic()))
            at = time.monotonic() - started
            common.add_responses(engine, args.new_responses, seed=700_000 + index)
            versions.append(probe_version(app, f"v{index + 1}", at))
            print(f"  {versions[-1].label} at {at:.0f} s: {versions[-1].responses:,} responses")
        output, _ = changing.communicate(timeout=length + 120)
        changing_run = parse_wrk(output)
        engine.dispose()
        time.sleep(1.5)  # nginx flushes its buffered log every second
        nginx_log = root / "nginx" / "access.log"
        served, upstream = nginx_served(nginx_log), app_requests(access)
        errors = (root / "nginx" / "error.log").read_text(errors="replace")

    markdown = report(args, runs, changing_run, versions, first, headers, served, upstream,
                      errors, wrk_version(wrk), nginx_version(nginx))
    common.write_section("proxy-cache", markdown)
    print(markdown)
    return 0


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    return (result.stdout + result.stderr).split(" [", 1)[0].strip()


# --- The report --------------------------------------------------------------------------------


def upstream_table(counts: collections.Counter, served: list, phase: str,
                   labels: list[str]) -> str:
    """Per URL: requests nginx served, and full answers + 304s from the app per data version."""
    served_per_url = collections.Counter(url for p, url, _s, _c in served if p == phase)
    columns = [*labels, *sorted({label for (_u, label, _k) in counts if label not in labels})]
    other = any(kind == "other" for (_u, _l, kind) in counts)
    header = ["URL", "served by nginx", *[f"{label}: 200 + 304" for label in columns]]
    if other:
        header.append("other statuses")
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



def report(args, runs, changing_run, versions, first, headers, served, upstream, errors,
           wrk_text, nginx_text) -> str:
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
    rps_rows.append([
        PHASES["changing"] + f" (paced, {args.pace_ms} ms between a connection's requests)",
        f"{changing_run['rps']:,.0f}", "", common.ms(changing_run["p50"]),
        common.ms(changing_run["p99"]), f"{changing_run['requests']:,}",
        f"{changing_run['non2xx']:,}", 1])
    errors_seen = [run["errors"] for samples in runs.values() for run in samples if run["errors"]]
    if changing_run["errors"]:
        errors_seen.append(changing_run["errors"])

    cache_rows = []
    for phase in ("nginx", "changing"):
        counts = collections.Counter(cache for p, _url, _status, cache in served if p == phase)
        total = sum(counts.values())
        cache_rows.append([PHASES[phase], f"{total:,}"] + [
            f"{counts.get(name, 0):,}" for name in ("HIT", "STALE", "UPDATING", "REVALIDATED",
                                                    "EXPIRED", "MISS")]
            + [", ".join(f"{k or '(none)'} {v:,}" for k, v in counts.items()
                         if k not in {"HIT", "STALE", "UPDATING", "REVALIDATED", "EXPIRED",
                                      "MISS"}) or "–"])

    labels = [v.label for v in versions]
    counts: dict[str, collections.Counter] = {"nginx": collections.Counter(),
                                              "changing": collections.Counter()}
    for phase, url, status, tag in upstream:
        if phase in counts:
            kind = {200: "200", 304: "304"}.get(status, "other")
            counts[phase][(url, version_of(versions, url, tag), kind)] += 1
    both = counts["nginx"] + counts["changing"]
    per_version = collections.Counter()
    for (url, label, kind), n in both.items():
        per_version[(url, label)] += n
    worst_all = max(per_version.values(), default=0)
    worst_full = max((n for (_u, _l, kind), n in both.items() if kind == "200"), default=0)
    sections = [upstream_table(counts[phase], served, phase,
                               labels[:1] if phase == "nginx" else labels)
                for phase in ("nginx", "changing")]

    version_lines = [f"{v.label}: {v.responses:,} responses" + (
        " (at the start)" if v.at == 0 else f", stored {v.at:.0f} s into the data-changing phase")
        for v in versions]
    direct_seen = sum(1 for p, *_rest in upstream if p == "direct")
    direct_sent = sum(run["requests"] for run in runs["direct"])
    embed_cc = headers[URLS[0]].get("Cache-Control", "none")
    api_cc = headers["/api/v1/summary"].get("Cache-Control", "none")
    run_seconds = args.rounds * args.duration
    rps_met = medians["nginx"] >= GOAL_RPS
    full_met = worst_full <= GOAL_PER_VERSION
    all_met = worst_all <= GOAL_PER_VERSION
    error_lines = [line for line in errors.splitlines() if "[error]" in line or "[crit]" in line
                   or "[emerg]" in line or "[alert]" in line]

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
        f"Store: SQLite, {first.responses:,} responses at the start. {len(URLS)} URLs (embeds, "
        "their data, an image, the summary API), requested in turn, with browsers' "
        "Accept-Encoding values in turn (Chrome's and Firefox's `gzip, deflate, br, zstd` six "
        "times in ten, Safari's `gzip, deflate, br` three, none once). The app sends embeds "
        f"`Cache-Control: {embed_cc}` and the API `Cache-Control: {api_cc}`"
        + (f" (`EMBED_REFRESH_SECONDS={args.embed_refresh_seconds:g}` for this run)"
           if args.embed_refresh_seconds is not None else "") + ", each with an ETag naming "
        "the data version. Straight to gunicorn is plain HTTP; through nginx is HTTPS.",
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
        "",
        "How nginx answered (its `$upstream_cache_status`; STALE and UPDATING are the old copy "
        "served while one request revalidates it):",
        "",
        common.table(["phase", "served", "HIT", "STALE", "UPDATING", "REVALIDATED", "EXPIRED",
                      "MISS", "other"], cache_rows),
        "",
        "### Requests that reached the app, per URL and data version",
        "",
        "Counted from gunicorn's access log; \"200 + 304\" is full answers + answers to nginx's "
        "revalidations (If-None-Match) that found the data unchanged. Data versions:",
        "",
        *[f"- {line}" for line in version_lines],
        "",
        f"Throughput phase through nginx ({args.rounds} × {args.duration} s of load, spread over "
        f"about {2 * run_seconds} s with the direct runs between them; one data version):",
        "",
        sections[0],
        "",
        f"Data changing ({args.versions} versions of {args.version_seconds} s, one wrk run of "
        f"{args.connections} connections; the cache is the throughput phase's):",
        "",
        sections[1],
        "",
        f"- Goal (at least {GOAL_RPS:,} requests/s served through nginx): "
        f"{'met' if rps_met else '**missed**'}: median {medians['nginx']:,.0f} requests/s.",
    ]
    goal = f"- Goal (the app sees at most {GOAL_PER_VERSION} request per data version per URL): "
    if all_met:
        lines.append(goal + f"met: at most {worst_all} for one URL at one data version (both "
                     "phases through nginx together).")
    elif full_met:
        lines += [
            goal + f"**missed** counting revalidations: up to {worst_all} requests reached the "
            "app for one URL at one data version (both phases through nginx together), at most "
            f"{worst_full} of them a full answer (200) and the others 304s to nginx's "
            "revalidations; met counting full answers.",
            "- The 304s come from nginx asking again whenever a copy's max-age runs out "
            f"({embed_cc.split('=')[-1]} s for embeds, {api_cc.split('=')[-1]} s for the API), "
            "whether or not the data changed; the app answers them without computing anything. "
            "Requests per URL are bounded by time (one per max-age) rather than by data "
            "versions; fewer would take a longer max-age (staler numbers in articles) or a "
            "cache that is told when the data changes."]
    else:
        lines.append(goal + f"**missed**: up to {worst_full} full answers (200) and "
                     f"{worst_all} requests in all for one URL at one data version.")
    if error_lines:
        lines += ["", "nginx's error log:", "", "```", *error_lines[:10], "```"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
