"""Explore: any two questions against each other, and any question by role group."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from analysis.crosstab import CROSSTAB_QUESTIONS, CrossTab, breakdown, crosstab
from dashboard import ids, query
from dashboard.components import graph
from dashboard.context import cached_render, current_view
from dashboard.figures import (breakdown_figure, crosstab_figure, describe_crosstab,
                               describe_question)
from survey.questionnaire import BY_ID, QUESTIONS

dash.register_page(__name__, path="/explore", name="Explore", order=2,
                   title="Explore: survey of UK social care professionals")

CONTENT = "explore-content"
ROWS, COLUMNS, BY_ROLE = "explore-rows", "explore-columns", "explore-by-role"
DEFAULTS = {"rows": "aware_of_guidance", "columns": "viewed_for_evidence",
            "by_role": "viewed_profile"}
CONTROLS = ((ROWS, "rows"), (COLUMNS, "columns"), (BY_ROLE, "by_role"))
OPTIONS = [{"label": f"Q{q.number}. {q.short_title}", "value": q.id} for q in QUESTIONS]
CROSSTAB_OPTIONS = [o for o in OPTIONS if o["value"] in CROSSTAB_QUESTIONS]
ALLOWED = {"rows": set(CROSSTAB_QUESTIONS), "columns": set(CROSSTAB_QUESTIONS),
           "by_role": set(BY_ID) - {"role"}}


def chosen(search: str | None, key: str) -> str:
    value = query.value(search, key, DEFAULTS[key])
    return value if value in ALLOWED[key] else DEFAULTS[key]


def _dropdown(component_id: str, label: str, value: str, options=CROSSTAB_OPTIONS):
    return html.Div([html.Label(label, htmlFor=component_id),
                     dbc.Select(id=component_id, options=options, value=value)],
                    className="control")


def layout(rows: str | None = None, columns: str | None = None, by_role: str | None = None,
           **_other):
    values = {k: (v if v in ALLOWED[k] else DEFAULTS[k])
              for k, v in (("rows", rows), ("columns", columns), ("by_role", by_role))}
    return html.Div([
        html.H2("Two questions against each other"),
        html.P("Everyone in the chosen roles, whatever their answer to question 2. Role and "
               "social-media use are compared through the filters and the breakdown by role "
               "below.", className="hint"),
        html.Div([_dropdown(ROWS, "Rows: answer to", values["rows"]),
                  _dropdown(COLUMNS, "Columns: answer to", values["columns"])],
                 className="controls"),
        html.Div(id=CONTENT + "-crosstab"),
        html.H2("One question by role"),
        html.Div([_dropdown(BY_ROLE, "Question", values["by_role"],
                            [o for o in OPTIONS if o["value"] in ALLOWED["by_role"]])],
                 className="controls"),
        html.Div(id=CONTENT + "-breakdown"),
    ], id=CONTENT, className="page")


@callback(Output(ids.URL, "search", allow_duplicate=True),
          Input(ROWS, "value"), Input(COLUMNS, "value"), Input(BY_ROLE, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def remember_choice(rows, columns, by_role, search):
    updated = search
    for (_, key), value in zip(CONTROLS, (rows, columns, by_role)):
        updated = query.with_value(updated, key, value)
    return no_update if updated == (search or "") else updated


def chi_square_text(table: CrossTab) -> str:
    test = table.chi_square
    if test is None:
        return "Chi-square test: not enough rows and columns shown to test."
    text = (f"Chi-square test of independence: χ² = {test.statistic:.2f}, {test.dof} degrees of "
            f"freedom, p = {test.p_value:.3g}.")
    if test.small_expected:
        text += " Some expected counts are below 5, so the p-value is only approximate."
    return text


@callback(Output(CONTENT + "-crosstab", "children"), Output(CONTENT + "-breakdown", "children"),
          Input(ids.URL, "search"), Input(ids.VERSION, "data"))
@cached_render
def render(search, _version):
    if query.value(search, "present") == "1":
        raise dash.exceptions.PreventUpdate  # meeting mode shows one chart instead
    view = current_view(query.filter_from_search(search))
    snapshot = view.snapshot
    rows, columns = chosen(search, "rows"), chosen(search, "columns")
    if rows == columns:
        columns = next(q for q in CROSSTAB_QUESTIONS if q != rows)
    table = crosstab(snapshot.cube, snapshot.grouping, view.summary.view, rows, columns,
                     view.min_cell_size)
    hidden = ""
    if table.hidden_rows:
        labels = ", ".join(table.rows.label_of(c) for c in table.hidden_rows)
        hidden = (f"Rows not shown ({labels}): too few people in them, or in a role group within "
                  f"them, to show safely (minimum {view.min_cell_size}).")
    by = chosen(search, "by_role")
    split = breakdown(snapshot.cube, snapshot.grouping, view.summary.view, by, snapshot.safety,
                      view.min_cell_size)
    split_text = " ".join(f"{label}: {describe_question(r, view.min_cell_size)}"
                          for label, r in zip(split.labels, split.results))
    return (
        html.Section([graph(crosstab_figure(table), f"crosstab-{rows}-{columns}",
                            graph_id="chart-crosstab"),
                      html.P(describe_crosstab(table), className="visually-hidden"),
                      html.P(chi_square_text(table), id="chi-square"),
                      html.P(hidden, className="hint")], className="card"),
        html.Section([graph(breakdown_figure(split, view.min_cell_size), f"by-role-{by}",
                            graph_id="chart-breakdown"),
                      html.P(split_text, className="visually-hidden")], className="card"),
    )
