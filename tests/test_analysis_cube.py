"""The counts cube: one row per combination of answers, built from frames or from counts
already made, and added to.

Expected counts are tallied by hand from the rows below. Cells are decoded with the
questionnaire's ``stored_codes`` (the documented meaning of a cell's numbers), so the tests do not
lean on the cube's own lookup tables.
"""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

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
    assert cube.last_published == at(12, 0)
    assert cube.last_published.utcoffset().total_seconds() == 0


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
    assert cube.last_published == at(9, 0)


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
    assert cube.last_published == whole.last_published == at(12, 0)


def test_a_published_at_column_gives_the_hours_and_the_latest_release():
    # Two releases: the 8 rows submitted before 11:00 published at 11:05 (hour 11), the other
    # 4 (rows 5, 8, 9, 12; the latest submitted at 12:00) at 12:30 (hour 12). Submission times
    # then count for nothing: the public sees when a response was published.
    data = make(TWELVE)
    data["published_at"] = [at(11, 5) if when < at(11, 0) else at(12, 30)
                            for _, when, _ in TWELVE]
    data["published_at"] = pd.to_datetime(data["published_at"], utc=True)
    cube = Cube.from_frame(data)
    assert combos(cube) == EXPECTED_COMBOS
    assert hour_table(cube) == {
        (H11, "social_worker"): 3,   # rows 1, 2, 3
        (H11, "team_manager"): 2,    # rows 4, 10
        (H11, "student"): 1,         # row 6
        (H11, "no_answer"): 2,       # rows 7, 11
        (H12, "social_worker"): 2,   # rows 8, 9
        (H12, "team_manager"): 1,    # row 5
        (H12, "student"): 1,         # row 12
    }  # 3 + 2 + 1 + 2 + 2 + 1 + 1 = 12
    assert cube.last_published == at(12, 30)
    # Without the column, the same rows count by submission (published as they arrived).
    assert Cube.from_frame(make(TWELVE)).last_published == at(12, 0)


def test_add_keeps_the_latest_submission_when_the_new_rows_are_older():
    # First the rows from 11:00 on (latest 12:00), then older rows: the latest stays 12:00.
    late = [e for e in TWELVE if e[1] >= at(11, 0)]
    early = [e for e in TWELVE if e[1] < at(11, 0)]
    assert len(late) == 4 and len(early) == 8
    first = Cube.from_frame(make(late))
    assert first.last_published == at(12, 0)
    both = first.add(make(early, first_id=100))
    assert both.last_published == at(12, 0)
    assert both.total == 12


def test_add_leaves_the_original_cube_unchanged():
    first = Cube.from_frame(make(TWELVE[:7]))
    before = (combos(first), hour_table(first), first.demo, first.last_published)
    second = first.add(make(TWELVE[7:], first_id=8))
    assert second.total == 12
    assert (combos(first), hour_table(first), first.demo, first.last_published) == before
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
    assert cube.last_published is None


def test_empty_cube():
    assert_empty(Cube.empty())


def test_cube_from_an_empty_frame_is_empty():
    assert_empty(Cube.from_frame(make([])))


def test_adding_an_empty_frame_changes_nothing():
    cube = Cube.from_frame(make(TWELVE))
    same = cube.add(make([]))
    assert combos(same) == EXPECTED_COMBOS
    assert hour_table(same) == EXPECTED_HOURS
    assert same.demo == 2 and same.total == 12 and same.last_published == at(12, 0)
    assert_empty(Cube.empty().add(make([])))


def test_empty_cube_then_rows_equals_from_frame():
    cube = Cube.empty().add(make([])).add(make(TWELVE))
    assert combos(cube) == EXPECTED_COMBOS
    assert hour_table(cube) == EXPECTED_HOURS


# --- Counts already made (as the loaders give them, or another cube) ---------------------------


def counted(cells, counts, hours, hour_counts, demo=0, last=None) -> SimpleNamespace:
    return SimpleNamespace(cells=np.array(cells, np.int16).reshape(-1, 8),
                           counts=np.array(counts, np.int64),
                           hours=np.array(hours, np.int64).reshape(-1, 3),
                           hour_counts=np.array(hour_counts, np.int64), demo=demo,
                           last_published=last)


def test_add_counts_of_another_cube_equals_building_from_all_the_rows():
    first = Cube.from_frame(make(TWELVE[:5]))
    second = Cube.from_frame(make(TWELVE[5:], first_id=6))
    both = first.add_counts(second)
    assert combos(both) == EXPECTED_COMBOS
    assert hour_table(both) == EXPECTED_HOURS
    assert both.demo == 2 and both.total == 12 and both.last_published == at(12, 0)
    whole = Cube.from_frame(make(TWELVE))
    for name in ("cells", "counts", "hours", "hour_counts"):
        np.testing.assert_array_equal(getattr(both, name), getattr(whole, name), err_msg=name)


SW_ALL_YES = [0, 0, 0, 0, 0, 0, 0, 0]  # social worker, yes to everything
TM_NO = [3, 1, 1, 1, 1, 4, 1, 1]      # team manager, no to everything, question 6 not asked


def test_add_counts_sums_repeated_unsorted_rows():
    cube = Cube.from_counts(counted(
        [TM_NO, SW_ALL_YES, TM_NO, SW_ALL_YES, SW_ALL_YES], [1, 2, 1, 1, 3],
        [[H10, 3, 1], [H9, 0, 0], [H9, 3, 1], [H9, 0, 0]], [1, 5, 1, 1],
        demo=1, last=at(10, 30)))
    assert combos(cube) == {codes("social_worker yes yes yes yes yes yes yes"): 6,  # 2 + 1 + 3
                            codes("team_manager no no no no not_asked no no"): 2}
    assert hour_table(cube) == {(H9, "social_worker"): 6, (H9, "team_manager"): 1,
                                (H10, "team_manager"): 1}
    assert cube.total == 8 and cube.demo == 1 and cube.last_published == at(10, 30)
    # Distinct rows in ascending order, as documented.
    assert cube.cells.tolist() == [SW_ALL_YES, TM_NO]
    assert cube.hours.tolist() == [[H9, 0, 0], [H9, 3, 1], [H10, 3, 1]]


def test_add_counts_adds_to_cells_held_and_inserts_new_ones_in_order():
    cube = Cube.from_counts(counted([TM_NO], [4], [[H10, 3, 1]], [4], last=at(10, 0)))
    more = cube.add_counts(counted([SW_ALL_YES, TM_NO], [1, 2], [[H9, 0, 0], [H11, 3, 1]],
                                   [1, 2], demo=2, last=at(9, 0)))
    assert more.cells.tolist() == [SW_ALL_YES, TM_NO]
    assert more.counts.tolist() == [1, 6]
    assert more.hours.tolist() == [[H9, 0, 0], [H10, 3, 1], [H11, 3, 1]]
    assert more.hour_counts.tolist() == [1, 4, 2]
    assert more.demo == 2 and more.last_published == at(10, 0)  # the later of the two
    assert cube.counts.tolist() == [4] and cube.total == 4  # left unchanged


def test_hours_before_1970_are_negative_and_sort_first():
    # 1969-12-31 23:30 UTC is in hour -1; the epoch's first hour is 0.
    frame = make([(A, datetime(1969, 12, 31, 23, 30, tzinfo=UTC), False),
                  (A, datetime(1970, 1, 1, 0, 0, tzinfo=UTC), False),
                  (A, at(9, 0), False)])
    cube = Cube.from_frame(frame)
    assert cube.hours[:, 0].tolist() == [-1, 0, H9]
    again = Cube.empty().add_counts(cube).add_counts(cube)
    assert again.hours[:, 0].tolist() == [-1, 0, H9]
    assert again.hour_counts.tolist() == [2, 2, 2]


def test_adding_empty_counts_changes_nothing():
    cube = Cube.from_frame(make(TWELVE))
    assert cube.add_counts(Cube.empty()) is cube
    assert_empty(Cube.from_counts(counted([], [], [], [])))
