"""The application factory."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import dcc, html

from data_loaders.bootstrap import open_store
from survey.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the app on the store the settings name, creating and seeding it when needed."""
    settings = settings or Settings.from_env()
    engine = open_store(settings.database_url, demo_responses=settings.demo_responses)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ROOT / "assets"),
        title="Social care and service users' social media: survey results",
        update_title=None,
    )
    app.server.config["SURVEY_SETTINGS"] = settings
    app.server.config["SURVEY_ENGINE"] = engine
    app.layout = html.Div([dcc.Location(id="url"), html.Main(dash.page_container, id="main")])
    return app
