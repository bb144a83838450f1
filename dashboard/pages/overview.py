"""Overview: headline figures and a chart for every question, for the filtered view."""

from __future__ import annotations

import dash
from dash import Input, Output, callback
from flask import request

from analysis import statements
from dashboard import ids, query
from dashboard.components import chart_card, graph, headline, numbers_table, share_panel
from dashboard.context import View, cached_render, current_view
from dashboard.figures import describe_question, question_figure
from dashboard.markup import Markup, html

dash.register_page(__name__, path="/", name="Overview", order=0,
                   title="Overview: survey of UK social care professionals")

CONTENT = "overview-content"


def layout(**_query):
    return html.Div(id=CONTENT, className="page", children=html.P("Loading the results…"))


def _percent_yes(view: View, question_id: str) -> str:
    result = view.summary.question(question_id)
    yes = result.answer("yes")
    return "–" if yes is None else f"{yes.percent:.1f}%"


def headlines(view: View) -> Markup:
    last = view.snapshot.published_at
    return html.Div([
        headline("responses in this view", f"{view.summary.responses:,}",
                 f"{view.snapshot.total:,} published in all", tile_id="headline-responses"),
        headline("figures last moved", last.strftime("%d %b %Y %H:%M UTC") if last else
                 "not yet", "new responses are added in batches", tile_id="headline-last"),
        headline("have looked at a service user's profile", _percent_yes(view, "viewed_profile"),
                 "question 3", tile_id="headline-viewed"),
        headline("have looked to gather evidence", _percent_yes(view, "viewed_for_evidence"),
                 "question 4", tile_id="headline-evidence"),
        headline("aware of the surveillance guidance", _percent_yes(view, "aware_of_guidance"),
                 "question 5", tile_id="headline-aware"),
    ], className="headlines")


def question_cards(view: View, search: str) -> list:
    cards = []
    host_url = request.host_url
    for result in view.summary.questions:
        question = result.question
        name = f"q{question.number}-{question.id}"
        cards.append(chart_card(
            question.text,
            graph(question_figure(result, view.min_cell_size, view.summary.everyone), name),
            describe_question(result, view.min_cell_size, view.summary.everyone),
            numbers_table(result, view.summary.everyone), card_id=f"card-{question.id}",
            share=share_panel(question.id, search, host_url,
                              f"Q{question.number}. {question.short_title}")))
    return cards


@callback(Output(CONTENT, "children"), Input(ids.URL, "search"), Input(ids.VERSION, "data"))
@cached_render
def render(search, _version):
    if query.value(search, "present") == "1":
        raise dash.exceptions.PreventUpdate  # meeting mode shows one chart instead
    view = current_view(query.filter_from_search(search))
    notice = []
    if view.summary.responses == 0:
        notice = [html.P("No responses are published for this view yet.", className="banner")]
    elif view.summary.suppressed:
        notice = [html.P(f"Fewer than {view.min_cell_size} responses in this view: results are "
                         "not shown.", className="banner")]
    cards = question_cards(view, query.search_for(view.summary.view))
    return [headlines(view), *notice, html.Div(cards, className="grid"),
            html.P(f"{statements.INTERVALS} {statements.ROUNDING} {statements.LOW_BASE_NOTE}",
                   className="hint", id="overview-notes")]
