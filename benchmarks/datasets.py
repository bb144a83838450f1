"""Synthetic data sets for measuring the disclosure rule: the demo data and a realistic one.

The realistic set is shaped as a national professional survey's responses tend to be: a few
large roles and several small ones (a handful of directors and principal social workers), more
item non-response than the demo data (3 to 6% per question), 9 respondents who left question 1
blank and 46 who left question 2 blank. It depends only on numpy and the questionnaire, so the
same rows can be generated against any version of the project.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from survey.questionnaire import NO_ANSWER, NOT_ASKED, QUESTION_IDS

REALISTIC_ROLE_MIX = {
    "social_worker": 0.42, "newly_qualified_social_worker": 0.07, "senior_practitioner": 0.12,
    "team_manager": 0.09, "service_manager": 0.025, "director": 0.004,
    "principal_social_worker": 0.006, "independent_reviewing_officer": 0.03,
    "family_support_worker": 0.085, "student": 0.12, "other": 0.02,
}
REALISTIC_NON_RESPONSE = {"viewed_profile": 0.03, "viewed_for_evidence": 0.04,
                          "aware_of_guidance": 0.04, "confident_guidance": 0.05,
                          "confident_rules": 0.05, "knows_who_to_ask": 0.06}
FIELDWORK_START = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)


def realistic(n: int = 2_950, *, seed: int = 7, role_blank: int = 9,
              social_media_blank: int = 46) -> list[dict[str, object]]:
    """``n`` responses, the same for the same seed, submitted over six weeks from launch (most
    in the first days), ordered by submission time."""
    rng = np.random.default_rng(seed)
    roles = rng.choice(list(REALISTIC_ROLE_MIX), size=n,
                       p=np.array(list(REALISTIC_ROLE_MIX.values()))
                       / sum(REALISTIC_ROLE_MIX.values())).astype(object)
    roles[rng.choice(n, role_blank, replace=False)] = NO_ANSWER
    manager = np.isin(roles, ["team_manager", "service_manager", "director",
                              "principal_social_worker"])
    uses = np.where(rng.random(n) < 0.84, "yes", "no").astype(object)
    uses[rng.choice(n, social_media_blank, replace=False)] = NO_ANSWER

    def pick(p_yes, p_not_sure=None):
        draw = rng.random(n)
        out = np.where(draw < p_yes, "yes", "no").astype(object)
        if p_not_sure is not None:
            out[(draw >= p_yes) & (draw < p_yes + p_not_sure)] = "not_sure"
        return out

    viewed = pick(np.where(uses == "yes", 0.6, 0.25))
    evidence = np.where(viewed == "yes", pick(np.full(n, 0.4)), "no").astype(object)
    aware = pick(np.where(manager, 0.5, 0.25), np.full(n, 0.2))
    answers = {
        "role": roles, "uses_social_media": uses, "viewed_profile": viewed,
        "viewed_for_evidence": evidence, "aware_of_guidance": aware,
        "confident_guidance": pick(np.full(n, 0.5), np.full(n, 0.2)),
        "confident_rules": pick(np.where(aware == "yes", 0.55, 0.3), np.full(n, 0.25)),
        "knows_who_to_ask": pick(np.where(aware == "yes", 0.65, 0.4), np.full(n, 0.2)),
    }
    for qid, rate in REALISTIC_NON_RESPONSE.items():
        answers[qid][rng.random(n) < rate] = NO_ANSWER
    q6 = answers["confident_guidance"]
    q6[answers["aware_of_guidance"] != "yes"] = NOT_ASKED
    span = timedelta(weeks=6).total_seconds()
    offsets = np.sort(rng.exponential(span / 4, size=n) % span)
    return [{"source_respondent_id": f"realistic-{seed}-{i}",
             "submitted_at": FIELDWORK_START + timedelta(seconds=float(offsets[i])),
             **{qid: str(answers[qid][i]) for qid in QUESTION_IDS}} for i in range(n)]
