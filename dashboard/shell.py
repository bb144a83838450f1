"""The frame around every page: navigation, filters, live status, and the callbacks that keep the
filters, the URL and the data version in step."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, ctx, dcc, html, no_update
from flask import request

from analysis.views import Filter, Grouping
from dashboard import embeds, ids, query
from dashboard.live import LiveData, Snapshot
from survey.settings import Settings

SOCIAL_MEDIA_OPTIONS = [
    {"label": "Everyone", "value": "all"},
    {"label": "Use social media", "value": "yes"},
    {"label": "Do not use social media", "value": "no"},
]


def role_options(grouping: Grouping) -> list[dict]:
    options = []
    for group in grouping.groups:
        size = grouping.sizes.get(group, 0)
        label = f"{grouping.label(group)} ({size})"
        options.append({"label": label, "value": group})
    return options


def demo_banner(snapshot: Snapshot) -> list:
    if not snapshot.is_demo:
        return []
    return [html.Strong("Demo data. "),
            f"{snapshot.cube.demo} of these {snapshot.total} responses are synthetic, "
            "written to show how the dashboard works. They are not survey results."]


def status_notice(snapshot: Snapshot) -> list:
    if snapshot.unreachable_since is None:
        return []
    since = snapshot.unreachable_since.strftime("%d %b %Y %H:%M:%S UTC")
    return [html.Strong("Store unreachable "), f"since {since}. ",
            "The figures below are the last ones read; they will update by themselves when the "
            "store is back."]


def as_of_text(snapshot: Snapshot) -> str:
    return f"Data as of {snapshot.as_of.strftime('%d %b %Y %H:%M:%S UTC')}"


def nav_links(search: str) -> list:
    return [dcc.Link(page["name"], href=page["relative_path"] + (search or ""),
                     className="nav-link")
            for page in dash.page_registry.values()]


def layout(live: LiveData, settings: Settings):
    snapshot = live.snapshot()
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Interval(id=ids.TICK, interval=int(settings.refresh_seconds * 1000)),
        dcc.Store(id=ids.VERSION, data=snapshot.version),
        html.A("Skip to the results", href="#content", className="skip-link"),
        html.Header([
            html.P("Survey of UK social care professionals, 2018", className="kicker"),
            html.H1("Looking at service users' social media: live results"),
            html.Nav(nav_links(""), id=ids.NAV, className="nav", **{"aria-label": "Pages"}),
        ], className="site-header"),
        html.Div(demo_banner(snapshot), id=ids.DEMO_BANNER, className="banner demo",
                 role="note"),
        html.Div(status_notice(snapshot), id=ids.STATUS, className="banner status",
                 role="status", **{"aria-live": "polite"}),
        html.Section([
            html.Fieldset([
                html.Legend("Role"),
                dbc.Checklist(id=ids.ROLE_FILTER, options=role_options(snapshot.grouping),
                              value=[], inline=True, className="role-filter"),
            ], className="filter"),
            html.Fieldset([
                html.Legend("Social media (question 2)"),
                dbc.RadioItems(id=ids.SOCIAL_MEDIA_FILTER, options=SOCIAL_MEDIA_OPTIONS,
                               value="all", inline=True),
            ], className="filter"),
            html.P("No role ticked means every role. Roles with fewer than "
                   f"{settings.min_cell_size} responses are pooled.", className="hint"),
        ], className="filters", **{"aria-label": "Filters"}),
        html.P(as_of_text(snapshot), id=ids.AS_OF, className="as-of"),
        html.Main(dash.page_container, id="content", tabIndex="-1"),
        html.Footer([
            "UK data: Community Care survey of social care professionals, launched 12 September "
            "2018. US benchmark: Sage, Wells, Sage & Devlin (2017), Children and Youth Services "
            "Review, n = 171. ",
            dcc.Link("Methodology", href="/methodology"),
        ], className="site-footer"),
    ], className="shell")


def register(app: dash.Dash, live: LiveData) -> None:
    """The shell's callbacks, bound to this app."""

    @app.callback(
        Output(ids.URL, "search"), Output(ids.ROLE_FILTER, "value"),
        Output(ids.SOCIAL_MEDIA_FILTER, "value"),
        Input(ids.URL, "search"), Input(ids.ROLE_FILTER, "value"),
        Input(ids.SOCIAL_MEDIA_FILTER, "value"))
    def sync_filters(search, roles, social_media):
        if ctx.triggered_id in (None, ids.URL):
            view = live.snapshot().grouping.resolve(query.filter_from_search(search))
            return no_update, list(view.roles), view.social_media or "all"
        view = Filter.parse(roles or [], social_media)
        return query.search_for(view, search), no_update, no_update

    @app.callback(Output({"type": "frozen-snippet", "chart": MATCH}, "children"),
                  Input({"type": "freeze", "chart": MATCH}, "n_clicks"), State(ids.URL, "search"),
                  prevent_initial_call=True)
    def freeze_chart(_clicks, search):
        chart_id = ctx.triggered_id["chart"]
        path = embeds.freeze(chart_id, query.filter_from_search(search))
        src = request.host_url.rstrip("/") + path
        return [html.Label("Frozen embed (these numbers, for ever):",
                           htmlFor=f"frozen-{chart_id}"),
                dcc.Textarea(id=f"frozen-{chart_id}", value=embeds.snippet(src, chart_id),
                             readOnly=True, className="snippet", rows=4)]

    @app.callback(Output(ids.NAV, "children"), Input(ids.URL, "search"))
    def keep_filters_across_pages(search):
        return nav_links(search or "")

    @app.callback(
        Output(ids.VERSION, "data"), Output(ids.DEMO_BANNER, "children"),
        Output(ids.STATUS, "children"), Output(ids.AS_OF, "children"),
        Output(ids.ROLE_FILTER, "options"),
        Input(ids.TICK, "n_intervals"), State(ids.VERSION, "data"), State(ids.STATUS, "children"))
    def follow_the_store(_tick, version, shown_status):
        snapshot = live.snapshot()
        status = status_notice(snapshot)
        status_changed = bool(status) != bool(shown_status)
        if snapshot.version == version and not status_changed:
            raise dash.exceptions.PreventUpdate
        if snapshot.version == version:
            return no_update, no_update, status, no_update, no_update
        return (snapshot.version, demo_banner(snapshot), status, as_of_text(snapshot),
                role_options(snapshot.grouping))
