"""The product starts as the README and the deployment say: `gunicorn app:server`, on an empty
machine state, creating and seeding its store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_gunicorn_serves_the_app_on_a_new_store_with_demo_data(tmp_path):
    port = free_port()
    store = tmp_path / "nested" / "survey.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{store}", "DEMO_RESPONSES": "120"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}",
         "--workers", "2"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        summary = json.loads(wait_for(f"http://127.0.0.1:{port}/api/v1/summary"))
        # The 120 demo responses are published as a dashboard would have published them while
        # they arrived: the figures are of those published, and the rest wait.
        from data_loaders import releases
        from data_loaders.db import make_engine

        with make_engine(f"sqlite:///{store}").connect() as connection:
            held = releases.status(connection)
        assert held.published + held.waiting == 120 and held.releases >= 1
        assert summary["total_responses"] == held.published > 0
        assert summary["demo_data"] is True
        page = wait_for(f"http://127.0.0.1:{port}/").decode()
        assert '<html lang="en-GB">' in page
        assert store.exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert b"Traceback" not in output, output.decode(errors="replace")


def test_health_and_readiness(tmp_path):
    from tests.dashboard_support import build_app

    client = build_app(f"sqlite:///{tmp_path / 'store.sqlite3'}").server.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    # Nothing published yet: no release, so no release age; and never a count of responses.
    assert body == {"status": "ready", "store_reachable": True,
                    "data_version": body["data_version"], "release_age_seconds": None,
                    "unreachable_since": None}
    assert ready.headers["Cache-Control"] == "no-store"


def test_the_data_version_probe_names_the_data_every_worker_shows(tmp_path):
    from data_loaders.db import make_engine
    from tests.dashboard_support import FIXTURE, add, build_app, publish, responses

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    workers = [build_app(url).server.test_client() for _ in range(2)]
    probes = [client.get("/healthz/data-version") for client in workers]
    for probe in probes:
        assert probe.status_code == 204 and probe.data == b""
        assert probe.headers["Cache-Control"] == "no-store"
    assert probes[0].headers["X-Data-Version"] == probes[1].headers["X-Data-Version"] \
        == workers[0].get("/readyz").get_json()["data_version"]

    engine = make_engine(url)
    add(engine, responses(FIXTURE))
    stored = [client.get("/healthz/data-version").headers["X-Data-Version"] for client in workers]
    assert stored == [probes[0].headers["X-Data-Version"]] * 2  # nothing published yet
    publish(engine)
    after = [client.get("/healthz/data-version").headers["X-Data-Version"] for client in workers]
    assert after[0] == after[1] == workers[1].get("/readyz").get_json()["data_version"]
    assert after[0] != probes[0].headers["X-Data-Version"]


def test_the_data_version_probe_answers_503_while_the_worker_has_no_data():
    from tests.dashboard_support import build_app

    nothing_listens = f"postgresql+psycopg://survey@127.0.0.1:{free_port()}/survey"
    client = build_app(nothing_listens).server.test_client()
    probe = client.get("/healthz/data-version")
    assert probe.status_code == 503
    assert "X-Data-Version" not in probe.headers
    assert probe.headers["Cache-Control"] == "no-store"


def test_a_worker_does_not_import_what_only_downloads_and_imports_need():
    """openpyxl, python-pptx, reportlab and kaleido are read at first use: a worker that only
    serves pages never holds them (they would take memory in every worker)."""
    rarely = ["openpyxl", "pptx", "reportlab", "kaleido"]
    script = ("import json, sys; import app; "
              f"print(json.dumps([m for m in {rarely!r} if m in sys.modules]))")
    env = {**os.environ, "DATABASE_URL": "sqlite://", "DEMO_RESPONSES": "0"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
