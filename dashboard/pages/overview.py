"""Overview: how many responses the store holds."""

import dash
from dash import html
from flask import current_app

from data_loaders import store

dash.register_page(__name__, path="/", name="Overview", order=0)


def layout(**_query):
    engine = current_app.config["SURVEY_ENGINE"]
    with engine.connect() as connection:
        real = store.count_responses(connection, demo=False)
        fake = store.count_responses(connection, demo=True)
    banner = [html.P(f"Demo data: {fake} synthetic responses, not survey results.",
                     className="demo-banner")] if fake else []
    return html.Div([
        html.H1("Social care professionals and service users' social media"),
        *banner,
        html.P(f"The store holds {real + fake} responses.", id="response-count"),
    ])
