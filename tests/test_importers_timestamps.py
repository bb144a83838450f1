"""Reading the timestamps of exports: SurveyMonkey's own shape read by array arithmetic, every
other value by pandas, offsets, time zones and the range of instants the store accepts."""

from __future__ import annotations

from datetime import datetime

import pytest

from data_loaders.importers.timestamps import (GOOGLE_FORMS_FORMATS, MONTH_FIRST_12_HOUR,
                                               SURVEYMONKEY_FORMATS, TEMPLATE_FORMATS,
                                               parse_instants)


def instants(values: list[str], formats=SURVEYMONKEY_FORMATS, zone: str = "UTC"):
    """Each value's UTC instant as a naive datetime (None when refused), and which were out of
    range."""
    parsed = parse_instants(values, formats, zone=zone)
    utc = [None if moment is None else moment.to_pydatetime().replace(tzinfo=None)
           for moment in parsed.utc.astype(object).where(parsed.utc.notna(), None)]
    return utc, parsed.out_of_range.tolist()


SHAPES = [
    "11/28/2018 10:15:32 AM", "11/28/2018 10:15:32 PM", "09/12/2018 12:05:00 AM",
    "09/12/2018 12:05:00 PM", "01/01/2019 12:00:00 AM", "12/31/2018 11:59:59 PM",
    "02/29/2020 01:00:00 PM", "02/29/2019 01:00:00 PM", "04/31/2018 01:00:00 AM",
    "00/12/2018 01:00:00 AM", "13/12/2018 01:00:00 AM", "09/00/2018 01:00:00 AM",
    "09/12/2018 00:05:00 AM", "09/12/2018 13:05:00 PM", "09/12/2018 01:60:00 AM",
    "09/12/2018 01:05:00 XM", "09/12/2018 01:05:00 AX", "09-12-2018 01:05:00 AM",
    "09/12/2018 01:05:00 am", "9/12/2018 01:05:00 AM", "09/12/2018 1:05:00 AM",
    "09/12/0000 01:05:00 AM", "09/12/2018 01:05:0a AM", "o9/12/2018 01:05:00 AM",
]


def _strptime(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, MONTH_FIRST_12_HOUR)
    except ValueError:
        return None


def test_surveymonkey_times_are_read_as_strptime_reads_them():
    """Values in SurveyMonkey's exact shape are read by array arithmetic, the rest by pandas;
    either way, in UTC, as Python's own strptime reads them."""
    utc, _ = instants(SHAPES)
    assert utc == [_strptime(value) for value in SHAPES]
    assert utc[:8] == [datetime(2018, 11, 28, 10, 15, 32), datetime(2018, 11, 28, 22, 15, 32),
                       datetime(2018, 9, 12, 0, 5), datetime(2018, 9, 12, 12, 5),
                       datetime(2019, 1, 1), datetime(2018, 12, 31, 23, 59, 59),
                       datetime(2020, 2, 29, 13), None]


def test_surveymonkey_times_in_the_accounts_zone():
    utc, _ = instants(["09/12/2018 10:05:32 AM",   # BST
                       "11/28/2018 10:15:32 AM",   # GMT
                       "10/28/2018 01:30:00 AM",   # twice that night: the first (BST)
                       "03/25/2018 01:30:00 AM",   # never: moved forward to 02:00 BST
                       "9/12/2018 10:05 AM",       # another of SurveyMonkey's shapes
                       "2018-09-12T10:05:32-05:00",  # an offset wins over the zone
                       ], zone="Europe/London")
    assert utc == [datetime(2018, 9, 12, 9, 5, 32), datetime(2018, 11, 28, 10, 15, 32),
                   datetime(2018, 10, 28, 0, 30), datetime(2018, 3, 25, 1, 0),
                   datetime(2018, 9, 12, 9, 5), datetime(2018, 9, 12, 15, 5, 32)]


def test_instants_are_kept_a_day_inside_the_years_1_to_9999():
    utc, out_of_range = instants([
        "", "not a time",
        "0001-01-01T00:00:00Z", "0001-01-01T23:59:59.999999Z", "0001-01-02T00:00:00Z",
        "9999-12-30T23:59:59.999999Z", "9999-12-31T00:00:00Z",
        "0001-01-02T00:30:00+01:00", "9999-12-30T23:30:00-01:00",
    ], TEMPLATE_FORMATS)
    assert utc == [None, None, None, None, datetime(1, 1, 2),
                   datetime(9999, 12, 30, 23, 59, 59, 999999), None, None, None]
    assert out_of_range == [False, False, True, True, False, False, True, True, True]


@pytest.mark.parametrize("value, formats, zone", [
    ("0001/01/01 12:30:00 AM GMT+1", GOOGLE_FORMS_FORMATS, "Europe/London"),
    ("01/02/0001 08:59:59 AM", SURVEYMONKEY_FORMATS, "Etc/GMT-9"),
    ("12/30/9999 11:00:00 PM", SURVEYMONKEY_FORMATS, "Etc/GMT+1"),
], ids=["google forms, offset", "surveymonkey, zone east", "surveymonkey, zone west"])
def test_a_time_moved_out_of_range_by_its_offset_or_zone_is_out_of_range(value, formats, zone):
    assert instants([value], formats, zone) == ([None], [True])
