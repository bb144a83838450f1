"""Health checks for a load balancer: ``/healthz`` (the process is up) and ``/readyz`` (the store
answers, and how old the data this worker holds is)."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Flask, jsonify

from dashboard.context import services
from data_loaders.health import store_answers

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
    body = {
        "status": "ready" if reachable else "store unreachable",
        "store_reachable": reachable,
        "data_version": snapshot.version,
        "responses": snapshot.total,
        "data_checked_seconds_ago": round((now - snapshot.as_of).total_seconds(), 1),
        "unreachable_since": snapshot.unreachable_since.isoformat(timespec="seconds")
        if snapshot.unreachable_since else None,
    }
    response = jsonify(body)
    response.status_code = 200 if reachable else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def register(server: Flask) -> None:
    server.register_blueprint(blueprint)
