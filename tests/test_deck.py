"""The slide decks (PowerPoint and PDF) over HTTP: Flask's test client, real SQLite, real kaleido,
opened again with python-pptx and pypdf."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader

from analysis.views import Filter
from dashboard import charts
from dashboard.context import current_view
from data_loaders import store
from data_loaders.bootstrap import open_store
from data_loaders.db import WRITE
from tests.dashboard_support import FIXTURE, add, build_app, fixture_store, publish, responses

QUERY = "role=social_worker&social_media=yes"
LOOKED = ("social_worker", "yes", "yes", "no", "no", "", "no", "no")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url, _engine = fixture_store(tmp_path_factory.mktemp("deck"))
    return build_app(url)


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def pptx_response(client):
    return client.get(f"/export/deck.pptx?{QUERY}")


@pytest.fixture(scope="module")
def pdf_response(client):
    return client.get(f"/export/deck.pdf?{QUERY}")


@pytest.fixture(scope="module")
def payloads(app):
    """What dashboard.charts gives for the same view, chart by chart."""
    with app.server.test_request_context():
        view = current_view(Filter.parse(["social_worker"], "yes"))
        return [charts.payload(chart, view, "") for chart in charts.CHARTS.values()]


def slide_text(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


def test_pptx_has_a_title_slide_then_one_slide_a_chart(pptx_response, payloads):
    assert pptx_response.status_code == 200, pptx_response.data[:300]
    assert pptx_response.mimetype == ("application/vnd.openxmlformats-officedocument."
                                      "presentationml.presentation")
    assert pptx_response.headers["Content-Disposition"].startswith(
        'attachment; filename="survey-slides-')
    deck = Presentation(io.BytesIO(pptx_response.data))
    slides = list(deck.slides)
    assert len(slides) == 1 + len(charts.CHARTS) == 10
    cover = slide_text(slides[0])
    assert "survey results" in cover
    assert "Showing: Social worker; those who use social media" in cover
    assert "Data as of" in cover
    assert "Demo data" not in cover  # this store has no demo responses
    for slide, payload in zip(slides[1:], payloads):
        assert slide.shapes.title.text == payload["title"]
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1, payload["chart"]
        image = Image.open(io.BytesIO(pictures[0].image.blob))
        assert image.format == "PNG" and image.width >= 1000
        # The picture lies within the slide.
        picture = pictures[0]
        assert picture.left >= 0 and picture.left + picture.width <= deck.slide_width
        assert picture.top >= 0 and picture.top + picture.height <= deck.slide_height
        text = slide_text(slide)
        assert "Data as of" in text and "Source: Community Care survey" in text
        assert "Social worker; those who use social media" in text
        for note in payload["notes"]:
            assert note in text
        notes = slide.notes_slide.notes_text_frame.text
        assert payload["description"] in notes and "Data as of" in notes
    assert "Sage" in slide_text(slides[-1])


def test_pptx_speaker_notes_carry_the_same_numbers_as_the_charts(pptx_response, payloads):
    deck = Presentation(io.BytesIO(pptx_response.data))
    checked = 0
    for slide, payload in zip(list(deck.slides)[1:], payloads):
        notes = slide.notes_slide.notes_text_frame.text
        for row in payload["rows"]:
            percent = row.get("percent") if "answer" in row else row.get("uk_percent")
            if percent is None:
                continue
            label = row["answer"] if "answer" in row else "UK"
            assert f"{label}: {percent:.1f}%" in notes or f"{label} {percent:.1f}%" in notes, (
                payload["chart"], row)
            checked += 1
    # 22 social workers use social media; 12 of them have looked (question 3).
    viewed = next(p for p in payloads if p["chart"] == "viewed_profile")
    assert [(r["answer"], r["count"], r["percent"]) for r in viewed["rows"]] == [
        ("Yes", 12, 54.5), ("No", 10, 45.5)]
    notes = list(deck.slides)[3].notes_slide.notes_text_frame.text
    assert "Yes: 54.5% (12 of 22;" in notes and "No: 45.5% (10 of 22;" in notes
    assert checked >= 20


def test_pdf_has_ten_pages_with_the_titles_and_the_cover(pdf_response, payloads):
    assert pdf_response.status_code == 200, pdf_response.data[:300]
    assert pdf_response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf_response.data))
    assert len(reader.pages) == 1 + len(charts.CHARTS) == 10
    cover = reader.pages[0].extract_text()
    assert "survey results" in cover and "Social worker; those who use social media" in cover
    assert "Data as of" in cover
    for page, payload in zip(reader.pages[1:], payloads):
        text = " ".join(page.extract_text().split())
        assert payload["title"] in text
        assert "Data as of" in text and "Source: Community Care survey" in text
        assert page.images, payload["chart"]
    assert reader.metadata.title.startswith("Looking at service users' social media")


def test_bad_filters_are_refused_like_the_api(client):
    for query, message in (("role=nobody", "unknown role code(s): nobody"),
                           ("social_media=maybe", "social_media must be yes or no"),
                           ("social_media=yes&social_media=no", "social_media may be given once"),
                           ("role=social_worker&present=1", "unknown query parameter(s): present")):
        for fmt in ("pptx", "pdf"):
            response = client.get(f"/export/deck.{fmt}?{query}")
            assert response.status_code == 400, (fmt, query)
            assert message in response.get_json()["error"]
    assert client.get("/export/deck.docx").status_code == 404


def test_unchanged_data_gets_304_and_new_data_a_new_deck(tmp_path):
    url, engine = fixture_store(tmp_path)
    client = build_app(url, refresh_seconds=0.001).server.test_client()
    first = client.get("/export/deck.pdf?role=social_worker")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Last-Modified" in first.headers
    again = client.get("/export/deck.pdf?role=social_worker", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # The other format is another file.
    other = client.get("/export/deck.pptx?role=social_worker", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    # 10 more social workers, stored: the deck is the same until they are published.
    add(engine, responses([(10, LOOKED)]))
    unchanged = client.get("/export/deck.pdf?role=social_worker", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    publish(engine)
    changed = client.get("/export/deck.pdf?role=social_worker", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    cover = PdfReader(io.BytesIO(changed.data)).pages[0].extract_text()
    assert "32 responses in this view" in cover  # 22 + 10


def test_demo_data_is_said_on_the_cover_and_every_slide(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = open_store(url)
    # FIXTURE's responses, written as demo data: published as FIXTURE is (42), in demo atoms.
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "demo", responses(FIXTURE), is_demo=True)
    assert publish(engine).added == 42
    client = build_app(url).server.test_client()
    deck = Presentation(io.BytesIO(client.get("/export/deck.pptx").data))
    slides = list(deck.slides)
    assert "Demo data: 42 of these 42 responses are synthetic" in slide_text(slides[0])
    assert "They are not survey results." in slide_text(slides[0])
    for slide in slides[1:]:
        assert "Demo data" in slide_text(slide)
