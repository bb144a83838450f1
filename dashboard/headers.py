"""Headers on every response: who may frame what, and what the browser may sniff or send on.

Only the embeds (``/embed/...``) may be shown inside another site's frame; the dashboard and
everything else refuse to be framed (CSP frame-ancestors, and X-Frame-Options for browsers that
predate it).
"""

from __future__ import annotations

from flask import Flask, Response, request

EMBED_PREFIX = "/embed/"
EMBED_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                "frame-ancestors *")
APP_POLICY = "frame-ancestors 'none'"


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.path.startswith(EMBED_PREFIX):
        headers["Content-Security-Policy"] = EMBED_POLICY
    else:
        headers["Content-Security-Policy"] = APP_POLICY
        headers["X-Frame-Options"] = "DENY"
    return response


def register(server: Flask) -> None:
    server.after_request(_secure)
