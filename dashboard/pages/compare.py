"""UK and US: the UK answers beside the US benchmark, with intervals and the wording notes."""

from __future__ import annotations

import dash
from dash import Input, Output, callback
from flask import request

from analysis import statements
from analysis.benchmark import Comparison, Study, compare
from analysis.serialise import comparison_dict, context_dict
from dashboard import ids, query, wording
from dashboard.components import graph, share_panel
from dashboard.context import cached_render, current_view
from dashboard.figures import comparison_figure, describe_comparisons
from dashboard.markup import Markup, html

dash.register_page(__name__, path="/uk-and-us", name="UK and US", order=1,
                   title="UK and US: survey of UK social care professionals")

CONTENT = "compare-content"


def layout(**_query):
    return html.Div(id=CONTENT, className="page", children=html.P("Loading the comparison…"))


def comparison_rows(comparisons: tuple[Comparison, ...], study: Study) -> Markup:
    header = ["UK question", "US scenario (had done it)", "UK", "US", "UK minus US",
              "Reading", "How the wordings differ"]
    rows = []
    for c in comparisons:
        row = comparison_dict(c, study)
        uk = "–" if c.uk_percent is None else (
            f"{c.uk_percent:.1f}% ({c.uk_ci95[0]:.1f} to {c.uk_ci95[1]:.1f}), n = {c.uk_base:,}"
            + (" (low base)" if c.low_base else ""))
        rows.append(html.Tr([
            html.Td("Q3 ever looked" if c.uk_question == "viewed_profile" else "Q4 to gather evidence"),
            html.Td(c.figure.scenario), html.Td(uk), html.Td(wording.us_figure(row)),
            html.Td(wording.difference(row) or "–"),
            html.Td(wording.verdict(row)), html.Td(c.note, className="note-cell")]))
    return html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in header])),
                       html.Tbody(rows)], className="numbers comparison-table")


def context_only(study: Study) -> Markup:
    items = [html.Li(f"{wording.us_figure(context_dict(f, study))} said it is acceptable in "
                     f"some situations to search for a client {f.scenario}.")
             for f in study.context]
    return html.Section([
        html.H2("US attitudes, for context only"),
        html.P("The UK survey did not ask whether looking is acceptable, so these US figures have "
               "no UK counterpart."),
        html.Ul(items)], className="card")


def sources(study: Study) -> Markup:
    return html.Section([
        html.H2("About the benchmark"),
        html.P([html.Strong("Source: "), study.citation, " ",
                html.A(f"doi:{study.doi}", href=f"https://doi.org/{study.doi}")]),
        html.P([study.sample, " ", study.n_note]),
        html.P(study.question_form),
        html.P(study.caveat, className="note"),
    ], className="card")


@callback(Output(CONTENT, "children"), Input(ids.URL, "search"), Input(ids.VERSION, "data"))
@cached_render
def render(search, _version):
    if query.value(search, "present") == "1":
        raise dash.exceptions.PreventUpdate  # meeting mode shows one chart instead
    view = current_view(query.filter_from_search(search))
    comparisons = compare(view.summary, view.study)
    return [
        html.P(["None of the wordings is identical: read each comparison with its note. The US "
                f"figures come from {view.study.n} child welfare workers surveyed in 2014; the UK "
                "figures from this survey, for the filter above."], className="note"),
        html.Section([
            graph(comparison_figure(comparisons, view.study), "uk-and-us",
                  graph_id="chart-uk-and-us"),
            html.P(describe_comparisons(comparisons, view.study), className="visually-hidden chart-description"),
            share_panel("uk-and-us", query.search_for(view.summary.view), request.host_url,
                        "UK and US: looking at service users' profiles"),
        ], className="card", **{"aria-label": "UK and US percentages"}),
        html.Section([html.H2("Each comparison, with its note"),
                      comparison_rows(comparisons, view.study),
                      *(html.P(text, className="note") for text in (
                          statements.MULTIPLE_TESTING, statements.APPROXIMATE,
                          statements.INTERVALS, statements.ROUNDING, statements.US_WORDING))],
                     className="card table-card"),
        context_only(view.study),
        sources(view.study),
    ]
