"""The frame around every page: navigation, filters (with quick role presets), live status, the
ways to share results (meeting mode, slides, PDF), and the callbacks that keep the filters, the URL
and the data version in step."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, ctx, dcc, html, no_update
from flask import request
from werkzeug.exceptions import BadRequest, TooManyRequests

from analysis.views import Filter
from dashboard import charts, deck, embeds, ids, query
from dashboard.live import LiveData, Snapshot
from dashboard.pages import present
from survey.questionnaire import ROLE_CODES
from survey.settings import Settings

SOCIAL_MEDIA_OPTIONS = [
    {"label": "Everyone", "value": "all"},
    {"label": "Use social media", "value": "yes"},
    {"label": "Do not use social media", "value": "no"},
]


SHELL = "shell"
PRESET = "role-preset"
DECK_PPTX, DECK_PDF = "deck-pptx", "deck-pdf"

ROLE_PRESETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "frontline": ("Frontline practitioners",
                  ("social_worker", "newly_qualified_social_worker", "senior_practitioner",
                   "family_support_worker", "independent_reviewing_officer")),
    "managers": ("Managers and leaders",
                 ("team_manager", "service_manager", "director", "principal_social_worker")),
    "students": ("Students", ("student",)),
    "everyone": ("Everyone", ()),
}
"""Quick choices of roles: label and role codes (none: every role). Roles that are pooled today
become the pooled group when the filter is resolved, as any role code in a link does."""


POOLED_REASON = "published only with the other small roles"
UNPUBLISHED_REASON = "none published yet"


def role_options(snapshot: Snapshot) -> list[dict]:
    """The groups one can choose (each with its size), then the roles that cannot be chosen on
    their own, shown but disabled, each saying why: a role that is missing from the list would
    look forgotten. Both follow the release: a role is pooled for good once it is (see
    :mod:`analysis.releases`), and a role with nothing published has no figures yet."""
    grouping = snapshot.grouping
    options = [{"label": f"{grouping.label(group)} ({grouping.sizes.get(group, 0):,})",
                "value": group} for group in grouping.groups]
    for code in ROLE_CODES:
        if code in grouping.pooled:
            options.append({"label": f"{grouping.label(code)} — {POOLED_REASON}", "value": code,
                            "disabled": True})
        elif not grouping.sizes.get(code):
            options.append({"label": f"{grouping.label(code)} — {UNPUBLISHED_REASON}",
                            "value": code, "disabled": True})
    return options


def role_presets() -> html.Div:
    return html.Div([
        html.Span("Quick choice:", id="role-presets-label", className="presets-label"),
        *[html.Button(label, id={"type": PRESET, "preset": key}, n_clicks=0, type="button",
                      className="preset-button")
          for key, (label, _codes) in ROLE_PRESETS.items()],
    ], className="presets", role="group", **{"aria-labelledby": "role-presets-label"})


def share_links(pathname: str | None, search: str | None) -> tuple[str, str, str]:
    """The Present link (this page, these filters, in meeting mode) and the two deck links."""
    return ((pathname or "/") + present.present_search(search),
            deck.href("pptx", search), deck.href("pdf", search))


def share_bar() -> html.Div:
    present_href, pptx_href, pdf_href = share_links("/", "")
    return html.Div([
        html.Span("Share these results:", className="share-label"),
        dcc.Link("Present", id=ids.PRESENT_TOGGLE, href=present_href, className="share-button",
                 title="Meeting mode: one chart a screen, in large type"),
        html.A("Slides (PowerPoint)", id=DECK_PPTX, href=pptx_href, download="",
               className="share-button"),
        html.A("PDF", id=DECK_PDF, href=pdf_href, download="", className="share-button"),
    ], className="share-results")


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
    if snapshot.published_at is None:
        return "No figures published yet."
    return (f"Figures last moved {snapshot.published_at.strftime('%d %b %Y %H:%M UTC')}: new "
            "responses are published in batches that single nobody out (see Methodology).")


def chart_title(chart_ref: str) -> str:
    """The title of the chart ``chart_ref`` names (a chart's id and its choices, as
    :func:`dashboard.embeds.chart_ref` writes them), as its embed page shows it."""
    chart_id, _, choices = chart_ref.partition("?")
    chart = charts.chart_for(chart_id, query.parse(choices))
    return chart.title if chart is not None else chart_id


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
        present.view(),
        html.Section([
            html.Fieldset([
                html.Legend("Role"),
                dbc.Checklist(id=ids.ROLE_FILTER, options=role_options(snapshot),
                              value=[], inline=True, className="role-filter"),
                role_presets(),
            ], className="filter"),
            html.Fieldset([
                html.Legend("Social media (question 2)"),
                dbc.RadioItems(id=ids.SOCIAL_MEDIA_FILTER, options=SOCIAL_MEDIA_OPTIONS,
                               value="all", inline=True),
            ], className="filter"),
            html.P("No role ticked means every role. Roles too small to show on their own are "
                   "published together as one group.", className="hint"),
        ], className="filters", id="filters", **{"aria-label": "Filters"}),
        share_bar(),
        html.P(as_of_text(snapshot), id=ids.AS_OF, className="as-of"),
        html.Main(dash.page_container, id="content", tabIndex="-1"),
        html.Footer([
            "UK data: Community Care survey of social care professionals, launched 12 September "
            "2018. US benchmark: Sage, Wells, Sage & Devlin (2017), Children and Youth Services "
            "Review, n = 171. ",
            dcc.Link("Methodology", href="/methodology"),
        ], className="site-footer"),
    ], className="shell", id=SHELL)


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
        try:
            path = embeds.freeze(chart_id, query.filter_from_search(search),
                                 request.remote_addr or "unknown")
        except embeds.FreezeRefused as refused:
            if refused.status == 429:
                raise TooManyRequests(str(refused), retry_after=refused.retry_after) from None
            if refused.status == 400:
                raise BadRequest(str(refused)) from None
            return html.P(f"Not frozen: {refused}.", className="frozen-refused", role="alert")
        src = request.host_url.rstrip("/") + path
        snippet = embeds.snippet(src, chart_title(chart_id))
        return [html.Label("Frozen embed (these numbers, for ever):",
                           htmlFor=f"frozen-{chart_id}"),
                dcc.Textarea(id=f"frozen-{chart_id}", value=snippet, readOnly=True,
                             className="snippet", rows=4)]

    @app.callback(Output(ids.NAV, "children"), Input(ids.URL, "search"))
    def keep_filters_across_pages(search):
        return nav_links(search or "")

    @app.callback(Output(ids.PRESENT_TOGGLE, "href"), Output(DECK_PPTX, "href"),
                  Output(DECK_PDF, "href"), Input(ids.URL, "pathname"), Input(ids.URL, "search"))
    def keep_filters_in_share_links(pathname, search):
        return share_links(pathname, search)

    @app.callback(Output(ids.URL, "search", allow_duplicate=True),
                  Input({"type": PRESET, "preset": ALL}, "n_clicks"), State(ids.URL, "search"),
                  prevent_initial_call=True)
    def choose_preset(clicks, search):
        if not ctx.triggered_id or not any(clicks):
            raise dash.exceptions.PreventUpdate
        _label, codes = ROLE_PRESETS[ctx.triggered_id["preset"]]
        social_media = query.filter_from_search(search).social_media
        # The role codes go into the link as they are: resolving them (pooled roles become the
        # pooled group) is done wherever a link is read, so the link stays right as groups change.
        updated = query.search_for(Filter.parse(codes, social_media), search)
        return no_update if updated == (search or "") else updated

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
                role_options(snapshot))

    present.register(app, live)
