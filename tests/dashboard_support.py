"""Helpers for tests of the web application: hand-written responses, an app on a fresh store,
and a real server in a thread for the browser."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from itertools import count

import pandas as pd
from sqlalchemy import Engine, select
from werkzeug.serving import make_server

from dashboard.app import create_app
from data_loaders.bootstrap import open_store
from data_loaders import releases, store
from data_loaders.db import WRITE
from data_loaders.loader import load_responses
from data_loaders.models import Release, Response
from survey.questionnaire import QUESTION_IDS
from survey.settings import Settings

_ids = count(1)
START = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)


def responses(spec: list[tuple[int, tuple[str, ...]]], *,
              start: datetime | None = None) -> list[dict]:
    """Rows for ``store.store_responses`` from ``(how many, (eight codes))`` pairs; "" is a blank
    answer (and, for question 6 after a question 5 that is not yes, "not asked").

    Respondent ids are unique across calls. Responses are a minute apart: after every response
    made before (from :data:`START`), or from ``start`` when it is given."""
    rows = []
    index = count(1)
    for times, answers in spec:
        for _ in range(times):
            n = next(_ids)
            minutes = n if start is None else next(index)
            codes = dict(zip(QUESTION_IDS, answers))
            for qid, code in codes.items():
                if code == "":
                    codes[qid] = ("not_asked" if qid == "confident_guidance"
                                  and codes["aware_of_guidance"] != "yes" else "no_answer")
            rows.append({"source_respondent_id": f"t{n}",
                         "submitted_at": (start or START) + timedelta(minutes=minutes), **codes})
    return rows


def add(engine: Engine, rows: list[dict], *, source: str = "test") -> int:
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        return store.store_responses(connection, source, rows).accepted


def publish(engine: Engine, *, now: datetime | None = None, **overrides) -> releases.Made | None:
    """Make a release now, as a worker would (minimum cell size 10 unless overridden), whatever
    the time since the last one."""
    values = dict(min_cell_size=10, release_interval_seconds=0.0)
    values.update(overrides)
    return releases.publish(engine, Settings.from_env({}, **values), now=now, interval=0)


def add_and_publish(engine: Engine, rows: list[dict], **overrides) -> int:
    """Store ``rows`` and make a release; returns how many were stored."""
    stored = add(engine, rows)
    publish(engine, **overrides)
    return stored


# Hand-written store used by the API and browser tests (minimum cell size 10):
# social workers: 12 all-yes, 10 mostly no; team managers: 10 using social media, 10 not;
# 3 students; 2 social workers who left question 2 blank. Published by one release: the 42
# social workers and team managers who answered question 2 (atoms social worker x yes: 22, of
# whom 12 answered question 6 and 10 were not asked it; team manager x yes: 10; team manager x
# no: 10). The 3 students and the 2 who left question 2 blank wait: fewer than 10 of each.
FIXTURE = [
    (12, ("social_worker", "yes", "yes", "yes", "yes", "yes", "yes", "yes")),
    (10, ("social_worker", "yes", "no", "no", "no", "", "no", "no")),
    (10, ("team_manager", "yes", "yes", "no", "not_sure", "", "yes", "yes")),
    (10, ("team_manager", "no", "no", "no", "no", "", "not_sure", "no")),
    (3, ("student", "yes", "yes", "yes", "yes", "no", "no", "no")),
    (2, ("social_worker", "", "yes", "yes", "yes", "yes", "yes", "yes")),
]



def fixture_store(directory) -> tuple[str, Engine]:
    """A fresh SQLite store in ``directory`` holding :data:`FIXTURE`, published: its URL and
    engine."""
    url = f"sqlite:///{directory / 'store.sqlite3'}"
    engine = open_store(url)
    add_and_publish(engine, responses(FIXTURE))
    return url, engine


def settings_for(url: str, **overrides) -> Settings:
    """The settings of a test's app: no demo data, and no release made by the app itself (a
    test publishes when it means to, with :func:`publish`)."""
    values = dict(database_url=url, demo_responses=0, min_cell_size=10, refresh_seconds=1.0,
                  release_interval_seconds=0.0)
    values.update(overrides)
    return Settings.from_env({}, **values)


def build_app(url: str, **overrides):
    return create_app(settings_for(url, **overrides))


@contextmanager
def serve(app) -> Iterator[str]:
    """The app on a free loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def freeze_body(chart_ref: str, search: str) -> dict:
    """What the browser posts to ``/_dash-update-component`` when the freeze button of the chart
    ``chart_ref`` names is clicked on a page whose link's query string is ``search``."""
    button = {"chart": chart_ref, "type": "freeze"}
    return {"output": '{"chart":["MATCH"],"type":"frozen-snippet"}.children',
            "outputs": {"id": {"chart": chart_ref, "type": "frozen-snippet"},
                        "property": "children"},
            "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
            "state": [{"id": "url", "property": "search", "value": search}],
            "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"]}


def published_frame(engine: Engine) -> pd.DataFrame:
    """The published responses as a frame, each with the time of the release that published it
    (``published_at``): what a cube the database counted must equal."""
    with engine.connect() as connection:
        frame = load_responses(connection)
        times = dict(connection.execute(
            select(Response.id, Release.published_at)
            .join(Release, Release.seq == Response.release_seq)).all())
    frame = frame[frame["id"].isin(list(times))].copy()
    frame["published_at"] = pd.Series([store.utc(times[i]) for i in frame["id"]],
                                      index=frame.index, dtype="datetime64[us, UTC]")
    return frame
