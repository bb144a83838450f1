"""The public summary API against hand-computed numbers (Flask's test client, real SQLite)."""

from __future__ import annotations

import math

import pytest

from data_loaders.bootstrap import open_store
from tests.dashboard_support import FIXTURE, add, build_app, responses


def wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round(100 * (centre - half), 1), round(100 * (centre + half), 1)


@pytest.fixture
def client(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    add(open_store(url), responses(FIXTURE))
    return build_app(url).server.test_client()


def question(payload: dict, qid: str) -> dict:
    return next(q for q in payload["questions"] if q["id"] == qid)


def answer(q: dict, code: str) -> dict:
    return next(a for a in q["answers"] if a["code"] == code)


def test_overall_numbers_are_the_hand_computed_ones(client):
    payload = client.get("/api/v1/summary").get_json()
    # 47 stored; the 2 who left question 2 blank are left out of every chart.
    assert payload["total_responses"] == 47
    assert payload["responses"] == 45
    viewed = question(payload, "viewed_profile")
    # yes: 12 social workers + 10 team managers + 3 students = 25 of 45.
    assert viewed["base"] == 45 and not viewed["suppressed"]
    assert answer(viewed, "yes") | {} == {"code": "yes", "label": "Yes", "count": 25,
                                         "percent": 55.6, "ci95": list(wilson(25, 45))}
    assert answer(viewed, "no")["count"] == 20
    # Question 6 is asked only after question 5 yes: 12 + 3 = 15 answered it. But 3 of them are
    # in the pooled group, so showing 15 beside the social workers' 12 would reveal those 3:
    # the question is suppressed overall, with no counts.
    confident = question(payload, "confident_guidance")
    assert confident["suppressed"] and "count" not in confident["answers"][0]
    social_workers = client.get("/api/v1/summary?role=social_worker").get_json()
    confident = question(social_workers, "confident_guidance")
    # 12 answered (all yes); 10 were not asked.
    assert (confident["base"], confident["not_asked"], confident["no_answer"]) == (12, 10, 0)
    assert answer(confident, "yes") | {} == {"code": "yes", "label": "Yes", "count": 12,
                                            "percent": 100.0, "ci95": list(wilson(12, 12))}


def test_small_roles_are_pooled_and_a_small_view_shows_no_numbers(client):
    payload = client.get("/api/v1/summary?role=social_worker&social_media=no").get_json()
    # No social worker said no to question 2: a view of nobody.
    assert payload["responses"] == 0
    assert all(q["suppressed"] and "count" not in q["answers"][0] for q in payload["questions"])
    # Students (3) are pooled with team managers (the smallest role), never shown alone.
    pooled = client.get("/api/v1/summary?role=student").get_json()
    assert pooled["filters"]["role"] == ["pooled"]
    assert pooled["responses"] == 23
    roles = question(client.get("/api/v1/summary").get_json(), "role")
    assert [a["code"] for a in roles["answers"]] == ["social_worker", "pooled"]
    assert [a["count"] for a in roles["answers"]] == [22, 23]


def test_benchmarks_use_n_171_and_newcombe_intervals(client):
    payload = client.get("/api/v1/summary").get_json()
    first = payload["benchmarks"][0]
    assert first["id"] == "curiosity_done" and first["uk_question"] == "viewed_profile"
    assert first["n"] == 171 and first["percent"] == 43.0 and first["approximate"] is False
    # 55.6% - 43% = 12.6 points; the interval is wide with 45 UK responses and includes 0.
    assert first["difference"] == 12.6
    low, high = first["difference_ci95"]
    assert low < 0 < high and first["significant"] is False
    approximate = [b for b in payload["benchmarks"] if b["approximate"]]
    assert {b["id"] for b in approximate} == {"investigation_done"}


@pytest.mark.parametrize("query, message", [
    ("role=chief_executive", "unknown role code(s): chief_executive"),
    ("social_media=sometimes", "social_media must be yes or no"),
    ("rol=social_worker", "unknown query parameter(s): rol"),
])
def test_bad_filters_get_400_with_a_clear_message(client, query, message):
    response = client.get(f"/api/v1/summary?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_summary_csv_has_the_same_numbers_as_the_json(client):
    import csv

    payload = client.get("/api/v1/summary?role=social_worker").get_json()
    response = client.get("/api/v1/summary.csv?role=social_worker")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(response.get_data(as_text=True).splitlines()))
    viewed = [r for r in rows if r["question_id"] == "viewed_profile"]
    assert [(r["answer_code"], int(r["count"]), float(r["percent"])) for r in viewed] == [
        (a["code"], a["count"], a["percent"])
        for a in question(payload, "viewed_profile")["answers"]]
    assert {r["role"] for r in rows} == {"social_worker"}
    everyone = list(csv.DictReader(client.get("/api/v1/summary.csv").get_data(as_text=True)
                                   .splitlines()))
    suppressed = [r for r in everyone if r["suppressed"] == "True"]  # question 6, see above
    assert suppressed and all(r["count"] == "" and r["base"] == "" for r in suppressed)


def test_the_api_is_described_by_a_valid_openapi_document_it_matches(client):
    import jsonschema
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    schema = document["paths"]["/api/v1/summary"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    for query in ("", "?role=social_worker", "?social_media=no", "?role=pooled&role=student"):
        jsonschema.validate(client.get(f"/api/v1/summary{query}").get_json(), schema)


def test_api_responses_are_validated_by_the_data_version(client):
    first = client.get("/api/v1/summary")
    again = client.get("/api/v1/summary", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = client.get("/api/v1/summary.csv", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200
