"""Health checks for a load balancer: ``/healthz`` (the process is up) and ``/readyz`` (the store
answers, and how old the release this worker holds is); and ``/healthz/data-version``, which
names the release for a cache in front (deploy/nginx.conf keys its cache by it).

None of them says how many responses there are or gives an id: the version is an opaque name of
the release, and the times are those of releases, which the pages show anyway. The readiness
and data-version probes are for the load balancer and nginx only; deploy/nginx.conf does not
pass them through from outside."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Flask, Response, jsonify

from dashboard.context import services
from data_loaders.health import store_answers

VERSION_HEADER = "X-Data-Version"

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/readyz")
def readyz():
    current = services()
    reachable = store_answers(current.live.engine)
    snapshot = current.live.snapshot()
    now = datetime.now(timezone.utc)
    published = snapshot.published_at
    body = {
        "status": "ready" if reachable else "store unreachable",
        "store_reachable": reachable,
        "data_version": snapshot.version,
        "release_age_seconds": round((now - published).total_seconds()) if published else None,
        "unreachable_since": snapshot.unreachable_since.isoformat(timespec="seconds")
        if snapshot.unreachable_since else None,
    }
    response = jsonify(body)
    response.status_code = 200 if reachable else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/healthz/data-version")
def data_version():
    """204 with ``X-Data-Version``: the version of the data that this worker's pages, embeds and
    API show now (the same on every worker for the same data), checked against the store on this
    request. While the store cannot be reached that is the last version the worker read, which
    is what it keeps showing; 503 when it has never read the store, and so has no data."""
    snapshot = services().live.snapshot()
    if snapshot.loaded:
        response = Response(b"", status=204)
        response.headers[VERSION_HEADER] = snapshot.version
    else:
        response = Response(b"", status=503)
        response.headers["Retry-After"] = "1"
    response.headers["Cache-Control"] = "no-store"
    del response.headers["Content-Type"]  # nothing to describe
    return response


def register(server: Flask) -> None:
    server.register_blueprint(blueprint)
