"""Methodology: the questions, the answers, the bases, the benchmark and the rules of disclosure."""

from __future__ import annotations

import dash
from dash import Input, Output, callback

from analysis import statements
from analysis.benchmark import load_study
from analysis.timeline import needed_for
from analysis.views import POOLED_LABEL
from dashboard import ids
from dashboard.context import services
from dashboard.markup import Markup, dcc, html
from survey.questionnaire import BY_ID, QUESTIONS
from survey.settings import Settings

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


def disclosure_rule(settings: Settings) -> list[Markup]:
    """The minimum cell rule and the release rule, as :mod:`analysis.releases` applies them."""
    minimum = settings.min_cell_size
    interval = settings.release_interval_seconds
    pooled = [BY_ID["role"].label_of(code) for code in settings.pooled_role_codes]
    return [
        html.H2("Anonymity: the minimum cell rule and releases"),
        html.P(f"The survey is anonymous, and an answer here can expose a person to disciplinary "
               f"action. No public figure, and no sum or difference of public figures, whatever "
               f"filters, pages, embeds, downloads or moments it is taken from, shows the answers "
               f"of a group of fewer than {minimum} people. A count within a group may be small "
               f"(“3 of the 45 said no”); the group it counts within never is. The rule is "
               f"applied in the figures' making, not checked afterwards:"),
        html.Ol([
            html.Li(["Every public output is computed from a ", html.Strong("release"),
                     ": the responses published so far, published as a whole. A response that "
                     "arrives waits until a release publishes it; what the public sees never "
                     "moves one response at a time, and never shows when a response arrived, "
                     "only when a release was made."]),
            html.Li(["The groups a figure can single out are the ", html.Strong("atoms"),
                     " — one role group with one answer to question 2, yes or no (everyone who "
                     "left question 2 blank is one atom more, whatever their role) — and, within "
                     "each atom, for each of questions 3 to 8, those who answered it, those who "
                     "left it blank and (question 6) those not asked it, and for each pair of "
                     "those questions, those in each combination of the two (answered both, "
                     "answered one and left the other blank, and so on)."]),
            html.Li([f"A release adds to each of these groups either nobody or at least "
                     f"{minimum} people. Releases start from nothing, so in every release each "
                     f"group holds 0 or at least {minimum}, and so does what any two releases "
                     f"differ by. Every figure is a count of answers within a union of these "
                     f"groups: a filter is a union of atoms, a question's base a union of "
                     f"“answered” groups, its “no answer” a union of “blank” groups, and a "
                     f"cross-tab's figures are of those in one combination of the two questions' "
                     f"states (its percentages of those who answered both). No "
                     f"subtraction of figures can therefore isolate between 1 and {minimum - 1} "
                     f"people."]),
            html.Li([f"A release takes every waiting response it can: responses alike for the "
                     f"rule (the same role, answer to question 2, and the same questions answered, "
                     f"left blank or not asked) go together, and only those in a group that would "
                     f"gain between 1 and {minimum - 1} people wait. They are published as soon as "
                     f"enough others alike have arrived; those who are few of their kind (a small "
                     f"role, a rare blank) may wait a long time. "
                     + (f"Releases are made at most every {interval:g} seconds."
                        if interval else "Releases are made by the researchers' publish "
                                         "command.")]),
            html.Li([f"Roles too small to be shown on their own are published together as "
                     f"“{POOLED_LABEL}”, with those who did not give their role. A role joins "
                     f"that group once {settings.pool_after:,} responses are published and none "
                     f"of its own could be yet"
                     + (f", or because the survey's settings say so ({', '.join(pooled)})"
                        if pooled else "")
                     + ". A role never leaves the group: its figures would then show what it "
                       "added while it was pooled. Pooling therefore cannot come and go as "
                       "responses arrive."]),
            html.Li("Because every group holds 0 or at least the minimum, every question is "
                    "shown for every filter that has published responses: nothing needs "
                    "withholding. A cross-tab shows every row, “no answer” included, and beside "
                    "it how many left the column question blank, so that its rows and columns add "
                    "up to the other pages' figures and leave no remainder."),
            html.Li("Nothing public counts rows: the data version in links, ETags and health "
                    "answers names a release and says nothing of how many responses there are; "
                    "readiness probes are for the load balancer only. Frozen embeds keep a "
                    "release's figures, the same chart, filter and release giving the same embed."),
        ]),
        html.P(f"The price is freshness: figures move in steps of at least {minimum} people in "
               f"each group they change, and the pages say when they last moved. The "
               f"researchers' private view shows how many responses wait."),
    ]


@callback(Output(CONTENT, "children"), Input(ids.URL, "pathname"))
def render(_pathname):
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
            html.Li("Intervals are 95% Wilson score intervals. " + statements.INTERVALS + " "
                    "AAPOR's guidance is that a margin of sampling error quoted for an opt-in "
                    "sample misleads; the intervals are kept as a guide to the play of chance, "
                    "and labelled for what they are."),
            html.Li(statements.ROUNDING + " A difference is worked out exactly from the counts "
                    "and rounded once."),
            html.Li(statements.LOW_BASE_NOTE),
            html.Li("Differences between the UK and the US have 95% intervals by Newcombe's "
                    "hybrid score method. " + statements.MULTIPLE_TESTING),
            html.Li(statements.APPROXIMATE + " " + " ".join(
                f.range_note for f in study.figures if f.range_note)),
            html.Li(statements.US_WORDING),
            html.Li("A cross-tab's test of independence is of those who answered both "
                    "questions: Fisher's exact test for a 2 × 2 table; for a larger one, "
                    "Pearson's chi-square test when every expected count is at least 5, and "
                    "otherwise an exact test by Monte Carlo (9,999 random tables with the same "
                    "totals). The text beside it says which test, of which table, its n and "
                    "who it leaves out."),
            html.Li("With no filter, every published response is counted, those who left "
                    "question 2 blank among them, and question 2's “no answer” is theirs. Any "
                    "filter, by role or by question 2, counts only those who answered question 2 "
                    "(their group cannot be split by role or by their answer), and bases say "
                    "so: “who answered this question and question 2”. Question 1 is shown by "
                    "role group, of those who answered question 2; those who left it blank are "
                    "counted in “Other roles, pooled”."),
            html.Li(statements.DAYS),
            html.Li(f"Margins of error on the Live page are for a result near 50%; ±5 points "
                    f"needs {needed_for():,} responses."),
        ]),
        *disclosure_rule(services().settings),
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
