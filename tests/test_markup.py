"""dashboard.markup writes the JSON Dash would send for its own component classes."""

from __future__ import annotations

import json

import pytest
from dash import dcc as dash_dcc
from dash import html as dash_html
from dash._utils import to_json

from dashboard import markup
from dashboard.markup import UnknownProperty
from tests.dashboard_support import fixture_store, settings_for


def dash_json(component) -> object:
    return json.loads(to_json(component))


@pytest.mark.parametrize("build", [
    lambda lib: lib.Div(),
    lambda lib: lib.Div(id="empty", className="frozen"),
    lambda lib: lib.P("text", className="note"),
    lambda lib: lib.Section([lib.H2("Title"), lib.P(["a ", lib.Strong("b")])], className="card",
                            id="card-q3", **{"aria-label": "Q3", "data-chart": "q3"}),
    lambda lib: lib.Button("Freeze", id={"type": "freeze", "chart": "q3"}, n_clicks=0),
    lambda lib: lib.A("PNG", href="/embed/q3.png?role=a", download="", className="download"),
    lambda lib: lib.Td(None),
    lambda lib: lib.Ul([lib.Li(str(i)) for i in range(3)]),
])
def test_html_elements_match_dash(build):
    assert build(markup.html) == dash_json(build(dash_html))


def test_core_components_match_dash():
    figure = {"data": [{"type": "bar", "x": [60.0, 40.0]}], "layout": {"height": 148}}
    built = markup.dcc.Graph(id="chart-q3", figure=figure, config={"responsive": True},
                             style={"height": "148px"}, className="chart")
    assert built == dash_json(dash_dcc.Graph(id="chart-q3", figure=figure,
                                             config={"responsive": True},
                                             style={"height": "148px"}, className="chart"))
    snippet = markup.dcc.Textarea(id="snippet-q3", value="<iframe>", readOnly=True, rows=4)
    assert snippet == dash_json(dash_dcc.Textarea(id="snippet-q3", value="<iframe>",
                                                  readOnly=True, rows=4))


def test_a_misspelt_property_is_refused_as_dash_refuses_it():
    with pytest.raises(TypeError):
        dash_html.Div("x", clasName="card")
    with pytest.raises(UnknownProperty, match="Div has no property 'clasName'"):
        markup.html.Div("x", clasName="card")


def test_wildcard_properties_are_those_of_each_component():
    assert markup.html.Div(**{"aria-label": "x"})["props"]["aria-label"] == "x"
    with pytest.raises(UnknownProperty, match="Graph has no property 'aria-label'"):
        markup.dcc.Graph(**{"aria-label": "x"})


def test_children_alone_may_be_given_by_position():
    with pytest.raises(TypeError, match="by name"):
        markup.dcc.Graph("chart-q3")
    with pytest.raises(TypeError, match="by name"):
        markup.html.Div("a", "b")
    assert not hasattr(markup.html, "NoSuchElement")


def _components(node):
    """Every component in a callback response's JSON, depth first."""
    if isinstance(node, list):
        for item in node:
            yield from _components(item)
    elif isinstance(node, dict):
        if {"type", "namespace", "props"} <= node.keys():
            yield node
            for value in node["props"].values():
                yield from _components(value)
        else:
            for value in node.values():
                yield from _components(value)


LIBRARIES = {"dash_html_components": dash_html, "dash_core_components": dash_dcc}


def _page_requests() -> dict[str, dict]:
    """What the browser sends for each page's render callback."""
    by_search = {content: {"output": f"{content}.children",
                           "outputs": {"id": content, "property": "children"},
                           "inputs": [{"id": "url", "property": "search", "value": ""},
                                      {"id": "data-version", "property": "data", "value": None}],
                           "changedPropIds": ["url.search"]}
                 for content in ("overview-content", "compare-content", "live-content")}
    outputs = [{"id": "explore-content-crosstab", "property": "children"},
               {"id": "explore-content-breakdown", "property": "children"}]
    explore = {"output": "..explore-content-crosstab.children...explore-content-breakdown"
                         ".children..",
               "outputs": outputs, "changedPropIds": ["url.search"],
               "inputs": by_search["overview-content"]["inputs"]}
    methodology = {"output": "methodology-content.children",
                   "outputs": {"id": "methodology-content", "property": "children"},
                   "inputs": [{"id": "url", "property": "pathname", "value": "/methodology"}],
                   "changedPropIds": ["url.pathname"]}
    return {**by_search, "explore": explore, "methodology": methodology}


def test_every_component_a_page_sends_is_one_dash_accepts(tmp_path):
    """Each component in each page's response, rebuilt with Dash's own class from its type and
    properties, gives back the very same JSON."""
    from dashboard.app import create_app

    url, _engine = fixture_store(tmp_path)
    client = create_app(settings_for(url)).server.test_client()
    seen = set()
    for page, body in _page_requests().items():
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 200, page
        found = list(_components(response.get_json()["response"]))
        assert found, page
        for component in found:
            seen.add(component["type"])
            cls = getattr(LIBRARIES[component["namespace"]], component["type"])
            props = dict(component["props"])
            props.pop("children", None)
            rebuilt = dash_json(cls(**props))
            rebuilt["props"].pop("children", None)
            assert rebuilt == dict(component, props=props), page
    assert seen >= {"Graph", "Section", "Table", "Td", "Textarea", "Button", "Link", "Details"}


def test_required_properties_are_required_as_dash_requires_them():
    with pytest.raises(TypeError):
        dash_dcc.Link("Exit")
    with pytest.raises(TypeError, match=r"Link requires \['href'\]"):
        markup.dcc.Link("Exit")
    assert markup.dcc.Link("Exit", href="/") == dash_json(dash_dcc.Link("Exit", href="/"))
