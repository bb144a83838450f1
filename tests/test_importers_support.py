"""Helpers for the importer tests: importing a file, and reading back everything the store holds.

The personal-data checks read every table and the SQLite file's own bytes, so that a value
leaking into any column, or into a page the tables no longer show, is caught.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, inspect, select, text

from data_loaders.db import WRITE
from data_loaders.importers import ImportSummary, detect, import_file
from data_loaders.models import Base

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
TEMPLATE = FIXTURES / "template.csv"
SURVEYMONKEY = FIXTURES / "surveymonkey.csv"
EXPANDED = FIXTURES / "surveymonkey_expanded.csv"
GOOGLE_FORMS = FIXTURES / "google_forms.csv"

PERSONAL = {
    TEMPLATE: ["Called Ms Example", "07700 900123", "Spoke to the"],
    SURVEYMONKEY: ["203.0.113.7", "jane.doe@example.org", "Jane", "ref-991", "231000001",
                   "Agency locum in Leeds", "Locum at Sheffield council",
                   "quarantined.person@example.org", "Quinn", "no.date@example.org", "ref-995",
                   "09/12/2018 10:01:00 AM"],
    EXPANDED: ["198.51.100.1", "e1@example.org", "e3@example.org",
               "Independent consultant J. Smith"],
    GOOGLE_FORMS: ["a.person@example.org", "e.person@example.org", "f.person@example.org",
                   "Youth offending officer at Barnsley"],
}
"""Values in the fixtures that must never reach the store (personal data, free text, unused
metadata)."""


def import_path(engine: Engine, path: Path, **options) -> ImportSummary:
    """Detect and import ``path`` in one write transaction, as the command does."""
    detected = detect(path)
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        return import_file(connection, detected, **options)


def rows(engine: Engine, table: str) -> list[dict]:
    """Every row of ``table`` in id order, typed as the models say."""
    columns = Base.metadata.tables[table]
    with engine.connect() as connection:
        query = select(columns).order_by(*columns.primary_key.columns)
        return [dict(r._mapping) for r in connection.execute(query)]


def responses(engine: Engine) -> dict[str, dict]:
    """Stored responses by respondent id."""
    return {r["source_respondent_id"]: r for r in rows(engine, "responses")}


def quarantined(engine: Engine) -> list[dict]:
    found = rows(engine, "quarantine")
    for row in found:
        row["raw"] = json.loads(row["raw"])
    return found


def everything_stored(engine: Engine) -> str:
    """Every value of every table, as text, and the database files' bytes, decoded loosely."""
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        values = [repr(r) for table in tables
                  for r in connection.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    database = Path(engine.url.database)
    files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    raw = b"".join(p.read_bytes() for p in files).decode("utf-8", errors="replace")
    return "\n".join(values) + raw


def assert_not_stored(engine: Engine, values: list[str]) -> None:
    stored = everything_stored(engine)
    leaked = [v for v in values if v in stored]
    assert not leaked, f"personal data reached the store: {leaked}"
