"""What a page callback needs from the application, without importing the app object."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, request

from analysis.benchmark import Study, load_study
from analysis.summary import Summary, summarise
from analysis.views import Filter
from dashboard.live import LiveData, Snapshot
from survey.settings import Settings

EXTENSION = "survey_dashboard"


@dataclass(frozen=True)
class Services:
    settings: Settings
    live: LiveData
    ingest_limiter: Any


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


def current_view(view: Filter) -> View:
    current = services()
    snapshot = current.live.snapshot()
    minimum = current.settings.min_cell_size
    summary = summarise(snapshot.cube, snapshot.grouping, view, minimum, snapshot.safety)
    return View(snapshot, current.settings, summary, load_study())


_RENDERED: OrderedDict[tuple, Any] = OrderedDict()
_RENDERED_LOCK = threading.Lock()
RENDER_CACHE_SIZE = 256


def cached_render(render: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """A page's render callback, remembered per filter and data version.

    What a page shows is a function of its query string and the data version (and of the host,
    which the embed snippets name), so the same view asked for again, by this reader or any
    other, costs a lookup until the data changes.
    """
    @functools.wraps(render)
    def remembered(search: str, version: str):
        key = (id(current_app._get_current_object()), render.__module__, search or "",
               version, request.host_url)
        with _RENDERED_LOCK:
            if key in _RENDERED:
                _RENDERED.move_to_end(key)
                return _RENDERED[key]
        result = render(search, version)
        with _RENDERED_LOCK:
            _RENDERED[key] = result
            if len(_RENDERED) > RENDER_CACHE_SIZE:
                _RENDERED.popitem(last=False)
        return result
    return remembered
