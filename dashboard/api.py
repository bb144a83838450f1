"""The public, read-only summary API: the same numbers as the charts, as JSON."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request

from analysis.benchmark import compare
from analysis.serialise import summary_dict
from analysis.views import Filter, InvalidFilter
from dashboard.context import current_view

ALLOWED = {"role", "social_media"}

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


@blueprint.get("/summary")
def summary():
    view = current_view(filter_from_request())
    payload = summary_dict(
        view.summary, compare(view.summary, view.study), view.study,
        as_of=view.snapshot.as_of, total_responses=view.snapshot.total,
        min_cell_size=view.min_cell_size, is_demo=view.snapshot.is_demo)
    return jsonify(payload)


def register(server: Flask) -> None:
    server.register_blueprint(blueprint)
