"""What one worker process knows of the public figures: the latest release, counted as a cube.

Each worker holds one :class:`LiveData`. Pages never query the store: they read the current
:class:`Snapshot`, which a refresh replaces whole when a new release appears. The first refresh
has the store count every published response (the loaders' :func:`~data_loaders.loader.load_counts`:
no response is read into the worker); later ones ask the loaders' :class:`ReleaseFeed` for new
releases at most once per ``min_interval`` seconds however many pages are open, and take in
only what those added. Every public output is computed from a snapshot, that is from one
release: what arrived since waits for the next release (:mod:`analysis.releases`).

A worker also makes releases: at most once per ``RELEASE_INTERVAL_SECONDS`` it asks
:func:`data_loaders.releases.publish` to make one, which it does only when the rule lets some
waiting responses through and the last release (by any worker) is that old.

When the store cannot be reached the last snapshot stays in use and the failure is recorded, so
pages can say since when.
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
from analysis.views import Grouping, QuestionSafety, grouping_for
from data_loaders import releases
from data_loaders.loader import Delta, ReleaseFeed
from survey.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    cube: Cube
    grouping: Grouping
    safety: dict[str, QuestionSafety]
    version: str
    """Names the release: changes exactly when the public figures change, the same on every
    worker, and says nothing of how many responses there are."""
    as_of: datetime
    """When the figures last moved: the release's time (before any release, when this worker
    first read the store)."""
    published_at: datetime | None = None
    """The release's time; None before the first release."""
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
    settings: Settings
    min_interval: float = 1.0
    clock: callable = time.monotonic
    feed: ReleaseFeed = field(init=False)
    _snapshot: Snapshot | None = field(default=None, init=False)
    _checked: float = field(default=float("-inf"), init=False)
    _tried_publishing: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _publish_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.feed = ReleaseFeed(self.engine)

    @property
    def min_cell_size(self) -> int:
        return self.settings.min_cell_size

    def snapshot(self, max_age: float | None = None) -> Snapshot:
        """The current release, refreshed first if the last check is older than ``min_interval``
        (or than ``max_age``, when that is longer: for a reader who already holds this release,
        and so loses nothing if a newer one waits that long).

        Never fails: when the store has not been readable since the process started, an empty
        snapshot that says so stands in, and pages show that rather than an error.
        """
        interval = self.min_interval if max_age is None else max(max_age, self.min_interval)
        if self._snapshot is None or self.clock() - self._checked >= interval:
            self.refresh()
        assert self._snapshot is not None
        return self._snapshot

    def refresh(self) -> Snapshot:
        self.maybe_publish()
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
                    self.feed = ReleaseFeed(self.engine)
                    self._snapshot = self._nothing_yet()
                elif current.unreachable_since is None:
                    self._snapshot = replace(current, unreachable_since=_now())
            return self._snapshot

    def maybe_publish(self) -> None:
        """Make a release if one is due (see the module's docstring). It never keeps a reader
        waiting: one thread of the worker tries while the others go on, and the try gives up
        at once when another publisher or writer holds the store's lock. A failure only waits
        for the next try."""
        interval = self.settings.release_interval_seconds
        if not interval or self.clock() - self._tried_publishing < interval:
            return
        if not self._publish_lock.acquire(blocking=False):
            return
        try:
            self._tried_publishing = self.clock()
            releases.publish(self.engine, self.settings, wait=False)
        except (SQLAlchemyError, OSError) as error:
            log.warning("No release made: %s", error.__class__.__name__)
        except releases.ReleaseRefused as error:
            log.error("No release made: %s", error)
        finally:
            self._publish_lock.release()

    def _nothing_yet(self) -> Snapshot:
        cube = Cube.empty()
        grouping = grouping_for(cube, ())
        now = _now()
        return Snapshot(cube, grouping, safety(cube, grouping, self.min_cell_size),
                        "unavailable", now, unreachable_since=now, loaded=False)

    def _apply(self, delta: Delta) -> None:
        current = self._snapshot
        fresh = delta.reset or current is None or not current.loaded
        version = delta.state.token
        if not fresh and current.version == version:
            if current.unreachable_since is not None:
                self._snapshot = replace(current, unreachable_since=None)
            return
        base = Cube.empty() if fresh else current.cube
        cube = base.add_counts(delta.counts)
        grouping = grouping_for(cube, delta.state.pooled)
        published = delta.state.published_at
        as_of = published or (current.as_of if current is not None and current.loaded else _now())
        self._snapshot = Snapshot(cube, grouping, safety(cube, grouping, self.min_cell_size),
                                  version, as_of, published_at=published)
