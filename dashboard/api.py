"""The public, read-only summary API: the same numbers as the charts, as JSON or tidy CSV,
described by an OpenAPI document."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Flask, Response, jsonify, request

from analysis.benchmark import compare
from analysis.serialise import summary_dict
from analysis.views import Filter, InvalidFilter
from dashboard import caching
from dashboard.context import current_view, services
from dashboard.downloads import safe_text
from dashboard.openapi import document

ALLOWED = {"role", "social_media"}
CSV_COLUMNS = ("question_id", "question_number", "question_text", "suppressed", "base",
               "base_description", "no_answer", "not_asked", "low_base", "answer_code",
               "answer_label", "count", "percent", "ci95_low", "ci95_high")

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def filter_from_request() -> Filter:
    unknown = sorted(set(request.args) - ALLOWED)
    if unknown:
        raise InvalidFilter(f"unknown query parameter(s): {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(ALLOWED))}")
    social = request.args.getlist("social_media")
    if len(social) > 1:
        raise InvalidFilter("social_media may be given once")
    return Filter.parse(request.args.getlist("role"), social[0] if social else None)


@blueprint.errorhandler(InvalidFilter)
def _bad_filter(error: InvalidFilter):
    return jsonify({"error": str(error)}), 400


def _summary_payload() -> dict:
    view = current_view(filter_from_request())
    return summary_dict(
        view.summary, compare(view.summary, view.study), view.study,
        as_of=view.snapshot.as_of, total_responses=view.snapshot.total,
        min_cell_size=view.min_cell_size, is_demo=view.snapshot.is_demo)


def _cached(kind: str, build) -> Response:
    filter_from_request()  # a bad filter is refused before anything is looked up
    snapshot = services().live.snapshot()
    settings = services().settings
    tag = caching.etag(kind, snapshot.version, request.query_string.decode())
    cache_control = f"public, max-age={int(settings.refresh_seconds)}"
    if caching.not_modified(tag):
        return caching.unchanged(tag, cache_control, snapshot.as_of)
    return caching.finish(build(), tag, cache_control, snapshot.as_of)


@blueprint.get("/summary")
def summary():
    return _cached("summary.json", lambda: jsonify(_summary_payload()))


def summary_csv_text(payload: dict) -> str:
    """One row per question and answer: the summary's numbers, tidy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("as_of", "role", "social_media", *CSV_COLUMNS))
    filters = payload["filters"]
    fixed = (payload["as_of"], " ".join(filters["role"]), filters["social_media"] or "")
    for question in payload["questions"]:
        for answer in question["answers"]:
            ci = answer.get("ci95") or (None, None)
            writer.writerow([safe_text(v) for v in (
                *fixed, question["id"], question["number"], question["text"],
                question["suppressed"], question["base"], question.get("base_description"),
                question.get("no_answer"), question.get("not_asked"), question.get("low_base"),
                answer["code"], answer["label"], answer.get("count"), answer.get("percent"),
                ci[0], ci[1])])
    return buffer.getvalue()


@blueprint.get("/summary.csv")
def summary_csv():
    def build() -> Response:
        response = Response(summary_csv_text(_summary_payload()), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="survey-summary.csv"'
        return response
    return _cached("summary.csv", build)


@blueprint.get("/openapi.json")
def openapi():
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def register(server: Flask) -> None:
    server.register_blueprint(blueprint)
