"""What one worker process knows of the store: the counts cube, kept up to date incrementally.

Each worker holds one :class:`LiveData`. Pages never query the store: they read the current
:class:`Snapshot`, which a refresh replaces whole when the store has changed. A refresh asks the
store the loaders' cheap "anything new?" question at most once per ``min_interval`` seconds
however many pages are open, and takes in only new rows. When the store cannot be reached the
last snapshot stays in use and the failure is recorded, so pages can say since when.
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
from data_loaders.loader import ResponseFeed

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

    def snapshot(self) -> Snapshot:
        """The current data, refreshed first if the last check is older than ``min_interval``."""
        if self._snapshot is None or self.clock() - self._checked >= self.min_interval:
            self.refresh()
        if self._snapshot is None:
            raise StoreUnreachable("the store could not be read yet")
        return self._snapshot

    def refresh(self) -> Snapshot | None:
        with self._lock:
            if self._snapshot is not None and self.clock() - self._checked < self.min_interval:
                return self._snapshot
            self._checked = self.clock()
            try:
                if self._snapshot is None or self.feed.changed():
                    self._apply(self.feed.poll())
                elif self._snapshot.unreachable_since is not None:
                    self._snapshot = replace(self._snapshot, unreachable_since=None)
            except (SQLAlchemyError, OSError) as error:
                log.warning("The store cannot be reached: %s", error.__class__.__name__)
                if self._snapshot is not None and self._snapshot.unreachable_since is None:
                    self._snapshot = replace(self._snapshot, unreachable_since=_now())
                elif self._snapshot is None:
                    self.feed = ResponseFeed(self.engine)
            return self._snapshot

    def _apply(self, delta) -> None:
        base = Cube.empty() if delta.reset or self._snapshot is None else self._snapshot.cube
        cube = base.add(delta.rows)
        if self._snapshot is not None and not delta.reset and delta.rows.empty:
            self._snapshot = replace(self._snapshot, unreachable_since=None)
            return
        grouping = group_roles(cube, self.min_cell_size)
        self._snapshot = Snapshot(cube, grouping, safety(cube, grouping, self.min_cell_size),
                                  delta.version.token, _now())


class StoreUnreachable(RuntimeError):
    """No data has been read from the store yet, and it cannot be reached now."""
