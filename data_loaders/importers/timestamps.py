"""Turning the timestamps of an export into UTC instants, a chunk of rows at a time.

Platforms write times differently: ISO 8601 in our template, where a time without an offset is
UTC; SurveyMonkey's month-first "11/28/2018 10:15:32 AM" in the account's local time; Google
Forms' "2018/09/12 10:15:32 AM GMT+1", or day-first "12/09/2018 10:15:32" from a sheet in a UK
locale. Guessing the format of each value (dateutil) takes minutes for a million rows and reads
"12/09/2018" whichever way it likes; pandas with an explicit format takes seconds and reads it
as told. So each chunk is parsed vectorised, trying each expected format in turn on the values
still unparsed. An explicit offset ("GMT+1", "+01:00", "Z") wins; a time without one is taken in
the zone given for the export. An instant too near or beyond the ends of the years 1 to 9999
(which Python's datetime, and so every reader of the store, cannot go past) is refused, and
told apart from a time that cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import numpy as np
import pandas as pd

ISO = "ISO8601"
MONTH_FIRST_12_HOUR = "%m/%d/%Y %I:%M:%S %p"
"""SurveyMonkey's own way of writing times, e.g. "11/28/2018 10:15:32 AM"."""
TEMPLATE_FORMATS = (ISO,)
SURVEYMONKEY_FORMATS = (MONTH_FIRST_12_HOUR, "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p",
                        "%m/%d/%Y %H:%M", ISO)
GOOGLE_FORMS_FORMATS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S",
                        "%d/%m/%Y %H:%M", ISO)

_OFFSET = (r"^(?P<local>.*?)\s*(?:"
           r"(?:GMT|UTC)(?:(?P<gsign>[+-])(?P<gh>\d{1,2})(?::?(?P<gm>\d{2}))?)?"
           r"|(?P<z>Z)"
           r"|(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2}))$")
_UNPARSED = "datetime64[us]"
FIRST = np.datetime64("0001-01-02T00:00:00", "us")
LAST = np.datetime64("9999-12-30T23:59:59.999999", "us")
"""The instants accepted, in UTC: a day inside the years 1 to 9999, so that an instant stays
within them in every time zone (PostgreSQL gives a time in the session's zone, and Python's
datetime, through which every reader of the store goes, holds no year 0 or 10000)."""
EARLIEST = FIRST.astype(datetime).replace(tzinfo=timezone.utc)
LATEST = LAST.astype(datetime).replace(tzinfo=timezone.utc)
""":data:`FIRST` and :data:`LAST` as Python datetimes, for values checked one at a time."""


@dataclass
class Instants:
    """The UTC instants of a chunk's timestamps."""

    utc: pd.Series
    """``datetime64[us, UTC]``; NaT where a value is blank, unreadable or out of range."""
    out_of_range: np.ndarray
    """True where a value was read but its instant is before :data:`FIRST` or after
    :data:`LAST`."""


def _split_offsets(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The local part of each value, and its explicit offset in minutes (NaN when it has none)."""
    parts = text.str.extract(_OFFSET, flags=0)
    matched = parts["local"].notna()
    local = text.where(~matched, parts["local"])
    negative = parts["sign"].fillna(parts["gsign"]) == "-"
    hours = pd.to_numeric(parts["h"].fillna(parts["gh"])).fillna(0)
    minutes = pd.to_numeric(parts["m"].fillna(parts["gm"])).fillna(0)
    offset = (hours * 60 + minutes) * np.where(negative, -1, 1)
    return local, offset.where(matched)


_WIDTH = len("11/28/2018 10:15:32 AM")
_DIGITS = {"month": (0, 1), "day": (3, 4), "year": (6, 7, 8, 9), "hour": (11, 12),
           "minute": (14, 15), "second": (17, 18)}
_SEPARATORS = {2: "/", 5: "/", 10: " ", 13: ":", 16: ":", 19: " ", 21: "M"}
_MICROSECONDS = {"day": 86_400_000_000, "minute": 60_000_000}


def _month_first_12_hour(text: np.ndarray) -> np.ndarray:
    """``text`` read as :data:`MONTH_FIRST_12_HOUR` by array arithmetic; NaT for a value in any
    other shape, or not a real date and time, left to :func:`_parse_local`.

    pandas reads that format value by value (a regular expression each: 5 s a million rows);
    here values written exactly as SurveyMonkey writes them, two digits for each field and "AM"
    or "PM", are read as columns of characters, and checked as strptime would check them: month
    1 to 12, day within the month, year 1 or later, hour 1 to 12, minute and second 0 to 59.
    """
    result = np.full(len(text), np.datetime64("NaT"), dtype=_UNPARSED)
    fixed = np.fromiter(map(len, text), dtype=np.int64, count=len(text)) == _WIDTH
    if not fixed.any():
        return result
    chars = text[fixed].astype(f"U{_WIDTH}").view(np.uint32).reshape(-1, _WIDTH)
    digits = chars.astype(np.int64) - ord("0")
    ok = np.ones(len(chars), dtype=bool)
    field = {}
    for name, positions in _DIGITS.items():
        value = np.zeros(len(chars), dtype=np.int64)
        for position in positions:
            ok &= (digits[:, position] >= 0) & (digits[:, position] <= 9)
            value = value * 10 + digits[:, position]
        field[name] = value
    for position, separator in _SEPARATORS.items():
        ok &= chars[:, position] == ord(separator)
    afternoon = chars[:, 20] == ord("P")
    ok &= afternoon | (chars[:, 20] == ord("A"))
    month, day, year, hour = field["month"], field["day"], field["year"], field["hour"]
    ok &= (month >= 1) & (month <= 12) & (year >= 1) & (day >= 1) & (hour >= 1) & (hour <= 12)
    ok &= (field["minute"] <= 59) & (field["second"] <= 59)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first_day = months.astype("datetime64[D]")
    ok &= day <= ((months + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    minutes = (hour % 12 + 12 * afternoon) * 60 + field["minute"]
    offset = ((day - 1) * _MICROSECONDS["day"] + minutes * _MICROSECONDS["minute"]
              + field["second"] * 1_000_000)
    moments = first_day.astype(_UNPARSED) + offset.astype("timedelta64[us]")
    result[np.flatnonzero(fixed)[ok]] = moments[ok]
    return result


def _parse_local(text: np.ndarray, formats: Sequence[str]) -> np.ndarray:
    """Each value of ``text`` read in the first of ``formats`` that fits it (NaT if none)."""
    local = np.full(len(text), np.datetime64("NaT"), dtype=_UNPARSED)
    todo = text != ""
    for fmt in formats:
        where = np.flatnonzero(todo)
        if not len(where):
            break
        parsed = pd.to_datetime(pd.Series(text[where], dtype=object), format=fmt,
                                errors="coerce").to_numpy(dtype=_UNPARSED)
        read = ~np.isnat(parsed)
        local[where[read]] = parsed[read]
        todo[where[read]] = False
    return local


def parse_instants(values: Sequence[str], formats: Sequence[str], *, zone: str) -> Instants:
    """UTC instants for ``values`` (NaT where a value is blank, in none of ``formats``, or out
    of range).

    ``zone`` is the IANA zone of times written without an offset. A local time that happens
    twice when clocks go back is taken as the first of the two; one that never happens when they
    go forward is moved forward. When the first of ``formats`` is SurveyMonkey's, values in
    exactly its shape (never with an offset) are read first, by array arithmetic; the rest, as
    every value of other exports, are searched for an offset and tried in each format in turn.
    """
    text = np.array([value.strip() if isinstance(value, str) else "" for value in values],
                    dtype=object)
    if formats and formats[0] == MONTH_FIRST_12_HOUR:
        local = _month_first_12_hour(text)
    else:
        local = np.full(len(text), np.datetime64("NaT"), dtype=_UNPARSED)
    offset = np.full(len(text), np.nan)
    rest = np.flatnonzero(np.isnat(local) & (text != ""))
    if len(rest):
        local_text, minutes = _split_offsets(pd.Series(text[rest], dtype=object))
        local[rest] = _parse_local(local_text.to_numpy(dtype=object), formats)
        offset[rest] = minutes.to_numpy(dtype=float)
    utc = np.full(len(text), np.datetime64("NaT"), dtype=_UNPARSED)
    explicit = ~np.isnat(local) & ~np.isnan(offset)
    if explicit.any():
        shift = (offset[explicit] * _MICROSECONDS["minute"]).astype("timedelta64[us]")
        utc[explicit] = local[explicit] - shift
    implicit = ~np.isnat(local) & np.isnan(offset)
    if implicit.any():
        first = np.ones(int(implicit.sum()), dtype=bool)
        utc[implicit] = (pd.DatetimeIndex(local[implicit])
                         .tz_localize(zone, ambiguous=first, nonexistent="shift_forward")
                         .tz_convert("UTC").tz_localize(None).to_numpy(dtype=_UNPARSED))
    out_of_range = (utc < FIRST) | (utc > LAST)
    utc[out_of_range] = np.datetime64("NaT")
    return Instants(pd.Series(utc, dtype=_UNPARSED).dt.tz_localize("UTC"), out_of_range)
