"""PNG and SVG images of a chart, with its footer, rendered on the server by kaleido.

Kaleido drives a headless Chromium (the system's own); one is kept running per process, started on
first use, since starting it costs seconds and rendering with it a fraction of one. Images are
cached per chart, filter, format and data version, so article traffic renders each image once per
change of the data.
"""

from __future__ import annotations

import copy
import threading
import warnings
from collections import OrderedDict
from typing import Any

import plotly.io

from dashboard.figures import Figure

IMAGE_WIDTH = 900
CACHE_SIZE = 256
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}

_lock = threading.Lock()
_server_started = False
_cache: OrderedDict[tuple, bytes] = OrderedDict()


def footer_text(payload: dict[str, Any]) -> str:
    n = "n not shown (too few responses)" if payload["n"] is None else f"n = {payload['n']:,}"
    sources = " · ".join(payload["sources"])
    demo = "DEMO DATA, not survey results · " if payload.get("demo_data") else ""
    return (f"{demo}{payload['filters_text']} · {n} · data as of {payload['as_of'][:16]} UTC"
            f"<br>Source: {sources}")


def figure_with_footer(payload: dict[str, Any]) -> Figure:
    figure = copy.deepcopy(payload["figure"])
    layout = figure.setdefault("layout", {})
    margin = layout.get("margin") or {}
    bottom = margin.get("b") or 40  # read before the margin grows to make room for the footer
    layout.update(height=(layout.get("height") or 400) + 70, width=IMAGE_WIDTH,
                  margin={**margin, "b": bottom + 70})
    layout["annotations"] = [*layout.get("annotations", ()), {
        "text": footer_text(payload), "showarrow": False, "xref": "paper", "yref": "paper",
        "x": 0, "y": 0, "xanchor": "left", "yanchor": "top", "yshift": -bottom - 10,
        "align": "left", "font": {"size": 10, "color": "#444"}}]
    return figure


def _ensure_server() -> None:
    global _server_started
    if not _server_started:
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
        _server_started = True


def render(payload: dict[str, Any], fmt: str, key: tuple) -> bytes:
    """The image of ``payload`` in ``fmt`` ("png" or "svg"); ``key`` names it in the cache
    (chart, filters and data version: equal keys must mean equal payloads)."""
    cache_key = (*key, fmt)
    with _lock:
        if cache_key in _cache:
            _cache.move_to_end(cache_key)
            return _cache[cache_key]
        _ensure_server()
        with warnings.catch_warnings():
            # plotly passes kaleido options that a running kaleido server ignores, and says so.
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            image = plotly.io.to_image(figure_with_footer(payload), format=fmt,
                                       scale=2 if fmt == "png" else 1)
        _cache[cache_key] = image
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return image
