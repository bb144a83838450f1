"""Conditional requests for embeds and the API (Flask's test client, the real app on SQLite): a 304
carries the validator the client holds, with the encoding the compression layer appended to the
ETag of the 200, so that a cache in front refreshes the very copy it asked about.

And what a cache keys and validates by moves only with a release: responses stored but not yet
published leave every public response, its body and its headers, exactly as it was."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from data_loaders.bootstrap import open_store
from tests.dashboard_support import (FIXTURE, START, add, build_app, fixture_store, publish,
                                     responses)

COMPRESSED = ("/api/v1/summary?role=social_worker", "/embed/uk-and-us",
              "/embed/viewed_profile.json?social_media=yes")
PATHS = (*COMPRESSED, "/api/v1/summary.csv")
"""The compression layer leaves CSV alone."""


@pytest.fixture
def store(tmp_path):
    return fixture_store(tmp_path)


@pytest.fixture
def client(store):
    return build_app(store[0]).server.test_client()


def data_part(validator: str) -> str:
    return validator.removeprefix("W/").strip('"').split(":", 1)[0]


@pytest.mark.parametrize("path", COMPRESSED)
@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_304_echoes_the_compressed_validator_of_the_copy_the_client_holds(client, path,
                                                                             encoding):
    first = client.get(path, headers={"Accept-Encoding": encoding})
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == encoding
    held = first.headers["ETag"]
    assert held.endswith(f':{encoding}"')

    again = client.get(path, headers={"Accept-Encoding": encoding, "If-None-Match": held})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == held
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]


@pytest.mark.parametrize("path", PATHS)
def test_a_304_echoes_a_weak_or_uncompressed_validator_as_the_client_wrote_it(client, path):
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    tag = plain.headers["ETag"]
    for validator in (tag, f"W/{tag}", f'W/"{data_part(tag)}:gzip"'):
        again = client.get(path, headers={"If-None-Match": validator})
        assert again.status_code == 304
        assert again.headers["ETag"] == validator


def test_of_several_validators_the_304_names_the_one_for_the_current_data(client):
    path = PATHS[0]
    tag = client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    given = f'"0123456789abcdef:gzip", {tag}, "{data_part(tag)}:br"'
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": given})
    assert again.status_code == 304
    assert again.headers["ETag"] == tag


LOOKED = ("social_worker", "yes", "yes", "no", "no", "", "no", "no")


@pytest.mark.parametrize("path", PATHS)
def test_new_data_answers_in_full_with_a_new_validator(client, store, path):
    held = client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    # Stored but not published: the same data, still 304.
    add(store[1], responses([(10, LOOKED)]))
    unchanged = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": held})
    assert unchanged.status_code == 304
    # The release publishes the 10 (the atom "social worker, uses social media" gains 10).
    assert publish(store[1]).added == 10
    changed = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": held})
    assert changed.status_code == 200 and changed.data
    assert data_part(changed.headers["ETag"]) != data_part(held)


# ---------------------------------------------------------------------------------------------
# Nothing public moves without a release

FIRST_RELEASE = START + timedelta(days=2)
SECOND_RELEASE = START + timedelta(days=3)
"""Releases at fixed times long past: what the pages say of the time since the figures moved
("N days ago") and of the last hour (nothing published) then stays put while a test runs."""

GETS = (
    "/api/v1/summary", "/api/v1/summary?role=social_worker&social_media=yes",
    "/api/v1/summary.csv", "/api/v1/summary.csv?role=team_manager",
    *(f"/embed/viewed_profile{fmt}?role=social_worker"
      for fmt in ("", ".json", ".csv", ".xlsx", ".png", ".svg")),
    "/embed/uk-and-us", "/embed/crosstab?rows=viewed_profile&columns=viewed_for_evidence",
    "/embed/crosstab.json?rows=viewed_profile&columns=viewed_for_evidence",
    "/embed/by-role.csv?by_role=viewed_profile", "/embed/timeline", "/embed/timeline.json",
    "/healthz/data-version", "/_dash-layout",
)
"""Every kind of public GET: the API, every embed format, the probes nginx keys its cache by,
and the layout the shell sends (filters, "figures last moved")."""


def _callback(outputs: list[tuple[str, str]], inputs: list[dict], state: list[dict] = ()) -> dict:
    names = [f"{component}.{prop}" for component, prop in outputs]
    specs = [{"id": component, "property": prop} for component, prop in outputs]
    many = len(outputs) > 1
    return {"output": f"..{'...'.join(names)}.." if many else names[0],
            "outputs": specs if many else specs[0], "inputs": inputs, "state": list(state),
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def _page(content: str | list[str], search: str) -> dict:
    parts = [content] if isinstance(content, str) else content
    return _callback([(part, "children") for part in parts],
                     [{"id": "url", "property": "search", "value": search},
                      {"id": "data-version", "property": "data", "value": "held-nothing"}])


CALLBACKS = (
    _page("overview-content", ""), _page("overview-content", "?role=social_worker"),
    _page("compare-content", ""), _page("live-content", ""),
    _page(["explore-content-crosstab", "explore-content-breakdown"], "?by_role=aware_of_guidance"),
    _callback([("data-version", "data"), ("demo-banner", "children"),
               ("store-status", "children"), ("as-of", "children"), ("role-filter", "options")],
              [{"id": "tick", "property": "n_intervals", "value": 3}],
              [{"id": "data-version", "property": "data", "value": "held-nothing"},
               {"id": "store-status", "property": "children", "value": []}]),
)
"""The Dash page callbacks as the browser asks for them: every page's render, and the shell's
check for new data (data version, "figures last moved", the role filter's options)."""


def public_responses(client) -> dict[str, tuple[int, list, bytes]]:
    """Status, headers and body of every public response; /readyz apart (see below)."""
    seen = {}
    for path in GETS:
        response = client.get(path)
        seen[path] = (response.status_code, list(response.headers.items()), response.data)
    for n, body in enumerate(CALLBACKS):
        response = client.post("/_dash-update-component", data=json.dumps(body),
                               content_type="application/json")
        seen[f"callback {n}: {body['output']}"] = (response.status_code,
                                                   list(response.headers.items()), response.data)
    assert all(status in (200, 204) for status, _headers, _body in seen.values()), {
        key: status for key, (status, _h, _b) in seen.items()}
    return seen


def readiness(client) -> tuple[dict, list]:
    """/readyz's body, and its headers, without the release's age (which grows as time passes,
    not as responses arrive): that is compared on its own."""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    return body, [(k, v) for k, v in response.headers.items() if k != "Content-Length"]


def numbers_in(body: dict) -> set[int]:
    """Every number /readyz gives, as a value or written in a text (the data version apart: an
    opaque hash, whose hexadecimal digits are no count)."""
    found = set()
    for key, value in body.items():
        if isinstance(value, bool) or value is None or key == "data_version":
            continue
        if isinstance(value, (int, float)):
            found.add(int(value))
        else:
            found |= {int(n) for n in re.findall(r"\d+", str(value))}
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store_url(request, tmp_path) -> str:
    """A new store's URL: once an SQLite file, once a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("pg_database")()


def test_nothing_public_moves_until_a_release(any_store_url):
    url = any_store_url
    engine = open_store(url)
    add(engine, responses(FIXTURE, start=START))
    assert publish(engine, now=FIRST_RELEASE).total == 42
    client = build_app(url).server.test_client()
    before = public_responses(client)
    ready_before, ready_headers = readiness(client)

    # 10 more social workers who have looked (enough for a release) and one more student (not):
    # stored, 47 + 11 = 58 in all, and waiting.
    add(engine, responses([(10, LOOKED), (1, FIXTURE[4][1])], start=START + timedelta(days=1)))
    assert public_responses(client) == before
    # A worker that starts now, reading the store afresh, shows the same as well.
    fresh = build_app(url).server.test_client()
    assert public_responses(fresh) == before
    for worker in (client, fresh):
        ready, headers = readiness(worker)
        assert headers == ready_headers
        assert {k: v for k, v in ready.items() if k != "release_age_seconds"} == {
            k: v for k, v in ready_before.items() if k != "release_age_seconds"}
        assert ready["release_age_seconds"] >= ready_before["release_age_seconds"] > 0

    made = publish(engine, now=SECOND_RELEASE)
    assert (made.added, made.total) == (10, 52)  # the student waits: 4 students, fewer than 10
    after = public_responses(client)
    for key, (_status, headers, body) in after.items():
        old_headers, old_body = dict(before[key][1]), before[key][2]
        assert body != old_body or body == b"" == old_body, key  # the probe's body is empty
        for header in ("ETag", "Last-Modified", "X-Data-Version"):
            if header in old_headers:
                assert dict(headers)[header] != old_headers[header], (key, header)
    ready_after, _headers = readiness(client)
    assert ready_after["data_version"] != ready_before["data_version"]
    assert dict(after["/healthz/data-version"][1])["X-Data-Version"] == ready_after["data_version"]

    # The probes never say how many responses there are, nor name one.
    for ready in (ready_before, ready_after):
        assert set(ready) == {"status", "store_reachable", "data_version",
                              "release_age_seconds", "unreachable_since"}
        assert re.fullmatch(r"[0-9a-f]{20}", ready["data_version"])
        assert not numbers_in(ready) & {42, 47, 52, 58}  # published and stored, before and after
    for state in (before, after):
        status, headers, body = state["/healthz/data-version"]
        assert status == 204 and body == b""
        assert {k for k, _v in headers} == {"X-Data-Version", "Cache-Control",
                                            "X-Content-Type-Options", "Referrer-Policy",
                                            "Content-Security-Policy", "X-Frame-Options",
                                            "Vary"}
        assert re.fullmatch(r"[0-9a-f]{20}", dict(headers)["X-Data-Version"])
