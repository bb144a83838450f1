"""Pieces of page shared by several pages: chart cards, number tables, headline figures.

Built as the JSON Dash sends (:mod:`dashboard.markup`): the overview alone returns eight cards of
these on every new view."""

from __future__ import annotations

import functools
import re

from analysis.serialise import ROLE_NO_ANSWER
from analysis.summary import QuestionResult
from dashboard import wording
from dashboard.figures import Figure
from dashboard.markup import Markup, dcc, html


@functools.lru_cache(maxsize=1024)
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def graph(figure: Figure, name: str, *, graph_id: str | None = None) -> Markup:
    """A chart with the toolbar's image download named after it."""
    return dcc.Graph(
        id=graph_id or f"chart-{slug(name)}", figure=figure,
        style={"height": f"{figure['layout'].get('height') or 400}px"},
        config={"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoom2d", "pan2d",
                                           "zoomIn2d", "zoomOut2d", "autoScale2d"],
                "toImageButtonOptions": {"format": "png", "filename": f"survey-{slug(name)}",
                                         "scale": 2}},
        className="chart")


def numbers_table(result: QuestionResult, everyone: bool = False) -> Markup:
    """A question's numbers as a table, with its base and non-response; ``everyone``: the view
    of no filter, whose bases count those who left question 2 blank."""
    if result.suppressed:
        return html.P("Not shown: too few responses in this view.")
    rows = [html.Tr([html.Td(a.label), html.Td(f"{a.count:,}"), html.Td(f"{a.percent:.1f}%"),
                     html.Td(f"{a.ci95[0]:.1f}% to {a.ci95[1]:.1f}%")]) for a in result.answers]
    is_role = result.question.id == "role"
    footer = [wording.base(result.base, everyone and not is_role, result.low_base) + ". "
              + (ROLE_NO_ANSWER if is_role else f"No answer: {result.no_answer:,}.")]
    if result.question.asked_when:
        footer.append(f" Not asked (question 5 not yes): {result.not_asked:,}.")
    return html.Div([
        html.Table([_NUMBERS_HEADER, html.Tbody(rows)], className="numbers"),
        html.P(footer, className="base-note"),
    ])


_NUMBERS_HEADER = html.Thead(html.Tr([html.Th(heading, scope="col") for heading in
                                      ("Answer", "Count", "Percent", "95% interval")]))


def chart_card(title: str, chart, description: str, details=None, *, card_id: str | None = None,
               share=None) -> Markup:
    """A chart with its text alternative (read by screen readers, shown on request)."""
    return html.Section([
        chart,
        html.P(description, className="visually-hidden chart-description"),
        html.Details([html.Summary("Numbers behind this chart"), details or html.P(description)],
                     className="chart-details"),
        *([share] if share is not None else []),
    ], className="card", id=card_id, **{"aria-label": title})


def headline(label: str, value: str, note: str | None = None, *,
             tile_id: str | None = None) -> Markup:
    return html.Div([html.P(value, className="headline-value"),
                     html.P(label, className="headline-label"),
                     html.P(note or "", className="headline-note")],
                    className="headline", id=tile_id)


@functools.lru_cache(maxsize=1024)
def share_panel(chart_id: str, search: str, host_url: str, title: str,
                freeze_as: str | None = None) -> Markup:
    """Embed snippets, images and the numbers behind one chart (the same for every version of
    the data, so made once for each view and host). ``search`` is the filter and the chart's
    own choices; ``freeze_as`` names the chart and its choices for freezing (see
    :func:`dashboard.embeds.chart_ref`), when there are choices."""
    from dashboard.embeds import snippet  # the embed blueprint owns the snippet's form

    src = f"{host_url.rstrip('/')}/embed/{chart_id}{search}"
    links = [html.A(label, href=f"/embed/{chart_id}.{fmt}{search}", download="",
                    className="download")
             for label, fmt in (("PNG", "png"), ("SVG", "svg"), ("CSV", "csv"),
                                ("Excel", "xlsx"), ("JSON", "json"))]
    return html.Details([
        html.Summary("Embed, image or data"),
        html.P(["Download: ", *[item for link in links for item in (link, " ")]],
               className="downloads"),
        html.Label("Live embed (updates at most once a minute):", htmlFor=f"snippet-{chart_id}"),
        dcc.Textarea(id=f"snippet-{chart_id}", value=snippet(src, title), readOnly=True,
                     className="snippet", rows=4),
        html.Button("Freeze at today's data", id={"type": "freeze", "chart": freeze_as or chart_id},
                    className="freeze-button", n_clicks=0),
        html.Div(id={"type": "frozen-snippet", "chart": freeze_as or chart_id},
                 className="frozen"),
    ], className="share")
