"""Results as plain data: one dict that the API, the data downloads and the text alternatives all
render, so that no output can disagree with another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analysis.benchmark import Comparison, Figure, Study, us_interval
from analysis import statements
from analysis.statements import base_words
from analysis.summary import QuestionResult, Summary


ROLE_NO_ANSWER = ("Counted in \"Other roles, pooled\": those who left question 1 blank are "
                  "never shown apart.")


def question_dict(result: QuestionResult, everyone: bool = False) -> dict[str, Any]:
    """One question's results; ``everyone``: the view of no filter, whose bases include those
    who left question 2 blank (:attr:`analysis.summary.Summary.everyone`)."""
    question = result.question
    data: dict[str, Any] = {"id": question.id, "number": question.number, "text": question.text,
                            "suppressed": result.suppressed}
    if result.suppressed:
        # Not even the base: how many answered, beside how many were asked, is itself a result.
        data["base"] = None
        data["answers"] = [{"code": code, "label": question.label_of(code)} for code in question.codes]
        return data
    data["base"] = result.base
    data["base_description"] = base_words(result.base, everyone and question.id != "role")
    data["low_base"] = result.low_base
    if question.id == "role":
        data["no_answer"] = None
        data["no_answer_note"] = ROLE_NO_ANSWER
    else:
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
        "measure": figure.measure, **_us_figure(figure, study),
        "ci95": list(comparison.us_ci95),
        "uk_percent": comparison.uk_percent,
        "uk_ci95": list(comparison.uk_ci95) if comparison.uk_ci95 else None,
        "uk_base": comparison.uk_base,
        "low_base": comparison.low_base,
        "difference": comparison.difference,
        "difference_range": (list(comparison.difference_range) if comparison.difference_range
                             else None),
        "difference_ci95": list(comparison.difference_ci95) if comparison.difference_ci95 else None,
        "p_value": comparison.p_value, "p_adjusted": comparison.p_adjusted,
        "significant": comparison.significant, "note": comparison.note,
    }


def _us_figure(figure: Figure, study: Study) -> dict[str, Any]:
    """A US figure as published: its (paraphrased) wording, percentage, and for an approximate
    one the range its wording is read as."""
    return {"us_wording": figure.wording, "us_wording_is_paraphrase": True,
            "percent": figure.percent, "display": figure.display, "n": study.n,
            "approximate": figure.approximate,
            "range": list(figure.range) if figure.range else None,
            "range_note": figure.range_note}


def context_dict(figure: Figure, study: Study) -> dict[str, Any]:
    """A US figure shown for context only (no UK question sits beside it)."""
    return {"id": figure.id, "scenario": figure.scenario, "measure": figure.measure,
            **_us_figure(figure, study), "ci95": list(us_interval(figure, study.n)),
            "note": figure.context_note}


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
        "includes_question_2_blank": summary.everyone,
        "question_2_blank": summary.blank_q2,
        "questions": [question_dict(q, summary.everyone) for q in summary.questions],
        "benchmarks": [comparison_dict(c, study) for c in comparisons],
        "us_context": [context_dict(f, study) for f in study.context],
        "notes": {"intervals": statements.INTERVALS, "rounding": statements.ROUNDING,
                  "low_base": statements.LOW_BASE_NOTE,
                  "multiple_testing": statements.MULTIPLE_TESTING,
                  "approximate": statements.APPROXIMATE, "us_wording": statements.US_WORDING,
                  "bases": statements.BASES},
        "source": {"uk": "Community Care survey of UK social care professionals (2018)",
                   "us": study.citation, "us_doi": study.doi},
    }

