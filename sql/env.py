"""Alembic environment: migrations run on the engine hoering hands over, or the settings' URL."""

from __future__ import annotations

from alembic import context

from flows.adapters.db.engine import make_engine
from flows.adapters.db.tables import Base
from flows.settings import Settings

config = context.config
engine = config.attributes.get("engine") or make_engine(Settings().resolved_database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
