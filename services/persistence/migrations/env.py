"""Alembic environment: migrates the connection handed in by persistence.db.migrate (or the URL in settings)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import notifications.tables  # noqa: F401  (registers the outbox tables)
import services.persistence.tables  # noqa: F401  (registers the domain tables)

target_metadata = SQLModel.metadata


def run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_from_config(
        context.config.get_section(context.config.config_ini_section) or {}, poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        run(conn)
