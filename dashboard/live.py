"""What one worker process knows of the store: the counts cube, kept up to date incrementally.

Each worker holds one :class:`LiveData`. Pages never query the store: they read the current
:class:`Snapshot`, which a refresh replaces whole when the store has changed. The first refresh
has the store count every response (the loaders' :func:`~data_loaders.loader.load_counts`: no
response is read into the worker); later ones poll the loaders' feed at most once per
``min_interval`` seconds however many pages are open, and take in only new rows (a poll that
finds nothing costs an index range scan). When the store cannot be reached the last snapshot
stays in use and the failure is recorded, so pages can say since when.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from analysis.cube import Cube
from analysis.summary import safety
from analysis.views import Grouping, QuestionSafety, group_roles
from data_loaders.loader import Delta, ResponseFeed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    cube: Cube
    grouping: Grouping
    safety: dict[str, QuestionSafety]
    version: str
    """Changes exactly when the data changes; the same on every worker for the same data."""
    as_of: datetime
    """When this worker last found the store changed (or first read it)."""
    unreachable_since: datetime | None = None
    loaded: bool = True
    """False until the store has been read once: then the snapshot is empty, not the data."""

    @property
    def is_demo(self) -> bool:
        return self.cube.demo > 0

    @property
    def total(self) -> int:
        return self.cube.total


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class LiveData:
    engine: Engine
    min_cell_size: int
    min_interval: float = 1.0
    clock: callable = time.monotonic
    feed: ResponseFeed = field(init=False)
    _snapshot: Snapshot | None = field(default=None, init=False)
    _checked: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.feed = ResponseFeed(self.engine)

    def snapshot(self, max_age: float | None = None) -> Snapshot:
        """The current data, refreshed first if the last check is older than ``min_interval``
        (or than ``max_age``, when that is longer: for a reader who already holds this data, and
        so loses nothing if newer data waits that long).

        Never fails: when the store has not been readable since the process started, an empty
        snapshot that says so stands in, and pages show that rather than an error.
        """
        interval = self.min_interval if max_age is None else max(max_age, self.min_interval)
        if self._snapshot is None or self.clock() - self._checked >= interval:
            self.refresh()
        assert self._snapshot is not None
        return self._snapshot

    def refresh(self) -> Snapshot:
        with self._lock:
            current = self._snapshot
            if current is not None and self.clock() - self._checked < self.min_interval:
                return current
            self._checked = self.clock()
            try:
                self._apply(self.feed.poll())
            except (SQLAlchemyError, OSError) as error:
                log.warning("The store cannot be reached: %s", error.__class__.__name__)
                if current is None:
                    self.feed = ResponseFeed(self.engine)
                    self._snapshot = self._nothing_yet()
                elif current.unreachable_since is None:
                    self._snapshot = replace(current, unreachable_since=_now())
            return self._snapshot

    def _nothing_yet(self) -> Snapshot:
        cube = Cube.empty()
        grouping = group_roles(cube, self.min_cell_size)
        now = _now()
        return Snapshot(cube, grouping, safety(cube, grouping, self.min_cell_size),
                        "unavailable", now, unreachable_since=now, loaded=False)

    def _apply(self, delta: Delta) -> None:
        current = self._snapshot
        fresh = delta.reset or current is None or not current.loaded
        if not fresh and not delta.counts.total:
            if current.unreachable_since is not None:
                self._snapshot = replace(current, unreachable_since=None)
            return
        base = Cube.empty() if fresh else current.cube
        cube = base.add_counts(delta.counts)
        grouping = group_roles(cube, self.min_cell_size)
        self._snapshot = Snapshot(cube, grouping, safety(cube, grouping, self.min_cell_size),
                                  delta.version.token, _now())

