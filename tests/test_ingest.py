"""The ingestion API: authenticated, limited, idempotent, and never acknowledging what it lost."""

from __future__ import annotations


import pytest

from dashboard.ingest import RateLimiter
from data_loaders import releases, store
from data_loaders.bootstrap import open_store
from tests.dashboard_support import build_app

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def response(respondent: str, **answers) -> dict:
    body = {"respondent_id": respondent, "submitted_at": "2018-09-20T10:15:00+01:00",
            "role": "social_worker", "uses_social_media": "yes", "viewed_profile": "Yes",
            "viewed_for_evidence": "no", "aware_of_guidance": "not sure",
            "confident_rules": "no", "knows_who_to_ask": "yes"}
    body.update(answers)
    return body


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def client(url):
    return build_app(url, ingest_token=TOKEN, ingest_max_batch=20, ingest_max_bytes=20_000,
                     ingest_rate_per_minute=1000).server.test_client()


def stored(url: str) -> int:
    with open_store(url).connect() as connection:
        return store.count_responses(connection)


def test_one_response_is_stored_once(client, url):
    first = client.post("/api/v1/responses", json=response("r1"), headers=AUTH)
    assert first.status_code == 201
    assert first.get_json()["results"] == [{"index": 0, "respondent_id": "r1", "status": "stored"}]
    again = client.post("/api/v1/responses", json=response("r1"), headers=AUTH)
    assert again.status_code == 201 and again.get_json()["duplicates"] == 1
    assert stored(url) == 1
    with open_store(url).connect() as connection:
        frame_row = connection.exec_driver_sql(
            "SELECT submitted_at, viewed_profile, aware_of_guidance, confident_guidance "
            "FROM responses").one()
    assert str(frame_row[0]).startswith("2018-09-20 09:15:00")  # stored in UTC
    assert tuple(frame_row[1:]) == ("yes", "not_sure", "not_asked")


def published(url: str) -> int:
    with open_store(url).connect() as connection:
        return releases.status(connection).published


def test_what_is_stored_is_published_once_the_rule_lets_it(url):
    # A worker that may publish at any moment (RELEASE_INTERVAL_SECONDS near 0).
    client = build_app(url, ingest_token=TOKEN, ingest_max_batch=20,
                       release_interval_seconds=0.001).server.test_client()
    batch = [response(f"r{i}") for i in range(9)]
    assert client.post("/api/v1/responses", json=batch, headers=AUTH).status_code == 201
    # 9 social workers alike: their atom would gain 9, fewer than 10. They wait.
    assert (stored(url), published(url)) == (9, 0)
    assert client.get("/api/v1/summary").get_json()["total_responses"] == 0
    assert client.post("/api/v1/responses", json=response("r9"), headers=AUTH).status_code == 201
    # The tenth makes 10: the request that stored it published them.
    assert (stored(url), published(url)) == (10, 10)
    assert client.get("/api/v1/summary").get_json()["total_responses"] == 10


def test_a_batch_with_bad_rows_gets_422_reasons_and_quarantine(client, url):
    batch = {"responses": [response("a"), response("b", viewed_profile="maybe"),
                           response("c", confident_guidance="yes"),
                           response("d", email="someone@example.org"), response("a")]}
    reply = client.post("/api/v1/responses", json=batch, headers=AUTH)
    assert reply.status_code == 422
    body = reply.get_json()
    assert (body["stored"], body["duplicates"], body["refused"]) == (1, 1, 3)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["stored", "refused", "refused", "refused", "duplicate"]
    assert "question 3 (viewed_profile): 'maybe' is not one of: Yes, No" in body["results"][1]["reason"]
    assert "question 6 (confident_guidance) is answered" in body["results"][2]["reason"]
    assert "unknown field(s): email" in body["results"][3]["reason"]
    with open_store(url).connect() as connection:
        kept = store.list_quarantine(connection)
    assert [k.line_number for k in kept] == [1, 2, 3]
    assert all("example.org" not in k.raw for k in kept)  # unknown fields are not kept
    assert stored(url) == 1


@pytest.mark.parametrize("moment", ["0001-01-01T12:00:00+00:00", "9999-12-31T00:00:00Z",
                                    "0001-01-02T00:00:00+01:00"])
def test_times_too_near_the_ends_of_the_calendar_are_refused(client, url, moment):
    # A day inside years 1 to 9999 in UTC, so that every time zone can show the time back.
    reply = client.post("/api/v1/responses", json=response("edge", submitted_at=moment),
                        headers=AUTH)
    assert reply.status_code == 422
    reason = reply.get_json()["results"][0]["reason"]
    assert "is out of range: not between 0001-01-02 and 9999-12-30 in UTC" in reason
    assert stored(url) == 0


def test_times_just_inside_the_range_are_stored(client, url):
    for n, moment in enumerate(["0001-01-02T00:00:00Z", "9999-12-30T23:59:59+00:00"]):
        reply = client.post("/api/v1/responses", json=response(f"in{n}", submitted_at=moment),
                            headers=AUTH)
        assert reply.status_code == 201, reply.get_json()
    assert stored(url) == 2


@pytest.mark.parametrize("headers, status", [
    ({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": TOKEN}, 401),
])
def test_without_the_token_nothing_is_stored(client, url, headers, status):
    reply = client.post("/api/v1/responses", json=response("x"), headers=headers)
    assert reply.status_code == status
    assert "WWW-Authenticate" in reply.headers
    assert stored(url) == 0


def test_ingestion_is_off_without_a_token(url):
    client = build_app(url).server.test_client()
    assert client.post("/api/v1/responses", json=response("x"),
                       headers={"Authorization": "Bearer "}).status_code == 404


def test_too_large_requests_are_refused_before_being_read(client, url):
    big = client.post("/api/v1/responses", data=b"[" + b" " * 30_000 + b"]", headers=AUTH,
                      content_type="application/json")
    assert big.status_code == 413
    many = client.post("/api/v1/responses", json=[response(f"r{i}") for i in range(21)],
                       headers=AUTH)
    assert many.status_code == 413 and "at most 20" in many.get_json()["error"]
    garbage = client.post("/api/v1/responses", data=b"\xff\xfe{", headers=AUTH)
    assert garbage.status_code == 400
    assert stored(url) == 0


def test_clients_are_rate_limited(url):
    client = build_app(url, ingest_token=TOKEN, ingest_rate_per_minute=3).server.test_client()
    codes = [client.post("/api/v1/responses", json=response(f"r{i}"), headers=AUTH).status_code
             for i in range(4)]
    assert codes == [201, 201, 201, 429]
    limited = client.post("/api/v1/responses", json=response("r9"), headers=AUTH)
    assert int(limited.headers["Retry-After"]) >= 1


def test_the_token_bucket_refills_with_time():
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert [limiter.wait_needed("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.wait_needed("b") == 0.0  # per client
    now[0] += 30  # one request's worth at 2 a minute
    assert limiter.wait_needed("a") == 0.0
    assert limiter.wait_needed("a") == pytest.approx(30.0)


@pytest.mark.postgres
def test_when_the_store_cannot_take_writes_503_and_nothing_acknowledged_is_lost(
        own_pg_server):
    server = own_pg_server
    url = server.url()
    client = build_app(url, ingest_token=TOKEN).server.test_client()
    acknowledged = []
    for i in range(3):
        if client.post("/api/v1/responses", json=response(f"p{i}"),
                       headers=AUTH).status_code == 201:
            acknowledged.append(f"p{i}")
    server.pause()
    down = client.post("/api/v1/responses", json=response("lost"), headers=AUTH)
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert client.get("/readyz").status_code == 503
    assert client.get("/").status_code == 200  # pages still answer
    server.resume()
    back = client.post("/api/v1/responses", json=response("p9"), headers=AUTH)
    assert back.status_code == 201  # recovered without a restart
    with open_store(url).connect() as connection:
        ids = set(connection.exec_driver_sql(
            "SELECT source_respondent_id FROM responses").scalars())
    assert ids == {*acknowledged, "p9"} and len(acknowledged) == 3
