"""Live: responses over time, the current rate, and the precision each role group has reached."""

from __future__ import annotations

from datetime import timedelta

import dash
from dash import Input, Output, callback
from flask import request

from analysis import statements
from analysis.timeline import TARGET_MARGIN, needed_for
from dashboard import ids, query
from dashboard.charts import timeline_of
from dashboard.components import graph, headline, share_panel
from dashboard.context import current_view
from dashboard.figures import describe_timeline, timeline_figure
from dashboard.markup import html

dash.register_page(__name__, path="/live", name="Live", order=3,
                   title="Live responses: survey of UK social care professionals")

CONTENT = "live-content"


def layout(**_query):
    return html.Div(id=CONTENT, className="page", children=html.P("Loading…"))


def ago(delta: timedelta | None) -> str:
    if delta is None:
        return "not yet"
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return f"{seconds} seconds ago"


@callback(Output(CONTENT, "children"), Input(ids.URL, "search"), Input(ids.VERSION, "data"))
def render(search, _version):
    if query.value(search, "present") == "1":
        raise dash.exceptions.PreventUpdate  # meeting mode shows one chart instead
    view = current_view(query.filter_from_search(search))
    line = timeline_of(view)
    rows = [html.Tr([html.Td(p.label), html.Td(f"{p.responses:,}"),
                     html.Td("–" if p.margin is None else f"±{p.margin:.1f} points"),
                     html.Td("reached" if p.more_needed == 0 else f"{p.more_needed:,} more")])
            for p in line.precision]
    note = ("Counted here, as in every chart of the same view, are the published responses. "
            "Responses are published in batches, never one by one: a batch adds nobody or at "
            f"least {view.min_cell_size} people to each role group, so times here are those of "
            "publication, not of arrival. " + statements.DAYS)
    return [
        html.Div([
            headline("responses in this view",
                     f"{int(line.cumulative[-1]) if len(line.cumulative) else 0:,}",
                     tile_id="live-total"),
            headline("published in the last hour", f"{line.last_hour:,}",
                     f"{line.last_day:,} in the last 24 hours", tile_id="live-rate"),
            headline("since the figures last moved", ago(line.since_last), tile_id="live-since"),
        ], className="headlines"),
        html.P(note, className="hint"),
        html.Section([graph(timeline_figure(line), "responses-over-time", graph_id="chart-timeline"),
                      html.P(describe_timeline(line), className="visually-hidden"),
                      share_panel("timeline", query.search_for(view.summary.view),
                                  request.host_url, "Responses so far")],
                     className="card", id="card-timeline"),
        html.Section([
            html.H2("Precision by role"),
            html.P(f"Margin of error at 95% for a result near 50%, and how many more responses would "
                   f"bring it to ±{TARGET_MARGIN:.0f} points ({needed_for():,} in all)."),
            html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                            ("Role", "Responses", "Margin of error",
                                             f"For ±{TARGET_MARGIN:.0f} points")])),
                        html.Tbody(rows)], className="numbers", id="precision-table"),
        ], className="card"),
    ]
