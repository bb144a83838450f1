"""Turning the timestamps of an export into UTC instants, a chunk of rows at a time.

Platforms write times differently: ISO 8601 in our template, where a time without an offset is
UTC; SurveyMonkey's month-first "11/28/2018 10:15:32 AM" in the account's local time; Google
Forms' "2018/09/12 10:15:32 AM GMT+1", or day-first "12/09/2018 10:15:32" from a sheet in a UK
locale. Guessing the format of each value (dateutil) takes minutes for a million rows and reads
"12/09/2018" whichever way it likes; pandas with an explicit format takes seconds and reads it
as told. So each chunk is parsed vectorised, trying each expected format in turn on the values
still unparsed. An explicit offset ("GMT+1", "+01:00", "Z") wins; a time without one is taken in
the zone given for the export.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

ISO = "ISO8601"
TEMPLATE_FORMATS = (ISO,)
SURVEYMONKEY_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p",
                        "%m/%d/%Y %H:%M", ISO)
GOOGLE_FORMS_FORMATS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S",
                        "%d/%m/%Y %H:%M", ISO)

_OFFSET = (r"^(?P<local>.*?)\s*(?:"
           r"(?:GMT|UTC)(?:(?P<gsign>[+-])(?P<gh>\d{1,2})(?::?(?P<gm>\d{2}))?)?"
           r"|(?P<z>Z)"
           r"|(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2}))$")
_UNPARSED = "datetime64[us]"


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


def _parse_local(text: pd.Series, formats: Sequence[str]) -> pd.Series:
    local = pd.Series(pd.NaT, index=text.index, dtype=_UNPARSED)
    for fmt in formats:
        todo = local.isna() & (text != "")
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        parsed = parsed[parsed.notna()]
        if len(parsed):
            local.loc[parsed.index] = parsed.astype(_UNPARSED)
    return local


def parse_instants(values: Sequence[str], formats: Sequence[str], *, zone: str,
                   offsets: bool) -> pd.Series:
    """UTC instants for ``values`` (NaT where a value is blank or in none of ``formats``).

    ``zone`` is the IANA zone of times written without an offset. ``offsets`` says whether
    values may end with one; SurveyMonkey's never do, and skipping the search saves time. A
    local time that happens twice when clocks go back is taken as the first of the two; one
    that never happens when they go forward is moved forward.
    """
    text = pd.Series(values, dtype="object").fillna("").astype(str).str.strip()
    if offsets:
        text, offset = _split_offsets(text)
    else:
        offset = pd.Series(np.nan, index=text.index)
    local = _parse_local(text, formats)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    explicit = local.notna() & offset.notna()
    if explicit.any():
        shifted = local[explicit] - pd.to_timedelta(offset[explicit], unit="m")
        result.loc[explicit] = shifted.dt.tz_localize("UTC")
    implicit = local.notna() & offset.isna()
    if implicit.any():
        first = np.ones(int(implicit.sum()), dtype=bool)
        result.loc[implicit] = (local[implicit]
                                .dt.tz_localize(zone, ambiguous=first, nonexistent="shift_forward")
                                .dt.tz_convert("UTC"))
    return result
