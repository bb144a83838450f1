"""Results as plain data: one dict that the API, the data downloads and the text alternatives all
render, so that no output can disagree with another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analysis.benchmark import Comparison, Study
from analysis.summary import QuestionResult, Summary


def question_dict(result: QuestionResult) -> dict[str, Any]:
    question = result.question
    data: dict[str, Any] = {"id": question.id, "number": question.number, "text": question.text,
                            "suppressed": result.suppressed}
    if result.suppressed:
        # Not even the base: how many answered, beside how many were asked, is itself a result.
        data["base"] = None
        data["answers"] = [{"code": code, "label": question.label_of(code)} for code in question.codes]
        return data
    data["base"] = result.base
    data["no_answer"] = result.no_answer
    if question.asked_when:
        data["not_asked"] = result.not_asked
    data["answers"] = [
        {"code": a.code, "label": a.label, "count": a.count, "percent": a.percent,
         "ci95": list(a.ci95)} for a in result.answers]
    return data


def comparison_dict(comparison: Comparison, study: Study) -> dict[str, Any]:
    figure = comparison.figure
    return {
        "id": figure.id, "uk_question": comparison.uk_question, "scenario": figure.scenario,
        "measure": figure.measure, "us_wording": figure.wording, "percent": figure.percent,
        "display": figure.display, "n": study.n, "approximate": figure.approximate,
        "ci95": list(comparison.us_ci95),
        "uk_percent": comparison.uk_percent,
        "uk_ci95": list(comparison.uk_ci95) if comparison.uk_ci95 else None,
        "uk_base": comparison.uk_base,
        "difference": comparison.difference,
        "difference_ci95": list(comparison.difference_ci95) if comparison.difference_ci95 else None,
        "significant": comparison.significant, "note": comparison.note,
    }


def summary_dict(summary: Summary, comparisons: tuple[Comparison, ...], study: Study, *,
                 as_of: datetime, total_responses: int, min_cell_size: int,
                 is_demo: bool) -> dict[str, Any]:
    view = summary.view
    return {
        "as_of": as_of.isoformat(timespec="seconds"),
        "responses": summary.responses,
        "total_responses": total_responses,
        "demo_data": is_demo,
        "min_cell_size": min_cell_size,
        "filters": {"role": list(view.roles), "social_media": view.social_media},
        "questions": [question_dict(q) for q in summary.questions],
        "benchmarks": [comparison_dict(c, study) for c in comparisons],
        "source": {"uk": "Community Care survey of UK social care professionals (2018)",
                   "us": study.citation, "us_doi": study.doi},
    }
