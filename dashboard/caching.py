"""Validators and cache lifetimes tied to the data version, so that a reverse proxy or CDN can
serve article traffic and a conditional request for unchanged data gets 304 at once."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from email.utils import format_datetime

from flask import Response, request

_VALIDATOR = re.compile(r'([Ww]/)?"([^"]*)"')


def etag(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def not_modified(tag: str) -> bool:
    """Whether the client already holds this version; compression appends its encoding to the
    tag (``"…:gzip"``), which names the same data."""
    return held(tag) is not None


def held(tag: str) -> str | None:
    """The validator in the request's If-None-Match that names this version (the first, if the
    client holds it in several encodings), as the client wrote it (``"…:gzip"``, ``W/"…"``)."""
    for match in _VALIDATOR.finditer(request.headers.get("If-None-Match", "")):
        if match.group(2).split(":", 1)[0] == tag:
            return match.group(0)
    return None


def finish(response: Response, tag: str, cache_control: str, modified: datetime) -> Response:
    response.set_etag(tag)
    response.headers["Cache-Control"] = cache_control
    response.headers["Last-Modified"] = format_datetime(modified.astimezone(timezone.utc),
                                                        usegmt=True)
    response.vary.add("Accept-Encoding")
    return response


def unchanged(tag: str, cache_control: str, modified: datetime) -> Response:
    """304 Not Modified, for a request whose If-None-Match names this version. It carries the
    validator the client sent, which is the ETag of the copy it holds (with the encoding the
    compression layer appended to it), so that a cache refreshes that copy."""
    response = finish(Response(status=304), tag, cache_control, modified)
    response.headers["ETag"] = held(tag) or response.headers["ETag"]
    return response
