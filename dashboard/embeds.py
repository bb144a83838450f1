"""Embeddable charts, their images and their numbers, for articles and slides.

``/embed/<chart>`` is a light page that fills the width it is given: the chart is drawn by the
server as plain HTML and CSS (no Dash, no plotly, so it shows as soon as the page arrives), and a
small script tells the parent page its height and, when live, fetches the page again at most every
``EMBED_REFRESH_SECONDS``, swapping in the new figures when the data version has changed.
``/embed/<chart>.png``, ``.svg``, ``.csv``, ``.xlsx`` and ``.json`` give the same chart as an image
or as numbers. The Explore and Live pages' charts take the choices those pages put in their links
as well as the filter (``/embed/crosstab?rows=…&columns=…``, ``/embed/by-role?by_role=…``,
``/embed/timeline``); a choice a chart does not take is refused with 400, as a bad filter is.
``/embed/frozen/<token>...`` gives a chart as it was
when it was frozen, for ever. Every response carries an ETag tied to the data version and
Cache-Control, so a proxy or CDN can serve article traffic and a conditional request for
unchanged data gets 304 without the chart being computed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, render_template, request

from analysis.views import Filter, InvalidFilter
from dashboard import caching, charts, downloads, images, query
from dashboard.context import current_view, services
from dashboard.query import search_for
from data_loaders import frozen
from survey.questionnaire import BY_ID

FORMATS = {"html", "json", "csv", "xlsx", "png", "svg"}
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv",
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


def _request_chart(chart_id: str) -> tuple[charts.Chart, Filter]:
    """The chart and filter the request names: the filter's parameters, and the chart's own."""
    social = request.args.getlist("social_media")
    if len(social) > 1:
        raise InvalidFilter("social_media may be given once")
    given = {key: request.args.getlist(key) for key in request.args
             if key not in query.FILTER_KEYS}
    chart = charts.chart_for(chart_id, given) or abort(404)
    return chart, Filter.parse(request.args.getlist("role"), social[0] if social else None)


def _drawing(payload: dict[str, Any]) -> dict[str, Any]:
    """What the embed page draws of a chart of the Explore or Live page, from its rows."""
    rows, kind = payload["rows"], payload["chart"]
    if kind == "crosstab":
        answers = {a.label for a in BY_ID[payload["choices"]["columns"]].answers}
        columns = [c for c in dict.fromkeys(r["column"] for r in rows) if c in answers]
        missing = [c for c in dict.fromkeys(r["column"] for r in rows) if c not in columns]
        table: dict[str, dict[str, Any]] = {}
        for r in rows:
            row = table.setdefault(r["row"], {"label": r["row"], "base": r["row_base"],
                                              "cells": [], "missing": []})
            if r["column"] in columns:
                shade = _shade(r["percent"]) if r["percent"] is not None else None
                row["cells"].append({**r, "shade": shade})
            else:
                row["missing"].append(r)
        return {"columns": columns, "missing": missing, "rows": list(table.values())}
    if kind == "by-role":
        answers = list(dict.fromkeys(r["answer"] for r in rows))
        groups: dict[str, dict[str, Any]] = {}
        for r in rows:
            groups.setdefault(r["group"], {"label": r["group"], "base": r["base"], "bars": []})
            groups[r["group"]]["bars"].append({**r, "colour": answers.index(r["answer"])})
        notes = payload["notes"]
        for group in groups.values():
            group["withheld"] = next((note[len(group["label"]) + 2:] for note in notes
                                      if note.startswith(f"{group['label']}: ")), "Not shown")
        withheld = next((note for note in notes if note.startswith("Not shown")), "Not shown")
        return {"answers": answers, "groups": list(groups.values()), "withheld": withheld}
    if kind == "timeline":
        return _timeline_drawing(rows)
    return {}


LIGHT, DARK = (247, 251, 255), (66, 146, 198)
"""The shading of a cross-tab cell at 0% and at 100% (dark text is readable on both)."""


def _shade(percent: float) -> str:
    share = max(0.0, min(percent, 100.0)) / 100
    return "rgb({},{},{})".format(*(round(a + (b - a) * share) for a, b in zip(LIGHT, DARK)))


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** max(0, len(str(int(value))) - 1)
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _timeline_drawing(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Cumulative responses as one bar a day and the margin of error as a step line, in a
    viewBox 0 0 100 100 that the page stretches to its width."""
    if not rows:
        return {"days": 0}
    top = _nice_top(max(r["responses"] for r in rows))
    margins = [r["margin_of_error"] for r in rows if r["margin_of_error"] is not None]
    margin_top = _nice_top(max(margins)) if margins else 1
    width = 100 / len(rows)
    bars, steps = [], []
    for i, r in enumerate(rows):
        height = 100 * r["responses"] / top
        bars.append({"x": round(i * width + width * 0.1, 3), "width": round(width * 0.8, 3),
                     "y": round(100 - height, 3), "height": round(height, 3), **r})
        if r["margin_of_error"] is not None:
            y = round(100 - 100 * r["margin_of_error"] / margin_top, 3)
            steps.append(f"{round(i * width, 3)},{y} {round((i + 1) * width, 3)},{y}")
    return {"days": len(rows), "top": top, "margin_top": margin_top, "bars": bars,
            "margin_line": " ".join(steps), "first": rows[0]["day"], "last": rows[-1]["day"],
            "latest": rows[-1]}


def _render(payload: dict[str, Any], fmt: str, *, frozen_chart: bool, image_key: tuple) -> Response:
    filename = downloads.file_stem(payload)
    if fmt == "html":
        settings = services().settings
        body = render_template("embed.html", payload=payload, frozen=frozen_chart,
                               drawing=_drawing(payload),
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
    chart, view_filter = _request_chart(chart_id)
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


class FreezeRefused(Exception):
    """Freezing refused: no such chart or choice (400), too many requests from this client
    (429, with ``retry_after``), or the store keeps as many frozen embeds as it may (409); the
    message says which."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def freeze(chart_ref: str, view_filter: Filter, client: str) -> str:
    """Freeze a chart as the current release shows it; returns the path of its frozen embed.
    ``chart_ref`` is a chart's id, followed for the Explore page's charts by their choices as
    a query string (``crosstab?rows=…&columns=…``, as :func:`chart_ref` writes it). The same
    chart, resolved filter and release always give the same path; ``client`` (its address)
    may freeze ``FREEZE_RATE_PER_MINUTE`` times a minute."""
    current = services()
    wait = current.freeze_limiter.wait_needed(client)
    if wait:
        raise FreezeRefused(429, "too many frozen embeds asked for from this address; try again "
                                 "in a minute", retry_after=max(1, math.ceil(wait)))
    chart_id, _, choices = chart_ref.partition("?")
    try:
        chart = charts.chart_for(chart_id, query.parse(choices))
    except charts.InvalidChoice as error:
        raise FreezeRefused(400, str(error)) from None
    if chart is None:
        raise FreezeRefused(400, f"there is no chart {chart_id!r} to freeze")
    view = current_view(view_filter)
    search = search_for(view.summary.view)
    payload = charts.payload(chart, view, search)
    for key, value in chart.choices:
        search = query.with_value(search, key, value)
    try:
        token = frozen.freeze(current.live.engine, chart_id, search, payload,
                              datetime.now(timezone.utc), release=view.snapshot.version,
                              limit=current.settings.frozen_embed_limit)
    except frozen.FreezeLimitReached as error:
        raise FreezeRefused(409, str(error)) from None
    return f"/embed/frozen/{token}"


def chart_ref(chart_id: str, choices: Mapping[str, str] | None = None) -> str:
    """The chart and its choices, as :func:`freeze` takes them."""
    return f"{chart_id}?{urlencode(sorted(choices.items()))}" if choices else chart_id


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

