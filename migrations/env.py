"""Alembic environment: migrations run against the engine the project hands over, or against
the store named by the settings when run from the ``alembic`` command line."""

from alembic import context
from sqlalchemy import text

from data_loaders.db import WRITE, make_engine
from data_loaders.models import Base
from survey.settings import Settings

config = context.config
engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)

# Several workers may start on a new store at once: migrations take the store's write lock
# (SQLite) or an advisory lock (PostgreSQL) so that one migrates and the others then find it done.
MIGRATION_LOCK = 7_306_163_515

with engine.connect().execution_options(**WRITE) as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
