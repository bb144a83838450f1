"""Embeds, images and downloads over HTTP (Flask's test client, real SQLite, real kaleido)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree

import openpyxl
import pytest
from PIL import Image

from dashboard.embeds import freeze
from analysis.views import Filter
from tests.dashboard_support import add, build_app, fixture_store, responses

ONE_MORE = [(1, ("social_worker", "yes", "yes", "no", "no", "", "no", "no"))]


@pytest.fixture
def store(tmp_path):
    return fixture_store(tmp_path)


@pytest.fixture
def app(store):
    # Refresh at once: these tests add responses and look again straight away.
    return build_app(store[0], refresh_seconds=0.001)


@pytest.fixture
def client(app):
    return app.server.test_client()


def chart_json(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def test_embed_page_has_chart_footer_and_text_alternative(client):
    page = client.get("/embed/viewed_profile?role=social_worker").get_data(as_text=True)
    assert "Q3. Looked at a service user&#39;s profile" in page
    assert "Social worker; everyone" in page
    assert "n = 22" in page and "data as of" in page
    assert "Community Care survey" in page
    assert 'href="http://localhost/?role=social_worker#card-viewed_profile"' in page
    # The text alternative is written from the numbers: 12 of 22 social workers looked (54.5%).
    assert "Of 22 who answered: Yes 54.5% (12," in page
    # Drawn by the server from the same numbers: a bar as wide as each percentage, no chart
    # library and no Dash.
    assert re.findall(r'class="bar" data-percent="([\d.]+)" style="width:([\d.]+)%"', page) == [
        ("54.5", "54.5"), ("45.5", "45.5")]
    assert 'class="ci answer" style="left:34.7%;width:38.4%"' in page  # 34.7% to 73.1%
    assert "plotly" not in page and "dash" not in page.lower().replace("dashboard", "")


def test_comparison_embed_draws_both_surveys_with_their_intervals(client):
    page = client.get("/embed/uk-and-us?role=social_worker").get_data(as_text=True)
    rows = client.get("/embed/uk-and-us.json?role=social_worker").get_json()["rows"]
    uk = re.findall(r'class="dot uk" data-percent="([\d.]+)"', page)
    us = re.findall(r'class="dot us( approximate)?" data-percent="([\d.]+)"', page)
    assert uk == [str(r["uk_percent"]) for r in rows] and len(uk) == 6
    assert us == [(" approximate" if r["approximate"] else "", str(r["percent"])) for r in rows]
    assert "US benchmark, n = 171 (hollow: approximate)" in page
    assert "None of the wordings is identical" in page


def test_suppressed_embed_says_so_and_draws_nothing(client):
    page = client.get("/embed/confident_guidance?role=student").get_data(as_text=True)
    assert "Not shown: fewer than 10 responses" in page
    assert 'class="bar"' not in page and "n not shown (too few responses)" in page


def test_only_embeds_may_be_framed(client):
    embed = client.get("/embed/viewed_profile")
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    for path in ("/", "/api/v1/summary", "/explore"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        # Scripts: the app's own files and Dash's inline ones by hash, nothing else inline.
        scripts = next(d for d in policy.split("; ") if d.startswith("script-src")).split()
        assert scripts[1] == "'self'" and scripts[2:]
        assert all(s.startswith("'sha256-") for s in scripts[2:])
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("suffix", ["", ".json", ".csv", ".xlsx", ".svg"])
def test_unchanged_data_gets_304_and_new_data_a_new_etag(client, store, suffix):
    path = f"/embed/viewed_profile{suffix}?role=social_worker"
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Last-Modified" in first.headers
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    add(store[1], responses(ONE_MORE))
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_numbers_in_every_format_equal_the_charts(client):
    data = chart_json(client, "/embed/viewed_profile.json?role=social_worker")
    bar = data["figure"]["data"][0]
    expected = [("Yes", 12, 54.5), ("No", 10, 45.5)]
    assert [(r["answer"], r["count"], r["percent"]) for r in data["rows"]] == expected
    assert list(bar["x"]) == [54.5, 45.5]
    summary = client.get("/api/v1/summary?role=social_worker").get_json()
    api = next(q for q in summary["questions"] if q["id"] == "viewed_profile")
    assert [(a["label"], a["count"], a["percent"]) for a in api["answers"]] == expected

    csv_response = client.get("/embed/viewed_profile.csv?role=social_worker")
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = csv_response.data.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    table = list(csv.DictReader(lines))
    assert [(r["answer"], int(r["count"]), float(r["percent"])) for r in table] == expected
    assert "# source: Community Care survey" in text and "# n: 22" in text

    book = openpyxl.load_workbook(io.BytesIO(
        client.get("/embed/viewed_profile.xlsx?role=social_worker").data))
    header, *rows = [[c.value for c in row] for row in book["Data"].iter_rows()]
    got = [(dict(zip(header, r))["answer"], dict(zip(header, r))["count"],
            dict(zip(header, r))["percent"]) for r in rows]
    assert got == expected
    about = dict((k, v) for k, v in ([c.value for c in row] for row in book["About"].iter_rows()))
    assert about["n"] == "22"


def test_suppressed_chart_data_has_no_numbers(client):
    data = chart_json(client, "/embed/confident_guidance.json")
    assert data["n"] is None
    assert all(r["count"] is None and r["percent"] is None for r in data["rows"])
    assert data["figure"]["data"] == []


def test_spreadsheet_formulas_are_written_as_text():
    from dashboard.downloads import to_csv, to_xlsx

    payload = {"title": "=HYPERLINK(\"x\")", "filters_text": "@SUM(A1)", "n": 3,
               "as_of": "2018-11-28T09:00:00+00:00",
               "sources": ["+source"], "notes": ["-note"],
               "rows": [{"answer": "=1+1", "count": -3, "ci95": [-1.5, 2.0]}]}
    text = to_csv(payload).decode("utf-8-sig")
    row = list(csv.reader([line for line in text.splitlines() if not line.startswith("#")]))[1]
    assert row == ["'=1+1", "-3", "-1.5", "2.0"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(payload)))["Data"]
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -3


def test_images_decode_and_carry_the_footer(client):
    png = client.get("/embed/viewed_profile.png?role=social_worker")
    assert png.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.data))
    image.verify()
    assert image.size[0] >= 900
    svg = client.get("/embed/uk-and-us.svg")
    root = ElementTree.fromstring(svg.data)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "Source:" in text and "Sage" in text and "data as of" in text


def test_a_frozen_embed_keeps_its_numbers_and_a_live_one_moves(app, client, store):
    with app.server.test_request_context("/"):
        path = freeze("viewed_profile", Filter(("social_worker",)))
    frozen_before = chart_json(client, f"{path}.json")
    live_before = chart_json(client, "/embed/viewed_profile.json?role=social_worker")
    add(store[1], responses(ONE_MORE))
    frozen_after = client.get(f"{path}.json")
    live_after = chart_json(client, "/embed/viewed_profile.json?role=social_worker")
    assert frozen_after.get_json() == frozen_before
    assert frozen_after.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert live_after["rows"][0]["count"] == live_before["rows"][0]["count"] + 1 == 13
    assert "(frozen)" in client.get(path).get_data(as_text=True)
    assert client.get("/embed/frozen/no-such-token").status_code == 404


@pytest.mark.parametrize("path, status", [
    ("/embed/no_such_chart", 404), ("/embed/viewed_profile.exe", 404),
    ("/embed/viewed_profile?role=nobody", 400),
])
def test_bad_requests(client, path, status):
    assert client.get(path).status_code == status


# ---------------------------------------------------------------------------------------------
# The Explore and Live pages' charts

def page_callback(client, content: str, outputs: list[str], search: str) -> dict:
    """What a page's render callback sends for ``search`` (as the browser asks for it)."""
    body = {"output": ".." + "...".join(f"{o}.children" for o in outputs) + "..",
            "outputs": [{"id": o, "property": "children"} for o in outputs],
            "inputs": [{"id": "url", "property": "search", "value": search},
                       {"id": "data-version", "property": "data", "value": "0-0-0"}],
            "changedPropIds": ["url.search"]}
    if len(outputs) == 1:
        body.update(output=f"{outputs[0]}.children", outputs=body["outputs"][0])
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def find(node, component_id: str):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        node = list(node.values())
    if isinstance(node, list):
        return next((found for item in node if (found := find(item, component_id))), None)
    return None


EXPLORE = ["explore-content-crosstab", "explore-content-breakdown"]
CROSSTAB = "/embed/crosstab{suffix}?rows=viewed_profile&columns=viewed_for_evidence"


def test_crosstab_numbers_are_the_explore_pages(client):
    data = chart_json(client, CROSSTAB.format(suffix=".json"))
    # Question 3 against question 4, all roles: of the 25 who looked (12 social workers, 10 team
    # managers, 3 students), 15 looked for evidence (the 12 and the 3), 60.0%; of the 20 who did
    # not look, none did. Wilson 95% interval of 15 of 25: 40.7% to 76.6%.
    assert [(r["row"], r["column"], r["count"], r["percent"], r["row_base"])
            for r in data["rows"]] == [("Yes", "Yes", 15, 60.0, 25), ("Yes", "No", 10, 40.0, 25),
                                       ("No", "Yes", 0, 0.0, 20), ("No", "No", 20, 100.0, 20)]
    assert (data["rows"][0]["ci95_low"], data["rows"][0]["ci95_high"]) == (40.7, 76.6)
    assert data["n"] == 45 and data["choices"] == {"rows": "viewed_profile",
                                                   "columns": "viewed_for_evidence"}
    assert data["filters_text"] == "All roles; everyone, whatever their use of social media"
    assert data["link"] == "/explore?rows=viewed_profile&columns=viewed_for_evidence#card-crosstab"
    page = page_callback(client, "explore-content", EXPLORE,
                         "?rows=viewed_profile&columns=viewed_for_evidence")
    figure = find(page, "chart-crosstab")["props"]["figure"]
    assert figure == data["figure"]
    assert figure["data"][0]["z"] == [[60.0, 40.0], [0.0, 100.0]]
    assert figure["data"][0]["y"] == ["Yes (n = 25)", "No (n = 20)"]
    # Chi-square of [[15, 10], [0, 20]]: expected [[8.33, 16.67], [6.67, 13.33]], 18.00.
    assert "χ² = 18.00, 1 degrees of freedom" in " ".join(data["notes"])

    text = client.get(CROSSTAB.format(suffix=".csv")).data.decode("utf-8-sig")
    table = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert [(r["row"], r["column"], int(r["count"]), float(r["percent"]), int(r["row_base"]))
            for r in table] == [(r["row"], r["column"], r["count"], r["percent"], r["row_base"])
                                for r in data["rows"]]
    assert "# n: 45" in text


def test_crosstab_embed_is_a_shaded_table_of_row_percentages(client):
    page = client.get(CROSSTAB.format(suffix="")).get_data(as_text=True)
    cells = re.findall(r'<td style="background:(rgb\([\d,]+\))" data-percent="([\d.]+)">'
                       r'([\d.]+)%<span class="interval">\((\d+)–(\d+)\)', page)
    assert [(p, shown, low, high) for _, p, shown, low, high in cells] == [
        ("60.0", "60.0", "41", "77"), ("40.0", "40.0", "23", "59"),
        ("0.0", "0.0", "0", "16"), ("100.0", "100.0", "84", "100")]
    # Shaded from rgb(247,251,255) at 0% to rgb(66,146,198) at 100%.
    assert [c[0] for c in cells][2:] == ["rgb(247,251,255)", "rgb(66,146,198)"]
    assert re.findall(r'<th scope="row">([^<]+)</th>', page) == ["Yes (n = 25)", "No (n = 20)"]
    assert "plotly" not in page and "<script>" not in page


def test_a_crosstab_row_too_small_is_left_out_as_on_the_page(client):
    # Question 5 by question 3 for students and team managers (pooled, 23): "yes" has the 3
    # students only, fewer than 10, so is not shown; "no" (10) and "not sure" (10) are large
    # enough, but what would be left unshown ("yes" and no answer) is 3 again, so the smaller
    # first in questionnaire order, "no", is left out as well. "Not sure": the 10 team managers
    # who use social media, all of whom looked.
    path = "/embed/crosstab.json?role=pooled&rows=aware_of_guidance&columns=viewed_profile"
    data = chart_json(client, path)
    assert [(r["row"], r["column"], r["count"], r["row_base"]) for r in data["rows"]] == [
        ("Not sure", "Yes", 10, 10), ("Not sure", "No", 0, 10)]
    assert data["n"] == 10
    assert any(note.startswith("Rows not shown (Yes, No)") for note in data["notes"])
    page = page_callback(client, "explore-content", EXPLORE,
                         "?role=pooled&rows=aware_of_guidance&columns=viewed_profile")
    assert find(page, "chart-crosstab")["props"]["figure"] == data["figure"]


def test_breakdown_numbers_are_the_explore_pages(client):
    data = chart_json(client, "/embed/by-role.json?by_role=viewed_profile")
    # Question 3 by role group: social workers 12 of 22 looked (54.5%); team managers and
    # students, pooled, 10 + 3 = 13 of 23 (56.5%).
    assert [(r["group"], r["answer"], r["count"], r["percent"], r["base"])
            for r in data["rows"]] == [
        ("Social worker", "Yes", 12, 54.5, 22), ("Social worker", "No", 10, 45.5, 22),
        ("Other roles, pooled", "Yes", 13, 56.5, 23), ("Other roles, pooled", "No", 10, 43.5, 23)]
    assert data["n"] == 45
    assert data["link"] == "/explore?by_role=viewed_profile#card-by-role"
    page = page_callback(client, "explore-content", EXPLORE, "?by_role=viewed_profile")
    assert find(page, "chart-breakdown")["props"]["figure"] == data["figure"]
    assert data["figure"]["data"][0]["x"] == [54.5, 56.5]

    book = openpyxl.load_workbook(io.BytesIO(
        client.get("/embed/by-role.xlsx?by_role=viewed_profile").data))
    header, *rows = [[c.value for c in row] for row in book["Data"].iter_rows()]
    assert [(r[header.index("group")], r[header.index("count")]) for r in rows] == [
        ("Social worker", 12), ("Social worker", 10), ("Other roles, pooled", 13),
        ("Other roles, pooled", 10)]

    html = client.get("/embed/by-role?by_role=viewed_profile").get_data(as_text=True)
    assert re.findall(r'class="bar (c\d)" data-percent="([\d.]+)"', html) == [
        ("c0", "54.5"), ("c1", "45.5"), ("c0", "56.5"), ("c1", "43.5")]
    assert '<span class="key c0"></span>Yes' in html and '<span class="key c1"></span>No' in html


def test_a_breakdown_the_page_withholds_is_withheld(client):
    # Question 6 for those who do not use social media: 10 team managers, none asked it; the
    # social-media filter is not safe for question 6, so nothing is shown by role.
    data = chart_json(client, "/embed/by-role.json?by_role=confident_guidance&social_media=no")
    assert data["n"] is None and data["figure"]["data"] == []
    assert all(r["count"] is None and r["percent"] is None for r in data["rows"])
    page = client.get("/embed/by-role?by_role=confident_guidance&social_media=no")
    assert "Not shown by role" in page.get_data(as_text=True)
    assert 'class="bar' not in page.get_data(as_text=True)


def test_timeline_numbers_are_the_live_pages(client):
    data = chart_json(client, "/embed/timeline.json?role=social_worker")
    # 22 social workers who answered question 2 by the last day; 1.96 x sqrt(0.25 / 22) =
    # 20.9 points.
    assert data["rows"][-1]["responses"] == 22 and data["rows"][-1]["margin_of_error"] == 20.9
    assert data["n"] == 22 and data["link"] == "/live?role=social_worker#card-timeline"
    page = page_callback(client, "live-content", ["live-content"], "?role=social_worker")
    figure = find(page, "chart-timeline")["props"]["figure"]
    assert figure == data["figure"]
    assert [r["day"] for r in data["rows"]] == [x[:10] for x in figure["data"][0]["x"]]
    assert [r["responses"] for r in data["rows"]] == figure["data"][0]["y"]
    html = client.get("/embed/timeline?role=social_worker").get_data(as_text=True)
    assert re.search(r'<svg viewBox="0 0 100 100" preserveAspectRatio="none"', html)
    assert re.findall(r'data-responses="(\d+)"', html)[-1] == "22"
    assert "margin of error now ±20.9 points" in html


def test_explore_and_live_pages_share_their_charts_with_their_choices(client):
    page = json.dumps(page_callback(client, "explore-content", EXPLORE,
                                    "?role=social_worker&rows=viewed_profile"
                                    "&columns=aware_of_guidance&by_role=knows_who_to_ask"))
    assert ("/embed/crosstab.csv?role=social_worker&rows=viewed_profile"
            "&columns=aware_of_guidance") in page
    assert "/embed/by-role.png?role=social_worker&by_role=knows_who_to_ask" in page
    live = json.dumps(page_callback(client, "live-content", ["live-content"], "?social_media=no"))
    assert "/embed/timeline.json?social_media=no" in live
    assert "http://localhost/embed/timeline?social_media=no" in live


def test_a_frozen_crosstab_keeps_its_choices(app, client):
    with app.server.test_request_context("/"):
        path = freeze("crosstab?columns=viewed_for_evidence&rows=viewed_profile", Filter())
    frozen = chart_json(client, f"{path}.json")
    assert frozen["choices"] == {"rows": "viewed_profile", "columns": "viewed_for_evidence"}
    assert frozen["rows"] == chart_json(client, CROSSTAB.format(suffix=".json"))["rows"]


def frozen_snippet(client, chart_ref: str, search: str) -> str:
    """The snippet the freeze button's callback sends for the chart ``chart_ref`` names, as
    the browser asks for it."""
    button = {"chart": chart_ref, "type": "freeze"}
    body = {"output": '{"chart":["MATCH"],"type":"frozen-snippet"}.children',
            "outputs": {"id": {"chart": chart_ref, "type": "frozen-snippet"},
                        "property": "children"},
            "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
            "state": [{"id": "url", "property": "search", "value": search}],
            "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"]}
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 200, response.data[:300]
    [children] = [output["children"] for output in response.get_json()["response"].values()]
    [snippet] = [node["props"]["value"] for node in children if node["type"] == "Textarea"]
    return snippet


@pytest.mark.parametrize("chart_ref, live", [
    ("crosstab?columns=viewed_for_evidence&rows=viewed_profile", CROSSTAB.format(suffix=".json")),
    ("by-role?by_role=viewed_profile", "/embed/by-role.json?by_role=viewed_profile"),
])
def test_a_frozen_snippet_is_titled_as_the_chart_not_by_its_reference(client, chart_ref, live):
    snippet = frozen_snippet(client, chart_ref, "?role=social_worker")
    iframe = re.search(r'<iframe src="http://localhost(?P<path>/embed/frozen/[^"]+)" '
                       r'title="(?P<title>[^"]*)"', snippet)
    assert iframe, snippet
    assert "?" not in iframe["title"]
    assert iframe["title"] == chart_json(client, live)["title"]
    assert iframe["title"] == chart_json(client, f"{iframe['path']}.json")["title"]


@pytest.mark.parametrize("path", [
    "/embed/crosstab?rows=role", "/embed/crosstab?rows=no_such_question",
    "/embed/crosstab?rows=viewed_profile&columns=viewed_profile",
    "/embed/crosstab?rows=viewed_profile&rows=aware_of_guidance",
    "/embed/crosstab.csv?by_role=viewed_profile", "/embed/by-role.json?by_role=role",
    "/embed/by-role?question=viewed_profile", "/embed/timeline?rows=viewed_profile",
    "/embed/viewed_profile.json?by_role=viewed_profile", "/embed/timeline.json?role=nobody",
])
def test_bad_choices_are_refused_with_a_reason(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize("path", ["/embed/crosstab.png?rows=viewed_profile",
                                  "/embed/by-role.png?by_role=viewed_profile",
                                  "/embed/timeline.svg"])
def test_images_of_the_explore_and_live_charts_decode(client, path):
    response = client.get(path)
    assert response.status_code == 200
    if path.split("?")[0].endswith(".png"):
        image = Image.open(io.BytesIO(response.data))
        image.verify()
        assert image.size[0] >= 900
    else:
        text = "".join(ElementTree.fromstring(response.data).itertext())
        assert "Responses so far" in text and "data as of" in text
