"""A worker's live data on both stores: the first snapshot is counted by the database, later ones
take in only the new responses, and a snapshot is replaced only when the data changes.

Each cube is compared with one built from every row of the store (``load_responses``), and its
totals with counts made by hand.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine

from analysis.cube import Cube
from dashboard.live import LiveData
from data_loaders import store
from data_loaders.db import WRITE
from data_loaders.loader import load_responses
from tests.dashboard_support import FIXTURE, add, responses


def store_cube(engine: Engine) -> Cube:
    with engine.connect() as connection:
        return Cube.from_frame(load_responses(connection))


def assert_holds_the_store(cube: Cube, engine: Engine) -> None:
    whole = store_cube(engine)
    for name in ("cells", "counts", "hours", "hour_counts"):
        np.testing.assert_array_equal(getattr(cube, name), getattr(whole, name), err_msg=name)
    assert (cube.demo, cube.last_submitted) == (whole.demo, whole.last_submitted)


def test_first_snapshot_then_only_what_is_new(store_engine):
    assert add(store_engine, responses(FIXTURE)) == 47  # 12 + 10 + 10 + 10 + 3 + 2
    live = LiveData(store_engine, min_cell_size=10, min_interval=0)
    first = live.snapshot()
    assert first.loaded and first.unreachable_since is None
    assert first.total == 47 and not first.is_demo
    assert first.version == f"0-47-{live.feed.max_id}"
    assert_holds_the_store(first.cube, store_engine)

    assert live.snapshot() is first  # nothing new: the same snapshot

    more = [(2, ("team_manager", "yes", "yes", "no", "not_sure", "", "yes", "yes")),
            (1, ("student", "no", "no", "no", "no", "", "no", "no"))]
    assert add(store_engine, responses(more)) == 3
    second = live.snapshot()
    assert second is not first and second.total == 50
    assert second.version == f"0-50-{live.feed.max_id}" != first.version
    assert second.as_of >= first.as_of
    assert_holds_the_store(second.cube, store_engine)
    assert first.total == 47  # the old snapshot is left as it was


def test_demo_data_removed_starts_the_snapshot_afresh(store_engine):
    add(store_engine, responses(FIXTURE[:2]))  # 22 social workers
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "demo", responses([(5, FIXTURE[2][1])]), is_demo=True)
    live = LiveData(store_engine, min_cell_size=10, min_interval=0)
    before = live.snapshot()
    assert before.total == 27 and before.cube.demo == 5 and before.is_demo

    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 5
    after = live.snapshot()
    assert after.total == 22 and after.cube.demo == 0 and not after.is_demo
    assert after.version.startswith("1-22-")
    assert_holds_the_store(after.cube, store_engine)


def test_an_empty_store_is_loaded_and_empty(store_engine):
    live = LiveData(store_engine, min_cell_size=10, min_interval=0)
    snapshot = live.snapshot()
    assert snapshot.loaded and snapshot.total == 0 and snapshot.version == "0-0-0"
    assert snapshot.cube.last_submitted is None
    add(store_engine, responses(FIXTURE[4:5]))
    assert live.snapshot().total == 3
    assert_holds_the_store(live.snapshot().cube, store_engine)
