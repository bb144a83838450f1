"""Alembic environment: migrations run against the engine the project hands over, or against
the store named by the settings when run from the ``alembic`` command line."""

from alembic import context

from data_loaders.db import make_engine
from data_loaders.models import Base
from survey.settings import Settings

config = context.config
engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
