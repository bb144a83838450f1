"""The take-away: the filtered view as a slide deck, in PowerPoint (``/export/deck.pptx``) and PDF
(``/export/deck.pdf``).

A title slide (the survey, the filters in words, when the data are from, and the demo-data warning
when there are demo responses), then one slide for each chart of :data:`dashboard.charts.CHARTS`,
in order: its image (the same PNG as ``/embed/<chart>.png``), its notes, the filters, n, "data as
of" and its sources. The PowerPoint's speaker notes carry the chart's numbers in words, so a
presenter can read them out. The filters are those of the summary API (``role``, repeatable, and
``social_media``); anything else is refused with 400. Like the embeds, the response carries an
ETag tied to the data version and Cache-Control, and unchanged data gets 304.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, abort, jsonify, request

from analysis.views import InvalidFilter
from dashboard import caching, charts, images, query, wording
from dashboard.api import filter_from_request
from dashboard.context import View, current_view, services

FORMATS = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
}
DECK_FORMAT = "1"
"""Part of the ETag: change it when the deck's layout changes, so caches do not keep old decks."""

TITLE = "Looking at service users' social media: survey results"
SUBTITLE = ("Survey of UK child welfare and social care professionals (Community Care, 2018), "
            "beside a US study of child welfare workers (Sage et al. 2017)")

blueprint = Blueprint("deck", __name__)


def href(fmt: str, search: str | None) -> str:
    """The deck of the view ``search`` names (only its filters: the export refuses other keys)."""
    return f"/export/deck.{fmt}" + query.search_for(query.filter_from_search(search))


def as_of_text(as_of: str) -> str:
    return f"Data as of {datetime.fromisoformat(as_of).strftime('%d %b %Y %H:%M:%S UTC')}"


def n_text(n: int | None) -> str:
    return "n not shown (too few responses)" if n is None else f"n = {n:,}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def number_lines(payload: dict[str, Any]) -> list[str]:
    """The chart's numbers, one line a row, as the speaker notes and the PDF give them."""
    lines = []
    for row in payload["rows"]:
        if "answer" in row:
            if row["percent"] is None:
                lines.append(f"{row['answer']}: not shown (too few responses)")
            else:
                lines.append(f"{row['answer']}: {row['percent']:.1f}% ({row['count']:,} of "
                             f"{row['base']:,}; 95% interval {row['ci95_low']:.1f}% to "
                             f"{row['ci95_high']:.1f}%)")
        else:
            question = "Q3 ever looked" if row["uk_question"] == "viewed_profile" else "Q4 for evidence"
            uk = ("UK not shown (too few responses)" if row["uk_percent"] is None else
                  f"UK {row['uk_percent']:.1f}% (95% interval {row['uk_ci95'][0]:.1f}% to "
                  f"{row['uk_ci95'][1]:.1f}%, n = {row['uk_base']:,})")
            us = f"US {wording.us_figure(row)}, n = {row['n']}"
            difference = wording.difference(row)
            difference = "" if difference is None else (
                f"; difference {difference}; {wording.verdict(row)}")
            lines.append(f"{question} vs US {row['scenario']}: {uk}; {us}{difference}")
    return lines


@dataclass(frozen=True)
class Cover:
    filters_text: str
    as_of: str
    responses: int
    total: int
    demo: str | None


@dataclass(frozen=True)
class Slide:
    payload: dict[str, Any]
    image: bytes

    @property
    def meta(self) -> str:
        return (f"{self.payload['filters_text']} \u00b7 {n_text(self.payload['n'])} \u00b7 "
                f"{as_of_text(self.payload['as_of'])}")

    @property
    def source(self) -> str:
        return "Source: " + "; ".join(self.payload["sources"])

    @property
    def speaker_notes(self) -> str:
        payload = self.payload
        return "\n".join([payload["description"], "", *number_lines(payload), "",
                          *payload["notes"], "", self.meta, self.source])


def demo_warning(view: View) -> str | None:
    snapshot = view.snapshot
    if not snapshot.is_demo:
        return None
    return (f"Demo data: {snapshot.cube.demo} of these {snapshot.total} responses are synthetic, "
            "written to show how the dashboard works. They are not survey results.")


def build(view: View) -> tuple[Cover, list[Slide]]:
    """The deck's content for ``view``."""
    # The view as resolved (pooled roles as the pooled group, in a fixed order) names the
    # images in the cache: every link that shows the same numbers shares them.
    search = query.search_for(view.summary.view)
    slides = []
    for chart in charts.CHARTS.values():
        payload = charts.payload(chart, view, search)
        image = images.render(payload, "png", (chart.id, search, view.snapshot.version))
        slides.append(Slide(payload, image))
    cover = Cover(charts.filters_in_words(view),
                  view.snapshot.as_of.isoformat(timespec="seconds"),
                  view.summary.responses, view.snapshot.total, demo_warning(view))
    return cover, slides


def _png_size(image: bytes) -> tuple[int, int]:
    # Width and height from the PNG's IHDR chunk.
    return int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")


def _fit(image: bytes, width: float, height: float) -> tuple[float, float]:
    """The largest size within ``width`` × ``height`` with the image's proportions."""
    w, h = _png_size(image)
    scale = min(width / w, height / h)
    return w * scale, h * scale


# --- PowerPoint --------------------------------------------------------------------------------

def to_pptx(cover: Cover, slides: list[Slide]) -> bytes:
    # python-pptx is read when a deck is first asked for, not by every worker at start-up.
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    deck.core_properties.title = TITLE
    deck.core_properties.subject = cover.filters_text
    width = deck.slide_width - Inches(1)
    muted = RGBColor(0x44, 0x44, 0x44)

    def text_box(slide, top, height, paragraphs, size, *, color=None, bold=False, fill=None):
        box = slide.shapes.add_textbox(Inches(0.5), top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        if fill is not None:
            box.fill.solid()
            box.fill.fore_color.rgb = fill
        for index, text in enumerate(paragraphs):
            paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            paragraph.text = text
            paragraph.font.size = Pt(size)
            paragraph.font.bold = bold
            if color is not None:
                paragraph.font.color.rgb = color
        return box

    def place_title(slide, text, top, height, size):
        title = slide.shapes.title
        title.left, title.top, title.width, title.height = Inches(0.5), top, width, height
        title.text = text
        for paragraph in title.text_frame.paragraphs:
            paragraph.font.size = Pt(size)
            paragraph.font.bold = True

    first = deck.slides.add_slide(deck.slide_layouts[0])
    place_title(first, TITLE, Inches(1.2), Inches(1.4), 36)
    subtitle = first.placeholders[1]
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = (
        Inches(0.5), Inches(2.8), width, Inches(2.2))
    lines = [SUBTITLE, f"Showing: {cover.filters_text}",
             f"{cover.responses:,} responses in this view, {cover.total:,} in all",
             as_of_text(cover.as_of)]
    frame = subtitle.text_frame
    frame.word_wrap = True
    for index, text in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.text = text
        paragraph.font.size = Pt(20 if index else 18)
    if cover.demo:
        text_box(first, Inches(5.4), Inches(1.0), [cover.demo], 18, bold=True,
                 fill=RGBColor(0xFF, 0xF4, 0xD6))
    first.notes_slide.notes_text_frame.text = "\n".join(
        [SUBTITLE, f"Showing: {cover.filters_text}", as_of_text(cover.as_of),
         *([cover.demo] if cover.demo else [])])

    title_only = deck.slide_layouts[5]
    for item in slides:
        payload = item.payload
        slide = deck.slides.add_slide(title_only)
        place_title(slide, payload["title"], Inches(0.25), Inches(0.8), 28)
        box_width, box_height = _fit(item.image, width, Inches(4.4))
        left = Emu(int((deck.slide_width - box_width) / 2))
        picture = slide.shapes.add_picture(io.BytesIO(item.image), left, Inches(1.1),
                                           Emu(int(box_width)), Emu(int(box_height)))
        picture._element.nvPicPr.cNvPr.set("descr", payload["description"])
        top = Inches(1.1) + Emu(int(box_height)) + Inches(0.1)
        notes = payload["notes"] + ([cover.demo] if cover.demo else [])
        text_box(slide, top, Inches(6.7) - top, notes, 12)
        text_box(slide, Inches(6.75), Inches(0.6), [item.meta, item.source], 10, color=muted)
        slide.notes_slide.notes_text_frame.text = item.speaker_notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

def to_pdf(cover: Cover, slides: list[Slide]) -> bytes:
    # reportlab is read when a PDF is first asked for, not by every worker at start-up.
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import inch
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Frame, Image, KeepInFrame, Paragraph, Spacer

    page_width, page_height = 13.333 * inch, 7.5 * inch
    margin = 0.5 * inch
    inner_width, inner_height = page_width - 2 * margin, page_height - 2 * margin
    styles = {
        "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=26, leading=31),
        "cover": ParagraphStyle("cover", fontName="Helvetica-Bold", fontSize=34, leading=40),
        "lead": ParagraphStyle("lead", fontName="Helvetica", fontSize=18, leading=24),
        "body": ParagraphStyle("body", fontName="Helvetica", fontSize=12, leading=15),
        "small": ParagraphStyle("small", fontName="Helvetica", fontSize=10, leading=13,
                                textColor=HexColor("#444444")),
        "demo": ParagraphStyle("demo", fontName="Helvetica-Bold", fontSize=16, leading=21,
                               backColor=HexColor("#FFF4D6"), borderColor=HexColor("#E0B84C"),
                               borderWidth=1, borderPadding=8),
    }

    def para(text: str, style: str) -> Paragraph:
        return Paragraph(escape(text), styles[style])

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(page_width, page_height), pageCompression=1)
    canvas.setTitle(TITLE)
    canvas.setSubject(cover.filters_text)
    canvas.setCreator("Survey results dashboard")

    def page(flowables: list) -> None:
        frame = Frame(margin, margin, inner_width, inner_height, leftPadding=0, rightPadding=0,
                      topPadding=0, bottomPadding=0)
        frame.addFromList([KeepInFrame(inner_width, inner_height, flowables, mode="shrink")],
                          canvas)
        canvas.showPage()

    cover_page = [Spacer(1, 0.6 * inch), para(TITLE, "cover"), Spacer(1, 0.3 * inch),
                  para(SUBTITLE, "lead"), Spacer(1, 0.2 * inch),
                  para(f"Showing: {cover.filters_text}", "lead"),
                  para(f"{cover.responses:,} responses in this view, {cover.total:,} in all",
                       "lead"),
                  para(as_of_text(cover.as_of), "lead")]
    if cover.demo:
        cover_page += [Spacer(1, 0.35 * inch), para(cover.demo, "demo")]
    page(cover_page)

    for item in slides:
        payload = item.payload
        image_width, image_height = _fit(item.image, inner_width, 4.6 * inch)
        flowables = [para(payload["title"], "title"), Spacer(1, 6),
                     Image(io.BytesIO(item.image), width=image_width, height=image_height),
                     Spacer(1, 6)]
        flowables += [para(note, "body") for note in payload["notes"]]
        if cover.demo:
            flowables.append(para(cover.demo, "body"))
        flowables += [Spacer(1, 4), para(item.meta, "small"), para(item.source, "small")]
        page(flowables)
    canvas.save()
    return out.getvalue()


WRITERS = {"pptx": to_pptx, "pdf": to_pdf}


@blueprint.errorhandler(InvalidFilter)
def _bad_filter(error: InvalidFilter):
    return jsonify({"error": str(error)}), 400


@blueprint.get("/export/deck.<fmt>")
def export(fmt: str):
    if fmt not in FORMATS:
        abort(404)
    view_filter = filter_from_request()
    settings = services().settings
    snapshot = services().live.snapshot()
    query_string = request.query_string.decode()
    cache_control = f"public, max-age={int(settings.embed_refresh_seconds)}"
    etag = caching.etag("deck", DECK_FORMAT, snapshot.version, fmt, query_string)
    if caching.not_modified(etag):
        return caching.unchanged(etag, cache_control, snapshot.as_of)
    view = current_view(view_filter)
    cover, slides = build(view)
    response = Response(WRITERS[fmt](cover, slides), mimetype=FORMATS[fmt])
    stamp = view.snapshot.as_of.strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = f'attachment; filename="survey-slides-{stamp}.{fmt}"'
    # The data may have changed since the check above: the tag names the data in the deck.
    etag = caching.etag("deck", DECK_FORMAT, view.snapshot.version, fmt, query_string)
    return caching.finish(response, etag, cache_control, view.snapshot.as_of)


def register(server: Flask) -> None:
    server.register_blueprint(blueprint)
