"""The project's own CSV template (assets/response-template.csv), for answers gathered elsewhere.

Columns: ``respondent_id``, ``submitted_at`` (ISO 8601; without an offset it is UTC), then one
column per question id holding an answer code or label. It is the format to convert to when a
platform's export is not one of those recognised, so it is strict about the two key columns and
tolerant about everything people change by hand (header case, labels instead of codes).
"""

from __future__ import annotations

from typing import Sequence

from data_loaders.importers.layout import ColumnLayout, describe_column, find_questions
from data_loaders.importers.sources import FileProblem
from data_loaders.importers.timestamps import TEMPLATE_FORMATS
from survey.questionnaire import QUESTIONS, normalise

ID_COLUMN = "respondent_id"
TIME_COLUMN = "submitted_at"
COLUMNS = (ID_COLUMN, TIME_COLUMN, *(q.id for q in QUESTIONS))
NAME = "the response template"


def looks_like(header: Sequence[str]) -> bool:
    keys = {normalise(h) for h in header}
    return ID_COLUMN in keys or TIME_COLUMN in keys


class TemplateLayout(ColumnLayout):
    format = "template"
    description = "response template"
    default_source = "template"
    timestamp_formats = TEMPLATE_FORMATS
    naive_zone = "UTC"


def layout(headers: list[list[str]]) -> TemplateLayout:
    header = headers[0]
    keys = [normalise(h) for h in header]
    for required in (ID_COLUMN, TIME_COLUMN):
        if required not in keys:
            raise FileProblem(f"recognised as {NAME}, but it has no {required} column")
    questions = find_questions(header, NAME)
    used = {keys.index(ID_COLUMN), keys.index(TIME_COLUMN), *questions.values()}
    ignored = [describe_column(h) for i, h in enumerate(header) if i not in used]
    return TemplateLayout(len(header), ignored, id_column=keys.index(ID_COLUMN),
                          time_column=keys.index(TIME_COLUMN), question_columns=questions)
