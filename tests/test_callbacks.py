"""Page callbacks over HTTP (Flask's test client, real SQLite): remembered responses are the
bytes Dash would send, follow the data, and are never shared where the page differs."""

from __future__ import annotations

import gzip
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from dashboard import context
from dashboard.context import RESPONSES
from tests.dashboard_support import add, build_app, fixture_store, publish, responses

LOOKED = ("social_worker", "yes", "yes", "no", "no", "", "no", "no")
TEN_MORE = [(10, LOOKED)]
"""Enough of one kind for a release: the atom "social worker, uses social media" and each of
its groups gain 10."""


@pytest.fixture
def store(tmp_path):
    return fixture_store(tmp_path)


@pytest.fixture
def app(store):
    return build_app(store[0])


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture
def renders(monkeypatch):
    """How many times a page has summarised the data (once for each render)."""
    counted = []
    summarise = context.summarise

    def counting(*args, **kwargs):
        counted.append(args[2])
        return summarise(*args, **kwargs)

    monkeypatch.setattr(context, "summarise", counting)
    return counted


def request_for(content: str, search: str, version: str = "0-0-0") -> dict:
    """What the browser sends for a page's render callback."""
    return {"output": f"{content}.children", "outputs": {"id": content, "property": "children"},
            "inputs": [{"id": "url", "property": "search", "value": search},
                       {"id": "data-version", "property": "data", "value": version}],
            "changedPropIds": ["url.search"]}


def post(client, body: dict, **headers):
    return client.post("/_dash-update-component", data=json.dumps(body),
                       content_type="application/json", headers=headers)


def find(node, component_id: str):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        node = list(node.values())
    if isinstance(node, list):
        return next((found for item in node if (found := find(item, component_id))), None)
    return None


def tile(response, tile_id: str) -> tuple[str, str, str]:
    """A headline tile's value, label and the note under it."""
    found = find(response.get_json(), tile_id)
    return tuple(part["props"]["children"] for part in found["props"]["children"])


def responses_in_view(response) -> str:
    return tile(response, "headline-responses")[0]


def test_a_view_asked_for_again_is_the_same_bytes_without_a_render(client, renders):
    first = post(client, request_for("overview-content", "?role=social_worker", "a"))
    again = post(client, request_for("overview-content", "?role=social_worker", "b"))
    assert first.status_code == again.status_code == 200
    assert len(renders) == 1
    assert again.data == first.data
    assert responses_in_view(again) == "22"  # 12 + 10 social workers who answered question 2
    for header in ("Content-Type", "Content-Length", "Content-Security-Policy",
                   "X-Content-Type-Options", "Vary"):
        assert again.headers.get(header) == first.headers.get(header), header


def test_a_remembered_response_is_compressed_as_any_other(client, renders):
    identity = post(client, request_for("overview-content", "?role=team_manager"))
    zipped = post(client, request_for("overview-content", "?role=team_manager"),
                  **{"Accept-Encoding": "gzip"})
    assert len(renders) == 1
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == identity.data


def test_new_releases_show_at_once_whatever_version_the_browser_names(client, store, renders):
    # A version the store has not reached yet cannot hold back what is shown once it has.
    body = request_for("overview-content", "?role=social_worker", "a-version-from-the-future")
    assert responses_in_view(post(client, body)) == "22"
    # Stored, not yet published: the same figures, remembered.
    add(store[1], responses(TEN_MORE))
    assert responses_in_view(post(client, body)) == "22"
    assert len(renders) == 1
    publish(store[1])
    assert responses_in_view(post(client, body)) == "32"  # 22 + the 10 just published
    assert responses_in_view(post(client, request_for("overview-content",
                                                      "?role=social_worker"))) == "32"
    assert len(renders) == 2


def test_the_tiles_say_when_the_figures_last_moved(tmp_path):
    from data_loaders.bootstrap import open_store
    from tests.dashboard_support import FIXTURE

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = open_store(url)
    client = build_app(url).server.test_client()
    overview, live = request_for("overview-content", ""), request_for("live-content", "")
    assert tile(post(client, overview), "headline-last") == (
        "not yet", "figures last moved", "new responses are added in batches")
    assert tile(post(client, live), "live-since") == ("not yet", "since the figures last moved",
                                                     "")

    moved = datetime.now(timezone.utc) - timedelta(hours=3)
    add(engine, responses(FIXTURE))
    publish(engine, now=moved)
    assert tile(post(client, overview), "headline-last")[:2] == (
        moved.strftime("%d %b %Y %H:%M UTC"), "figures last moved")
    assert tile(post(client, overview), "headline-responses") == (
        "42", "responses in this view", "42 published in all")
    # Published 3 hours ago: none in the last hour, the 42 in the last 24 hours.
    assert tile(post(client, live), "live-rate") == ("0", "published in the last hour",
                                                    "42 in the last 24 hours")
    assert tile(post(client, live), "live-since") == ("3 hours ago",
                                                     "since the figures last moved", "")

    # Stored now but not published: nothing moves, the responses' arrival included.
    add(engine, responses(TEN_MORE))
    assert tile(post(client, live), "live-rate")[0] == "0"
    assert tile(post(client, live), "live-since")[0] == "3 hours ago"
    publish(engine)
    assert tile(post(client, live), "live-rate") == ("10", "published in the last hour",
                                                    "52 in the last 24 hours")
    assert re.fullmatch(r"\d+ (seconds|minutes?) ago", tile(post(client, live), "live-since")[0])
    assert tile(post(client, overview), "headline-responses") == (
        "52", "responses in this view", "52 published in all")


def test_the_role_filter_lists_what_cannot_be_chosen_with_the_reason(tmp_path):
    from tests.dashboard_support import FIXTURE

    url, engine = fixture_store(tmp_path)
    client = build_app(url, pooled_roles="student").server.test_client()

    def options() -> list[tuple[str, str, bool]]:
        found = find(client.get("/_dash-layout").get_json(), "role-filter")
        return [(o["label"], o["value"], o.get("disabled", False))
                for o in found["props"]["options"]]

    none_yet = [(f"{label} \u2014 none published yet", code, True) for label, code in (
        ("Newly qualified social worker (ASYE)", "newly_qualified_social_worker"),
        ("Senior or advanced practitioner", "senior_practitioner"),
        ("Service manager or head of service", "service_manager"),
        ("Director or assistant director", "director"),
        ("Principal social worker", "principal_social_worker"),
        ("Independent reviewing officer or child protection chair",
         "independent_reviewing_officer"),
        ("Family support, early help worker or social work assistant", "family_support_worker"))]
    # FIXTURE's release: 22 social workers, 20 team managers; the 3 students wait, and are not
    # pooled (that release was made before they were): nothing of theirs is published.
    assert options() == [("Social worker (22)", "social_worker", False),
                         ("Team manager (20)", "team_manager", False), *none_yet,
                         ("Social work student \u2014 none published yet", "student", True),
                         ("Other \u2014 none published yet", "other", True)]
    # 7 more students and a release with students pooled: the pool's atom gains 10.
    add(engine, responses([(7, FIXTURE[4][1])]))
    publish(engine, pooled_roles="student")
    assert options() == [
        ("Social worker (22)", "social_worker", False),
        ("Team manager (20)", "team_manager", False),
        ("Other roles, pooled (10)", "pooled", False), *none_yet,
        ("Social work student \u2014 published only with the other small roles", "student", True),
        ("Other \u2014 none published yet", "other", True)]


def test_each_host_gets_its_own_embed_snippets(client):
    body = request_for("overview-content", "")
    one = json.dumps(post(client, body, Host="one.example").get_json())
    other = json.dumps(post(client, body, Host="other.example").get_json())
    assert "http://one.example/embed/" in one and "other.example" not in one
    assert "http://other.example/embed/" in other and "one.example" not in other


def test_other_pages_filters_and_explore_choices_each_have_their_own(client, renders):
    explore = [f"explore-content-{part}" for part in ("crosstab", "breakdown")]
    bodies = [request_for("overview-content", "?role=social_worker"),
              request_for("overview-content", "?social_media=no"),
              request_for("compare-content", "?role=social_worker"),
              {**request_for("explore-content", "?rows=aware_of_guidance"),
               "output": f"..{explore[0]}.children...{explore[1]}.children..",
               "outputs": [{"id": part, "property": "children"} for part in explore]}]
    bodies.append({**bodies[-1], "inputs": [{"id": "url", "property": "search",
                                             "value": "?rows=viewed_profile"},
                                            bodies[-1]["inputs"][1]]})
    first = [post(client, body).data for body in bodies]
    assert len(set(first)) == len(bodies) and len(renders) == len(bodies)
    assert [post(client, body).data for body in bodies] == first
    assert len(renders) == len(bodies)


def test_only_pure_page_renders_are_remembered(client, renders):
    live = request_for("live-content", "?role=social_worker")
    assert post(client, live).status_code == post(client, live).status_code == 200
    assert len(renders) == 2  # the live page says how long ago: rendered each time
    presenting = request_for("overview-content", "?present=1")
    assert post(client, presenting).status_code == post(client, presenting).status_code == 204


def test_the_remembered_responses_are_bounded(app, client, renders):
    cache = app.server.extensions[RESPONSES]
    cache.size = 2
    searches = ["?role=social_worker", "?role=team_manager", "?social_media=no"]
    for search in searches:
        post(client, request_for("overview-content", search))
    assert len(cache) == 2 and len(renders) == 3
    post(client, request_for("overview-content", searches[0]))  # the oldest was forgotten
    assert len(renders) == 4


@pytest.mark.parametrize("body", [{"output": ["overview-content.children"]}, {"inputs": 3},
                                  {**request_for("overview-content", ""), "inputs": "?"}, [1]])
def test_malformed_requests_are_left_to_dash(app, client, body):
    assert post(client, body).status_code != 200
    assert len(app.server.extensions[RESPONSES]) == 0


@pytest.fixture
def store_queries(store):
    """Statements the app sends to the store (SQLAlchemy's own event on the engine's class)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sent = []

    def count(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    yield sent
    event.remove(Engine, "before_cursor_execute", count)


def test_a_browser_holding_the_current_data_is_answered_without_asking_the_store(
        app, client, store, store_queries):
    version = app.server.extensions[context.EXTENSION].live.snapshot().version
    body = request_for("overview-content", "?role=social_worker", version)
    post(client, body)
    store_queries.clear()
    # Within a second of the last look at the store, and the browser already holds this data:
    # nothing it is shown can be older than what it has, so the store is not asked again.
    assert responses_in_view(post(client, body)) == "22"
    assert store_queries == []
    # A browser naming any other version makes the worker look at the store first.
    post(client, request_for("overview-content", "?role=social_worker", "0-0-0"))
    assert store_queries != []


def test_a_new_release_reaches_a_browser_holding_the_old_data_within_a_second(app, client,
                                                                              store):
    live = app.server.extensions[context.EXTENSION].live
    body = request_for("overview-content", "?role=social_worker", live.snapshot().version)
    assert responses_in_view(post(client, body)) == "22"
    add(store[1], responses(TEN_MORE))
    publish(store[1])
    time.sleep(context.HELD_DATA_MAX_AGE)
    assert responses_in_view(post(client, body)) == "32"  # 22 + the 10 just published
