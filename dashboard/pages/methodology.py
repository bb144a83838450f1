"""Methodology: the questions, the answers, the bases, the benchmark and the rules of disclosure."""

from __future__ import annotations

import dash
from dash import Input, Output, callback

from analysis.benchmark import load_study
from analysis.timeline import needed_for
from analysis.views import POOLED_LABEL
from dashboard import ids
from dashboard.context import services
from dashboard.markup import Markup, dcc, html
from survey.questionnaire import QUESTIONS

dash.register_page(__name__, path="/methodology", name="Methodology", order=4,
                   title="Methodology: survey of UK social care professionals")

CONTENT = "methodology-content"


def layout(**_query):
    return html.Div(id=CONTENT, className="page prose")


def questions_table() -> Markup:
    rows = []
    for q in QUESTIONS:
        answers = ", ".join(a.label for a in q.answers)
        base = ("those who answered yes to question 5 and answered it" if q.asked_when
                else "those who answered it")
        rows.append(html.Tr([html.Td(str(q.number)), html.Td(q.text), html.Td(answers),
                             html.Td(base)]))
    return html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                           ("#", "Question (exact wording)", "Answers", "Base")])),
                       html.Tbody(rows)], className="numbers")


@callback(Output(CONTENT, "children"), Input(ids.URL, "pathname"))
def render(_pathname):
    minimum = services().settings.min_cell_size
    study = load_study()
    return [
        html.H2("The survey"),
        html.P("Community Care's online survey of child welfare and social care professionals in "
               "the UK, launched on 12 September 2018, asked eight questions about using social "
               "media to look at the families they work with. Results were reported on 28 "
               "November 2018, including that a quarter of social workers said they had used a "
               "profile for evidence. The sample is self-selected: those who chose to answer, "
               "not a random sample of the profession."),
        questions_table(),
        html.H2("Answers, bases and intervals"),
        html.Ul([
            html.Li("Percentages are of those who answered the question (its base). A question "
                    "left blank is “no answer”, which is not “no”, and is never in the base."),
            html.Li("Question 6 is asked only of those who answered yes to question 5; for "
                    "everyone else it is “not asked”, also never in the base."),
            html.Li("Intervals are 95% Wilson score intervals. Differences between the UK and "
                    "the US have 95% intervals by Newcombe's hybrid score method; a difference "
                    "is called one only when its interval excludes zero."),
            html.Li("Respondents who did not answer question 2 are counted in the response total "
                    "but left out of the charts, so that the social-media filter cannot single "
                    "them out."),
            html.Li(f"Margins of error on the Live page are for a result near 50%; ±5 points "
                    f"needs {needed_for():,} responses."),
        ]),
        html.H2("The minimum cell rule"),
        html.P(f"No public view shows the answers of fewer than {minimum} people. A view with fewer "
               f"than {minimum} responses shows “fewer than {minimum} responses” instead of "
               f"percentages. Roles with fewer than {minimum} responses (with or without social "
               f"media) are shown together as “{POOLED_LABEL}”, with those who did not give their "
               "role, so that no group can be singled out by subtracting one view from another. "
               "For the same reason a question, or a row of a cross-tab, is not shown in a view "
               f"where some role group within it has between 1 and {minimum - 1} answers."),
        html.H2("The US benchmark"),
        html.P([study.citation, " ", html.A(f"doi:{study.doi}", href=f"https://doi.org/{study.doi}"),
                ". Companion paper on the same respondents: ", study.companion_citation, " ",
                html.A(f"doi:{study.companion_doi}", href=f"https://doi.org/{study.companion_doi}"),
                "."]),
        html.P([study.sample, " ", study.n_note, " ", study.question_form]),
        html.Ul([html.Li(f"{f.scenario.capitalize()}: {f.measure}, {f.display}"
                         + (" (approximate in the source)" if f.approximate else ""))
                 for f in study.figures]),
        html.P("UK question 3 (ever looked at a service user's profile) sits beside the four US "
               "“had done it” figures, each a lower bound for having ever looked. UK question 4 "
               "(with a view of gathering evidence) sits beside the US risk-factors and "
               "investigation figures. The US “acceptable” figures have no UK counterpart and "
               "are shown as context only. None of the wordings is identical."),
        html.P(study.caveat, className="note"),
        html.H2("Context"),
        html.Ul([
            html.Li("The Office of Surveillance Commissioners' Procedures and Guidance (July 2016) "
                    "says that digital investigation being routine or easy does not remove the "
                    "need for authorisation: repeated viewing of a profile may amount to directed "
                    "surveillance needing authorisation under RIPA 2000. The OSC is now the "
                    "Investigatory Powers Commissioner's Office (IPCO)."),
            html.Li("The HCPC published social media guidance for registrants in September 2017."),
            html.Li("A freedom-of-information request reported with the UK results found that 6 "
                    "of the 134 English councils that replied (of 152) had guidance on "
                    "surveillance of service users' social media."),
        ]),
        html.P(["The numbers behind every chart are available from the ",
                dcc.Link("summary API", href="/api/v1/summary", refresh=True), "."]),
    ]
