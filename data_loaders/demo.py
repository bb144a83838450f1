"""Synthetic responses for trying the dashboard, tagged as demo data wherever they go.

The answers correlate as they plausibly would: people who use social media look at profiles
more often; looking for evidence implies having looked at a profile; those aware of the guidance
are more often confident about the rules and know whom to ask. About one answer in fifty is
left blank. Arrivals are front-loaded, as a survey's are after launch, over several weeks.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from survey.questionnaire import NO_ANSWER, NOT_ASKED, QUESTION_IDS

DEMO_SOURCE = "demo"

ROLE_MIX = {
    "social_worker": 0.38, "newly_qualified_social_worker": 0.08, "senior_practitioner": 0.14,
    "team_manager": 0.11, "service_manager": 0.05, "director": 0.015,
    "principal_social_worker": 0.02, "independent_reviewing_officer": 0.05,
    "family_support_worker": 0.08, "student": 0.05, "other": 0.025,
}
MANAGERS = {"team_manager", "service_manager", "director", "principal_social_worker"}
ITEM_NON_RESPONSE = 0.02


def _pick(rng: np.random.Generator, p_yes, p_not_sure=None) -> np.ndarray:
    draw = rng.random(np.shape(p_yes))
    answers = np.where(draw < p_yes, "yes", "no").astype(object)
    if p_not_sure is not None:
        answers[(draw >= p_yes) & (draw < p_yes + p_not_sure)] = "not_sure"
    return answers


def generate(n: int, *, seed: int = 0, end: datetime | None = None, weeks: float = 6.0,
             prefix: str = "demo") -> list[dict[str, object]]:
    """``n`` synthetic responses, the same for the same seed, submitted before ``end``."""
    rng = np.random.default_rng(seed)
    end = end or datetime.now(timezone.utc)
    roles = rng.choice(list(ROLE_MIX), size=n, p=np.array(list(ROLE_MIX.values())) / sum(ROLE_MIX.values()))
    manager = np.isin(roles, list(MANAGERS))
    uses = _pick(rng, np.full(n, 0.86))
    viewed = _pick(rng, np.where(uses == "yes", 0.62, 0.22))
    evidence = np.where(viewed == "yes", _pick(rng, np.full(n, 0.42)), "no").astype(object)
    aware = _pick(rng, np.where(manager, 0.45, 0.27), np.full(n, 0.18))
    confident_guidance = np.where(aware == "yes", _pick(rng, np.full(n, 0.55), np.full(n, 0.2)),
                                  NOT_ASKED).astype(object)
    confident_rules = _pick(rng, np.where(aware == "yes", 0.58, 0.3), np.full(n, 0.22))
    knows = _pick(rng, np.where(aware == "yes", 0.7, 0.42), np.full(n, 0.2))
    answers = {"role": roles.astype(object), "uses_social_media": uses, "viewed_profile": viewed,
               "viewed_for_evidence": evidence, "aware_of_guidance": aware,
               "confident_guidance": confident_guidance, "confident_rules": confident_rules,
               "knows_who_to_ask": knows}
    for qid in QUESTION_IDS:
        blank = rng.random(n) < ITEM_NON_RESPONSE
        column = answers[qid]
        column[blank & (column != NOT_ASKED)] = NO_ANSWER
    # Question 6 follows question 5 as the survey routes it.
    answers["confident_guidance"][answers["aware_of_guidance"] != "yes"] = NOT_ASKED
    never_asked_yet = (answers["aware_of_guidance"] == "yes") & (answers["confident_guidance"] == NOT_ASKED)
    answers["confident_guidance"][never_asked_yet] = NO_ANSWER

    span = timedelta(weeks=weeks).total_seconds()
    # Most responses come soon after launch, then fewer each day.
    ages = np.sort(span - rng.exponential(span / 3, size=n) % span)[::-1]
    submitted = [end - timedelta(seconds=float(age)) for age in ages]
    tag = rng.integers(0, 2**32)
    return [
        {"source_respondent_id": f"{prefix}-{seed}-{tag:08x}-{i}", "submitted_at": submitted[i],
         **{qid: str(answers[qid][i]) for qid in QUESTION_IDS}}
        for i in range(n)
    ]
