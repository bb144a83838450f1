"""Recognising which kind of export a file is, from its header rows alone.

Detection reads no more than the header, so every file of a command can be checked before
anything is written: a file that is unreadable, of no known format, or lacking a question's
column stops the command with one line saying why, and the store is untouched.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from data_loaders.importers import google_forms, surveymonkey, template
from data_loaders.importers.layout import Layout
from data_loaders.importers.sources import ExportFile, FileProblem, open_export

EXPECTED = ("expected the response template (respondent_id, submitted_at, then one column per "
            "question), a SurveyMonkey export (CSV or XLSX, with Respondent ID and End Date "
            "columns) or a Google Forms CSV export (Timestamp, then one column per question)")


@dataclass(frozen=True)
class Detected:
    """A readable export of a known format, ready to import."""

    export: ExportFile
    layout: Layout

    @property
    def path(self) -> Path:
        return self.export.path

    @property
    def format(self) -> str:
        suffix = "_xlsx" if self.export.container == "xlsx" else ""
        return f"{self.layout.format}{suffix}"

    @property
    def description(self) -> str:
        details = ", ".join(filter(None, (self.export.container.upper(), self.layout.variant)))
        return f"{self.layout.description} ({details})"


def _layout(headers: list[list[str]]) -> Layout:
    first = headers[0]
    if template.looks_like(first):
        return template.layout(headers)
    if surveymonkey.looks_like(first):
        return surveymonkey.layout(headers)
    if google_forms.looks_like(first):
        return google_forms.layout(headers)
    raise FileProblem(f"not a recognised export: {EXPECTED}")


def detect(path: Path) -> Detected:
    """What ``path`` holds; raises :class:`FileProblem` when it cannot be imported."""
    export = open_export(path)
    records = export.records()
    try:
        headers = [cells for _, cells in itertools.islice(records, 2)]
    finally:
        records.close()  # type: ignore[attr-defined]
    if not headers:
        raise FileProblem("the file is empty")
    return Detected(export, _layout(headers))
