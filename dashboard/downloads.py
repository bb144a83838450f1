"""A chart's numbers as CSV and XLSX files: aggregates only, with notes and sources.

The CSV is tidy and loads as it is (``pandas.read_csv(url)``): one header row, then one row per
figure, each with its base, non-response, interval and flags as columns, and the filter, the
time of the data and whether it is demo data as the last columns. Notes and sources are in the
JSON download and on the workbook's second sheet, "About". File names say the chart, its
choices, the filter and the day of the data.

Text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return) is written so that it stays text: in CSV with a leading apostrophe, in XLSX as a string
cell. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _about(payload: dict[str, Any]) -> list[tuple[str, str]]:
    about = [("title", payload["title"]), ("filters", payload["filters_text"]),
             ("n", "not shown (too few responses)" if payload["n"] is None else str(payload["n"])),
             ("data as of", payload["as_of"])]
    if payload.get("demo_data"):
        about.append(("warning", "demo data: synthetic responses, not survey results"))
    about += [("source", s) for s in payload["sources"]]
    about += [("note", n) for n in payload["notes"]]
    return about


def flat_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The payload's rows with each interval [low, high] as two numeric columns."""
    rows = []
    for row in payload["rows"]:
        flat: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, (list, tuple)):
                flat[f"{key}_low"], flat[f"{key}_high"] = value
            elif key.endswith("ci95") and value is None:
                flat[f"{key}_low"] = flat[f"{key}_high"] = None
            else:
                flat[key] = value
        rows.append(flat)
    return rows


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def data_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the CSV and of the workbook's data sheet: the payload's flat rows, each with
    the filter, the time of the data and the demo flag."""
    context = {"filters": payload["filters_text"], "data_as_of": payload["as_of"],
               "demo_data": bool(payload.get("demo_data"))}
    return [{**row, **context} for row in flat_rows(payload)]


def file_stem(payload: dict[str, Any]) -> str:
    """``survey-crosstab-aware_of_guidance-by-viewed_for_evidence-social_worker-uses-social-media-2018-11-28``:
    the chart, its choices, the filter (as applied) and the day of the data."""
    parts = ["survey", payload["chart"]]
    choices = payload.get("choices", {})
    if "rows" in choices:
        parts += [choices["rows"], "by", choices["columns"]]
    else:
        parts += choices.values()
    filters = payload["filters"]
    parts.append("+".join(filters["role"]) or "all-roles")
    social = {"yes": "uses-social-media", "no": "no-social-media"}.get(filters["social_media"])
    if social:
        parts.append(social)
    parts.append(payload["as_of"][:10])
    return "-".join(parts)


def to_csv(payload: dict[str, Any]) -> bytes:
    """One header row, then one row per answer, comparison or cell (see the module's
    docstring); UTF-8 with a byte-order mark, for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    rows = data_rows(payload)
    columns = _columns(rows)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_text(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(payload: dict[str, Any]) -> bytes:
    # openpyxl is read when a workbook is first asked for, not by every worker at start-up.
    from openpyxl import Workbook

    book = Workbook()
    data = book.active
    data.title = "Data"
    rows = data_rows(payload)
    columns = _columns(rows)
    data.append(columns)
    for row in rows:
        data.append([row.get(c) for c in columns])
    about = book.create_sheet("About")
    for key, value in _about(payload):
        about.append([key, value])
    for sheet in (data, about):
        for line in sheet.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
    # The workbook's own dates, and its zip members' times, are the data's, so the same data
    # always gives the same file. (Workbook.save would stamp both with the moment of saving.)
    from openpyxl.writer.excel import ExcelWriter

    stamp = datetime.fromisoformat(payload["as_of"]).replace(tzinfo=None)
    book.properties.created = book.properties.modified = stamp
    buffer = io.BytesIO()
    ExcelWriter(book, _StampedZip(buffer, max(stamp, ZIP_EPOCH))).save()
    return buffer.getvalue()


ZIP_EPOCH = datetime(1980, 1, 1)
"""The earliest time a zip member can carry."""


class _StampedZip(zipfile.ZipFile):
    """A zip being written whose members all carry one time, not the moment each is written."""

    def __init__(self, file, stamp: datetime) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.stamp = stamp.timetuple()[:6]

    def writestr(self, name, data, *args, **kwargs) -> None:
        if isinstance(name, str):
            info = zipfile.ZipInfo(name, date_time=self.stamp)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16  # as ZipFile gives a member written by name
            name = info
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs) -> None:
        """A file's content, under the zip's one time rather than the file's."""
        with open(filename, "rb") as source:
            self.writestr(arcname or str(filename), source.read())
