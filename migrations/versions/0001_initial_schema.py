"""Initial schema: responses, quarantine, imports and store_meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
YES_NO = "'yes', 'no', 'no_answer'"
YES_NO_NOT_SURE = "'yes', 'no', 'not_sure', 'no_answer'"
ROLES = ("'social_worker', 'newly_qualified_social_worker', 'senior_practitioner', "
         "'team_manager', 'service_manager', 'director', 'principal_social_worker', "
         "'independent_reviewing_officer', 'family_support_worker', 'student', 'other', "
         "'no_answer'")


def _in(column: str, codes: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({codes})", name=f"ck_responses_{column}")


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_respondent_id", sa.String(128), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("uses_social_media", sa.String(16), nullable=False),
        sa.Column("viewed_profile", sa.String(16), nullable=False),
        sa.Column("viewed_for_evidence", sa.String(16), nullable=False),
        sa.Column("aware_of_guidance", sa.String(16), nullable=False),
        sa.Column("confident_guidance", sa.String(16), nullable=False),
        sa.Column("confident_rules", sa.String(16), nullable=False),
        sa.Column("knows_who_to_ask", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_respondent_id",
                            name="uq_responses_source_respondent"),
        _in("role", ROLES),
        _in("uses_social_media", YES_NO),
        _in("viewed_profile", YES_NO),
        _in("viewed_for_evidence", YES_NO),
        _in("aware_of_guidance", YES_NO_NOT_SURE),
        _in("confident_guidance", YES_NO_NOT_SURE + ", 'not_asked'"),
        _in("confident_rules", YES_NO_NOT_SURE),
        _in("knows_who_to_ask", YES_NO_NOT_SURE),
        sa.CheckConstraint("(aware_of_guidance = 'yes') = (confident_guidance <> 'not_asked')",
                           name="ck_responses_q6_asked_only_after_q5_yes"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_responses_submitted_at", "responses", ["submitted_at"])
    op.create_table(
        "quarantine",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("import_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "imports",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("demo_removed", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("store_meta")
    op.drop_table("imports")
    op.drop_table("quarantine")
    op.drop_index("ix_responses_submitted_at", table_name="responses")
    op.drop_table("responses")
