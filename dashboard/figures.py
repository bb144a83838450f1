"""Plotly figures built from analysis results: pure functions, no Dash, no data access.

A figure is plain data, ``{"data": [trace, ...], "layout": {...}}``, as plotly.js takes it:
``dcc.Graph``, the embeds and ``plotly.io`` accept it as it is, and it encodes as JSON without
plotly's graph objects having to validate it first. Every number in it is a Python ``int`` or
``float`` and every sequence a list, so that any JSON encoder writes it.

Figures are kept lean (no template, only the traces and layout they need) because every filter
change sends them to the browser. Colours are the Okabe-Ito palette, safe for the common forms
of colour blindness; the UK and the US are also told apart by marker shape, not colour alone.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from analysis.benchmark import Comparison, Study
from analysis.crosstab import (FISHER, MIN_EXPECTED, MONTE_CARLO_TABLES, PEARSON, Breakdown,
                               CrossTab)
from analysis.serialise import comparison_dict
from analysis.statements import base_words
from analysis.summary import QuestionResult
from analysis.timeline import Timeline
from dashboard import wording

Figure = dict[str, Any]
"""A plotly figure as plain data: ``{"data": [...], "layout": {...}}``."""

UK = "#0072B2"
US = "#D55E00"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _layout(title: str, height: int, **extra) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": height, "margin": {"l": 10, "r": 20, "t": 50, "b": 40},
        "font": {"family": FONT, "size": 13, "color": "#1a1a1a"},
        # An empty template: plotly.js has none by default, and plotly.py (images, slides)
        # would otherwise apply its own when it reads the figure.
        "template": {}, "paper_bgcolor": "white", "plot_bgcolor": "white", "showlegend": False,
        "xaxis": {"range": [0, 100], "ticksuffix": "%", "gridcolor": "#e5e5e5", "zeroline": False,
                  "fixedrange": True},
        "yaxis": {"automargin": True, "autorange": "reversed", "fixedrange": True},
        **extra}


def _error_bars(values: Sequence[float], intervals: Sequence[tuple[float, float]], color: str,
                **style) -> dict[str, Any]:
    """Asymmetric error bars reaching each value's interval."""
    return {"type": "data", "symmetric": False, "color": color, **style,
            "array": [round(high - value, 1) for value, (_, high) in zip(values, intervals)],
            "arrayminus": [round(value - low, 1) for value, (low, _) in zip(values, intervals)]}


def suppressed_text(result: QuestionResult, min_cell_size: int) -> str:
    """Why a question's results are not shown, in a reader's terms."""
    if result.base == 0:
        return "No answers published for this view yet"
    if result.base < min_cell_size:
        return f"Fewer than {min_cell_size} answers: not shown"
    return (f"Not shown for this selection: a role group in it has fewer than {min_cell_size} "
            "published answers to this question (published under a smaller minimum)")


def suppressed_figure(title: str, text: str, height: int = 200) -> Figure:
    layout = _layout(title, height)
    layout["xaxis"]["visible"] = False
    layout["yaxis"]["visible"] = False
    layout["annotations"] = [{"text": text, "showarrow": False, "x": 50, "y": 0.5, "xref": "x",
                              "yref": "paper", "font": {"size": 14, "color": "#444"}}]
    return {"data": [], "layout": layout}


def question_figure(result: QuestionResult, min_cell_size: int, everyone: bool = False) -> Figure:
    """Percentages of those who answered, with 95% intervals, one bar per answer; ``everyone``:
    the base counts those who left question 2 blank (the view of no filter)."""
    question = result.question
    title = f"Q{question.number}. {question.short_title}"
    if result.suppressed:
        return suppressed_figure(title, suppressed_text(result, min_cell_size))
    answers = result.answers
    percents = [a.percent for a in answers]
    bar = {
        "type": "bar", "orientation": "h",
        "y": [f"{a.label} <b>{a.percent:.1f}%</b>" for a in answers], "x": percents,
        "marker": {"color": UK},
        "error_x": _error_bars(percents, [a.ci95 for a in answers], "#333", thickness=1.2),
        "customdata": [[a.count, a.ci95[0], a.ci95[1]] for a in answers],
        "hovertemplate": ("%{x:.1f}% (%{customdata[0]} of " + str(result.base) + ")<br>95% CI "
                          "%{customdata[1]:.1f}% to %{customdata[2]:.1f}%<extra></extra>"),
    }
    layout = _layout(title, 80 + 34 * len(answers))
    layout["annotations"] = [{"text": wording.base(result.base, everyone and question.id != "role",
                                                  result.low_base), "showarrow": False,
                              "x": 1, "xref": "paper", "xanchor": "right", "y": -0.02,
                              "yref": "paper", "yanchor": "top", "yshift": -18,
                              "font": {"size": 11, "color": "#555"}}]
    return {"data": [bar], "layout": layout}


def comparison_figure(comparisons: Sequence[Comparison], study: Study) -> Figure:
    """UK and US percentages side by side, each with its 95% interval, one row per pairing (an
    approximate US figure's over the range its wording allows)."""
    labels = [f"{'Q3 ever looked' if c.uk_question == 'viewed_profile' else 'Q4 for evidence'}"
              f" · US: {c.figure.scenario}" for c in comparisons]
    shown = [c for c in comparisons if c.uk_percent is not None]
    uk_labels = [labels[i] for i, c in enumerate(comparisons) if c.uk_percent is not None]
    uk_percents = [c.uk_percent for c in shown]
    us_percents = [c.figure.percent for c in comparisons]
    uk = {
        "type": "scatter", "name": "UK, this survey", "x": uk_percents, "y": uk_labels,
        "mode": "markers", "marker": {"color": UK, "size": 12, "symbol": "circle"},
        "error_x": _error_bars(uk_percents, [c.uk_ci95 for c in shown], UK),
        "hovertemplate": "UK: %{x:.1f}%<extra></extra>"}
    us = {
        "type": "scatter", "name": f"US benchmark, n = {study.n} (hollow: approximate)",
        "x": us_percents, "y": labels, "mode": "markers",
        "marker": {"color": US, "size": 12, "symbol": ["diamond-open" if c.figure.approximate
                                                       else "diamond" for c in comparisons]},
        "error_x": _error_bars(us_percents, [c.us_ci95 for c in comparisons], US),
        "customdata": [wording.us_figure(comparison_dict(c, study)) for c in comparisons],
        "hovertemplate": "US: %{customdata}<extra></extra>"}
    layout = _layout("UK (this survey) and US (Sage et al. 2017), 95% intervals",
                     110 + 56 * len(comparisons),
                     legend={"orientation": "h", "y": -0.12, "x": 0})
    layout["showlegend"] = True
    return {"data": [uk, us], "layout": layout}


def describe_question(result: QuestionResult, min_cell_size: int, everyone: bool = False) -> str:
    """The chart's numbers in words, for screen readers and for anyone who prefers text."""
    question = result.question
    if result.suppressed:
        return (f"Question {question.number}, {question.text} "
                f"{suppressed_text(result, min_cell_size)}.")
    parts = "; ".join(f"{a.label} {a.percent:.1f}% ({a.count}, 95% interval {a.ci95[0]:.1f}% "
                      f"to {a.ci95[1]:.1f}%)" for a in result.answers)
    base = base_words(result.base, everyone and question.id != "role")
    low = " (low base)" if result.low_base else ""
    return f"Question {question.number}, {question.text} Of {base}{low}: {parts}."


def describe_comparisons(comparisons: Sequence[Comparison], study: Study) -> str:
    """The comparison chart in words."""
    parts = []
    for c in comparisons:
        row = comparison_dict(c, study)
        uk_question = "question 3" if c.uk_question == "viewed_profile" else "question 4"
        us = f"US {wording.us_figure(row)} had searched {c.figure.scenario}"
        if c.uk_percent is None:
            parts.append(f"UK {uk_question}: not shown (too few responses); {us}.")
        else:
            parts.append(f"UK {uk_question}: {c.uk_percent:.1f}% (95% interval {c.uk_ci95[0]:.1f}% "
                         f"to {c.uk_ci95[1]:.1f}%); {us}; difference {wording.difference(row)}; "
                         f"{wording.verdict(row)}.")
    return " ".join(parts)


def _row_label(table: CrossTab, index: int) -> str:
    """A cross-tab row's label: the answer, how many answered the column question, and how
    many left it blank (or were not asked it)."""
    code = table.row_codes[index]
    label = f"{table.rows.label_of(code)} (n = {int(table.row_bases[index])}"
    for missing, n in zip(table.missing_codes, table.missing[index]):
        if n:
            label += f"; {table.columns.label_of(missing).lower()} {int(n)}"
    return label + ")"


def crosstab_figure(table: CrossTab) -> Figure:
    """Row percentages of a cross-tab as a heat map with the numbers written in."""
    title = f"Q{table.rows.number} {table.rows.short_title} × Q{table.columns.number} {table.columns.short_title}"
    if not table.total:
        return suppressed_figure(title, "No responses published for these roles yet")
    labels_x = [table.columns.label_of(c) for c in table.column_codes]
    labels_y = [_row_label(table, i) for i in range(len(table.row_codes))]
    text = [[f"{p:.1f}%<br>({lo:.0f}–{hi:.0f})" if base else "–"
             for p, lo, hi in zip(row, low, high)]
            for row, low, high, base in zip(table.percents, table.ci_low_whole,
                                            table.ci_high_whole, table.row_bases)]
    heatmap = {
        "type": "heatmap", "z": np.asarray(table.percents, dtype=float).tolist(),
        "x": labels_x, "y": labels_y, "text": text, "texttemplate": "%{text}",
        "colorscale": [[0, "#f7fbff"], [1, "#2171b5"]], "zmin": 0, "zmax": 100,
        "showscale": False, "hovertemplate": "%{y} → %{x}: %{z:.1f}%<extra></extra>"}
    layout = _layout(title, 120 + 60 * len(table.row_codes))
    del layout["xaxis"]["range"]
    layout["xaxis"].update(ticksuffix="", side="top")
    layout["margin"]["t"] = 80
    return {"data": [heatmap], "layout": layout}


def describe_crosstab(table: CrossTab) -> str:
    if not table.total:
        return "Cross-tab: no responses published for these roles yet."
    parts = []
    for i, (r, n, row) in enumerate(zip(table.row_codes, table.row_bases, table.percents)):
        missing = "".join(f"; {table.columns.label_of(m).lower()}: {int(k)}"
                          for m, k in zip(table.missing_codes, table.missing[i]) if k)
        if not n:
            parts.append(f"{table.rows.label_of(r)} to question {table.rows.number}: none "
                         f"answered question {table.columns.number}{missing}.")
            continue
        cells = ", ".join(f"{table.columns.label_of(c)} {p:.1f}%" for c, p in zip(table.column_codes, row))
        parts.append(f"Of {n} who answered {table.rows.label_of(r)} to question "
                     f"{table.rows.number} and answered question {table.columns.number}: "
                     f"{cells}{missing}.")
    return " ".join(parts)


def breakdown_figure(result: Breakdown, min_cell_size: int) -> Figure:
    """Each answer's percentage for each role group, with 95% intervals."""
    question = result.question
    title = f"Q{question.number}. {question.short_title}, by role"
    if result.suppressed:
        return suppressed_figure(title, f"Not shown by role: a role group has fewer than "
                                        f"{min_cell_size} published answers")
    traces = []
    for index, code in enumerate(question.codes):
        shown = [(label, r.answer(code)) for label, r in zip(result.labels, result.results)
                 if not r.suppressed]
        percents = [a.percent for _, a in shown]
        traces.append({
            "type": "bar", "name": question.label_of(code), "orientation": "h",
            "y": [label for label, _ in shown], "x": percents,
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "error_x": _error_bars(percents, [a.ci95 for _, a in shown], "#333"),
            "hovertemplate": "%{y}: %{x:.1f}%<extra>" + question.label_of(code) + "</extra>"})
    layout = _layout(title, 140 + 40 * len(result.groups) * max(1, len(question.codes) // 2),
                     barmode="group", legend={"orientation": "h", "y": -0.1})
    layout["showlegend"] = True
    return {"data": traces, "layout": layout}


def timeline_figure(line: Timeline) -> Figure:
    """Responses so far, day by day, with the margin of error they give. Each day is marked,
    so that a single day shows, and the two lines differ in shape as well as colour."""
    days = [day.isoformat() for day in line.days]
    layout = _layout("Responses so far, and the margin of error they give", 320,
                     legend={"orientation": "h", "y": -0.2})
    layout["showlegend"] = True
    del layout["xaxis"]["range"]
    layout["xaxis"].update(ticksuffix="", type="date")
    layout["yaxis"].update(autorange=True, title={"text": "Responses"}, rangemode="tozero")
    layout["yaxis2"] = {"overlaying": "y", "side": "right", "rangemode": "tozero",
                        "title": {"text": "Margin of error (points)"}, "fixedrange": True}
    return {"data": [
        {"type": "scatter", "x": days, "y": np.asarray(line.cumulative).tolist(),
         "name": "Responses", "mode": "lines+markers", "line": {"color": UK, "width": 2},
         "marker": {"color": UK, "size": 6, "symbol": "circle"}},
        {"type": "scatter", "x": days, "y": np.round(line.margin, 1).tolist(),
         "name": "Margin of error, 95% (right axis)", "yaxis": "y2", "mode": "lines+markers",
         "line": {"color": US, "dash": "dot"},
         "marker": {"color": US, "size": 6, "symbol": "diamond"}},
    ], "layout": layout}


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def describe_chi_square(table: CrossTab) -> str:
    """The test of independence in words: which test, of which table, its n, what it leaves
    out, and its result."""
    test = table.test
    if test is None:
        return ("Test of independence: not enough answers in two rows and two columns to "
                "test.")
    rows_q, columns_q = table.rows, table.columns
    answers = (f"question {rows_q.number}: {', '.join(rows_q.label_of(c) for c in test.rows)}; "
               f"question {columns_q.number}: "
               f"{', '.join(columns_q.label_of(c) for c in test.columns)}")
    tested = (f"the {len(test.rows)} × {len(test.columns)} table of the {test.n:,} who "
              f"answered both questions ({answers})")
    if test.method == FISHER:
        text = f"Fisher's exact test of independence, of {tested}: {p_text(test.p_value)}."
    elif test.method == PEARSON:
        text = (f"Pearson's chi-square test of independence, of {tested}: "
                f"χ² = {test.statistic:.2f}, {test.dof} degrees of freedom, "
                f"{p_text(test.p_value)}; every expected count is at least {MIN_EXPECTED}.")
    else:
        text = (f"Exact test of independence by Monte Carlo ({MONTE_CARLO_TABLES:,} random "
                f"tables with the same totals, as some expected counts are below "
                f"{MIN_EXPECTED}), of {tested}: χ² = {test.statistic:.2f}, "
                f"{p_text(test.p_value)}.")
    left_out = table.total - test.n
    if left_out:
        text += (f" Left out: {left_out:,} who left either question blank or were not asked "
                 "it.")
    if len(test.rows) < len(rows_q.codes) or len(test.columns) < len(columns_q.codes):
        text += " Answers nobody in the table gave are left out of the test."
    return text


def describe_breakdown(result: Breakdown, min_cell_size: int) -> str:
    """The breakdown by role in words: each group's results as its own question chart's."""
    if result.suppressed:
        return (f"Question {result.question.number} by role: not shown by role, a group has "
                f"fewer than {min_cell_size} answers.")
    return " ".join(f"{label}: {describe_question(r, min_cell_size)}"
                    for label, r in zip(result.labels, result.results))


def describe_timeline(line: Timeline) -> str:
    if not len(line.margin):
        return "No responses yet."
    return (f"{int(line.cumulative[-1])} responses over {len(line.days)} days; margin of error "
            f"now {line.margin[-1]:.1f} points.")
