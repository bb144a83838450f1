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
from sqlalchemy import func, select

from analysis.views import Filter
from dashboard.embeds import freeze
from data_loaders.bootstrap import open_store
from data_loaders.models import FrozenChart
from tests.dashboard_support import (FIXTURE, add, add_and_publish, build_app, fixture_store,
                                     freeze_body, publish, responses)

LOOKED = ("social_worker", "yes", "yes", "no", "no", "", "no", "no")
"""A social worker who uses social media and has looked at a profile (not for evidence), not
aware of the guidance (so not asked question 6)."""
TEN_MORE = [(10, LOOKED)]
"""Enough of one kind for a release: the atom "social worker, uses social media" and each of
its groups (answered questions 3 to 5, 7 and 8; not asked question 6) gain 10."""


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
    assert "Of 22 who answered this question and question 2 (low base): Yes 54.5% (12," in page
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
    # The 3 students wait for a release: nothing of theirs is published.
    page = client.get("/embed/confident_guidance?role=student").get_data(as_text=True)
    assert "No answers published for this view yet" in page
    assert 'class="bar"' not in page and "n not shown (too few responses)" in page


@pytest.fixture
def raised_minimum(tmp_path):
    """FIXTURE and 2 more students, published under a minimum of 5, shown by an app whose
    minimum is 10: the setting raised after the release. Published: FIXTURE's 42 and the
    3 + 2 = 5 students (their atom gains 5); the 2 who left question 2 blank wait."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = open_store(url)
    add(engine, responses([*FIXTURE, (2, FIXTURE[4][1])]))
    made = publish(engine, min_cell_size=5)
    assert made is not None and (made.added, made.total) == (42 + 5, 47)
    return build_app(url).server.test_client()


def test_a_group_published_under_a_smaller_minimum_is_not_shown(raised_minimum):
    page = raised_minimum.get("/embed/viewed_profile?role=student").get_data(as_text=True)
    # 5 students answered question 3, fewer than the 10 the app now requires.
    assert "Fewer than 10 answers: not shown" in page
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
    # Stored, not published: the data the embed shows has not changed.
    add(store[1], responses(TEN_MORE))
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    publish(store[1])
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
    table = list(csv.DictReader(text.splitlines()))
    assert [(r["answer"], int(r["count"]), float(r["percent"])) for r in table] == expected

    book = openpyxl.load_workbook(io.BytesIO(
        client.get("/embed/viewed_profile.xlsx?role=social_worker").data))
    header, *rows = [[c.value for c in row] for row in book["Data"].iter_rows()]
    got = [(dict(zip(header, r))["answer"], dict(zip(header, r))["count"],
            dict(zip(header, r))["percent"]) for r in rows]
    assert got == expected
    about = dict((k, v) for k, v in ([c.value for c in row] for row in book["About"].iter_rows()))
    assert about["n"] == "22"


def test_a_downloaded_csv_is_tidy_and_loads_as_it_is(client):
    """pandas.read_csv on the file as served: a header, one row per answer, with the base, the
    non-response, the interval and the flags as columns; notes and sources are elsewhere."""
    import pandas as pd

    response = client.get("/embed/viewed_profile.csv?role=social_worker")
    frame = pd.read_csv(io.BytesIO(response.data), encoding="utf-8-sig")
    api = next(q for q in client.get("/api/v1/summary?role=social_worker").get_json()["questions"]
               if q["id"] == "viewed_profile")
    assert list(frame.columns) == ["question", "answer", "count", "percent", "ci95_low",
                                   "ci95_high", "base", "no_answer", "low_base", "suppressed",
                                   "filters", "data_as_of", "demo_data"]
    assert frame["answer"].tolist() == ["Yes", "No"] and frame["base"].tolist() == [22, 22]
    assert frame["no_answer"].tolist() == [api["no_answer"]] * 2
    assert frame["low_base"].tolist() == [True, True]  # 22 < 50
    assert frame["ci95_low"].tolist() == [a["ci95"][0] for a in api["answers"]]
    assert frame["filters"].tolist() == ["Social worker; everyone"] * 2
    assert not response.data.decode("utf-8-sig").startswith("#")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="survey-viewed_profile-social_worker-'
        f'{frame["data_as_of"][0][:10]}.csv"')
    crosstab = client.get("/embed/crosstab.xlsx?role=social_worker&social_media=yes"
                          "&rows=viewed_profile&columns=viewed_for_evidence")
    assert ('filename="survey-crosstab-viewed_profile-by-viewed_for_evidence-social_worker-'
            in crosstab.headers["Content-Disposition"])  # social media does not apply to it


def test_a_crosstab_does_not_echo_a_social_media_filter_it_does_not_apply(client):
    data = chart_json(client, "/embed/crosstab.json?social_media=yes&rows=viewed_profile"
                              "&columns=viewed_for_evidence")
    assert data["filters"]["social_media"] is None
    assert data["filters_not_applied"] == ["social_media"]
    assert data["filters_text"].endswith("everyone, whatever their use of social media")


def test_suppressed_chart_data_has_no_numbers(client):
    # Those who do not use social media: 10 team managers, none of them asked question 6.
    data = chart_json(client, "/embed/confident_guidance.json?social_media=no")
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
    row = list(csv.reader(text.splitlines()))[1]
    assert row == ["'=1+1", "-3", "-1.5", "2.0", "'@SUM(A1)", "2018-11-28T09:00:00+00:00",
                   "False"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(payload)))["Data"]
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -3


def test_a_workbook_carries_the_datas_time_not_the_moment_it_is_made():
    """So that the same data always gives the same bytes (a cache's copy, a checksum)."""
    import zipfile

    from dashboard.downloads import to_xlsx

    payload = {"title": "Q3", "filters_text": "All roles", "n": 42,
               "as_of": "2018-09-14T09:00:00+00:00", "sources": ["source"], "notes": ["note"],
               "rows": [{"answer": "Yes", "count": 22}]}
    archive = zipfile.ZipFile(io.BytesIO(to_xlsx(payload)))
    assert {info.date_time for info in archive.infolist()} == {(2018, 9, 14, 9, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(\w+)[^>]*>([^<]+)<", core) == [
        ("created", "2018-09-14T09:00:00Z"), ("modified", "2018-09-14T09:00:00Z")]
    assert openpyxl.load_workbook(io.BytesIO(to_xlsx(payload)))["Data"]["B2"].value == 22


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
        path = freeze("viewed_profile", Filter(("social_worker",)), "192.0.2.1")
    frozen_before = chart_json(client, f"{path}.json")
    live_before = chart_json(client, "/embed/viewed_profile.json?role=social_worker")
    add_and_publish(store[1], responses(TEN_MORE))
    frozen_after = client.get(f"{path}.json")
    live_after = chart_json(client, "/embed/viewed_profile.json?role=social_worker")
    assert frozen_after.get_json() == frozen_before
    assert frozen_after.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # 12 social workers had looked; the release adds 10 who have: 22.
    assert live_after["rows"][0]["count"] == live_before["rows"][0]["count"] + 10 == 22
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
    # Question 3 against question 4, all roles, the 42 published: of the 22 who looked (12
    # social workers, 10 team managers), 12 looked for evidence (the social workers), 54.5%;
    # of the 20 who did not look, none did. Nobody left question 4 blank: the "no answer"
    # column is 0 in each row, and no row of question 3 blanks is shown. Wilson 95% interval of
    # 12 of 22: 34.66% to 73.08%.
    assert [(r["row"], r["column"], r["count"], r["percent"], r["row_base"])
            for r in data["rows"]] == [
        ("Yes", "Yes", 12, 54.5, 22), ("Yes", "No", 10, 45.5, 22),
        ("Yes", "No answer", 0, None, 22),
        ("No", "Yes", 0, 0.0, 20), ("No", "No", 20, 100.0, 20), ("No", "No answer", 0, None, 20)]
    assert (data["rows"][0]["ci95_low"], data["rows"][0]["ci95_high"]) == (34.7, 73.1)
    assert data["n"] == 42 and data["choices"] == {"rows": "viewed_profile",
                                                   "columns": "viewed_for_evidence"}
    assert data["filters_text"] == "All roles; everyone, whatever their use of social media"
    assert data["link"] == "/explore?rows=viewed_profile&columns=viewed_for_evidence#card-crosstab"
    page = page_callback(client, "explore-content", EXPLORE,
                         "?rows=viewed_profile&columns=viewed_for_evidence")
    figure = find(page, "chart-crosstab")["props"]["figure"]
    assert figure == data["figure"]
    assert figure["data"][0]["z"] == [[54.5, 45.5], [0.0, 100.0]]
    assert figure["data"][0]["y"] == ["Yes (n = 22)", "No (n = 20)"]
    # A 2 x 2 table, [[12, 10], [0, 20]]: Fisher's exact test. Rows 22 and 20, columns 12 and
    # 30, of 42: the observed table has probability C(22, 12) / C(42, 12) = 646,646 /
    # 11,058,116,888; the only table as unlikely, k = 0, C(20, 12) / C(42, 12) = 125,970 / the
    # same. p = 772,616 / 11,058,116,888 = 0.0000699.
    notes = " ".join(data["notes"])
    assert ("Fisher's exact test of independence, of the 2 × 2 table of the 42 who answered "
            "both questions (question 3: Yes, No; question 4: Yes, No): p < 0.001.") in notes

    text = client.get(CROSSTAB.format(suffix=".csv")).data.decode("utf-8-sig")
    table = list(csv.DictReader(text.splitlines()))
    assert [(r["row"], r["column"], int(r["count"]), float(r["percent"]) if r["percent"] else None,
             int(r["row_base"])) for r in table] == [
        (r["row"], r["column"], r["count"], r["percent"], r["row_base"]) for r in data["rows"]]
    assert sum(int(r["count"]) for r in table) == 42  # every cell, blanks beside included


def test_crosstab_embed_is_a_shaded_table_of_row_percentages(client):
    page = client.get(CROSSTAB.format(suffix="")).get_data(as_text=True)
    cells = re.findall(r'<td style="background:(rgb\([\d,]+\))" data-percent="([\d.]+)">'
                       r'([\d.]+)%<span class="interval">\(([\d.]+)–([\d.]+)\)', page)
    # Wilson intervals: 12 of 22, 34.7% to 73.1%; 10 of 22, 26.9% to 65.3%; 0 of 20, 0% to
    # 16.1%; 20 of 20, 83.9% to 100%: to one decimal, as the CSV has them (never the one-decimal
    # figure rounded again to whole points).
    assert [(p, shown, low, high) for _, p, shown, low, high in cells] == [
        ("54.5", "54.5", "34.7", "73.1"), ("45.5", "45.5", "26.9", "65.3"),
        ("0.0", "0.0", "0.0", "16.1"), ("100.0", "100.0", "83.9", "100.0")]
    # Shaded from rgb(247,251,255) at 0% to rgb(66,146,198) at 100%.
    assert [c[0] for c in cells][2:] == ["rgb(247,251,255)", "rgb(66,146,198)"]
    assert re.findall(r'<th scope="row">([^<]+)</th>', page) == ["Yes (n = 22)", "No (n = 20)"]
    # Beside the percentages, how many in each row left question 4 blank: nobody.
    assert re.findall(r'<td data-count="(\d+)">', page) == ["0", "0"]
    assert "plotly" not in page and "<script>" not in page


BLANKS = [
    (10, ("social_worker", "yes", "", "no", "no", "", "no", "no")),
    (10, ("team_manager", "no", "yes", "", "no", "", "no", "no")),
]
"""10 social workers who use social media and left question 3 blank, and 10 team managers who do
not and left question 4 blank: each a whole group of 10 (atoms "social worker, yes" and "team
manager, no"), published by one release."""


@pytest.fixture
def blanks_client(store):
    url, engine = store
    assert add_and_publish(engine, responses(BLANKS)) == 20
    return build_app(url).server.test_client()


def test_the_crosstab_has_no_answer_rows_and_columns_and_adds_up_to_the_summary(blanks_client):
    client = blanks_client
    data = chart_json(client, CROSSTAB.format(suffix=".json"))
    # Published: FIXTURE's 42 and the 20 of BLANKS, 62. Rows are question 3, columns question 4.
    # Yes: 12 social workers (question 4 yes), 10 team managers (no), 10 team managers (blank):
    #   22 answered question 4, 12 yes (54.5%) and 10 no (45.5%); 10 beside them left it blank.
    # No: 10 social workers and 10 team managers, all no to question 4: 20, 100% no.
    # No answer: the 10 social workers of BLANKS, all no to question 4: 10, 100% no.
    assert [(r["row"], r["column"], r["count"], r["percent"], r["row_base"])
            for r in data["rows"]] == [
        ("Yes", "Yes", 12, 54.5, 22), ("Yes", "No", 10, 45.5, 22),
        ("Yes", "No answer", 10, None, 22),
        ("No", "Yes", 0, 0.0, 20), ("No", "No", 20, 100.0, 20), ("No", "No answer", 0, None, 20),
        ("No answer", "Yes", 0, 0.0, 10), ("No answer", "No", 10, 100.0, 10),
        ("No answer", "No answer", 0, None, 10)]
    assert data["n"] == 62
    # The test is of those who answered both, [[12, 10], [0, 20]] as before; the 20 others
    # are said to be left out.
    notes = " ".join(data["notes"])
    assert ("Fisher's exact test of independence, of the 2 × 2 table of the 42 who answered "
            "both questions") in notes
    assert "Left out: 20 who left either question blank or were not asked it." in notes

    def cells(rows):
        return {(r["row"], r["column"]): r["count"] for r in rows}

    for search in ("", "role=team_manager", "role=social_worker&role=team_manager"):
        joined = f"&{search}" if search else ""
        table = cells(chart_json(client, CROSSTAB.format(suffix=".json") + joined)["rows"])
        summary = client.get(f"/api/v1/summary?{search}").get_json()
        questions = {q["id"]: q for q in summary["questions"]}
        for qid, axis in (("viewed_profile", 0), ("viewed_for_evidence", 1)):
            totals: dict[str, int] = {}
            for key, n in table.items():
                totals[key[axis]] = totals.get(key[axis], 0) + n
            q = questions[qid]
            expected = {a["label"]: a["count"] for a in q["answers"]} | {"No answer":
                                                                         q["no_answer"]}
            if axis == 0 and not q["no_answer"]:
                expected.pop("No answer")  # a row nobody is in is not shown
            assert totals == expected, (search, qid)
        assert sum(table.values()) == summary["responses"]
    # Team managers: question 3 yes 10 + 10, no 10 (62 - 22 social workers - 10 of BLANKS = 30).
    team = cells(chart_json(client, CROSSTAB.format(suffix=".json") + "&role=team_manager")["rows"])
    assert team == {("Yes", "Yes"): 0, ("Yes", "No"): 10, ("Yes", "No answer"): 10,
                    ("No", "Yes"): 0, ("No", "No"): 10, ("No", "No answer"): 0}

    text = client.get(CROSSTAB.format(suffix=".csv")).data.decode("utf-8-sig")
    table = list(csv.DictReader(text.splitlines()))
    assert [(r["row"], r["column"], int(r["count"]), r["percent"]) for r in table] == [
        (r["row"], r["column"], r["count"], "" if r["percent"] is None else str(r["percent"]))
        for r in data["rows"]]
    assert sum(int(r["count"]) for r in table) == 62

    page = client.get(CROSSTAB.format(suffix="")).get_data(as_text=True)
    assert re.findall(r'<th scope="col">([^<]+)</th>', page)[1:] == ["Yes", "No",
                                                                     "No answer (count)"]
    assert re.findall(r'<th scope="row">([^<]+)</th>', page) == [
        "Yes (n = 22)", "No (n = 20)", "No answer (n = 10)"]
    assert re.findall(r'<td data-count="(\d+)">\d+</td>', page) == ["10", "0", "0"]
    assert re.findall(r'data-percent="([\d.]+)"', page) == ["54.5", "45.5", "0.0", "100.0",
                                                             "0.0", "100.0"]


def test_breakdown_numbers_are_the_explore_pages(client):
    data = chart_json(client, "/embed/by-role.json?by_role=viewed_profile")
    # Question 3 by role group: social workers 12 of 22 looked (54.5%); team managers 10 of 20
    # (50.0%): the 10 who use social media looked, the 10 who do not did not. The 3 students
    # wait: no group of theirs yet.
    assert [(r["group"], r["answer"], r["count"], r["percent"], r["base"])
            for r in data["rows"]] == [
        ("Social worker", "Yes", 12, 54.5, 22), ("Social worker", "No", 10, 45.5, 22),
        ("Team manager", "Yes", 10, 50.0, 20), ("Team manager", "No", 10, 50.0, 20)]
    assert data["n"] == 42
    assert data["link"] == "/explore?by_role=viewed_profile#card-by-role"
    page = page_callback(client, "explore-content", EXPLORE, "?by_role=viewed_profile")
    assert find(page, "chart-breakdown")["props"]["figure"] == data["figure"]
    assert data["figure"]["data"][0]["x"] == [54.5, 50.0]

    book = openpyxl.load_workbook(io.BytesIO(
        client.get("/embed/by-role.xlsx?by_role=viewed_profile").data))
    header, *rows = [[c.value for c in row] for row in book["Data"].iter_rows()]
    assert [(r[header.index("group")], r[header.index("count")]) for r in rows] == [
        ("Social worker", 12), ("Social worker", 10), ("Team manager", 10), ("Team manager", 10)]

    html = client.get("/embed/by-role?by_role=viewed_profile").get_data(as_text=True)
    assert re.findall(r'class="bar (c\d)" data-percent="([\d.]+)"', html) == [
        ("c0", "54.5"), ("c1", "45.5"), ("c0", "50.0"), ("c1", "50.0")]
    assert '<span class="key c0"></span>Yes' in html and '<span class="key c1"></span>No' in html


def test_a_breakdown_the_page_withholds_is_withheld(raised_minimum):
    client = raised_minimum
    # Question 3 by role: the 5 students published under a minimum of 5 are a role group of
    # fewer than 10 answers, so nothing is shown by role (the page withholds it the same way).
    data = chart_json(client, "/embed/by-role.json?by_role=viewed_profile")
    assert data["n"] is None and data["figure"]["data"] == []
    assert all(r["count"] is None and r["percent"] is None for r in data["rows"])
    page = page_callback(client, "explore-content", EXPLORE, "?by_role=viewed_profile")
    assert find(page, "chart-breakdown")["props"]["figure"] == data["figure"]
    page = client.get("/embed/by-role?by_role=viewed_profile")
    assert "Not shown by role" in page.get_data(as_text=True)
    assert 'class="bar' not in page.get_data(as_text=True)
    # Without the students, the same question by role is shown: 12 of 22, 10 of 20 looked.
    shown = chart_json(client, "/embed/by-role.json?by_role=viewed_profile&role=social_worker"
                               "&role=team_manager")
    assert [r["count"] for r in shown["rows"]] == [12, 10, 10, 10]


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
        path = freeze("crosstab?columns=viewed_for_evidence&rows=viewed_profile", Filter(),
                      "192.0.2.1")
    frozen = chart_json(client, f"{path}.json")
    assert frozen["choices"] == {"rows": "viewed_profile", "columns": "viewed_for_evidence"}
    assert frozen["rows"] == chart_json(client, CROSSTAB.format(suffix=".json"))["rows"]


def freeze_request(client, chart_ref: str, search: str, address: str = "192.0.2.1"):
    """The freeze button's callback for the chart ``chart_ref`` names, posted as the browser
    sends it, from ``address``."""
    body = freeze_body(chart_ref, search)
    return client.post("/_dash-update-component", data=json.dumps(body),
                       content_type="application/json", environ_base={"REMOTE_ADDR": address})


def frozen_children(response):
    assert response.status_code == 200, response.data[:300]
    [children] = [output["children"] for output in response.get_json()["response"].values()]
    return children


def frozen_snippet(client, chart_ref: str, search: str, address: str = "192.0.2.1") -> str:
    """The snippet the freeze button's callback sends for the chart ``chart_ref`` names."""
    children = frozen_children(freeze_request(client, chart_ref, search, address))
    [snippet] = [node["props"]["value"] for node in children if node["type"] == "Textarea"]
    return snippet


def frozen_path(snippet: str) -> str:
    return re.search(r'<iframe src="http://localhost(/embed/frozen/[0-9a-f]+)"', snippet)[1]


def frozen_rows(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(FrozenChart))


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


# ---------------------------------------------------------------------------------------------
# Frozen embeds: one per chart, resolved filter and release

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    """FIXTURE, published, in a new store: once an SQLite file, once a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")()
    engine = open_store(url)
    add_and_publish(engine, responses(FIXTURE))
    return url, engine


def test_the_same_chart_filter_and_release_freeze_to_one_embed(any_store):
    url, engine = any_store
    client = build_app(url).server.test_client()
    first = frozen_path(frozen_snippet(client, "viewed_profile", "?role=social_worker"))
    # The same resolved filter, written otherwise: "all" is everyone, a role twice is once.
    again = frozen_path(frozen_snippet(
        client, "viewed_profile", "?social_media=all&role=social_worker&role=social_worker"))
    assert again == first and frozen_rows(engine) == 1
    # A chart's choices in another order are the same chart.
    crosstab = [frozen_path(frozen_snippet(client, ref, "")) for ref in (
        "crosstab?columns=viewed_for_evidence&rows=viewed_profile",
        "crosstab?rows=viewed_profile&columns=viewed_for_evidence")]
    assert crosstab[0] == crosstab[1] != first and frozen_rows(engine) == 2
    # Another filter is another embed.
    other = frozen_path(frozen_snippet(client, "viewed_profile", "?role=team_manager"))
    assert other not in (first, crosstab[0]) and frozen_rows(engine) == 3

    add_and_publish(engine, responses(TEN_MORE))
    later = frozen_path(frozen_snippet(client, "viewed_profile", "?role=social_worker"))
    assert later != first and frozen_rows(engine) == 4
    # Each shows its own release: 12 of 22 social workers had looked; the next release adds 10
    # who have, 22 of 32. The live embed shows the latest.
    kept, newer = chart_json(client, f"{first}.json"), chart_json(client, f"{later}.json")
    live = chart_json(client, "/embed/viewed_profile.json?role=social_worker")
    assert [(r["count"], r["percent"]) for r in kept["rows"]] == [(12, 54.5), (10, 45.5)]
    assert kept["n"] == 22
    assert [(r["count"], r["percent"]) for r in newer["rows"]] == [(22, 68.8), (10, 31.3)]
    assert newer["n"] == 32 and newer["rows"] == live["rows"]
    assert kept["version"] != newer["version"] == live["version"]
    page = client.get(first).get_data(as_text=True)
    assert "n = 22" in page and "Of 22 who answered this question and question 2 (low base): Yes 54.5% (12," in page
    assert "(frozen)" in page


def test_a_pooled_role_and_the_pool_freeze_to_one_embed(tmp_path):
    url, engine = fixture_store(tmp_path)
    # 7 more students like FIXTURE's 3, with students pooled: the pool's atom gains 10.
    add(engine, responses([(7, FIXTURE[4][1])]))
    assert publish(engine, pooled_roles="student").added == 10
    client = build_app(url, pooled_roles="student").server.test_client()
    paths = {frozen_path(frozen_snippet(client, "viewed_profile", search))
             for search in ("?role=student", "?role=pooled", "?role=pooled&role=student")}
    assert len(paths) == 1 and frozen_rows(engine) == 1
    # The pool's 10 students all looked (question 3 yes).
    frozen = chart_json(client, f"{paths.pop()}.json")
    assert frozen["filters"]["role"] == ["pooled"] and frozen["rows"][0]["count"] == 10


def test_too_many_freezes_from_one_client_get_429_with_retry_after(store):
    url, engine = store
    client = build_app(url, freeze_rate_per_minute=3).server.test_client()
    for chart in ("viewed_profile", "viewed_for_evidence", "aware_of_guidance"):
        assert freeze_request(client, chart, "").status_code == 200
    refused = freeze_request(client, "confident_rules", "")
    assert refused.status_code == 429
    # One freeze's worth comes back in 60 / 3 = 20 seconds at most.
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert frozen_rows(engine) == 3
    # Another client is not held back.
    assert freeze_request(client, "confident_rules", "", address="192.0.2.2").status_code == 200
    assert frozen_rows(engine) == 4


def test_at_the_limit_a_new_freeze_is_refused_with_a_message(any_store):
    url, engine = any_store
    client = build_app(url, frozen_embed_limit=2).server.test_client()
    kept = [frozen_path(frozen_snippet(client, chart, ""))
            for chart in ("viewed_profile", "viewed_for_evidence")]
    refused = frozen_children(freeze_request(client, "aware_of_guidance", ""))
    assert refused["type"] == "P" and refused["props"]["role"] == "alert"
    assert refused["props"]["children"].startswith(
        "Not frozen: this site keeps at most 2 frozen embeds and has reached that")
    assert frozen_rows(engine) == 2
    # What is kept already can still be had: the same chart, filter and release.
    assert frozen_path(frozen_snippet(client, "viewed_profile", "")) == kept[0]
    assert frozen_rows(engine) == 2


@pytest.mark.parametrize("chart_ref, reason", [
    ("no_such_chart", "there is no chart &#39;no_such_chart&#39; to freeze"),
    ("crosstab?rows=role", "rows must be one of: viewed_profile"),
    ("viewed_profile?by_role=viewed_profile", "viewed_profile takes no parameter"),
])
def test_freezing_what_is_no_chart_is_refused_with_a_reason(client, store, chart_ref, reason):
    refused = freeze_request(client, chart_ref, "")
    assert refused.status_code == 400 and reason in refused.get_data(as_text=True)
    assert frozen_rows(store[1]) == 0
