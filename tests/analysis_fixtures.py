"""Small frames of hand-written responses for the analysis tests, and plain-Python recounts.

A response is written as one line of eight short tokens, question 1 to question 8::

    "sw y y n y ? n -"

Role (question 1): one of :data:`ROLE` (``-`` for no answer). Questions 2 to 8: ``y`` yes,
``n`` no, ``?`` not sure, ``-`` left blank (no answer), ``.`` not asked (question 6 only, and
required there exactly when question 5 is not yes, as the store holds it).

Frames are built through :func:`data_loaders.loader.to_frame`, exactly as the loaders give them.
The recount helpers here work on the parsed dicts and never touch the analysis code, so tests can
compare the analysis against an independent count. :func:`first_release` says which of some
responses a first release publishes (public views are computed from releases), by
:func:`analysis.releases.select_batch`, itself tested by hand in tests/test_release_rule.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

import pandas as pd

from analysis.releases import ClassKey, pattern_of, select_batch
from data_loaders.loader import COLUMNS, to_frame
from survey.questionnaire import QUESTION_IDS

ROLE = {
    "sw": "social_worker",
    "nq": "newly_qualified_social_worker",
    "sp": "senior_practitioner",
    "tm": "team_manager",
    "svm": "service_manager",
    "dir": "director",
    "psw": "principal_social_worker",
    "iro": "independent_reviewing_officer",
    "fsw": "family_support_worker",
    "st": "student",
    "oth": "other",
    "-": "no_answer",
}
ANSWER = {"y": "yes", "n": "no", "?": "not_sure", "-": "no_answer", ".": "not_asked"}

START = datetime(2018, 9, 12, 9, 0, tzinfo=timezone.utc)
"""Launch day, 09:00 UTC: hour 426873 since the Unix epoch (1536710400 s / 3600 = 426864, + 9)."""


def answers(spec: str) -> dict[str, str]:
    """The answer codes per question id of one response written as eight tokens."""
    tokens = spec.split()
    if len(tokens) != 8:
        raise ValueError(f"eight tokens expected, not {len(tokens)}: {spec!r}")
    codes = {"role": ROLE[tokens[0]]}
    codes.update((qid, ANSWER[t]) for qid, t in zip(QUESTION_IDS[1:], tokens[1:]))
    if (codes["confident_guidance"] == "not_asked") != (codes["aware_of_guidance"] != "yes"):
        raise ValueError(f"question 6 must be '.' exactly when question 5 is not yes: {spec!r}")
    return codes


def people(role: str, social_media: str, n: int, rest: str = "n n n . n n") -> list[str]:
    """``n`` identical responses of a role (short code) and question 2 answer (y, n or -)."""
    return [f"{role} {social_media} {rest}"] * n


def rows(specs: Iterable[str], *, first_id: int = 1,
         times: Iterable[datetime] | None = None,
         demo: Iterable[bool] | None = None) -> list[tuple]:
    """Rows of :data:`COLUMNS`; by default a minute apart from :data:`START`, none demo."""
    specs = list(specs)
    times = list(times) if times is not None else [
        START + timedelta(minutes=i) for i in range(len(specs))]
    demo = list(demo) if demo is not None else [False] * len(specs)
    assert len(times) == len(specs) == len(demo)
    out = []
    for i, (spec, when, is_demo) in enumerate(zip(specs, times, demo)):
        codes = answers(spec)
        out.append((first_id + i, when, is_demo, *(codes[q] for q in QUESTION_IDS)))
    assert all(len(r) == len(COLUMNS) for r in out)
    return out


def frame(specs: Iterable[str], **kwargs) -> pd.DataFrame:
    """A frame of hand-written responses, typed as the loaders type it."""
    return to_frame(rows(specs, **kwargs))


def parsed(specs: Iterable[str]) -> list[dict[str, str]]:
    """The responses as dicts of answer codes, for recounting by hand in plain Python."""
    return [answers(s) for s in specs]


def class_key(codes: dict[str, str], demo: bool = False) -> ClassKey:
    """The release rule's class of one response (as parsed by :func:`answers`)."""
    return ClassKey(codes["role"], codes["uses_social_media"], demo, pattern_of(codes))


def first_release(specs: Iterable[str], minimum: int,
                  pooled: Iterable[str] = ()) -> list[str]:
    """Those of ``specs`` (all waiting, none published yet) that a first release with these
    pooled roles ("no answer" among them in any case) publishes, in their order."""
    specs = list(specs)
    keys = [class_key(answers(s)) for s in specs]
    waiting: dict[ClassKey, int] = {}
    for key in keys:
        waiting[key] = waiting.get(key, 0) + 1
    batch = select_batch(waiting, frozenset({*pooled, "no_answer"}), minimum)
    return [s for s, key in zip(specs, keys) if key in batch]
