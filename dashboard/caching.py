"""Validators and cache lifetimes tied to the data version, so that a reverse proxy or CDN can
serve article traffic and a conditional request for unchanged data gets 304 at once."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from email.utils import format_datetime

from flask import Response, request


def etag(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def not_modified(tag: str) -> bool:
    """Whether the client already holds this version; compression appends its encoding to the
    tag (``"…:gzip"``), which names the same data."""
    return any(given.split(":", 1)[0] == tag
               for given in request.if_none_match.as_set(include_weak=True))


def finish(response: Response, tag: str, cache_control: str, modified: datetime) -> Response:
    response.set_etag(tag)
    response.headers["Cache-Control"] = cache_control
    response.headers["Last-Modified"] = format_datetime(modified.astimezone(timezone.utc),
                                                        usegmt=True)
    response.vary.add("Accept-Encoding")
    return response


def unchanged(tag: str, cache_control: str, modified: datetime) -> Response:
    return finish(Response(status=304), tag, cache_control, modified)
