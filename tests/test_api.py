"""The public summary API against hand-computed numbers (Flask's test client, real SQLite)."""

from __future__ import annotations

import math

import pytest

from tests.dashboard_support import (FIXTURE, add, build_app, fixture_store, publish,
                                     responses)


def wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round(100 * (centre - half), 1), round(100 * (centre + half), 1)


@pytest.fixture
def client(tmp_path):
    url, _engine = fixture_store(tmp_path)
    return build_app(url).server.test_client()


def question(payload: dict, qid: str) -> dict:
    return next(q for q in payload["questions"] if q["id"] == qid)


def answer(q: dict, code: str) -> dict:
    return next(a for a in q["answers"] if a["code"] == code)


def test_overall_numbers_are_the_hand_computed_ones(client):
    payload = client.get("/api/v1/summary").get_json()
    # 47 stored, 42 published (see FIXTURE): the 3 students and the 2 who left question 2
    # blank wait, and are in no figure, not even the total.
    assert payload["total_responses"] == 42
    assert payload["responses"] == 42
    viewed = question(payload, "viewed_profile")
    # yes: 12 social workers + 10 team managers who use social media = 22 of 42 (52.4%).
    assert viewed["base"] == 42 and not viewed["suppressed"]
    assert answer(viewed, "yes") | {} == {"code": "yes", "label": "Yes", "count": 22,
                                         "percent": 52.4, "ci95": list(wilson(22, 42))}
    # no: 10 social workers + 10 team managers who do not use social media = 20.
    assert answer(viewed, "no")["count"] == 20
    # Question 6 is asked only after question 5 yes: the 12 social workers answered it (all
    # yes); the other 10 social workers and the 20 team managers were not asked it: 30.
    confident = question(payload, "confident_guidance")
    assert (confident["base"], confident["not_asked"], confident["no_answer"]) == (12, 30, 0)
    assert answer(confident, "yes") | {} == {"code": "yes", "label": "Yes", "count": 12,
                                            "percent": 100.0, "ci95": list(wilson(12, 12))}
    social_workers = client.get("/api/v1/summary?role=social_worker").get_json()
    confident = question(social_workers, "confident_guidance")
    # 12 answered (all yes); 10 were not asked.
    assert (confident["base"], confident["not_asked"], confident["no_answer"]) == (12, 10, 0)
    assert answer(confident, "yes") | {} == {"code": "yes", "label": "Yes", "count": 12,
                                            "percent": 100.0, "ci95": list(wilson(12, 12))}


def test_a_role_with_nothing_published_and_a_small_view_show_no_numbers(client):
    payload = client.get("/api/v1/summary?role=social_worker&social_media=no").get_json()
    # No social worker said no to question 2: a view of nobody.
    assert payload["responses"] == 0
    assert all(q["suppressed"] and "count" not in q["answers"][0] for q in payload["questions"])
    # The 3 students wait (fewer than 10): the role is not pooled, and has no figures yet.
    students = client.get("/api/v1/summary?role=student").get_json()
    assert students["filters"]["role"] == ["student"] and students["responses"] == 0
    assert all(q["suppressed"] and q["base"] is None for q in students["questions"])
    roles = question(client.get("/api/v1/summary").get_json(), "role")
    assert [a["code"] for a in roles["answers"]] == ["social_worker", "team_manager"]
    assert [a["count"] for a in roles["answers"]] == [22, 20]


def test_pooled_roles_are_shown_only_as_the_pool(tmp_path):
    url, engine = fixture_store(tmp_path)
    # 7 more students like FIXTURE's 3: with students pooled (POOLED_ROLES), the pool's atom
    # "pooled, uses social media" gains 3 + 7 = 10 (all answered questions 3 to 8): published.
    add(engine, responses([(7, FIXTURE[4][1])]))
    made = publish(engine, pooled_roles="student")
    assert made is not None and (made.added, made.total) == (10, 42 + 10)
    client = build_app(url, pooled_roles="student").server.test_client()
    pooled = client.get("/api/v1/summary?role=student").get_json()
    assert pooled["filters"]["role"] == ["pooled"]
    assert pooled["responses"] == 10
    # Asking for the pool by name is the same view.
    named = client.get("/api/v1/summary?role=pooled").get_json()
    assert named["questions"] == pooled["questions"]
    roles = question(client.get("/api/v1/summary").get_json(), "role")
    assert [a["code"] for a in roles["answers"]] == ["social_worker", "team_manager", "pooled"]
    # 22 + 20 + 10 = 52.
    assert [a["count"] for a in roles["answers"]] == [22, 20, 10]


def test_benchmarks_use_n_171_and_newcombe_intervals(client):
    payload = client.get("/api/v1/summary").get_json()
    first = payload["benchmarks"][0]
    assert first["id"] == "curiosity_done" and first["uk_question"] == "viewed_profile"
    assert first["n"] == 171 and first["percent"] == 43.0 and first["approximate"] is False
    # 22 of 42 is 52.38%; 52.38% - 43% = 9.4 points; the interval is wide with 42 UK responses
    # and includes 0.
    assert first["uk_base"] == 42 and first["difference"] == 9.4
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
    # Those who do not use social media: 10 team managers, none of them asked question 6 (a base
    # of 0, fewer than 10): question 6 is suppressed, the others are not.
    text = client.get("/api/v1/summary.csv?social_media=no").get_data(as_text=True)
    rows = list(csv.DictReader(text.splitlines()))
    suppressed = [r for r in rows if r["suppressed"] == "True"]
    assert {r["question_id"] for r in suppressed} == {"confident_guidance"}
    assert all(r["count"] == "" and r["base"] == "" for r in suppressed)


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


def test_the_api_carries_what_the_pages_carry(client):
    payload = client.get("/api/v1/summary").get_json()
    # The four US "acceptable in some situations" figures, context only (SURVEY.md).
    context = {c["id"]: c for c in payload["us_context"]}
    assert [(c["percent"], c["display"], c["approximate"]) for c in payload["us_context"]] == [
        (58, "58%", False), (53, "53%", False), (61, "61%", False), (65, "about 65%", True)]
    assert context["investigation_acceptable"]["range"] == [63, 67]
    assert all(c["n"] == 171 and "context only" in c["note"] for c in payload["us_context"])
    # The US wordings are the project's paraphrase, and say so.
    assert all(b["us_wording_is_paraphrase"] for b in payload["benchmarks"])
    assert "paraphrase" in payload["notes"]["us_wording"]
    # An approximate US figure: a range, a difference in whole points, no one-decimal one.
    third = [b for b in payload["benchmarks"] if b["id"] == "investigation_done"]
    assert all(b["range"] == [30, 37] and b["difference"] is None for b in third)
    assert all(b["difference_range"] == [round(b["difference_range"][0]),
                                         round(b["difference_range"][1])] for b in third)
    # Holm's adjustment: no adjusted p-value below its own.
    assert all(b["p_adjusted"] >= b["p_value"] for b in payload["benchmarks"])
    for key in ("intervals", "rounding", "multiple_testing", "low_base"):
        assert payload["notes"][key]
    assert "self-selected" in payload["notes"]["intervals"]
    # Question 1's non-response is pooled, and said to be; the others are counted.
    role = question(payload, "role")
    assert role["no_answer"] is None and "pooled" in role["no_answer_note"]
    assert question(payload, "viewed_profile")["base_description"].endswith(
        "who answered this question")
    filtered = client.get("/api/v1/summary?role=social_worker").get_json()
    assert question(filtered, "viewed_profile")["base_description"].endswith(
        "who answered this question and question 2")
