"""Explore: any two questions against each other, and any question by role group."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, no_update
from flask import request

from analysis.crosstab import CROSSTAB_QUESTIONS, breakdown
from dashboard import ids, query
from dashboard.charts import BY_ROLE_DEFAULT, BY_ROLE_QUESTIONS, CROSSTAB_DEFAULTS, crosstab_of
from dashboard.components import graph, share_panel
from dashboard.context import cached_render, current_view
from dashboard.embeds import chart_ref
from dashboard.figures import (breakdown_figure, crosstab_figure, describe_breakdown,
                               describe_chi_square, describe_crosstab)
from dashboard.markup import html
from survey.questionnaire import BY_ID, QUESTIONS

dash.register_page(__name__, path="/explore", name="Explore", order=2,
                   title="Explore: survey of UK social care professionals")

CONTENT = "explore-content"
CROSSTAB_NOTE = ("Every row is shown, \"no answer\" included, with how many in it left the column "
                 "question blank: each row and column adds up to the Overview's figures for "
                 "these roles. Percentages are of those in the row who answered the column "
                 "question.")
ROWS, COLUMNS, BY_ROLE = "explore-rows", "explore-columns", "explore-by-role"
DEFAULTS = {**CROSSTAB_DEFAULTS, "by_role": BY_ROLE_DEFAULT}
CONTROLS = ((ROWS, "rows"), (COLUMNS, "columns"), (BY_ROLE, "by_role"))
OPTIONS = [{"label": f"Q{q.number}. {q.short_title}", "value": q.id} for q in QUESTIONS]
CROSSTAB_OPTIONS = [o for o in OPTIONS if o["value"] in CROSSTAB_QUESTIONS]
ALLOWED = {"rows": set(CROSSTAB_QUESTIONS), "columns": set(CROSSTAB_QUESTIONS),
           "by_role": set(BY_ROLE_QUESTIONS)}


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
    table = crosstab_of(view, rows, columns)
    by = chosen(search, "by_role")
    split = breakdown(snapshot.cube, snapshot.grouping, view.summary.view, by, snapshot.safety,
                      view.min_cell_size)
    filters = query.search_for(view.summary.view)
    crosstab_choices = {"rows": rows, "columns": columns}
    crosstab_search = query.with_value(query.with_value(filters, "rows", rows), "columns", columns)
    return (
        html.Section([graph(crosstab_figure(table), f"crosstab-{rows}-{columns}",
                            graph_id="chart-crosstab"),
                      html.P(describe_crosstab(table), className="visually-hidden"),
                      html.P(describe_chi_square(table), id="chi-square"),
                      html.P(CROSSTAB_NOTE, className="hint"),
                      share_panel("crosstab", crosstab_search, request.host_url,
                                  f"Q{BY_ID[rows].number} × Q{BY_ID[columns].number}",
                                  freeze_as=chart_ref("crosstab", crosstab_choices))],
                     className="card", id="card-crosstab"),
        html.Section([graph(breakdown_figure(split, view.min_cell_size), f"by-role-{by}",
                            graph_id="chart-breakdown"),
                      html.P(describe_breakdown(split, view.min_cell_size),
                             className="visually-hidden"),
                      share_panel("by-role", query.with_value(filters, "by_role", by),
                                  request.host_url, f"Q{BY_ID[by].number} by role",
                                  freeze_as=chart_ref("by-role", {"by_role": by}))],
                     className="card", id="card-by-role"),
    )
