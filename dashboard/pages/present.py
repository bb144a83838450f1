"""Meeting mode: every chart, one a screen, in type large enough for a projector.

``?present=1`` on any dashboard address turns the page into the presentation; ``&slide=N`` names
the chart shown (1 to the number of charts in :data:`dashboard.charts.CHARTS`, in their order), so
a copied link reopens the same slide. The filters stay, below the slide, and keep working; the slide
follows the data as the rest of the dashboard does, and "Exit" (or Esc) goes back to the same page
with the same filters.

This module is part of the shell rather than a page of its own (the presentation can be opened
over any page), so its callbacks are bound to each app by :func:`register`, called from
:func:`dashboard.shell.register`. The keys (arrows, PageUp and PageDown, Esc) and the Fullscreen
API are handled in the browser by ``assets/present.js``.
"""

from __future__ import annotations

import copy
from datetime import datetime

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard import charts, deck, ids, query
from dashboard.context import current_view
from dashboard.figures import Figure
from dashboard.live import LiveData

PRESENT_KEY, SLIDE_KEY = "present", "slide"
VIEW = "present-view"
STATE = "present-state"
COUNTER, TITLE, FILTERS = "present-counter", "present-title", "present-filters"
GRAPH, GRAPH_BOX = "present-graph", "present-graph-box"
DESCRIPTION, NOTES = "present-description", "present-notes"
META, SOURCE, DEMO = "present-meta", "present-source", "present-demo"
PREVIOUS, NEXT, FULLSCREEN = "present-previous", "present-next", "present-fullscreen"
EXIT, PPTX, PDF = "present-exit", "present-pptx", "present-pdf"

FONT_SIZE = 20
"""Base font size of a chart on a slide (the dashboard's charts use 13)."""
SCALE = FONT_SIZE / 13


def chart_ids() -> list[str]:
    return list(charts.CHARTS)


def is_presenting(search: str | None) -> bool:
    return query.value(search, PRESENT_KEY) == "1"


def slide_number(search: str | None) -> int:
    """The slide the link names, 1-based, brought within range; 1 when it names none."""
    try:
        number = int(query.value(search, SLIDE_KEY, "1"))
    except ValueError:
        number = 1
    return min(max(number, 1), len(charts.CHARTS))


def present_search(search: str | None, slide: int | None = None) -> str:
    """``search`` in meeting mode: its filters (and anything else) kept, at ``slide`` if given."""
    updated = query.with_value(search, PRESENT_KEY, "1")
    return query.with_value(updated, SLIDE_KEY, None if slide is None else str(slide))


def exit_search(search: str | None) -> str:
    return query.with_value(query.with_value(search, PRESENT_KEY, None), SLIDE_KEY, None)


def projector_figure(figure_json: Figure) -> Figure:
    """A chart's figure for a slide: sized by its box, larger type, no title (the slide has it)."""
    figure = copy.deepcopy(figure_json)
    layout = figure.setdefault("layout", {})
    layout.pop("height", None)
    layout.pop("title", None)
    layout["autosize"] = True
    layout["font"] = {**layout.get("font", {}), "size": FONT_SIZE}
    layout["margin"] = {**layout.get("margin", {}), "l": 10, "r": 30, "t": 20, "b": 80}
    for annotation in layout.get("annotations", ()):
        font = annotation.setdefault("font", {})
        font["size"] = round((font.get("size") or 13) * SCALE)
        if annotation.get("yshift"):
            annotation["yshift"] = annotation["yshift"] * SCALE
    for trace in figure.get("data", ()):
        if trace.get("type", "scatter") == "scatter":
            trace["marker"] = {**trace.get("marker", {}), "size": 18}
    return figure


def graph_height(figure_json: dict) -> str:
    """Room for the chart: its own height, grown with the type, within the screen."""
    natural = (figure_json.get("layout") or {}).get("height") or 400
    return f"clamp(280px, {round(natural * 1.9)}px, calc(100vh - 330px))"


def view() -> html.Section:
    """The presentation, hidden until the link asks for it."""
    return html.Section([
        dcc.Store(id=STATE),
        html.Div([
            html.P(id=COUNTER, className="present-counter", **{"aria-live": "polite"}),
            html.Div([
                html.Button("\u2190 Previous", id=PREVIOUS, n_clicks=0, type="button",
                            className="present-button", title="Previous chart (Left arrow)"),
                html.Button("Next \u2192", id=NEXT, n_clicks=0, type="button",
                            className="present-button", title="Next chart (Right arrow)"),
                html.Button("Full screen", id=FULLSCREEN, type="button",
                            className="present-button", **{"aria-pressed": "false"}),
                html.A("Slides (PowerPoint)", id=PPTX, href=deck.href("pptx", ""), download="",
                       className="present-button"),
                html.A("PDF", id=PDF, href=deck.href("pdf", ""), download="",
                       className="present-button"),
                html.A("Filters", href="#filters", className="present-button",
                       title="The filters, below the chart"),
                dcc.Link("Exit", id=EXIT, href="/", className="present-button present-exit",
                         title="Back to the dashboard (Esc)"),
            ], className="present-controls", role="group",
                **{"aria-label": "Presentation controls"}),
        ], className="present-bar"),
        html.Article([
            html.H2(id=TITLE, className="present-title", **{"aria-live": "polite"}),
            html.P(id=FILTERS, className="present-filters"),
            html.P(id=DEMO, className="present-demo"),
            # The chart comes with the first slide shown: a page that never presents does not
            # load plotly for it.
            html.Div(id=GRAPH_BOX),
            html.P(id=DESCRIPTION, className="visually-hidden"),
            html.Ul(id=NOTES, className="present-notes"),
            html.P(id=META, className="present-meta"),
            html.P(id=SOURCE, className="present-source"),
        ], className="present-slide"),
        html.P("Keys: \u2190 and \u2192 (or Page Up and Page Down) move between charts; "
               "Esc leaves.", className="present-keys"),
    ], id=VIEW, className="present", hidden=True,
        **{"aria-label": "Presentation", "data-charts": str(len(charts.CHARTS))})


def _as_of(payload: dict) -> str:
    stamp = datetime.fromisoformat(payload["as_of"])
    return f"Data as of {stamp.strftime('%d %b %Y %H:%M:%S UTC')}"


def register(app: dash.Dash, live: LiveData) -> None:
    """Meeting mode's callbacks, bound to this app."""
    # In the browser, at once: show or hide the presentation, and move between slides.
    app.clientside_callback(
        ClientsideFunction("present", "mode"),
        Output("shell", "className"), Output(VIEW, "hidden"), Output(STATE, "data"),
        Input(ids.URL, "search"), Input(ids.URL, "pathname"))
    app.clientside_callback(
        ClientsideFunction("present", "previous"),
        Output(ids.URL, "search", allow_duplicate=True),
        Input(PREVIOUS, "n_clicks"), State(ids.URL, "search"), prevent_initial_call=True)
    app.clientside_callback(
        ClientsideFunction("present", "next"),
        Output(ids.URL, "search", allow_duplicate=True),
        Input(NEXT, "n_clicks"), State(ids.URL, "search"), prevent_initial_call=True)

    @app.callback(
        Output(COUNTER, "children"), Output(TITLE, "children"), Output(FILTERS, "children"),
        Output(DEMO, "children"), Output(GRAPH_BOX, "children"),
        Output(DESCRIPTION, "children"), Output(NOTES, "children"), Output(META, "children"),
        Output(SOURCE, "children"), Output(EXIT, "href"), Output(PPTX, "href"),
        Output(PDF, "href"),
        Input(STATE, "data"), Input(ids.VERSION, "data"),
        State(ids.URL, "search"), State(ids.URL, "pathname"))
    def show_slide(_state, _version, search, pathname):
        # Only while presenting: the state is set only then, and a new data version on a page
        # that is not presenting has nothing to show here.
        if not is_presenting(search):
            raise dash.exceptions.PreventUpdate
        number = slide_number(search)
        chart = charts.CHARTS[chart_ids()[number - 1]]
        view = current_view(query.filter_from_search(search))
        payload = charts.payload(chart, view, query.search_for(view.summary.view))
        n = ("n not shown (too few responses)" if payload["n"] is None
             else f"n = {payload['n']:,}")
        demo = ([html.Strong("Demo data: "), "synthetic responses, not survey results."]
                if payload["demo_data"] else [])
        return (
            f"Chart {number} of {len(charts.CHARTS)}",
            payload["title"],
            f"Showing: {payload['filters_text']}",
            demo,
            dcc.Graph(id=GRAPH, className="present-graph",
                      figure=projector_figure(payload["figure"]),
                      style={"height": graph_height(payload["figure"])},
                      config={"displaylogo": False, "displayModeBar": False,
                              "responsive": True}),
            payload["description"],
            [html.Li(note) for note in payload["notes"]],
            f"{n} \u00b7 {_as_of(payload)}",
            "Source: " + "; ".join(payload["sources"]),
            (pathname or "/") + exit_search(search),
            deck.href("pptx", search),
            deck.href("pdf", search),
        )
