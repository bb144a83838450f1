"""The counts cube: one row per combination of answers, built from frames and added to.

Expected counts are tallied by hand from the rows below. Cells are decoded with the
questionnaire's ``stored_codes`` (the documented meaning of a cell's numbers), so the tests do not
lean on the cube's own lookup tables.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from analysis.cube import Cube
from survey.questionnaire import QUESTIONS, ROLE_CODES
from tests.analysis_fixtures import frame

UTC = timezone.utc


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2018, 9, 12, hour, minute, second, tzinfo=UTC)


# Hours since the Unix epoch: 2018-09-12 00:00 UTC is 1536710400 s = 426864 h.
H9, H10, H11, H12 = 426873, 426874, 426875, 426876

A = "sw y y n y y n y"
B = "tm n n n n . ? ?"
C = "st y - - - . - y"
D = "- y y y ? . y n"
E = "sw - n n y - n n"
F = "tm y y y y n y y"

# (response, submitted at, demo)
TWELVE = [
    (A, at(9, 5), False),      # 1
    (A, at(9, 40), False),     # 2
    (A, at(10, 10), True),     # 3
    (B, at(9, 59, 59), False),  # 4  last second of hour 9
    (B, at(11, 0), False),     # 5  first second of hour 11
    (C, at(10, 30), False),    # 6
    (D, at(10, 45), True),     # 7
    (E, at(11, 15), False),    # 8
    (A, at(11, 20), False),    # 9
    (F, at(9, 0), False),      # 10
    (D, at(9, 30), False),     # 11
    (C, at(12, 0), False),     # 12 the latest
]


def make(entries, first_id=1):
    specs, times, demo = zip(*entries) if entries else ((), (), ())
    return frame(specs, times=times, demo=demo, first_id=first_id)


def decode(row) -> tuple[str, ...]:
    return tuple(q.stored_codes[int(i)] for q, i in zip(QUESTIONS, row))


def combos(cube: Cube) -> dict[tuple[str, ...], int]:
    assert cube.cells.shape == (len(cube.counts), 8)
    out: dict[tuple[str, ...], int] = {}
    for row, n in zip(cube.cells, cube.counts):
        key = decode(row)
        assert key not in out, f"combination {key} held in two cells"
        out[key] = int(n)
    return out


def hour_table(cube: Cube) -> dict[tuple[int, str], int]:
    """Arrivals by hour and role, summed over the answer to question 2 (the third key)."""
    assert cube.hours.shape == (len(cube.hour_counts), 3)
    roles = QUESTIONS[0].stored_codes
    assert len({tuple(k) for k in cube.hours.tolist()}) == len(cube.hours)
    out: dict[tuple[int, str], int] = {}
    for (hour, role, _social), n in zip(cube.hours, cube.hour_counts):
        key = (int(hour), roles[int(role)])
        out[key] = out.get(key, 0) + int(n)
    return out


def codes(spec_long: str) -> tuple[str, ...]:
    return tuple(spec_long.split())


EXPECTED_COMBOS = {
    # A: rows 1, 2, 3, 9
    codes("social_worker yes yes no yes yes no yes"): 4,
    # B: rows 4, 5
    codes("team_manager no no no no not_asked not_sure not_sure"): 2,
    # C: rows 6, 12
    codes("student yes no_answer no_answer no_answer not_asked no_answer yes"): 2,
    # D: rows 7, 11
    codes("no_answer yes yes yes not_sure not_asked yes no"): 2,
    # E: row 8
    codes("social_worker no_answer no no yes no_answer no no"): 1,
    # F: row 10
    codes("team_manager yes yes yes yes no yes yes"): 1,
}  # 4 + 2 + 2 + 2 + 1 + 1 = 12

EXPECTED_HOURS = {
    (H9, "social_worker"): 2,   # rows 1, 2
    (H10, "social_worker"): 1,  # row 3
    (H11, "social_worker"): 2,  # rows 8, 9
    (H9, "team_manager"): 2,    # rows 4 (09:59:59), 10 (09:00)
    (H11, "team_manager"): 1,   # row 5 (11:00:00)
    (H10, "student"): 1,        # row 6
    (H12, "student"): 1,        # row 12
    (H9, "no_answer"): 1,       # row 11
    (H10, "no_answer"): 1,      # row 7
}  # 2+1+2+2+1+1+1+1+1 = 12


def test_from_frame_total_combinations_hours_demo_and_last():
    cube = Cube.from_frame(make(TWELVE))
    assert cube.total == 12
    assert combos(cube) == EXPECTED_COMBOS
    assert hour_table(cube) == EXPECTED_HOURS
    assert cube.demo == 2  # rows 3 and 7
    assert cube.last_submitted == at(12, 0)
    assert cube.last_submitted.utcoffset().total_seconds() == 0


def test_counts_are_exact_integers():
    cube = Cube.from_frame(make(TWELVE))
    assert np.issubdtype(cube.counts.dtype, np.integer)
    assert np.issubdtype(cube.hour_counts.dtype, np.integer)
    assert sorted(cube.counts.tolist()) == [1, 1, 2, 2, 2, 4]


def test_single_response():
    cube = Cube.from_frame(make([(F, at(9, 0), True)]))
    assert cube.total == 1
    assert combos(cube) == {codes("team_manager yes yes yes yes no yes yes"): 1}
    assert hour_table(cube) == {(H9, "team_manager"): 1}
    assert cube.demo == 1
    assert cube.last_submitted == at(9, 0)


def test_every_role_and_every_stored_code_round_trips():
    # Each role once, each with a different answer pattern covering every stored code.
    specs = [f"{short} y y y y y y y" for short in
             ("sw", "nq", "sp", "tm", "svm", "dir", "psw", "iro", "fsw", "st", "oth", "-")]
    specs += ["sw n n n n . n n", "sw - - - ? . ? ?", "sw y y y - . - -", "sw y y y y - y y",
              "sw y y y y n y y", "sw y y y y ? y y"]
    cube = Cube.from_frame(frame(specs))
    got = combos(cube)
    assert len(got) == 18 and set(got.values()) == {1}
    roles = {key[0] for key in got}
    assert roles == set(ROLE_CODES) | {"no_answer"}
    for q_index, question in enumerate(QUESTIONS):
        assert {key[q_index] for key in got} == set(question.stored_codes), question.id


SPLITS = [
    pytest.param([7], id="7+5"),
    pytest.param([1], id="1+11"),
    pytest.param([11], id="11+1 (latest first)"),
    pytest.param([3, 8], id="3+5+4"),
    pytest.param(list(range(1, 12)), id="one at a time"),
]


@pytest.mark.parametrize("cuts", SPLITS)
@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_adding_frames_equals_building_from_their_concatenation(cuts, order):
    entries = TWELVE if order == "forward" else TWELVE[::-1]
    bounds = [0, *cuts, len(entries)]
    parts = [make(entries[a:b], first_id=a + 1) for a, b in zip(bounds, bounds[1:])]
    cube = Cube.from_frame(parts[0])
    for part in parts[1:]:
        cube = cube.add(part)
    whole = Cube.from_frame(pd.concat(parts, ignore_index=True))
    assert combos(cube) == combos(whole) == EXPECTED_COMBOS
    assert hour_table(cube) == hour_table(whole) == EXPECTED_HOURS
    assert cube.total == whole.total == 12
    assert cube.demo == whole.demo == 2
    assert cube.last_submitted == whole.last_submitted == at(12, 0)


def test_add_keeps_the_latest_submission_when_the_new_rows_are_older():
    # First the rows from 11:00 on (latest 12:00), then older rows: the latest stays 12:00.
    late = [e for e in TWELVE if e[1] >= at(11, 0)]
    early = [e for e in TWELVE if e[1] < at(11, 0)]
    assert len(late) == 4 and len(early) == 8
    first = Cube.from_frame(make(late))
    assert first.last_submitted == at(12, 0)
    both = first.add(make(early, first_id=100))
    assert both.last_submitted == at(12, 0)
    assert both.total == 12


def test_add_leaves_the_original_cube_unchanged():
    first = Cube.from_frame(make(TWELVE[:7]))
    before = (combos(first), hour_table(first), first.demo, first.last_submitted)
    second = first.add(make(TWELVE[7:], first_id=8))
    assert second.total == 12
    assert (combos(first), hour_table(first), first.demo, first.last_submitted) == before
    assert first.total == 7


def test_add_counts_the_same_rows_again_if_given_twice():
    # The cube counts what it is given; the feed guarantees each row comes once.
    once = Cube.from_frame(make(TWELVE))
    twice = once.add(make(TWELVE, first_id=13))
    assert combos(twice) == {k: 2 * v for k, v in EXPECTED_COMBOS.items()}
    assert hour_table(twice) == {k: 2 * v for k, v in EXPECTED_HOURS.items()}
    assert twice.demo == 4 and twice.total == 24


def assert_empty(cube: Cube) -> None:
    assert cube.total == 0
    assert cube.cells.shape == (0, 8)
    assert cube.counts.shape == (0,)
    assert cube.hours.shape == (0, 3)
    assert cube.hour_counts.shape == (0,)
    assert cube.demo == 0
    assert cube.last_submitted is None


def test_empty_cube():
    assert_empty(Cube.empty())


def test_cube_from_an_empty_frame_is_empty():
    assert_empty(Cube.from_frame(make([])))


def test_adding_an_empty_frame_changes_nothing():
    cube = Cube.from_frame(make(TWELVE))
    same = cube.add(make([]))
    assert combos(same) == EXPECTED_COMBOS
    assert hour_table(same) == EXPECTED_HOURS
    assert same.demo == 2 and same.total == 12 and same.last_submitted == at(12, 0)
    assert_empty(Cube.empty().add(make([])))


def test_empty_cube_then_rows_equals_from_frame():
    cube = Cube.empty().add(make([])).add(make(TWELVE))
    assert combos(cube) == EXPECTED_COMBOS
    assert hour_table(cube) == EXPECTED_HOURS
