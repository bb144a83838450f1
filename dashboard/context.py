"""What a page callback needs from the application, without importing the app object."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import dash
from flask import Response, current_app, g, request

from analysis.benchmark import Study, load_study
from analysis.summary import Summary, summarise
from analysis.views import Filter
from dashboard import ids
from dashboard.live import LiveData, Snapshot
from survey.settings import Settings

EXTENSION = "survey_dashboard"
RESPONSES = "survey_dashboard_responses"
_SNAPSHOT = "survey_dashboard_snapshot"
_RESPONSE_KEY = "survey_dashboard_response_key"


@dataclass(frozen=True)
class Services:
    settings: Settings
    live: LiveData
    ingest_limiter: Any
    freeze_limiter: Any


def services() -> Services:
    return current_app.extensions[EXTENSION]


@dataclass(frozen=True)
class View:
    """Everything a page shows for one filter: the snapshot, the settings and the summary."""

    snapshot: Snapshot
    settings: Settings
    summary: Summary
    study: Study

    @property
    def min_cell_size(self) -> int:
        return self.settings.min_cell_size


def current_snapshot() -> Snapshot:
    """The data this request shows: read once per request that a remembered response may
    answer, so that the response and the data version it is remembered under agree."""
    return g.get(_SNAPSHOT) or services().live.snapshot()


def current_view(view: Filter) -> View:
    current = services()
    snapshot = current_snapshot()
    minimum = current.settings.min_cell_size
    summary = summarise(snapshot.cube, snapshot.grouping, view, minimum, snapshot.safety)
    return View(snapshot, current.settings, summary, load_study())


RENDER_CACHE_SIZE = 256
_PURE = "survey_dashboard_pure_render"


def cached_render(render: Callable[..., Any]) -> Callable[..., Any]:
    """Declares a page's render callback a pure function of its inputs and of the data.

    What such a page shows is a function of its query string (and of the host, which the embed
    snippets name) and of the data, whatever version of the data the browser says it holds: the
    data-version input only makes the browser ask again when the data changes. So the encoded
    response is remembered (:class:`ResponseCache`) per inputs and the server's data version,
    and the same view asked for again, by this reader or any other, costs a lookup until the
    data changes.
    """
    setattr(render, _PURE, True)
    return render


def _remembered(callback: Callable) -> bool:
    """Whether ``callback`` (as Dash wraps it) is a :func:`cached_render` callback."""
    seen: Callable | None = callback
    while seen is not None:
        if getattr(seen, _PURE, False):
            return True
        seen = getattr(seen, "__wrapped__", None)
    return False


@dataclass(frozen=True)
class _Encoded:
    body: bytes
    content_type: str


HELD_DATA_MAX_AGE = 1.0
"""Seconds a worker may answer a page callback without asking the store for new rows, when the
browser already holds the data version the worker has: nothing it shows can go back in time, and
new rows reach the page at most this much later. Any other request asks the store first."""


def _held_version(body: dict) -> Any:
    """The data version the browser says it holds (the ``data-version`` input), if it says."""
    inputs = body.get("inputs")
    return next((item.get("value") for item in inputs
                 if isinstance(item, dict) and item.get("id") == ids.VERSION),
                None) if isinstance(inputs, list) else None


class ResponseCache:
    """The responses of the :func:`cached_render` callbacks, as Dash encoded them, remembered
    per request inputs, host and data version (at most ``size``, the least recently used
    forgotten first).

    A request such a response answers is answered before Dash parses it: the same bytes, and the
    same headers, since every ``after_request`` step (compression among them) still runs. Only
    responses a callback returned in full are remembered (200, not compressed); anything else,
    from "no update" to an error, is left to Dash each time.
    """

    def __init__(self, live: LiveData, size: int = RENDER_CACHE_SIZE) -> None:
        self.live = live
        self.size = size
        self.outputs: frozenset[str] = frozenset()
        self.endpoint: str | None = None
        self._responses: OrderedDict[tuple, _Encoded] = OrderedDict()
        self._lock = threading.Lock()

    def register(self, app: dash.Dash) -> None:
        """Before the app's first request (Flask accepts hooks only then)."""
        self.endpoint = app.config.routes_pathname_prefix + "_dash-update-component"
        app.server.extensions[RESPONSES] = self
        app.server.before_request(self._answer)
        app.server.after_request(self._remember)

    def bind(self, app: dash.Dash) -> None:
        """After the app's first request, when Dash has bound the callbacks to it."""
        self.outputs = frozenset(output for output, spec in app.callback_map.items()
                                 if _remembered(spec.get("callback")))

    def __len__(self) -> int:
        return len(self._responses)

    def _key(self, body: dict, version: str) -> tuple | None:
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            return None
        given = [item for item in inputs
                 if not (isinstance(item, dict) and item.get("id") == ids.VERSION)]
        try:
            text = json.dumps([body.get("outputs"), given, body.get("state")], sort_keys=True,
                              separators=(",", ":"))
        except (TypeError, ValueError):
            return None
        return body["output"], text, request.host_url, version

    def _answer(self) -> Response | None:
        if request.endpoint != self.endpoint or not self.outputs:
            return None
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("output"), str):
            return None
        if body["output"] not in self.outputs:
            return None
        snapshot = self.live.snapshot(max_age=HELD_DATA_MAX_AGE)
        if snapshot.version != _held_version(body):
            snapshot = self.live.snapshot()
        key = self._key(body, snapshot.version)
        if key is None:
            return None
        with self._lock:
            found = self._responses.get(key)
            if found is not None:
                self._responses.move_to_end(key)
        if found is not None:
            return Response(found.body, status=200, content_type=found.content_type)
        setattr(g, _SNAPSHOT, snapshot)
        setattr(g, _RESPONSE_KEY, key)
        return None

    def _remember(self, response: Response) -> Response:
        key = g.pop(_RESPONSE_KEY, None)
        if (key is None or response.status_code != 200 or response.is_streamed
                or "Content-Encoding" in response.headers):
            return response
        encoded = _Encoded(response.get_data(), response.content_type)
        with self._lock:
            self._responses[key] = encoded
            self._responses.move_to_end(key)
            while len(self._responses) > self.size:
                self._responses.popitem(last=False)
        return response
