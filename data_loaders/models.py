"""The survey store's tables.

The schema itself is created and changed only by the Alembic migrations in ``migrations/``; a
test checks that these models and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, Index, Integer, String,
                        Text, UniqueConstraint, func, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from survey.questionnaire import NOT_ASKED, QUESTIONS

ID = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; INTEGER PRIMARY KEY (the rowid) on SQLite."""


class Base(DeclarativeBase):
    pass


def _in_list(column: str, codes: tuple[str, ...]) -> CheckConstraint:
    # Written as a chain of ORs, not IN (...): SQLite builds the IN list anew for every row it
    # checks, which made large imports several times slower (migration 0003).
    allowed = " OR ".join(f"{column} = '{code}'" for code in codes)
    return CheckConstraint(allowed, name=f"ck_responses_{column}")


class Response(Base):
    """One person's answers, as codes. No personal data: no name, address, IP or free text."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    source_respondent_id: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    role: Mapped[str] = mapped_column(String(32))
    uses_social_media: Mapped[str] = mapped_column(String(16))
    viewed_profile: Mapped[str] = mapped_column(String(16))
    viewed_for_evidence: Mapped[str] = mapped_column(String(16))
    aware_of_guidance: Mapped[str] = mapped_column(String(16))
    confident_guidance: Mapped[str] = mapped_column(String(16))
    confident_rules: Mapped[str] = mapped_column(String(16))
    knows_who_to_ask: Mapped[str] = mapped_column(String(16))
    release_seq: Mapped[int | None] = mapped_column(ID, nullable=True)
    """The release that first published this response (:class:`Release`); NULL while it waits."""

    __table_args__ = (
        UniqueConstraint("source", "source_respondent_id", name="uq_responses_source_respondent"),
        *(_in_list(q.id, q.stored_codes) for q in QUESTIONS),
        CheckConstraint(
            f"(aware_of_guidance = 'yes') = (confident_guidance <> '{NOT_ASKED}')",
            name="ck_responses_q6_asked_only_after_q5_yes"),
        Index("ix_responses_submitted_at", "submitted_at"),
        Index("ix_responses_release_seq", "release_seq"),
        # The responses waiting to be published: few, whatever the store holds.
        Index("ix_responses_waiting", "id", sqlite_where=text("release_seq IS NULL"),
              postgresql_where=text("release_seq IS NULL")),
        # Ids are never reused, even after the highest rows are deleted.
        {"sqlite_autoincrement": True},
    )


class Quarantine(Base):
    """An input row that could not be accepted, kept with the reason.

    ``raw`` holds the row's recognised columns only (JSON): columns that carry personal data in
    survey exports (IP address, e-mail, names, custom data, free text) are never copied here.
    """

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    line_number: Mapped[int | None] = mapped_column(Integer)
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    import_id: Mapped[int | None] = mapped_column(ID)


class ImportRun(Base):
    """One import of one file: what was detected and what became of its rows."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    demo_removed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StoreMeta(Base):
    """Small facts about the store as a whole.

    ``epoch`` rises whenever rows are removed (demo data making way for real data), so that a
    loader holding rows knows it must start again rather than add to what it has.
    """

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Release(Base):
    """One release of the public figures: the responses it added carry its ``seq``.

    Every public output is computed from the responses of the releases up to the latest one
    (see :mod:`analysis.releases` for the rule a release keeps). ``pooled`` is the role codes
    published only in the pooled group from this release on; ``published_roles`` the role codes
    with at least one published response; ``total`` the responses published up to and
    including this release. ``token`` names the release publicly and says nothing of its size."""

    __tablename__ = "releases"

    seq: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    min_cell_size: Mapped[int] = mapped_column(Integer)
    pooled: Mapped[str] = mapped_column(String(512))
    published_roles: Mapped[str] = mapped_column(String(512))
    added: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = ({"sqlite_autoincrement": True},)


class FrozenChart(Base):
    """A chart's public numbers as one release showed them, kept when a frozen embed was made:
    a published figure must not change under the article. The token is worked out from the
    chart, its resolved filter and the release, so freezing the same again stores nothing new."""

    __tablename__ = "frozen_charts"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    chart: Mapped[str] = mapped_column(String(64))
    filters: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text)
    release: Mapped[str | None] = mapped_column(String(32), nullable=True)
