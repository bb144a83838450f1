"""Headers and answers as survey platforms and people really write them are recognised, and
nothing else is.

Exports differ from the questionnaire's wording in small ways: a leading question number, curly
apostrophes from a word processor, a missing or doubled question mark, extra spaces, another
case. None of these may cost a column or a response; a genuinely different label must still
be refused.
"""

from __future__ import annotations

import pytest

from data_loaders.importers import detect
from survey.questionnaire import QUESTIONS, match_answer, match_question
from tests.test_importers_support import import_path, quarantined, responses

Q3 = "Have you ever used social media to look at a service user's profile?"


@pytest.mark.parametrize("header", [
    Q3,
    Q3.upper(),
    Q3.replace("'", "\u2019"),
    Q3.replace("'", "\u2018"),
    Q3[:-1],
    Q3 + "?",
    Q3[:-1] + " ?",
    Q3 + ".",
    "  " + Q3.replace(" ", "   ") + "  ",
    Q3.replace(" ", "\u00a0"),
    Q3.replace("social media", "social\nmedia"),
    "3. " + Q3,
    "3) " + Q3,
    "Q3. " + Q3,
    "Question 3: " + Q3,
    "3 - " + Q3,
    "viewed_profile",
    "Viewed_Profile",
])
def test_question_headers_are_matched_tolerantly(header):
    assert match_question(header) == "viewed_profile"


@pytest.mark.parametrize("header", [
    "Have you ever used social media to look at a service user's photos?",
    "Have you ever used social media",
    "profile",
    "Respondent ID",
    "",
])
def test_other_headers_match_no_question(header):
    assert match_question(header) is None


def test_every_question_is_matched_by_its_wording_and_its_id():
    for question in QUESTIONS:
        assert match_question(question.text) == question.id
        assert match_question(f"{question.number}. {question.text.upper()}") == question.id
        assert match_question(question.id) == question.id


@pytest.mark.parametrize("label, code", [
    ("Not sure", "not_sure"), ("not sure", "not_sure"), ("NOT SURE.", "not_sure"),
    ("Unsure", "not_sure"), ("Don't know", "not_sure"), ("Don\u2019t know", "not_sure"),
    ("Dont know", "not_sure"), ("don't  know", "not_sure"), ("not_sure", "not_sure"),
    ("Yes", "yes"), (" yes ", "yes"), ("Y", "yes"), ("No", "no"), ("no.", "no"),
    ("", "no_answer"), ("   ", "no_answer"),
])
def test_yes_no_not_sure_labels(label, code):
    assert match_answer("aware_of_guidance", label) == code


@pytest.mark.parametrize("label", ["Maybe", "Yes please", "Sometimes", "n/a", "Nope"])
def test_unknown_answers_are_not_guessed(label):
    assert match_answer("aware_of_guidance", label) is None


def test_not_sure_is_not_an_answer_to_a_yes_no_question():
    assert match_answer("uses_social_media", "Not sure") is None


@pytest.mark.parametrize("label, code", [
    ("Social worker", "social_worker"),
    ("social worker", "social_worker"),
    ("Newly qualified social worker (ASYE)", "newly_qualified_social_worker"),
    ("ASYE", "newly_qualified_social_worker"),
    ("Senior or advanced practitioner", "senior_practitioner"),
    ("Service manager or head of service", "service_manager"),
    ("Head of service", "service_manager"),
    ("Independent reviewing officer or child protection chair",
     "independent_reviewing_officer"),
    ("Family support, early help worker or social work assistant", "family_support_worker"),
    ("Social work student", "student"),
    ("Other (please specify)", "other"),
    ("team_manager", "team_manager"),
])
def test_role_labels(label, code):
    assert match_answer("role", label) == code


def test_an_export_written_with_every_variation_imports_completely(sqlite_engine, tmp_path):
    headers = ["TIMESTAMP"]
    for question in QUESTIONS:
        text = question.text.replace("'", "\u2019").upper()
        headers.append(f'"{question.number}) {text.rstrip("?")} "')
    rows = [
        "2018-09-12T10:00:00Z,social worker,YES,y,no.,Yes,Unsure,Don\u2019t know,dont know",
        "2018-09-12T11:00:00Z,Head of service,No,No,No,Not sure.,,not sure,Y",
        "2018-09-12T12:00:00Z,Social worker,Yes,No,No,Perhaps,,No,No",
    ]
    path = tmp_path / "forms.csv"
    path.write_text("\n".join([",".join(headers), *rows]) + "\n", encoding="utf-8")
    assert detect(path).format == "google_forms"
    summary = import_path(sqlite_engine, path)
    assert (summary.accepted, summary.quarantined) == (2, 1)
    stored = sorted(responses(sqlite_engine).values(), key=lambda r: r["id"])
    assert [tuple(r[q.id] for q in QUESTIONS) for r in stored] == [
        ("social_worker", "yes", "yes", "no", "yes", "not_sure", "not_sure", "not_sure"),
        ("service_manager", "no", "no", "no", "not_sure", "not_asked", "not_sure", "yes"),
    ]
    [kept] = quarantined(sqlite_engine)
    assert kept["line_number"] == 4 and "'Perhaps' is not one of" in kept["reason"]
