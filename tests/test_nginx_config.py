"""deploy/nginx.conf, once its per-machine names are filled in as docs/deploy.md says, is a
configuration nginx accepts, and nginx running it in front of a stand-in for the app keeps one copy
of each live URL per data version, rides out the app's failures and keeps the probes meant for the
load balancer and itself from outside; benchmarks/proxy_cache.py runs this very file in front of
the app itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.proxy_cache import INSECURE, NGINX_SITE, PLACEHOLDER, local_nginx, render_site
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next(
    (str(path) for path in (Path("/usr/sbin/nginx"),) if path.exists()), None)
needs_nginx = pytest.mark.skipif(NGINX is None or shutil.which("openssl") is None,
                                 reason="needs nginx and openssl (python -m tests installs them "
                                        "as root)")
OUTSIDE = "X-Test-Outside"
"""A header the tests' own requests to nginx carry; nginx's subrequests to the app carry none of
the client's headers."""


def names() -> set[str]:
    return set(PLACEHOLDER.findall(NGINX_SITE.read_text(encoding="utf-8")))


def test_deploy_md_fills_in_every_name_the_file_has():
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "deploy/nginx.conf" in deploy
    envsubst = re.search(r"^envsubst '([^']*)'", deploy, re.MULTILINE)
    assert envsubst, "docs/deploy.md shows the envsubst command"
    assert set(envsubst.group(1).replace("$", "").split()) == names()
    for name in names():
        assert re.search(rf"\b{name}=", deploy), f"docs/deploy.md gives no example of {name}"


def test_rendering_fills_in_every_name_and_refuses_missing_or_unknown_ones():
    values = {name: f"value-of-{name.lower()}" for name in names()}
    rendered = render_site(values)
    assert PLACEHOLDER.search(rendered) is None
    assert all(value in rendered for value in values.values())
    with pytest.raises(ValueError):
        render_site({name: "x" for name in sorted(names())[1:]})
    with pytest.raises(ValueError):
        render_site({**values, "SURVEY_UNKNOWN": "x"})


@needs_nginx
def test_nginx_accepts_the_rendered_configuration(tmp_path):
    prefix = tmp_path / "nginx"
    config = local_nginx(prefix, listen="127.0.0.1:8443 ssl http2", upstream="127.0.0.1:8050")
    result = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


class StandIn:
    """The app as nginx sees it, on a loopback port: ``/healthz/data-version`` answers 204 with
    the current data version (404 when ``version`` is None, as an older app without it would), and
    any other URL answers its path and the data it was computed from, cacheable for a minute
    (frozen embeds: for a year). ``fetched`` lists the paths asked for, in order; ``from_outside``
    those of requests that carried :data:`OUTSIDE`, which nginx passed on from a client."""

    def __init__(self, port: int = 0, version: str | None = "v1") -> None:
        self.version = version
        self.fetched: list[str] = []
        self.from_outside: list[str] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                # Recorded before answering: a client that has its answer finds its request here.
                stand_in.fetched.append(self.path)
                if self.headers.get(OUTSIDE):
                    stand_in.from_outside.append(self.path)
                version = stand_in.version
                if self.path == "/healthz/data-version":
                    self.send_response(204 if version else 404)
                    if version:
                        self.send_header("X-Data-Version", version)
                    self.send_header("Cache-Control", "no-store")
                    body = b""
                else:
                    body = f"{self.path} at {version}".encode()
                    self.send_response(200)
                    self.send_header("ETag", f'"{version}"')
                    self.send_header("Cache-Control", "public, max-age=31536000, immutable"
                                     if self.path.startswith("/embed/frozen/")
                                     else "public, max-age=60")
                if body or not version:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def count(self, path: str) -> int:
        return self.fetched.count(path)


def eventually(condition, seconds: float = 20) -> None:
    """Waits until ``condition()`` holds (nginx keeps the data version for one to two seconds)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


@dataclass
class Proxy:
    """nginx running deploy/nginx.conf on a loopback port, in front of a :class:`StandIn`."""

    base: str
    root: Path

    def get(self, path: str, method: str = "GET") -> tuple[int, str]:
        """The status and body of one request from outside, as a browser would send it."""
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Accept-Encoding": "gzip", OUTSIDE: "1"})
        try:
            with urllib.request.urlopen(request, timeout=30, context=INSECURE) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def error_log(self) -> str:
        path = self.root / "nginx" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def nginx_in_front(app: StandIn) -> Iterator[Proxy]:
    """nginx in front of ``app``'s port, once it answers; stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="nginx-test-") as temp:
        root = Path(temp)
        root.chmod(0o711)  # nginx's workers (www-data, when run as root) reach their directory
        port = free_port()
        config = local_nginx(root / "nginx", listen=f"127.0.0.1:{port} ssl",
                             upstream=f"127.0.0.1:{app.port}")
        nginx = subprocess.Popen([NGINX, "-p", str(root / "nginx"), "-c", str(config)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proxy = Proxy(f"https://127.0.0.1:{port}", root)
            eventually(lambda: _answers(proxy.base))
            yield proxy
        finally:
            nginx.terminate()
            nginx.wait(timeout=30)


@needs_nginx
def test_nginx_keeps_one_copy_per_url_per_data_version_and_rides_out_failures():
    app = StandIn()
    try:
        with nginx_in_front(app) as proxy:
            get = proxy.get
            live, frozen = "/embed/uk-and-us", "/embed/frozen/abc"
            # Once per URL per data version, however many readers ask.
            for _ in range(5):
                assert get(live) == (200, f"{live} at v1")
            assert get(frozen) == (200, f"{frozen} at v1")
            assert app.count(live) == 1

            app.version = "v2"
            eventually(lambda: get(live) == (200, f"{live} at v2"))
            for _ in range(5):
                assert get(live) == (200, f"{live} at v2")
            assert app.count(live) == 2
            # A frozen embed is kept by time, whatever the data version.
            assert get(frozen) == (200, f"{frozen} at v1") and app.count(frozen) == 1

            # The app cannot be reached: nginx goes on with the last data version it was told
            # and serves its copies; a URL it holds no copy of gets 502, not an error of its own.
            app.stop()
            eventually(lambda: get(live) == (200, f"{live} at v2")
                       and "/healthz/data-version" in proxy.error_log())
            assert get("/api/v1/summary") == (502, "")

            # A release without the data-version probe: nginx caches by time instead.
            app = StandIn(app.port, version=None)
            eventually(lambda: get("/embed/viewed_profile")[0] == 200
                       and "/healthz/data-version" in app.fetched)
            get("/embed/viewed_profile")  # once the 404 is in nginx's cache
            for _ in range(3):
                assert get("/api/v1/summary?role=x") == (200, "/api/v1/summary?role=x at None")
            assert app.count("/api/v1/summary?role=x") == 1
    finally:
        app.stop()


# /readyz and /healthz/data-version as a client may spell them: nginx decodes %72 ("r") and
# merges doubled slashes before it picks a location, and an exact location ignores the query.
PROBES_FROM_OUTSIDE = ("/readyz", "/readyz?verbose=1", "//readyz", "/%72eadyz",
                       "/healthz/data-version", "/healthz/data-version?x=1",
                       "/healthz//data-version")


@needs_nginx
def test_nginx_refuses_the_probes_from_outside_and_still_caches_by_data_version():
    app = StandIn()
    try:
        with nginx_in_front(app) as proxy:
            get = proxy.get
            for path in PROBES_FROM_OUTSIDE:
                assert get(path) == (404, ""), path
            assert get("/readyz", method="HEAD") == (404, "")
            # Not one reached the app; /healthz, which says only "ok", is passed on.
            assert app.count("/readyz") == 0 and app.from_outside == []
            assert get("/healthz") == (200, "/healthz at v1")
            assert app.from_outside == ["/healthz"]

            # nginx's own subrequest still learns the data version from the app: each URL is
            # fetched once at v1 and once more at v2, however often it is asked for.
            live, api = "/embed/viewed_profile?role=social_worker", "/api/v1/summary"
            for _ in range(3):
                assert get(live) == (200, f"{live} at v1")
                assert get(api) == (200, f"{api} at v1")
            assert (app.count(live), app.count(api)) == (1, 1)
            app.version = "v2"
            eventually(lambda: get(live) == (200, f"{live} at v2"))
            for _ in range(3):
                assert get(live) == (200, f"{live} at v2")
                assert get(api) == (200, f"{api} at v2")
            assert (app.count(live), app.count(api)) == (2, 2)
            assert app.count("/healthz/data-version") >= 2
            assert app.from_outside == ["/healthz", live, api, live, api]
    finally:
        app.stop()


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5, context=INSECURE):
            return True
    except OSError:
        return False
