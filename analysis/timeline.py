"""Published responses over time, the recent rate, and the precision each role group has reached.

Times are those of the releases (:mod:`analysis.releases`): the public never sees when a response
arrived, only when a release published it, so a day's figure is a sum of whole releases and the
difference between two days is again what some releases added (nobody, or at least the minimum
in every group).

Margins of error are for a percentage near 50% (the widest case) at 95%, from the normal
approximation: 1.96 x sqrt(0.25 / n). They are a planning figure for "how many more responses
do we need", not the interval of any particular result (those are Wilson intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from analysis.cube import Cube, code_index
from analysis.views import Grouping
from survey.questionnaire import NO_ANSWER

SURVEY_ZONE = "Europe/London"
"""The time zone of the survey's days."""
Z95 = 1.959963984540054
TARGET_MARGIN = 5.0


def margin_of_error(n: int) -> float | None:
    """Percentage points, at 95%, for a proportion near 50%; None for n = 0."""
    return None if n <= 0 else 100 * Z95 * math.sqrt(0.25 / n)


def needed_for(margin_points: float = TARGET_MARGIN) -> int:
    """Responses needed for a margin of error of at most ``margin_points``."""
    return math.ceil((Z95 * 0.5 / (margin_points / 100)) ** 2)


@dataclass(frozen=True)
class GroupPrecision:
    group: str
    label: str
    responses: int
    margin: float | None
    more_needed: int


@dataclass(frozen=True)
class Timeline:
    days: pd.DatetimeIndex
    """Days in :data:`SURVEY_ZONE` (midnight, without a zone)."""
    daily: np.ndarray
    cumulative: np.ndarray
    margin: np.ndarray
    """Margin of error (points) of the whole sample at the end of each day."""
    last_hour: int
    """Published in releases of this hour and the last (UTC hours)."""
    last_day: int
    """Published in releases of the last 24 hours."""
    since_last: timedelta | None
    """Since the figures last moved (the latest release)."""
    precision: tuple[GroupPrecision, ...]


def timeline(cube: Cube, grouping: Grouping, groups: tuple[str, ...] = (),
             social_media: str | None = None, now: datetime | None = None,
             everyone: bool = False) -> Timeline:
    """Published responses of the chosen role groups (all when empty) and answer to question 2
    (either when None) by day of their release, and every group's precision.

    Counts those who answered question 2, as every other public view does (see
    :mod:`analysis.views`), and, when ``everyone`` and no filter is set, those who left it
    blank too, as the summary of no filter does. Days are days in the UK (Europe/London), the
    survey's own: a release at 00:45 on 28 October UK time is on 28 October.
    """
    now = now or datetime.now(timezone.utc)
    if len(cube.hours):
        hours_all, roles, answers = cube.hours[:, 0], cube.hours[:, 1], cube.hours[:, 2]
    else:
        hours_all = roles = answers = np.zeros(0, np.int64)
    public = answers != code_index("uses_social_media", NO_ANSWER)
    if everyone and not groups and not social_media:
        public[:] = True
    chosen = public.copy()
    if groups:
        chosen &= np.isin(roles, [code_index("role", r) for r in grouping.role_codes(groups)])
    if social_media:
        chosen &= answers == code_index("uses_social_media", social_media)
    hours, counts = hours_all[chosen], cube.hour_counts[chosen]
    this_hour = int(now.timestamp() // 3600)
    last_hour = int(counts[hours >= this_hour - 1].sum())
    last_day = int(counts[hours >= this_hour - 24].sum())
    if len(hours):
        # The UK's offset from UTC is whole hours, so each hour falls in one UK day.
        stamps = (pd.to_datetime(hours * 3600, unit="s", utc=True).tz_convert(SURVEY_ZONE)
                  .tz_localize(None).floor("D"))
        daily = pd.Series(counts, index=stamps).groupby(level=0).sum()
        daily = daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"),
                              fill_value=0)
    else:
        daily = pd.Series([], dtype=np.int64, index=pd.DatetimeIndex([]))
    cumulative = daily.cumsum().to_numpy()
    margin = np.array([margin_of_error(int(n)) or np.nan for n in cumulative])
    since = max(now - cube.last_published, timedelta(0)) if cube.last_published else None
    target = needed_for()
    precision = []
    for group in grouping.groups:
        n = grouping.sizes.get(group, 0)
        precision.append(GroupPrecision(group, grouping.label(group), n, margin_of_error(n),
                                        max(0, target - n)))
    return Timeline(daily.index, daily.to_numpy(), cumulative, margin, last_hour, last_day,
                    since, tuple(precision))
