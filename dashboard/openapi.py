"""The OpenAPI description of the public endpoints, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from survey.questionnaire import QUESTION_IDS, ROLE_CODES

POOLED = "pooled"
CHART_IDS = [*QUESTION_IDS, "uk-and-us"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


INTERVAL = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}

FILTER_PARAMETERS = [
    {"name": "role", "in": "query", "required": False, "style": "form", "explode": True,
     "description": "Role codes (repeatable). Roles with fewer responses than the minimum cell "
                    "size are answered as the pooled group.",
     "schema": {"type": "array", "items": {"type": "string", "enum": [*ROLE_CODES, POOLED]}}},
    {"name": "social_media", "in": "query", "required": False,
     "description": "Only those who use social media (yes) or do not (no); all, or empty, "
                    "for everyone (the same as leaving it out).",
     "schema": {"type": "string", "enum": ["yes", "no", "all", ""]}},
]

ERROR = {"description": "A filter names something that does not exist.",
         "content": {"application/json": {"schema": {
             "type": "object", "required": ["error"],
             "properties": {"error": {"type": "string"}}}}}}

ANSWER = {
    "type": "object", "required": ["code", "label"],
    "properties": {"code": {"type": "string"}, "label": {"type": "string"},
                   "count": {"type": "integer", "minimum": 0},
                   "percent": {"type": "number", "minimum": 0, "maximum": 100},
                   "ci95": INTERVAL},
}

QUESTION = {
    "type": "object", "required": ["id", "number", "text", "suppressed", "base", "answers"],
    "properties": {
        "id": {"type": "string", "enum": list(QUESTION_IDS)},
        "number": {"type": "integer", "minimum": 1, "maximum": 8},
        "text": {"type": "string"}, "suppressed": {"type": "boolean"},
        "base": _nullable({"type": "integer", "minimum": 0}),
        "base_description": {"type": "string",
                             "description": "Who is in the base, in words."},
        "low_base": {"type": "boolean",
                     "description": "Fewer than 50 answered: shown, but marked."},
        "no_answer": _nullable({"type": "integer", "minimum": 0,
                                "description": "Left the question blank (null for question 1: "
                                               "see no_answer_note)."}),
        "no_answer_note": {"type": "string"},
        "not_asked": {"type": "integer", "minimum": 0},
        "answers": {"type": "array", "items": ANSWER},
    },
}

US_FIGURE = {
    "us_wording": {"type": "string"},
    "us_wording_is_paraphrase": {"type": "boolean", "description": "The wording is this "
                                 "project's paraphrase of the paper, not the questionnaire's."},
    "percent": {"type": "number"}, "display": {"type": "string"}, "n": {"type": "integer"},
    "approximate": {"type": "boolean"},
    "range": _nullable({**INTERVAL, "description": "For an approximate figure, the range its "
                        "wording is read as."}),
    "range_note": _nullable({"type": "string"}),
    "ci95": INTERVAL,
}

BENCHMARK = {
    "type": "object",
    "required": ["id", "uk_question", "percent", "n", "approximate", "difference",
                 "difference_ci95", "significant"],
    "properties": {
        "id": {"type": "string"}, "uk_question": {"type": "string"},
        "scenario": {"type": "string"}, "measure": {"type": "string"},
        **US_FIGURE,
        "uk_percent": _nullable({"type": "number"}), "uk_ci95": _nullable(INTERVAL),
        "uk_base": _nullable({"type": "integer"}), "low_base": {"type": "boolean"},
        "difference": _nullable({"type": "number", "description": "UK minus US, points, one "
                                 "decimal; null when the US figure is approximate."}),
        "difference_range": _nullable({**INTERVAL, "description": "For an approximate US "
                                       "figure: the UK figure minus each end of its range, "
                                       "whole points."}),
        "difference_ci95": _nullable(INTERVAL),
        "p_value": _nullable({"type": "number", "description": "Score test, unadjusted."}),
        "p_adjusted": _nullable({"type": "number", "description": "Holm's adjustment over the "
                                 "comparisons of the view."}),
        "significant": _nullable({"type": "boolean",
                                  "description": "p_adjusted below 0.05."}),
        "note": {"type": "string"},
    },
}

CONTEXT = {
    "type": "object", "required": ["id", "percent", "n", "approximate", "ci95"],
    "properties": {"id": {"type": "string"}, "scenario": {"type": "string"},
                   "measure": {"type": "string"}, **US_FIGURE, "note": {"type": "string"}},
}

SUMMARY = {
    "type": "object",
    "required": ["as_of", "responses", "filters", "questions", "benchmarks"],
    "properties": {
        "as_of": {"type": "string", "format": "date-time"},
        "responses": {"type": "integer", "minimum": 0},
        "total_responses": {"type": "integer", "minimum": 0},
        "demo_data": {"type": "boolean"},
        "min_cell_size": {"type": "integer", "minimum": 1},
        "filters": {"type": "object", "properties": {
            "role": {"type": "array", "items": {"type": "string"}},
            "social_media": _nullable({"type": "string", "enum": ["yes", "no"]})}},
        "includes_question_2_blank": {"type": "boolean", "description": "The view (no filter) "
                                      "counts those who left question 2 blank."},
        "question_2_blank": {"type": "integer", "minimum": 0},
        "questions": {"type": "array", "items": QUESTION},
        "benchmarks": {"type": "array", "items": BENCHMARK},
        "us_context": {"type": "array", "items": CONTEXT,
                       "description": "US figures with no UK counterpart, for context only."},
        "notes": {"type": "object", "additionalProperties": {"type": "string"}},
        "source": {"type": "object"},
    },
}

CACHED = {"ETag": {"schema": {"type": "string"}},
          "Cache-Control": {"schema": {"type": "string"}}}


def _binary(media: str) -> dict[str, Any]:
    return {media: {"schema": {"type": "string", "format": "binary"}}}


def document() -> dict[str, Any]:
    chart = {"name": "chart", "in": "path", "required": True,
             "schema": {"type": "string", "enum": CHART_IDS}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Survey of UK social care professionals: public results",
                 "version": "1.0.0",
                 "description": "Aggregates only; no group smaller than the minimum cell size is "
                                "shown. Responses carry an ETag tied to the data version."},
        "paths": {
            "/api/v1/summary": {"get": {
                "summary": "Every question's results for a filter, and the US comparisons",
                "parameters": FILTER_PARAMETERS,
                "responses": {"200": {"description": "The summary", "headers": CACHED,
                                      "content": {"application/json": {"schema": SUMMARY}}},
                              "304": {"description": "Unchanged since the ETag given"},
                              "400": ERROR}}},
            "/api/v1/summary.csv": {"get": {
                "summary": "The summary's answers as tidy CSV, one row per question and answer",
                "parameters": FILTER_PARAMETERS,
                "responses": {"200": {"description": "CSV", "headers": CACHED,
                                      "content": {"text/csv": {"schema": {"type": "string"}}}},
                              "304": {"description": "Unchanged since the ETag given"},
                              "400": ERROR}}},
            "/embed/{chart}": {"get": {
                "summary": "A light page showing one chart, for an iframe",
                "parameters": [chart, *FILTER_PARAMETERS],
                "responses": {"200": {"description": "HTML", "headers": CACHED,
                                      "content": {"text/html": {"schema": {"type": "string"}}}},
                              "304": {"description": "Unchanged"}, "400": ERROR,
                              "404": {"description": "No such chart"}}}},
            "/embed/{chart}.json": {"get": {
                "summary": "One chart's figure, numbers, notes and sources",
                "parameters": [chart, *FILTER_PARAMETERS],
                "responses": {"200": {"description": "The chart as data", "headers": CACHED,
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              "304": {"description": "Unchanged"}, "400": ERROR,
                              "404": {"description": "No such chart"}}}},
            **{f"/embed/{{chart}}.{fmt}": {"get": {
                "summary": f"One chart as {label}",
                "parameters": [chart, *FILTER_PARAMETERS],
                "responses": {"200": {"description": label, "headers": CACHED,
                                      "content": _binary(media)},
                              "304": {"description": "Unchanged"}, "400": ERROR,
                              "404": {"description": "No such chart"}}}}
               for fmt, label, media in (
                   ("csv", "CSV", "text/csv"), ("png", "a PNG image", "image/png"),
                   ("svg", "an SVG image", "image/svg+xml"),
                   ("xlsx", "an Excel workbook",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))},
        },
    }
