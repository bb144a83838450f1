"""The eight questions of the UK survey, their answer codes and how people write them.

Everything else in the project (the store's constraints, the importers, the analysis and the
pages) reads the questionnaire from here; the wording is exactly that of the survey as published
by Community Care in September 2018.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

NO_ANSWER = "no_answer"
"""A question left blank by someone who was asked it. Not the same as "no"."""

NOT_ASKED = "not_asked"
"""Question 6 for someone who did not answer "yes" to question 5."""

MISSING_CODES = (NO_ANSWER, NOT_ASKED)


@dataclass(frozen=True)
class Answer:
    code: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    number: int
    id: str
    text: str
    answers: tuple[Answer, ...]
    short_title: str
    asked_when: tuple[str, str] | None = None
    """``(question id, answer code)`` that must hold for the question to be asked."""

    codes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(a.code for a in self.answers))

    @property
    def stored_codes(self) -> tuple[str, ...]:
        """Every value the store accepts for this question, in questionnaire order."""
        extra = (NO_ANSWER, NOT_ASKED) if self.asked_when else (NO_ANSWER,)
        return self.codes + extra

    def label_of(self, code: str) -> str:
        for answer in self.answers:
            if answer.code == code:
                return answer.label
        return MISSING_LABELS[code]


MISSING_LABELS = {NO_ANSWER: "No answer", NOT_ASKED: "Not asked"}

_YES = Answer("yes", "Yes", ("y",))
_NO = Answer("no", "No", ("n",))
_NOT_SURE = Answer(
    "not_sure", "Not sure", ("unsure", "don't know", "dont know", "do not know", "not sure / unsure")
)
YES_NO = (_YES, _NO)
YES_NO_NOT_SURE = (_YES, _NO, _NOT_SURE)

ROLES = (
    Answer("social_worker", "Social worker"),
    Answer("newly_qualified_social_worker", "Newly qualified social worker (ASYE)",
           ("newly qualified social worker", "asye", "nqsw")),
    Answer("senior_practitioner", "Senior or advanced practitioner",
           ("senior practitioner", "advanced practitioner")),
    Answer("team_manager", "Team manager"),
    Answer("service_manager", "Service manager or head of service",
           ("service manager", "head of service")),
    Answer("director", "Director or assistant director", ("director", "assistant director")),
    Answer("principal_social_worker", "Principal social worker"),
    Answer("independent_reviewing_officer",
           "Independent reviewing officer or child protection chair",
           ("independent reviewing officer", "child protection chair", "iro")),
    Answer("family_support_worker",
           "Family support, early help worker or social work assistant",
           ("family support worker", "early help worker", "social work assistant")),
    Answer("student", "Social work student"),
    Answer("other", "Other", ("other (please specify)", "other, please specify")),
)

QUESTIONS: tuple[Question, ...] = (
    Question(1, "role", "What is your role?", ROLES, "Role"),
    Question(2, "uses_social_media", "Do you use social media?", YES_NO, "Uses social media"),
    Question(3, "viewed_profile",
             "Have you ever used social media to look at a service user's profile?",
             YES_NO, "Looked at a service user's profile"),
    Question(4, "viewed_for_evidence",
             "Have you ever used social media to look at a service user's profile, "
             "with a view of gathering evidence?",
             YES_NO, "Looked at a profile to gather evidence"),
    Question(5, "aware_of_guidance",
             "Are you aware of the guidance from the Office of Surveillance Commissioners "
             "(now the Investigatory Powers Commissioner's Office) on the covert surveillance "
             "of social networking sites by public authorities?",
             YES_NO_NOT_SURE, "Aware of the surveillance guidance"),
    Question(6, "confident_guidance",
             "If you are aware, are you confident with your understanding of the guidance?",
             YES_NO_NOT_SURE, "Confident with the guidance", asked_when=("aware_of_guidance", "yes")),
    Question(7, "confident_rules",
             "Are you confident you know the rules around using social media as part of a case?",
             YES_NO_NOT_SURE, "Confident about the rules"),
    Question(8, "knows_who_to_ask",
             "Do you know who in your organisation to ask to explain the rules around using "
             "social media as part of a case?",
             YES_NO_NOT_SURE, "Knows whom to ask"),
)

QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS)
BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}
ROLE_CODES: tuple[str, ...] = tuple(a.code for a in ROLES)

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u2032": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
                         "\u00a0": " "})
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s.?!:;,*]+$")
_NUMBERING = re.compile(r"^(?:q(?:uestion)?\s*)?\d{1,2}\s*[.):-]\s*")


def normalise(text: str) -> str:
    """Fold the differences people and platforms make in writing the same words.

    Case, runs of whitespace, curly against straight quotes, non-breaking spaces and trailing
    punctuation do not change what a header or an answer means.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _SPACES.sub(" ", text).strip().lower()
    return _TRAILING.sub("", text)


def _header_key(text: str) -> str:
    return _NUMBERING.sub("", normalise(text), count=1)


_HEADERS: dict[str, str] = {}
for _q in QUESTIONS:
    _HEADERS[_header_key(_q.text)] = _q.id
    _HEADERS[_q.id] = _q.id


def match_question(header: str) -> str | None:
    """The question id a column header stands for, or None.

    Accepts the question's id (``viewed_profile``) or its wording, written with any of the
    differences :func:`normalise` folds and an optional leading number (``3. Have you ...``).
    """
    return _HEADERS.get(_header_key(header))


def _answer_table(question: Question) -> dict[str, str]:
    table: dict[str, str] = {}
    for answer in question.answers:
        for spelling in (answer.code, answer.label, *answer.aliases):
            table[normalise(spelling)] = answer.code
            table[normalise(spelling.replace("_", " "))] = answer.code
    return table


_ANSWERS: dict[str, dict[str, str]] = {q.id: _answer_table(q) for q in QUESTIONS}


def match_answer(question_id: str, value: str) -> str | None:
    """The answer code that ``value`` stands for in question ``question_id``.

    Returns :data:`NO_ANSWER` for a blank value and None for a value that is not one of the
    question's answers.
    """
    key = normalise(value)
    if not key:
        return NO_ANSWER
    return _ANSWERS[question_id].get(key)


class InvalidResponse(ValueError):
    """A response whose answers contradict the questionnaire; the message says how."""


def _describe(question: Question) -> str:
    return f"question {question.number} ({question.id})"


def validate(values: dict[str, str]) -> dict[str, str]:
    """Answer codes for one response, from the values given per question id.

    Values may be codes or labels as people write them; a missing or blank value is "no
    answer". Question 6 is "not asked" unless question 5 is "yes", and an answer to it then is
    a contradiction. A response that answers no question at all is refused too: it carries no
    information and would only inflate the count.
    """
    codes: dict[str, str] = {}
    for question in QUESTIONS:
        value = values.get(question.id) or ""
        code = match_answer(question.id, value)
        if code is None:
            options = ", ".join(a.label for a in question.answers)
            raise InvalidResponse(
                f"{_describe(question)}: {value.strip()[:80]!r} is not one of: {options}")
        codes[question.id] = code
    if codes["aware_of_guidance"] != "yes":
        if codes["confident_guidance"] != NO_ANSWER:
            raise InvalidResponse(
                f"{_describe(BY_ID['confident_guidance'])} is answered "
                f"({codes['confident_guidance']}) but is asked only when "
                f"{_describe(BY_ID['aware_of_guidance'])} is yes, and it is "
                f"{codes['aware_of_guidance']}")
        codes["confident_guidance"] = NOT_ASKED
    if all(code in MISSING_CODES for code in codes.values()):
        raise InvalidResponse("no question is answered")
    return codes
