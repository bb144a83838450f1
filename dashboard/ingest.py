"""Live ingestion: ``POST /api/v1/responses`` for a survey platform's webhook or an own form.

A request holds one response, a list of them, or ``{"responses": [...]}``, each in the codes (or
labels) of the project's CSV template: ``respondent_id``, ``submitted_at`` (ISO 8601) and one
field per question id. Every response is validated as an import row is; each is stored once
(idempotent by respondent id), and those that cannot be accepted are quarantined with their
reason. The whole request is one transaction: 201 (everything accepted or already there) or 422
(some refused; the others stored) is sent only after it has committed, so an acknowledged
response is never lost; if the store cannot take the write, 503 with Retry-After and nothing is
acknowledged.
"""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from dashboard.context import services
from data_loaders import store
from data_loaders.db import WRITE
from data_loaders.importers.timestamps import EARLIEST, LATEST
from survey.questionnaire import QUESTION_IDS, InvalidResponse, validate

SOURCE = "api"
FIELDS = {"respondent_id", "submitted_at", *QUESTION_IDS}
RETRY_AFTER_SECONDS = 5

blueprint = Blueprint("ingest", __name__, url_prefix="/api/v1")


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.headers = status, headers or {}


@blueprint.errorhandler(Refused)
def _refused(error: Refused) -> Response:
    response = jsonify({"error": str(error)})
    response.status_code = error.status
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass
class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, in bursts of as many."""

    per_minute: int
    clock: Any = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_needed(self, client: str) -> float:
        """0 if the request may go ahead (and it is counted); else seconds until it may."""
        now = self.clock()
        rate = self.per_minute / 60
        with self._lock:
            tokens, then = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > 10_000:
                    self._buckets.clear()
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / rate


def _authorise(token: str) -> None:
    if not token:
        raise Refused(404, "ingestion is switched off on this server (INGEST_TOKEN is not set)")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise Refused(401, "a valid bearer token is required",
                      {"WWW-Authenticate": 'Bearer realm="survey ingestion"'})


def _read_body(limit: int) -> bytes:
    """The body, refused with 413 before it is read whole when it is too large."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"request body over {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise Refused(413, f"request body over {limit} bytes")
    return body


def _items(body: bytes, max_batch: int) -> list[Any]:
    try:
        data = json.loads(body.decode("utf-8"))
        # A lone surrogate escaped in JSON ("\ud800") decodes to text no store can hold.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as error:
        raise Refused(400, f"the body is not JSON in UTF-8: {str(error)[:200]}") from None
    if isinstance(data, dict) and "responses" in data:
        data = data["responses"]
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Refused(400, "no responses in the request")
    if len(items) > max_batch:
        raise Refused(413, f"{len(items)} responses in one request; at most {max_batch}")
    return items


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise InvalidResponse("submitted_at is missing")
    try:
        moment = store.utc(datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):
        raise InvalidResponse(f"submitted_at {value[:40]!r} is not an ISO 8601 time in "
                              "years 1 to 9999") from None
    if not EARLIEST <= moment <= LATEST:
        raise InvalidResponse(f"submitted_at {value[:40]!r} is out of range: not between "
                              f"{EARLIEST.date().isoformat()} and {LATEST.date().isoformat()} in UTC")
    return moment


def _row(item: Any) -> dict[str, Any]:
    """A validated row for the store, or InvalidResponse saying why not."""
    if not isinstance(item, dict):
        raise InvalidResponse("a response must be a JSON object")
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise InvalidResponse(f"unknown field(s): {', '.join(unknown)[:200]}")
    respondent = item.get("respondent_id")
    if not isinstance(respondent, (str, int)) or isinstance(respondent, bool) or \
            not str(respondent).strip() or len(str(respondent)) > 128:
        raise InvalidResponse("respondent_id is missing or not a short string")
    if "\x00" in str(respondent):
        raise InvalidResponse("respondent_id contains a NUL character")
    values = {}
    for qid in QUESTION_IDS:
        value = item.get(qid)
        if value is not None and not isinstance(value, str):
            raise InvalidResponse(f"{qid} must be a string")
        values[qid] = value or ""
    return {"source_respondent_id": str(respondent).strip(),
            "submitted_at": _timestamp(item.get("submitted_at")), **validate(values)}


def _kept(item: Any) -> dict[str, str]:
    """What quarantine keeps of a refused item: its known fields only, shortened."""
    if not isinstance(item, dict):
        return {"json_type": type(item).__name__}  # its content may be anything, personal too
    return {k: str(v)[:200].replace("\x00", "") for k, v in item.items() if k in FIELDS}


@blueprint.post("/responses")
def receive():
    current = services()
    settings, limiter = current.settings, current.ingest_limiter
    _authorise(settings.ingest_token)
    wait = limiter.wait_needed(request.remote_addr or "unknown")
    if wait:
        raise Refused(429, "too many requests", {"Retry-After": str(math.ceil(wait))})
    items = _items(_read_body(settings.ingest_max_bytes), settings.ingest_max_batch)

    accepted_rows, refused = [], []
    for index, item in enumerate(items):
        try:
            accepted_rows.append((index, _row(item)))
        except InvalidResponse as error:
            refused.append(store.Rejected(index, _kept(item), str(error)))
    try:
        with current.live.engine.connect().execution_options(**WRITE) as connection, \
                connection.begin():
            outcome = [store.store_responses(connection, SOURCE, [row]) for _, row in accepted_rows]
            store.quarantine(connection, SOURCE, refused, file_name="POST /api/v1/responses")
    except SQLAlchemyError:
        raise Refused(503, "the store cannot take writes just now; nothing was stored",
                      {"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
    current.live.maybe_publish()  # what was stored is published once the rule lets it

    results: list[dict[str, Any]] = [{} for _ in items]
    for (index, row), result in zip(accepted_rows, outcome):
        results[index] = {"index": index, "respondent_id": row["source_respondent_id"],
                          "status": "stored" if result.accepted else "duplicate"}
    for rejected in refused:
        results[rejected.line_number] = {"index": rejected.line_number, "status": "refused",
                                         "reason": rejected.reason}
    body = {"stored": sum(r.accepted for r in outcome),
            "duplicates": sum(r.duplicates for r in outcome),
            "refused": len(refused), "results": results,
            "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    response = jsonify(body)
    response.status_code = 422 if refused else 201
    response.headers["Cache-Control"] = "no-store"
    return response


def register(server: Flask) -> None:
    server.register_blueprint(blueprint)
