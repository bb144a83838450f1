"""Figures for the researchers' private view: what was refused, what was imported, how complete
the answers are and when they arrived. Not public: quarantine rows hold raw input."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Row, case, func, select

from data_loaders.models import ImportRun, Quarantine, Response
from survey.questionnaire import NO_ANSWER, NOT_ASKED, QUESTIONS


@dataclass(frozen=True)
class ItemNonResponse:
    question_id: str
    number: int
    asked: int
    no_answer: int

    @property
    def percent(self) -> float:
        return 100 * self.no_answer / self.asked if self.asked else 0.0


def item_nonresponse(connection: Connection) -> list[ItemNonResponse]:
    """Per question: how many were asked it, and how many of them left it blank."""
    columns = []
    for q in QUESTIONS:
        column = getattr(Response, q.id)
        columns += [func.sum(case((column != NOT_ASKED, 1), else_=0)),
                    func.sum(case((column == NO_ANSWER, 1), else_=0))]
    row = connection.execute(select(*columns)).one()
    return [ItemNonResponse(q.id, q.number, int(row[2 * i] or 0), int(row[2 * i + 1] or 0))
            for i, q in enumerate(QUESTIONS)]


def import_history(connection: Connection, limit: int = 100) -> list[Row]:
    table = ImportRun.__table__
    return list(connection.execute(select(table).order_by(table.c.id.desc()).limit(limit)))


def import_totals(connection: Connection) -> Row:
    table = ImportRun.__table__
    return connection.execute(select(
        func.count(), func.coalesce(func.sum(table.c.accepted), 0),
        func.coalesce(func.sum(table.c.duplicates), 0),
        func.coalesce(func.sum(table.c.quarantined), 0))).one()


def quarantine_page(connection: Connection, *, limit: int, offset: int) -> tuple[int, list[Row]]:
    """One page of the quarantine, newest first, and how many rows it holds in all."""
    table = Quarantine.__table__
    total = connection.scalar(select(func.count()).select_from(table)) or 0
    rows = connection.execute(select(table).order_by(table.c.id.desc())
                              .limit(limit).offset(offset))
    return int(total), list(rows)


def responses_by_source(connection: Connection) -> list[Row]:
    return list(connection.execute(
        select(Response.source, Response.is_demo, func.count(), func.min(Response.submitted_at),
               func.max(Response.submitted_at))
        .group_by(Response.source, Response.is_demo).order_by(Response.source)))


def submissions_by_hour(connection: Connection) -> list[tuple[int, int]]:
    """Responses by hour of the day (UTC) they were submitted: when people answer."""
    if connection.dialect.name == "postgresql":
        hour = func.extract("hour", func.timezone("UTC", Response.submitted_at))
    else:  # stored as UTC text
        hour = func.strftime("%H", Response.submitted_at)
    rows = connection.execute(select(hour, func.count()).group_by(hour).order_by(hour))
    return [(int(h), int(n)) for h, n in rows]
