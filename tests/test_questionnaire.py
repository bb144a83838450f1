"""The questionnaire: wording as published, codes, and how answers are read and checked.

Expected values are written out by hand from the reference (shared/reference/SURVEY.md), not
derived from the module under test.
"""

from __future__ import annotations

import pytest

from survey import questionnaire as q
from survey.questionnaire import (NO_ANSWER, NOT_ASKED, QUESTIONS, InvalidResponse, match_answer,
                                  match_question, normalise, validate)

WORDING = [
    (1, "role", "What is your role?"),
    (2, "uses_social_media", "Do you use social media?"),
    (3, "viewed_profile",
     "Have you ever used social media to look at a service user's profile?"),
    (4, "viewed_for_evidence",
     "Have you ever used social media to look at a service user's profile, with a view of "
     "gathering evidence?"),
    (5, "aware_of_guidance",
     "Are you aware of the guidance from the Office of Surveillance Commissioners (now the "
     "Investigatory Powers Commissioner's Office) on the covert surveillance of social "
     "networking sites by public authorities?"),
    (6, "confident_guidance",
     "If you are aware, are you confident with your understanding of the guidance?"),
    (7, "confident_rules",
     "Are you confident you know the rules around using social media as part of a case?"),
    (8, "knows_who_to_ask",
     "Do you know who in your organisation to ask to explain the rules around using social "
     "media as part of a case?"),
]

ROLES = [
    ("social_worker", "Social worker"),
    ("newly_qualified_social_worker", "Newly qualified social worker (ASYE)"),
    ("senior_practitioner", "Senior or advanced practitioner"),
    ("team_manager", "Team manager"),
    ("service_manager", "Service manager or head of service"),
    ("director", "Director or assistant director"),
    ("principal_social_worker", "Principal social worker"),
    ("independent_reviewing_officer", "Independent reviewing officer or child protection chair"),
    ("family_support_worker", "Family support, early help worker or social work assistant"),
    ("student", "Social work student"),
    ("other", "Other"),
]

YES_NO = ("yes", "no")
YES_NO_NOT_SURE = ("yes", "no", "not_sure")

# A complete, consistent response as codes; tests change one thing at a time.
FULL = {"role": "social_worker", "uses_social_media": "yes", "viewed_profile": "yes",
        "viewed_for_evidence": "no", "aware_of_guidance": "yes", "confident_guidance": "not_sure",
        "confident_rules": "no", "knows_who_to_ask": "yes"}


def test_eight_questions_numbered_with_ids_and_wording_as_published():
    assert [(x.number, x.id, x.text) for x in QUESTIONS] == WORDING
    assert q.QUESTION_IDS == tuple(qid for _, qid, _ in WORDING)
    assert set(q.BY_ID) == set(q.QUESTION_IDS)


def test_answer_codes_per_question():
    assert [x.codes for x in QUESTIONS] == [
        tuple(code for code, _ in ROLES), YES_NO, YES_NO, YES_NO,
        YES_NO_NOT_SURE, YES_NO_NOT_SURE, YES_NO_NOT_SURE, YES_NO_NOT_SURE]
    assert q.ROLE_CODES == tuple(code for code, _ in ROLES)


def test_role_labels_as_people_see_them():
    assert [(a.code, a.label) for a in q.ROLES] == ROLES


def test_yes_no_labels():
    labels = {x.id: [a.label for a in x.answers] for x in QUESTIONS[1:]}
    assert labels == {
        "uses_social_media": ["Yes", "No"], "viewed_profile": ["Yes", "No"],
        "viewed_for_evidence": ["Yes", "No"],
        "aware_of_guidance": ["Yes", "No", "Not sure"],
        "confident_guidance": ["Yes", "No", "Not sure"],
        "confident_rules": ["Yes", "No", "Not sure"],
        "knows_who_to_ask": ["Yes", "No", "Not sure"]}


def test_stored_codes_add_missing_codes_and_not_asked_only_for_question_6():
    stored = {x.id: x.stored_codes for x in QUESTIONS}
    assert stored["uses_social_media"] == ("yes", "no", "no_answer")
    assert stored["aware_of_guidance"] == ("yes", "no", "not_sure", "no_answer")
    assert stored["confident_guidance"] == ("yes", "no", "not_sure", "no_answer", "not_asked")
    assert stored["role"][-1] == "no_answer" and "not_asked" not in stored["role"]
    assert [x.id for x in QUESTIONS if x.asked_when] == ["confident_guidance"]
    assert q.BY_ID["confident_guidance"].asked_when == ("aware_of_guidance", "yes")


def test_label_of_codes_and_missing_codes():
    question = q.BY_ID["confident_guidance"]
    assert question.label_of("not_sure") == "Not sure"
    assert question.label_of(NO_ANSWER) == "No answer"
    assert question.label_of(NOT_ASKED) == "Not asked"
    assert q.BY_ID["role"].label_of("director") == "Director or assistant director"


@pytest.mark.parametrize("written, expected", [
    ("  Not   Sure. ", "not sure"),
    ("Don\u2019t know", "don't know"),
    ("Yes\u00a0!", "yes"),
    ("\u201cOther\u201d", '"other"'),
    ("What is your role?", "what is your role"),
    ("\uff39\uff45\uff53", "yes"),  # full-width letters fold under NFKC
    ("", ""),
    (" ?! ", ""),
])
def test_normalise(written, expected):
    assert normalise(written) == expected


@pytest.mark.parametrize("header, expected", [
    ("role", "role"),
    ("What is your role?", "role"),
    ("3. Have you ever used social media to look at a service user\u2019s profile",
     "viewed_profile"),
    ("Q8) DO YOU KNOW WHO IN YOUR ORGANISATION TO ASK TO EXPLAIN THE RULES AROUND USING SOCIAL "
     "MEDIA AS PART OF A CASE?", "knows_who_to_ask"),
    ("Question 2: Do you use social media", "uses_social_media"),
    ("Do you use social media sometimes?", None),
    ("IP address", None),
])
def test_match_question(header, expected):
    assert match_question(header) == expected


@pytest.mark.parametrize("question_id, value, expected", [
    ("uses_social_media", "Yes", "yes"),
    ("uses_social_media", "y", "yes"),
    ("uses_social_media", " NO ", "no"),
    ("uses_social_media", "not sure", None),  # question 2 has no "not sure"
    ("aware_of_guidance", "Unsure", "not_sure"),
    ("aware_of_guidance", "Don't know", "not_sure"),
    ("aware_of_guidance", "Dont know", "not_sure"),
    ("aware_of_guidance", "not_sure", "not_sure"),
    ("role", "ASYE", "newly_qualified_social_worker"),
    ("role", "Senior or advanced practitioner", "senior_practitioner"),
    ("role", "team manager", "team_manager"),
    ("role", "Other (please specify)", "other"),
    ("role", "Astronaut", None),
    ("role", "", NO_ANSWER),
    ("role", "   ", NO_ANSWER),
])
def test_match_answer(question_id, value, expected):
    assert match_answer(question_id, value) == expected


def test_validate_accepts_codes_and_labels():
    assert validate(FULL) == FULL
    labels = {"role": "Social worker", "uses_social_media": "Yes", "viewed_profile": "yes",
              "viewed_for_evidence": "No", "aware_of_guidance": "YES",
              "confident_guidance": "Unsure", "confident_rules": "n", "knows_who_to_ask": "Y"}
    assert validate(labels) == FULL


def test_blank_or_missing_is_no_answer_not_no():
    values = {**FULL, "viewed_profile": "", "confident_rules": "   "}
    del values["knows_who_to_ask"]
    values["role"] = None
    assert validate(values) == {**FULL, "role": NO_ANSWER, "viewed_profile": NO_ANSWER,
                                "confident_rules": NO_ANSWER, "knows_who_to_ask": NO_ANSWER}


def test_question_6_left_blank_after_yes_is_no_answer():
    assert validate({**FULL, "confident_guidance": ""})["confident_guidance"] == NO_ANSWER


@pytest.mark.parametrize("aware", ["no", "not_sure", "", "Don't know"])
def test_question_6_not_asked_unless_question_5_is_yes(aware):
    codes = validate({**FULL, "aware_of_guidance": aware, "confident_guidance": ""})
    assert codes["confident_guidance"] == NOT_ASKED
    assert codes["aware_of_guidance"] == (match_answer("aware_of_guidance", aware))


@pytest.mark.parametrize("aware, shown", [("no", "no"), ("Not sure", "not_sure"),
                                          ("", "no_answer")])
def test_question_6_answered_without_yes_to_question_5_is_refused(aware, shown):
    with pytest.raises(InvalidResponse) as raised:
        validate({**FULL, "aware_of_guidance": aware, "confident_guidance": "Yes"})
    message = str(raised.value)
    assert "question 6 (confident_guidance)" in message
    assert "question 5 (aware_of_guidance)" in message
    assert message.endswith(f"and it is {shown}")
    assert isinstance(raised.value, ValueError)


def test_unknown_answer_names_the_question_and_lists_the_options():
    with pytest.raises(InvalidResponse) as raised:
        validate({**FULL, "uses_social_media": "Sometimes"})
    assert str(raised.value) == "question 2 (uses_social_media): 'Sometimes' is not one of: Yes, No"

    with pytest.raises(InvalidResponse) as raised:
        validate({**FULL, "role": "Astronaut"})
    message = str(raised.value)
    assert message.startswith("question 1 (role): 'Astronaut' is not one of: Social worker, ")
    for _, label in ROLES:
        assert label in message


def test_unknown_answer_is_quoted_at_most_80_characters():
    with pytest.raises(InvalidResponse) as raised:
        validate({**FULL, "knows_who_to_ask": "x" * 500})
    assert f"'{'x' * 80}'" in str(raised.value) and "x" * 81 not in str(raised.value)


@pytest.mark.parametrize("values", [
    {},
    {qid: "" for qid in q.QUESTION_IDS},
    {"role": "  ", "aware_of_guidance": ""},
])
def test_nothing_answered_is_refused(values):
    with pytest.raises(InvalidResponse, match="no question is answered"):
        validate(values)


def test_one_answer_is_enough():
    codes = validate({"confident_rules": "Not sure"})
    assert codes == {"role": NO_ANSWER, "uses_social_media": NO_ANSWER,
                     "viewed_profile": NO_ANSWER, "viewed_for_evidence": NO_ANSWER,
                     "aware_of_guidance": NO_ANSWER, "confident_guidance": NOT_ASKED,
                     "confident_rules": "not_sure", "knows_who_to_ask": NO_ANSWER}
