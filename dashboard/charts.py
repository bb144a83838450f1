"""Every chart that can be embedded, exported or downloaded, described once.

A chart is built from a :class:`dashboard.context.View`: its figure, its text alternative, its
numbers as plain rows, and its notes and sources. The embed page, the PNG and SVG images, the CSV,
XLSX and JSON downloads and the slide deck all read a chart from here, so none can disagree with
another or with the dashboard.

:data:`CHARTS` are the Overview's and the UK and US page's charts, one per question and the
comparison (the slide deck and meeting mode show these). :data:`PAGE_CHARTS` are the Explore and
Live pages' charts, made for the choices a link names in the query parameters those pages use
(``rows`` and ``columns`` for the cross-tab, ``by_role`` for the breakdown by role): each shows
what its page shows for the same link, with the same rows left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from analysis.benchmark import compare
from analysis.crosstab import CROSSTAB_QUESTIONS, Breakdown, CrossTab, breakdown, crosstab
from analysis import statements
from analysis.serialise import ROLE_NO_ANSWER, comparison_dict
from analysis.statements import base_words
from analysis.summary import QuestionResult
from analysis.timeline import Timeline, timeline
from analysis.views import Filter, InvalidFilter, counts_blank_atom
from dashboard import query, wording
from dashboard.context import View
from dashboard.figures import (Figure, breakdown_figure, comparison_figure, crosstab_figure,
                               describe_breakdown, describe_chi_square, describe_comparisons,
                               describe_crosstab, describe_question, describe_timeline,
                               question_figure, suppressed_text, timeline_figure)
from survey.questionnaire import BY_ID, QUESTIONS, Question

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
    n: Callable[[View], int | None] | None = None
    """The n printed under the chart, when it is not a question's base or the view's size."""
    choices: tuple[tuple[str, str], ...] = ()
    """The query parameters, beyond the filter, that chose what the chart shows."""
    page: str = "/"
    """The path of the page that shows the chart in full."""
    by_social_media: bool = True
    """Whether the social-media filter applies (cross-tabs cover everyone in the chosen roles)."""

    def sources(self, view: View) -> list[str]:
        sources = [UK_SOURCE]
        if self.uses_benchmark:
            sources.append(f"{view.study.citation} doi:{view.study.doi}")
        return sources

    def base(self, view: View) -> int | None:
        """The n printed under the chart: those who answered, or None when suppressed."""
        if self.n is not None:
            return self.n(view)
        if self.id in BY_ID:
            result = view.summary.question(self.id)
            return None if result.suppressed else result.base
        return view.summary.responses if not view.summary.suppressed else None

    def base_words(self, view: View) -> str | None:
        """Who the percentages of a question's chart are of, in words (None for other charts,
        or when suppressed)."""
        if self.id not in BY_ID or view.summary.question(self.id).suppressed:
            return None
        result = view.summary.question(self.id)
        return wording.base(result.base, view.summary.everyone and self.id != "role",
                            result.low_base)


def question_notes(question: Question, percentages: str) -> list[str]:
    """The notes every chart of one question carries: its wording, what the percentages are of,
    when it was asked, what the intervals are and how the figures are rounded."""
    notes = [f"Question {question.number}: {question.text}", percentages]
    if question.asked_when:
        notes.append("Asked only of those aware of the guidance (question 5 yes).")
    return [*notes, statements.INTERVALS, statements.ROUNDING]


def base_note(result: QuestionResult, everyone: bool) -> str:
    """What a question chart's percentages are of, and its non-response."""
    if result.suppressed:
        return "Percentages of those who answered."
    text = f"Percentages of those who answered: {base_words(result.base, everyone)}."
    if result.question.id != "role":
        text += f" No answer: {result.no_answer:,}."
    if result.question.asked_when:
        text += f" Not asked: {result.not_asked:,}."
    return text


def _missing(question: Question, result: QuestionResult | None) -> dict[str, Any]:
    """A question's non-response, as columns of its rows (question 1's is pooled: None)."""
    if question.id == "role":
        return {"no_answer": None}
    missing = {"no_answer": None if result is None else result.no_answer}
    if question.asked_when:
        missing["not_asked"] = None if result is None else result.not_asked
    return missing

def _question_chart(question_id: str) -> Chart:
    question = BY_ID[question_id]

    def rows(view: View) -> list[dict[str, Any]]:
        result = view.summary.question(question_id)
        if result.suppressed:
            return [{"question": question.number, "answer": a.label, "count": None,
                     "percent": None, "ci95_low": None, "ci95_high": None, "base": None,
                     **_missing(question, None), "low_base": None, "suppressed": True}
                    for a in question.answers] if question_id != "role" else []
        return [{"question": question.number, "answer": a.label, "count": a.count,
                 "percent": a.percent, "ci95_low": a.ci95[0], "ci95_high": a.ci95[1],
                 "base": result.base, **_missing(question, result),
                 "low_base": result.low_base, "suppressed": False} for a in result.answers]

    def notes(view: View) -> list[str]:
        result = view.summary.question(question_id)
        everyone = view.summary.everyone and question_id != "role"
        notes = question_notes(question, base_note(result, everyone))
        if question_id == "role":
            notes.append(ROLE_NO_ANSWER)
            if view.summary.blank_q2:
                notes.append(f"Not in this chart: {view.summary.blank_q2:,} who left question 2 "
                             "blank, counted in the other charts of this view but never split "
                             "by role.")
        if result.suppressed:
            notes.append(f"{suppressed_text(result, view.min_cell_size)}.")
        elif result.low_base:
            notes.append(statements.LOW_BASE_NOTE)
        return notes

    return Chart(
        id=question_id, title=f"Q{question.number}. {question.short_title}",
        figure=lambda view: question_figure(view.summary.question(question_id),
                                            view.min_cell_size, view.summary.everyone),
        describe=lambda view: describe_question(view.summary.question(question_id),
                                                view.min_cell_size, view.summary.everyone),
        rows=rows, notes=notes)


def _comparison_rows(view: View) -> list[dict[str, Any]]:
    return [comparison_dict(c, view.study) for c in compare(view.summary, view.study)]


COMPARISON = Chart(
    id="uk-and-us", title="UK and US: looking at service users' profiles",
    figure=lambda view: comparison_figure(compare(view.summary, view.study), view.study),
    describe=lambda view: describe_comparisons(compare(view.summary, view.study), view.study),
    rows=_comparison_rows,
    notes=lambda view: ["None of the wordings is identical; each row's note says how they differ.",
                        f"US figures: n = {view.study.n} (whole sample); hollow markers are "
                        "approximate in the source.", statements.APPROXIMATE,
                        statements.US_WORDING, statements.MULTIPLE_TESTING,
                        statements.INTERVALS, statements.ROUNDING, view.study.caveat],
    uses_benchmark=True)

CHARTS: dict[str, Chart] = {q.id: _question_chart(q.id) for q in QUESTIONS}
CHARTS[COMPARISON.id] = COMPARISON


class InvalidChoice(InvalidFilter):
    """A link names a question a chart does not take, or a parameter it does not know."""


def _per_view(build: Callable[[View], Any]) -> Callable[[View], Any]:
    """``build(view)``, made once for the view last asked about (a chart's figure, text, rows
    and notes all read the same analysis)."""
    last: list[tuple[View, Any]] = []

    def once(view: View) -> Any:
        found = last[0] if last else None
        if found is None or found[0] is not view:
            found = (view, build(view))
            last[:] = [found]
        return found[1]
    return once


@dataclass(frozen=True)
class PageChart:
    """A chart of the Explore or Live page: one :class:`Chart` for each choice a link makes."""

    id: str
    options: dict[str, tuple[str, ...]]
    """Each query parameter the chart takes, with the values it accepts."""
    defaults: dict[str, str]
    make: Callable[[dict[str, str]], Chart]
    different: bool = False
    """The choices must differ from one another (a cross-tab's rows and columns)."""

    def chart(self, given: Mapping[str, list[str]]) -> Chart:
        """The chart for the choices ``given`` (parameter: values, as a query string has them);
        a parameter left out takes the page's default."""
        choices = dict(self.defaults)
        for key, values in given.items():
            if key not in self.options:
                raise InvalidChoice(f"{self.id} takes no parameter {key!r}")
            if len(values) != 1 or values[0] not in self.options[key]:
                raise InvalidChoice(f"{key} must be one of: {', '.join(self.options[key])}")
            choices[key] = values[0]
        if self.different and len(set(choices.values())) < len(choices):
            raise InvalidChoice(f"{' and '.join(self.options)} must be different questions")
        return self.make(choices)


def _question_title(question_id: str) -> str:
    question = BY_ID[question_id]
    return f"Q{question.number} {question.short_title}"


def crosstab_of(view: View, row_id: str, column_id: str) -> CrossTab:
    """The cross-tab the Explore page and its chart show: everyone in the view's roles, whatever
    the social-media filter (with no role chosen, those who left question 2 blank too)."""
    snapshot, roles = view.snapshot, Filter(view.summary.view.roles)
    return crosstab(snapshot.cube, snapshot.grouping, roles, row_id, column_id,
                    view.min_cell_size, everyone=counts_blank_atom(roles, snapshot.safety))


def timeline_of(view: View) -> Timeline:
    """The Live page's timeline of the view, counted as its summary counts."""
    snapshot, chosen = view.snapshot, view.summary.view
    return timeline(snapshot.cube, snapshot.grouping, chosen.roles, chosen.social_media,
                    everyone=view.summary.everyone)


def _crosstab_chart(choices: dict[str, str]) -> Chart:
    row_id, column_id = choices["rows"], choices["columns"]
    rows_q, columns_q = BY_ID[row_id], BY_ID[column_id]

    table = _per_view(lambda view: crosstab_of(view, row_id, column_id))

    def rows(view: View) -> list[dict[str, Any]]:
        shown = table(view)
        out = []
        for i, r in enumerate(shown.row_codes):
            common = {"row_question": rows_q.number, "column_question": columns_q.number,
                      "row": rows_q.label_of(r)}
            base = int(shown.row_bases[i])
            out += [{**common, "column": columns_q.label_of(c), "count": int(shown.counts[i, j]),
                     "percent": float(shown.percents[i, j]) if base else None,
                     "ci95_low": float(shown.ci_low[i, j]) if base else None,
                     "ci95_high": float(shown.ci_high[i, j]) if base else None,
                     "row_base": base}
                    for j, c in enumerate(shown.column_codes)]
            out += [{**common, "column": columns_q.label_of(m), "count": int(shown.missing[i, k]),
                     "percent": None, "ci95_low": None, "ci95_high": None, "row_base": base}
                    for k, m in enumerate(shown.missing_codes)]
        return out

    def notes(view: View) -> list[str]:
        shown = table(view)
        notes = [f"Rows: question {rows_q.number}, {rows_q.text}",
                 f"Columns: question {columns_q.number}, {columns_q.text}",
                 f"Row percentages of those in each row who answered question {columns_q.number};"
                 " 95% Wilson intervals. Those who left it blank (or were not asked it) are "
                 "counted beside each row, outside the percentages.",
                 "Everyone in the chosen roles, whatever their answer to question 2 (with no "
                 "role chosen, those who left it blank too); every row and column adds up to "
                 "the summary's figures for these roles.",
                 statements.INTERVALS, statements.ROUNDING]
        if not shown.total:
            notes.append("No responses published for these roles yet.")
        else:
            notes.append(describe_chi_square(shown))
        return notes

    def n(view: View) -> int | None:
        shown = table(view)
        return shown.total if shown.total else None

    return Chart(
        id="crosstab", title=f"{_question_title(row_id)} × {_question_title(column_id)}",
        figure=lambda view: crosstab_figure(table(view)),
        describe=lambda view: describe_crosstab(table(view)),
        rows=rows, notes=notes, n=n, choices=(("rows", row_id), ("columns", column_id)),
        page="/explore", by_social_media=False)


def _by_role_chart(choices: dict[str, str]) -> Chart:
    question_id = choices["by_role"]
    question = BY_ID[question_id]

    def split(view: View) -> Breakdown:
        snapshot = view.snapshot
        return breakdown(snapshot.cube, snapshot.grouping, view.summary.view, question_id,
                         snapshot.safety, view.min_cell_size)
    split = _per_view(split)

    def rows(view: View) -> list[dict[str, Any]]:
        result = split(view)
        out = []
        for label, group in zip(result.labels, result.results):
            if group.suppressed:
                out += [{"question": question.number, "group": label, "answer": a.label,
                         "count": None, "percent": None, "ci95_low": None, "ci95_high": None,
                         "base": None} for a in question.answers]
                continue
            out += [{"question": question.number, "group": label, "answer": a.label,
                     "count": a.count, "percent": a.percent, "ci95_low": a.ci95[0],
                     "ci95_high": a.ci95[1], "base": group.base} for a in group.answers]
        return out

    def notes(view: View) -> list[str]:
        result = split(view)
        notes = question_notes(question, "Percentages of those in each role group who answered "
                                         "this question and question 2.")
        if result.suppressed:
            notes.append(f"Not shown by role: a role group has fewer than {view.min_cell_size} "
                         "published answers.")
        else:
            notes += [f"{label}: {suppressed_text(group, view.min_cell_size)}."
                      for label, group in zip(result.labels, result.results) if group.suppressed]
        return notes

    def n(view: View) -> int | None:
        result = split(view)
        shown = [group.base for group in result.results if not group.suppressed]
        return sum(shown) if shown else None

    return Chart(
        id="by-role", title=f"Q{question.number}. {question.short_title}, by role",
        figure=lambda view: breakdown_figure(split(view), view.min_cell_size),
        describe=lambda view: describe_breakdown(split(view), view.min_cell_size),
        rows=rows, notes=notes, n=n, choices=(("by_role", question_id),), page="/explore")


def _timeline_chart(_choices: dict[str, str]) -> Chart:
    line = _per_view(timeline_of)

    def rows(view: View) -> list[dict[str, Any]]:
        shown = line(view)
        return [{"day": day.date().isoformat(), "responses": int(total),
                 "margin_of_error": None if margin != margin else float(round(margin, 1))}
                for day, total, margin in zip(shown.days, shown.cumulative, shown.margin)]

    def n(view: View) -> int | None:
        shown = line(view)
        return int(shown.cumulative[-1]) if len(shown.cumulative) else 0

    return Chart(
        id="timeline", title="Responses so far, and the margin of error they give",
        figure=lambda view: timeline_figure(line(view)),
        describe=lambda view: describe_timeline(line(view)),
        rows=rows, n=n, page="/live",
        notes=lambda view: [
            "Responses published by the end of each day (the day of the release that "
            "published them, not of their arrival), counted as the other charts of the same "
            "view count them. " + statements.DAYS,
            "Margin of error at 95% for a result near 50% (points), for the responses so far."])


CROSSTAB_DEFAULTS = {"rows": "aware_of_guidance", "columns": "viewed_for_evidence"}
BY_ROLE_DEFAULT = "viewed_profile"
BY_ROLE_QUESTIONS = tuple(q.id for q in QUESTIONS if q.id != "role")

PAGE_CHARTS: dict[str, PageChart] = {
    "crosstab": PageChart("crosstab", {"rows": CROSSTAB_QUESTIONS, "columns": CROSSTAB_QUESTIONS},
                          CROSSTAB_DEFAULTS, _crosstab_chart, different=True),
    "by-role": PageChart("by-role", {"by_role": BY_ROLE_QUESTIONS},
                         {"by_role": BY_ROLE_DEFAULT}, _by_role_chart),
    "timeline": PageChart("timeline", {}, {}, _timeline_chart),
}


def chart_for(chart_id: str, given: Mapping[str, list[str]]) -> Chart | None:
    """The chart ``chart_id`` names, for the choices ``given``; None if there is no such chart.
    Raises :class:`InvalidChoice` for choices the chart does not take."""
    if chart_id in CHARTS:
        if given:
            raise InvalidChoice(f"{chart_id} takes no parameter {sorted(given)[0]!r}")
        return CHARTS[chart_id]
    page_chart = PAGE_CHARTS.get(chart_id)
    return None if page_chart is None else page_chart.chart(given)


def filters_in_words(view: View, chart: Chart | None = None) -> str:
    """The view's filter as a reader would say it (for ``chart``, as far as it applies)."""
    grouping, chosen = view.snapshot.grouping, view.summary.view
    roles = (", ".join(grouping.label(g) for g in chosen.roles) if chosen.roles else "All roles")
    if chart is not None and not chart.by_social_media:
        return f"{roles}; everyone, whatever their use of social media"
    social = {None: "everyone", "yes": "those who use social media",
              "no": "those who do not use social media"}[chosen.social_media]
    return f"{roles}; {social}"


def full_view_path(chart: Chart, search: str) -> str:
    if chart.id == COMPARISON.id:
        return f"/uk-and-us{search}"
    for key, value in chart.choices:
        search = query.with_value(search, key, value)
    return f"{chart.page}{search}#card-{chart.id}"


def payload(chart: Chart, view: View, search: str) -> dict[str, Any]:
    """Everything an embed, an image or a download shows of ``chart``, as plain data."""
    chosen = view.summary.view
    return {
        "chart": chart.id,
        "title": chart.title,
        "version": view.snapshot.version,
        "as_of": view.snapshot.as_of.isoformat(timespec="seconds"),
        "filters": {"role": list(chosen.roles),
                    "social_media": chosen.social_media if chart.by_social_media else None},
        **({"filters_not_applied": ["social_media"]}
           if chosen.social_media and not chart.by_social_media else {}),
        **({"choices": dict(chart.choices)} if chart.choices else {}),
        "filters_text": filters_in_words(view, chart),
        "n": chart.base(view),
        "base_text": chart.base_words(view),
        "caveat": statements.INTERVALS,
        "demo_data": view.snapshot.is_demo,
        "min_cell_size": view.min_cell_size,
        "figure": chart.figure(view),
        "description": chart.describe(view),
        "rows": chart.rows(view),
        "notes": chart.notes(view),
        "sources": chart.sources(view),
        "link": full_view_path(chart, search),
    }
