"""A worker's live data on both stores: it shows releases, never what merely arrived. The first
snapshot is counted by the database, later ones take in only new releases, a snapshot is replaced
only when a release appears, and a worker publishes only as often as the settings allow.

Each cube is compared with one built from the published rows of the store, and its totals with
counts made by hand (:data:`tests.dashboard_support.FIXTURE` publishes 42 of its 47 at minimum
10).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import Engine, select

from analysis.cube import Cube
from dashboard.live import LiveData
from data_loaders import releases, store
from data_loaders.db import WRITE
from data_loaders.models import Release
from survey.settings import Settings
from tests.dashboard_support import FIXTURE, add, publish, published_frame, responses

RELEASED = datetime(2018, 9, 12, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def settings(**overrides) -> Settings:
    values = dict(min_cell_size=10, release_interval_seconds=0.0)
    values.update(overrides)
    return Settings.from_env({}, **values)


def published_cube(engine: Engine) -> Cube:
    """The published responses, each at the time of its release, counted from their rows."""
    return Cube.from_frame(published_frame(engine))


def assert_holds_the_releases(cube: Cube, engine: Engine) -> None:
    whole = published_cube(engine)
    for name in ("cells", "counts", "hours", "hour_counts"):
        np.testing.assert_array_equal(getattr(cube, name), getattr(whole, name), err_msg=name)
    assert (cube.demo, cube.last_published) == (whole.demo, whole.last_published)


def version_of(engine: Engine) -> str:
    """The public name of the store's latest release: its epoch and token, hashed."""
    with engine.connect() as connection:
        token = connection.scalar(select(Release.token).order_by(Release.seq.desc()).limit(1))
        epoch = store.epoch(connection)
    return hashlib.sha256(f"{epoch}:{token}".encode()).hexdigest()[:20]


def waiting(engine: Engine) -> int:
    with engine.connect() as connection:
        return releases.status(connection).waiting


def test_first_snapshot_then_only_what_a_new_release_adds(store_engine):
    assert add(store_engine, responses(FIXTURE)) == 47  # 12 + 10 + 10 + 10 + 3 + 2
    live = LiveData(store_engine, settings(), min_interval=0)
    before = live.snapshot()
    assert before.loaded and before.total == 0 and before.published_at is None  # nothing yet

    assert publish(store_engine, now=RELEASED).added == 42
    first = live.snapshot()
    assert first.loaded and first.unreachable_since is None
    assert first.total == 42 and not first.is_demo  # the 3 students and 2 blanks wait
    assert first.version == version_of(store_engine) != before.version
    assert first.as_of == first.published_at == RELEASED
    assert_holds_the_releases(first.cube, store_engine)

    assert live.snapshot() is first  # no release: the same snapshot

    more = [(10, ("team_manager", "yes", "yes", "no", "not_sure", "", "yes", "yes")),
            (1, ("student", "no", "no", "no", "no", "", "no", "no"))]
    assert add(store_engine, responses(more)) == 11
    assert live.snapshot() is first  # arrived, not published: still the same

    later = RELEASED + timedelta(hours=1)
    assert publish(store_engine, now=later).added == 10  # students (3 yes, 1 no), 2 blanks wait
    second = live.snapshot()
    assert second is not first and second.total == 52
    assert second.version == version_of(store_engine) != first.version
    assert second.as_of == second.published_at == later
    assert_holds_the_releases(second.cube, store_engine)
    assert first.total == 42  # the old snapshot is left as it was


def test_demo_data_removed_starts_the_snapshot_afresh(store_engine):
    add(store_engine, responses(FIXTURE[:2]))  # 22 social workers
    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        store.store_responses(connection, "demo", responses([(10, FIXTURE[2][1])]), is_demo=True)
    publish(store_engine, now=RELEASED)  # 22 real, 10 demo in an atom of their own
    live = LiveData(store_engine, settings(), min_interval=0)
    before = live.snapshot()
    assert before.total == 32 and before.cube.demo == 10 and before.is_demo

    with store_engine.connect().execution_options(**WRITE) as connection, connection.begin():
        assert store.remove_demo(connection) == 10
    after = live.snapshot()
    assert after.total == 22 and after.cube.demo == 0 and not after.is_demo
    assert after.version == version_of(store_engine) != before.version  # same release, new epoch
    assert after.published_at == RELEASED
    assert_holds_the_releases(after.cube, store_engine)


def test_an_empty_store_is_loaded_and_empty(store_engine):
    live = LiveData(store_engine, settings(), min_interval=0)
    snapshot = live.snapshot()
    assert snapshot.loaded and snapshot.total == 0
    assert snapshot.version == hashlib.sha256(b"0:None").hexdigest()[:20]
    assert snapshot.cube.last_published is None and snapshot.published_at is None
    add(store_engine, responses(FIXTURE[4:5]))  # 3 students: fewer than 10, they wait
    assert live.snapshot() is snapshot
    assert publish(store_engine) is None
    assert live.snapshot().total == 0


def test_a_worker_publishes_at_most_once_an_interval(store_engine):
    add(store_engine, responses(FIXTURE[:2]))  # 22
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    assert publish(store_engine, now=two_hours_ago).added == 22
    clock = FakeClock()
    live = LiveData(store_engine, settings(release_interval_seconds=3600), min_interval=0,
                    clock=clock)
    add(store_engine, responses(FIXTURE[2:3]))  # 10 team managers
    snapshot = live.snapshot()  # the last release is older than the interval: a new one
    assert snapshot.total == 32 and waiting(store_engine) == 0
    assert snapshot.published_at > two_hours_ago

    add(store_engine, responses(FIXTURE[3:4]))  # 10 more
    clock.advance(3599)
    assert live.snapshot() is snapshot  # the worker's next try is not due
    assert waiting(store_engine) == 10
    clock.advance(1)
    # Due, but the release just made (by this worker or any other) is younger than an hour.
    assert live.snapshot() is snapshot and waiting(store_engine) == 10


def test_a_worker_with_no_interval_never_publishes(store_engine):
    add(store_engine, responses(FIXTURE[:2]))
    clock = FakeClock()
    live = LiveData(store_engine, settings(release_interval_seconds=0), min_interval=0,
                    clock=clock)
    for _ in range(3):
        assert live.snapshot().total == 0
        clock.advance(3600)
    assert waiting(store_engine) == 22
