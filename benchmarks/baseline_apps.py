"""Two Dash apps that answer the overview's filter callback, as baselines for the real one.

Both have a callback with the same output and inputs as the overview page's ``render``
(``overview-content.children`` from ``url.search`` and ``data-version.data``), so the very
request the browser sends to the product can be sent to them too.

* :func:`trivial` returns one fixed, small figure: the ceiling (Dash's and the server's own cost).
* :func:`naive` does what the dashboard would do without its counts cube: ``pd.read_sql`` of every
  published response on each call, then filters and per-question percentages with pandas, one
  bar chart per question. The store is the one named by ``DATABASE_URL``.

Served by benchmarks/dashboard_callbacks.py with gunicorn, e.g.
``gunicorn 'benchmarks.baseline_apps:trivial()'``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dash  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402
from dash import Input, Output, dcc, html  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import select  # noqa: E402

from dashboard.query import filter_from_search  # noqa: E402
from data_loaders.db import make_engine  # noqa: E402
from data_loaders.models import Response  # noqa: E402
from survey.questionnaire import QUESTIONS  # noqa: E402

CONTENT, URL, VERSION = "overview-content", "url", "data-version"


def _app() -> dash.Dash:
    app = dash.Dash(__name__, update_title=None, compress=False)
    app.layout = html.Div([dcc.Location(id=URL, refresh=False),
                           dcc.Store(id=VERSION, data="0"),
                           html.Div(id=CONTENT)])
    return app


def _bars(title: str, labels: list[str], percents: list[float]) -> go.Figure:
    return go.Figure(go.Bar(x=percents, y=labels, orientation="h"),
                     layout={"title": {"text": title}, "height": 260,
                             "xaxis": {"range": [0, 100], "ticksuffix": "%"},
                             "margin": {"l": 10, "r": 20, "t": 50, "b": 40}})


def trivial() -> Flask:
    """The ceiling: the same callback signature, returning a fixed small figure.

    The figure is a ``go.Figure``, as a Dash app writes one, and is encoded by plotly's ``json``
    engine: with orjson installed (the product's requirements install it) plotly would pick
    orjson, which encodes a ``go.Figure`` inside a component about a fifth slower, through its
    fallback; the ceiling gets the faster of the two."""
    pio.json.config.default_engine = "json"  # this process serves the trivial app alone
    app = _app()
    figure = _bars("Fixed", ["Yes", "No"], [60.0, 40.0])

    @app.callback(Output(CONTENT, "children"), Input(URL, "search"), Input(VERSION, "data"))
    def render(_search, _version):
        return dcc.Graph(figure=figure)

    return app.server


def naive() -> Flask:
    """Every call reads every published response with pandas and computes the percentages
    afresh."""
    app = _app()
    engine = make_engine(os.environ["DATABASE_URL"])
    every_row = select(Response.__table__).where(Response.release_seq.is_not(None))

    @app.callback(Output(CONTENT, "children"), Input(URL, "search"), Input(VERSION, "data"))
    def render(search, _version):
        view = filter_from_search(search)
        with engine.connect() as connection:
            frame = pd.read_sql(every_row, connection)
        if view.roles:
            frame = frame[frame["role"].isin(view.roles)]
        if view.social_media:
            frame = frame[frame["uses_social_media"] == view.social_media]
        frame = frame[frame["uses_social_media"] != "no_answer"]
        children = [html.P(f"{len(frame):,} responses in this view")]
        for question in QUESTIONS:
            answered = frame[question.id][frame[question.id].isin(question.codes)]
            percents = (answered.value_counts(normalize=True)
                        .reindex(list(question.codes), fill_value=0.0) * 100).round(1)
            children.append(dcc.Graph(figure=_bars(
                f"Q{question.number}. {question.short_title}",
                [question.label_of(code) for code in question.codes], percents.tolist())))
        return children

    return app.server
