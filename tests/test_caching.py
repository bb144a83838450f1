"""Conditional requests for embeds and the API (Flask's test client, the real app on SQLite): a 304
carries the validator the client holds, with the encoding the compression layer appended to the
ETag of the 200, so that a cache in front refreshes the very copy it asked about."""

from __future__ import annotations

import pytest

from tests.dashboard_support import add, build_app, fixture_store, responses

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


@pytest.mark.parametrize("path", PATHS)
def test_new_data_answers_in_full_with_a_new_validator(client, store, path):
    held = client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    add(store[1], responses([(1, ("social_worker", "yes", "yes", "no", "no", "", "no", "no"))]))
    changed = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": held})
    assert changed.status_code == 200 and changed.data
    assert data_part(changed.headers["ETag"]) != data_part(held)
