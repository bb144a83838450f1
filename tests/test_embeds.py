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
from data_loaders.bootstrap import open_store
from analysis.views import Filter
from tests.dashboard_support import FIXTURE, add, build_app, responses

ONE_MORE = [(1, ("social_worker", "yes", "yes", "no", "no", "", "no", "no"))]


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = open_store(url)
    add(engine, responses(FIXTURE))
    return url, engine


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

    text = client.get("/embed/viewed_profile.csv?role=social_worker").data.decode("utf-8-sig")
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
