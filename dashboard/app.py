"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path

import dash
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import api, embeds, headers, health, ingest, private, shell
from dashboard import deck
from dashboard.context import EXTENSION, ResponseCache, Services
from dashboard.live import LiveData
from data_loaders.bootstrap import open_store
from data_loaders.db import make_engine
from survey.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the app on the store the settings name, creating and seeding it when needed."""
    settings = settings or Settings.from_env()
    try:
        engine = open_store(settings.database_url, demo_responses=settings.demo_responses,
                            settings=settings)
    except (SQLAlchemyError, OSError) as error:
        # A worker must start even while the store is down (gunicorn stops every worker when
        # one fails to boot): its pages say the store is unreachable until it answers.
        log.warning("The store cannot be opened (%s); starting without data.",
                    error.__class__.__name__)
        engine = make_engine(settings.database_url)
    # Each request asks the store whether anything changed (one cheap query), so that what a
    # reader is shown never goes back in time when successive requests reach different workers.
    live = LiveData(engine, settings, min_interval=0.0)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ROOT / "assets"),
        title="Looking at service users' social media: survey results",
        update_title=None,
        compress=True,
    )
    app.server.extensions[EXTENSION] = Services(
        settings, live, ingest.RateLimiter(settings.ingest_rate_per_minute),
        ingest.RateLimiter(settings.freeze_rate_per_minute))
    if settings.proxy_count:
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=settings.proxy_count,
                                       x_proto=settings.proxy_count, x_host=settings.proxy_count)
    app.server.json.sort_keys = False
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">', 1)
    app.layout = lambda: shell.layout(live, settings)
    responses = ResponseCache(live)
    responses.register(app)
    shell.register(app, live)
    api.register(app.server)
    embeds.register(app.server)
    deck.register(app.server)
    headers.register(app.server)
    health.register(app.server)
    ingest.register(app.server)
    private.register(app.server)
    # Page modules register their callbacks with dash.callback when the app above imports them;
    # Dash hands them to an app at its first request. Making that request now binds them to
    # this app, so that a second app built in the same process (as tests do) gets its own.
    app.server.test_client().get("/_dash-layout")
    responses.bind(app)
    headers.allow_inline_scripts(app.server, app.csp_hashes())
    return app
