"""Frozen charts: the numbers of a chart as they were when an embed was made.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frozen_charts",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("chart", sa.String(64), nullable=False),
        sa.Column("filters", sa.String(512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("frozen_charts")
