"""Headers on every response: what a page may load and run, who may frame it, and what the
browser may sniff or send on.

Only the embeds (``/embed/...``) may be shown inside another site's frame; the dashboard and
everything else refuse to be framed (CSP frame-ancestors, and X-Frame-Options for browsers that
predate it). Pages run only the scripts the app serves itself and, inline, the ones Dash writes
into its index page, named by their hashes (:func:`allow_inline_scripts`).
"""

from __future__ import annotations

from typing import Iterable

from flask import Flask, Response, current_app, request

EMBED_PREFIX = "/embed/"
EMBED_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                "frame-ancestors *")
POLICY = "survey_dashboard_content_security_policy"


def app_policy(script_hashes: Iterable[str] = ()) -> str:
    """The policy of every response but the embeds'. Styles may be inline: plotly.js and Dash's
    components set them on elements as they draw."""
    scripts = " ".join(["'self'", *script_hashes])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def allow_inline_scripts(server: Flask, script_hashes: Iterable[str]) -> None:
    """Let pages run these inline scripts (CSP hash sources such as ``'sha256-…'``)."""
    server.extensions[POLICY] = app_policy(script_hashes)


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.path.startswith(EMBED_PREFIX):
        headers["Content-Security-Policy"] = EMBED_POLICY
    else:
        headers["Content-Security-Policy"] = current_app.extensions.get(POLICY) or app_policy()
        headers["X-Frame-Options"] = "DENY"
    return response


def register(server: Flask) -> None:
    server.after_request(_secure)
