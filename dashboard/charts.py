"""Every chart that can be embedded, exported or downloaded, described once.

A chart is built from a :class:`dashboard.context.View`: its figure, its text alternative, its
numbers as plain rows, and its notes and sources. The embed page, the PNG and SVG images, the CSV,
XLSX and JSON downloads and the slide deck all read a chart from here, so none can disagree with
another or with the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from analysis.benchmark import compare
from analysis.serialise import comparison_dict
from dashboard.context import View
from dashboard.figures import (Figure, comparison_figure, describe_comparisons,
                               describe_question, question_figure)
from survey.questionnaire import BY_ID, QUESTIONS

UK_SOURCE = ("Community Care survey of UK child welfare and social care professionals "
             "(launched 12 September 2018); live results")


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    figure: Callable[[View], Figure]
    describe: Callable[[View], str]
    rows: Callable[[View], list[dict[str, Any]]]
    notes: Callable[[View], list[str]]
    uses_benchmark: bool = False

    def sources(self, view: View) -> list[str]:
        sources = [UK_SOURCE]
        if self.uses_benchmark:
            sources.append(f"{view.study.citation} doi:{view.study.doi}")
        return sources

    def base(self, view: View) -> int | None:
        """The n printed under the chart: those who answered, or None when suppressed."""
        if self.id in BY_ID:
            result = view.summary.question(self.id)
            return None if result.suppressed else result.base
        return view.summary.responses if not view.summary.suppressed else None


def _question_chart(question_id: str) -> Chart:
    question = BY_ID[question_id]

    def rows(view: View) -> list[dict[str, Any]]:
        result = view.summary.question(question_id)
        if result.suppressed:
            return [{"question": question.number, "answer": a.label, "count": None,
                     "percent": None, "ci95_low": None, "ci95_high": None, "base": None}
                    for a in question.answers] if question_id != "role" else []
        return [{"question": question.number, "answer": a.label, "count": a.count,
                 "percent": a.percent, "ci95_low": a.ci95[0], "ci95_high": a.ci95[1],
                 "base": result.base} for a in result.answers]

    def notes(view: View) -> list[str]:
        result = view.summary.question(question_id)
        notes = [f"Question {question.number}: {question.text}",
                 "Percentages of those who answered; 95% Wilson intervals."]
        if question.asked_when:
            notes.append("Asked only of those aware of the guidance (question 5 yes).")
        if result.suppressed:
            notes.append(f"Not shown: fewer than {view.min_cell_size} responses, or a group "
                         "within this view too small to show safely.")
        return notes

    return Chart(
        id=question_id, title=f"Q{question.number}. {question.short_title}",
        figure=lambda view: question_figure(view.summary.question(question_id), view.min_cell_size),
        describe=lambda view: describe_question(view.summary.question(question_id),
                                                view.min_cell_size),
        rows=rows, notes=notes)


def _comparison_rows(view: View) -> list[dict[str, Any]]:
    return [comparison_dict(c, view.study) for c in compare(view.summary, view.study)]


COMPARISON = Chart(
    id="uk-and-us", title="UK and US: looking at service users' profiles",
    figure=lambda view: comparison_figure(compare(view.summary, view.study), view.study),
    describe=lambda view: describe_comparisons(compare(view.summary, view.study)),
    rows=_comparison_rows,
    notes=lambda view: ["None of the wordings is identical; each row's note says how they differ.",
                        f"US figures: n = {view.study.n} (whole sample); hollow markers are "
                        "approximate in the source.", view.study.caveat],
    uses_benchmark=True)

CHARTS: dict[str, Chart] = {q.id: _question_chart(q.id) for q in QUESTIONS}
CHARTS[COMPARISON.id] = COMPARISON


def filters_in_words(view: View) -> str:
    """The view's filter as a reader would say it."""
    grouping, chosen = view.snapshot.grouping, view.summary.view
    roles = (", ".join(grouping.label(g) for g in chosen.roles) if chosen.roles else "All roles")
    social = {None: "everyone", "yes": "those who use social media",
              "no": "those who do not use social media"}[chosen.social_media]
    return f"{roles}; {social}"


def full_view_path(chart: Chart, search: str) -> str:
    if chart.id == COMPARISON.id:
        return f"/uk-and-us{search}"
    return f"/{search}#card-{chart.id}"


def payload(chart: Chart, view: View, search: str) -> dict[str, Any]:
    """Everything an embed, an image or a download shows of ``chart``, as plain data."""
    chosen = view.summary.view
    return {
        "chart": chart.id,
        "title": chart.title,
        "version": view.snapshot.version,
        "as_of": view.snapshot.as_of.isoformat(timespec="seconds"),
        "filters": {"role": list(chosen.roles), "social_media": chosen.social_media},
        "filters_text": filters_in_words(view),
        "n": chart.base(view),
        "demo_data": view.snapshot.is_demo,
        "min_cell_size": view.min_cell_size,
        "figure": chart.figure(view),
        "description": chart.describe(view),
        "rows": chart.rows(view),
        "notes": chart.notes(view),
        "sources": chart.sources(view),
        "link": full_view_path(chart, search),
    }
