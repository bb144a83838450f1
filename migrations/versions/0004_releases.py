"""Releases: the public figures are computed from published responses only, and a release adds
responses in steps that single nobody out (analysis.releases).

Responses already in the store wait to be published, like new ones: the first release after
this migration publishes those the rule allows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("seq", ID, nullable=False, autoincrement=True),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_cell_size", sa.Integer(), nullable=False),
        sa.Column("pooled", sa.String(512), nullable=False),
        sa.Column("published_roles", sa.String(512), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("token"),
        sqlite_autoincrement=True,
    )
    # A nullable column without a default: added in place on SQLite, no copy of the table.
    op.add_column("responses", sa.Column("release_seq", ID, nullable=True))
    op.create_index("ix_responses_release_seq", "responses", ["release_seq"])
    op.create_index("ix_responses_waiting", "responses", ["id"],
                    sqlite_where=sa.text("release_seq IS NULL"),
                    postgresql_where=sa.text("release_seq IS NULL"))
    op.add_column("frozen_charts", sa.Column("release", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("frozen_charts", "release")
    op.drop_index("ix_responses_waiting", table_name="responses")
    op.drop_index("ix_responses_release_seq", table_name="responses")
    with op.batch_alter_table("responses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("release_seq")
    op.drop_table("releases")
