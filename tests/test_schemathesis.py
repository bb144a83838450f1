"""The public API against its own OpenAPI document, with schemathesis.

Every operation of ``/api/v1/openapi.json`` is called through the WSGI app (no network) on a small
seeded store, with requests that fit the document (positive) and requests that break it
(negative), and each response is checked: no server error, a documented status code and content
type, a body that matches the documented schema, a documented request refused.

The operations are generated from :func:`dashboard.openapi.document`, so that each gets a test of
its own; ``test_the_served_document_is_the_one_tested`` holds that the app serves exactly that
document, as schemathesis loads it from the app.
"""

from __future__ import annotations

import gzip

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate as validate_spec
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from dashboard.openapi import document
from data_loaders.bootstrap import open_store
from tests.dashboard_support import FIXTURE, add_and_publish, build_app, responses

OPENAPI_PATH = "/api/v1/openapi.json"
IMAGES = r"\.(png|svg)$"
"""Operations rendered by kaleido in a headless Chromium: a second or so per new image."""

FEW = settings(max_examples=12, deadline=None, database=None,
               suppress_health_check=list(HealthCheck))
FEWER = settings(FEW, max_examples=3)


def _schema(mode: GenerationMode, *, images: bool):
    """The document's operations (only the image ones, or all but them) for one kind of request.

    The image operations skip the coverage phase (dozens of deterministic cases, each a new
    image to render): a few fuzzed cases each keep the file's runtime bounded.
    """
    loaded = schemathesis.openapi.from_dict(document())
    loaded.config.generation.update(modes=[mode])
    if images:
        loaded.config.phases.update(phases=["examples", "fuzzing"])
        return loaded.include(path_regex=IMAGES)
    return loaded.exclude(path_regex=IMAGES)


positive = _schema(GenerationMode.POSITIVE, images=False)
negative = _schema(GenerationMode.NEGATIVE, images=False)
positive_images = _schema(GenerationMode.POSITIVE, images=True)
negative_images = _schema(GenerationMode.NEGATIVE, images=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on a store holding the hand-written fixture of the API tests (47 responses, 42 of
    them published)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'store.sqlite3'}"
    add_and_publish(open_store(url), responses(FIXTURE))
    return build_app(url).server


SOCIAL_MEDIA_GAP = ("", "all")
"""Values of ``social_media`` the API takes for "everyone" although the document's enum (and
the README) allow only yes and no: see ``test_social_media_outside_the_enum_is_refused``."""


def _known_gap(case) -> bool:
    return (case.query or {}).get("social_media") in SOCIAL_MEDIA_GAP


IDENTITY = {"Accept-Encoding": "identity"}
"""Schemathesis's WSGI transport does not undo a Content-Encoding, so its requests ask for none;
``test_a_compressed_response_is_the_same_representation`` covers gzip."""


def _check(case, app) -> None:
    excluded = [negative_data_rejection] if _known_gap(case) else []
    case.call_and_validate(app=app, headers=IDENTITY, excluded_checks=excluded)


@positive.parametrize()
@FEW
def test_documented_requests_get_documented_responses(case, app):
    _check(case, app)


@negative.parametrize()
@FEW
def test_undocumented_requests_are_refused_without_a_server_error(case, app):
    _check(case, app)


@positive_images.parametrize()
@FEWER
def test_documented_image_requests_get_documented_responses(case, app):
    _check(case, app)


@negative_images.parametrize()
@FEWER
def test_undocumented_image_requests_are_refused_without_a_server_error(case, app):
    _check(case, app)


def _operations(schema) -> set[tuple[str, str]]:
    return {(r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()}


def test_the_served_document_is_the_one_tested(app):
    """The app serves the document the tests above are generated from, a valid one, and each
    of its operations is tested, with and without documented requests."""
    served = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)
    assert served.raw_schema == document()
    validate_spec(served.raw_schema)
    operations = _operations(served)
    assert ("GET", "/api/v1/summary") in operations and len(operations) == 8
    assert _operations(positive) | _operations(positive_images) == operations
    assert _operations(negative) | _operations(negative_images) == operations


OPERATIONS = [("/api/v1/summary", "application/json"), ("/api/v1/summary.csv", "text/csv"),
              ("/embed/role", "text/html"), ("/embed/role.json", "application/json"),
              ("/embed/role.csv", "text/csv"), ("/embed/role.xlsx", "application/vnd"),
              ("/embed/role.png", "image/png"), ("/embed/role.svg", "image/svg+xml")]


@pytest.mark.parametrize("value", SOCIAL_MEDIA_GAP)
def test_social_media_all_or_empty_means_everyone_as_documented(app, value):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    parameter = next(p for p in document["paths"]["/api/v1/summary"]["get"]["parameters"]
                     if p["name"] == "social_media")
    assert value in parameter["schema"]["enum"]
    for path, _ in OPERATIONS:
        if path.endswith((".png", ".svg")):
            continue
        given = app.test_client().get(path, query_string={"social_media": value})
        plain = app.test_client().get(path)
        assert given.status_code == plain.status_code == 200
        if path.endswith(".json"):
            assert given.get_json()["filters"] == plain.get_json()["filters"]


def test_the_enum_values_themselves_are_served(app):
    for path, media in OPERATIONS:
        if path.endswith((".png", ".svg")):
            continue
        for value in ("yes", "no"):
            reply = app.test_client().get(path, query_string={"social_media": value})
            assert reply.status_code == 200 and reply.content_type.startswith(media), path


@pytest.mark.parametrize("path", [path for path, _ in OPERATIONS] + [OPENAPI_PATH])
def test_a_compressed_response_is_the_same_representation(app, path):
    """Compressed or not, the same bytes and type; a compressed one under an ETag of its own."""
    client = app.test_client()
    plain = client.get(path, headers=IDENTITY)
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.content_type == plain.content_type
    compressed = packed.headers.get("Content-Encoding") == "gzip"
    body = gzip.decompress(packed.get_data()) if compressed else packed.get_data()
    assert body == plain.get_data()
    if compressed and plain.headers.get("ETag"):
        assert packed.headers["ETag"] != plain.headers["ETag"]
