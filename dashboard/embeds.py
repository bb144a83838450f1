"""Embeddable charts, their images and their numbers, for articles and slides.

``/embed/<chart>`` is a light page that fills the width it is given: the chart is drawn by the
server as plain HTML and CSS (no Dash, no plotly, so it shows as soon as the page arrives), and a
small script tells the parent page its height and, when live, fetches the page again at most every
``EMBED_REFRESH_SECONDS``, swapping in the new figures when the data version has changed.
``/embed/<chart>.png``, ``.svg``, ``.csv``, ``.xlsx`` and ``.json`` give the same chart as an image
or as numbers. ``/embed/frozen/<token>...`` gives a chart as it was
when it was frozen, for ever. Every response carries an ETag tied to the data version and
Cache-Control, so a proxy or CDN can serve article traffic and a conditional request for
unchanged data gets 304 without the chart being computed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from analysis.views import Filter, InvalidFilter
from dashboard import caching, charts, downloads, images
from dashboard.api import filter_from_request
from dashboard.context import current_view, services
from dashboard.query import search_for
from data_loaders import frozen

FORMATS = {"html", "json", "csv", "xlsx", "png", "svg"}
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               **images.MEDIA_TYPES}
FROZEN_CACHE = "public, max-age=31536000, immutable"
STATIC = Path(__file__).parent / "static"
SCRIPT_VERSION = hashlib.sha256((STATIC / "embed.js").read_bytes()).hexdigest()[:12]

blueprint = Blueprint("embeds", __name__, static_folder="static", static_url_path="/embed-static",
                      template_folder="templates")


def _split(name: str) -> tuple[str, str]:
    stem, _, fmt = name.partition(".")
    fmt = fmt or "html"
    if fmt not in FORMATS:
        abort(404)
    return stem, fmt


def _render(payload: dict[str, Any], fmt: str, *, frozen_chart: bool, image_key: tuple) -> Response:
    stamp = payload["as_of"][:10]
    filename = f"survey-{payload['chart']}-{stamp}"
    if fmt == "html":
        settings = services().settings
        body = render_template("embed.html", payload=payload, frozen=frozen_chart,
                               full_view=request.host_url.rstrip("/") + payload["link"],
                               script_version=SCRIPT_VERSION,
                               refresh_seconds=settings.embed_refresh_seconds)
        return Response(body, mimetype="text/html")
    if fmt == "json":
        return jsonify(payload)
    if fmt in ("csv", "xlsx"):
        data = downloads.to_csv(payload) if fmt == "csv" else downloads.to_xlsx(payload)
        response = Response(data, mimetype=MEDIA_TYPES[fmt])
    else:
        response = Response(images.render(payload, fmt, image_key), mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@blueprint.errorhandler(InvalidFilter)
def _bad_filter(error: InvalidFilter):
    return jsonify({"error": str(error)}), 400


@blueprint.get("/embed/<name>")
def live_chart(name: str):
    chart_id, fmt = _split(name)
    chart = charts.CHARTS.get(chart_id) or abort(404)
    view_filter = filter_from_request()
    settings = services().settings
    snapshot = services().live.snapshot()
    etag = caching.etag(snapshot.version, chart_id, fmt, request.query_string.decode(),
                        SCRIPT_VERSION)
    cache_control = f"public, max-age={int(settings.embed_refresh_seconds)}"
    if caching.not_modified(etag):
        return caching.unchanged(etag, cache_control, snapshot.as_of)
    view = current_view(view_filter)
    payload = charts.payload(chart, view, search_for(view.summary.view))
    response = _render(payload, fmt, frozen_chart=False,
                       image_key=(chart_id, request.query_string, snapshot.version))
    return caching.finish(response, etag, cache_control, snapshot.as_of)


@blueprint.get("/embed/frozen/<name>")
def frozen_chart(name: str):
    token, fmt = _split(name)
    etag = caching.etag("frozen", token, fmt, SCRIPT_VERSION)
    if caching.not_modified(etag):
        return caching.unchanged(etag, FROZEN_CACHE, datetime.now(timezone.utc))
    found = frozen.thawed(services().live.engine, token) or abort(404)
    _chart_id, payload = found
    response = _render(payload, fmt, frozen_chart=True, image_key=("frozen", token))
    return caching.finish(response, etag, FROZEN_CACHE, datetime.fromisoformat(payload["as_of"]))


def freeze(chart_id: str, view_filter: Filter) -> str:
    """Freeze a chart as it is now; returns the path of its frozen embed."""
    chart = charts.CHARTS[chart_id]
    view = current_view(view_filter)
    search = search_for(view.summary.view)
    payload = charts.payload(chart, view, search)
    token = frozen.freeze(services().live.engine, chart_id, search, payload,
                          datetime.now(timezone.utc))
    return f"/embed/frozen/{token}"


def snippet(src: str, title: str) -> str:
    """What a journalist pastes: the iframe and the few lines that apply its height messages."""
    return (
        f'<iframe src="{src}" title="{title}" style="width:100%;border:0;min-height:240px" '
        'scrolling="no" loading="lazy" data-survey-embed></iframe>\n'
        "<script>window.addEventListener(\"message\",function(e){"
        "if(!e.data||e.data.type!==\"survey-embed-height\")return;"
        "document.querySelectorAll(\"iframe[data-survey-embed]\").forEach(function(f){"
        "if(f.contentWindow===e.source)f.style.height=e.data.height+\"px\";});});</script>"
    )


def register(server) -> None:
    server.register_blueprint(blueprint)

