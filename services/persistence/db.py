"""Database engine construction and schema set-up, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from services.persistence import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine tuned per dialect: SQLite gets WAL, a busy timeout and foreign keys.

    Bound parameters (token hashes, webhook secrets, everything users typed) are kept out of SQL
    echo and out of the messages of database errors, which end up in logs."""
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return sa.create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself, so a write transaction can take the lock up front.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # Checkpoint every ~120 MB of WAL rather than 4 MB: a sweep chunk rewrites thousands of scattered
    # pages, and at the default each commit paid for a checkpoint and its fsync.
    cur.execute("PRAGMA wal_autocheckpoint=30000")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # A writing unit of work takes the lock up front (BEGIN IMMEDIATE): a deferred transaction
    # that reads and then writes fails at once on lock upgrade, without waiting for its turn.
    write = conn.get_execution_options().get("pledgeflow_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic); start-up and `pledgeflow migrate` call this."""
    config = alembic_config()
    # Several workers or replicas may start at once: one migrates, the others wait for it and then
    # find nothing to do (PostgreSQL: an advisory lock; SQLite: the write lock taken up front).
    with engine.connect() as plain:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # a migration that rebuilds a table drops the one referenced (see versions/0004)
            _sqlite_foreign_keys(plain, on=False)
        try:
            with plain.execution_options(pledgeflow_write=True).begin() as tx:
                connection = tx.connection
                if not sqlite:
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(7076001)"))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            if sqlite:
                _sqlite_foreign_keys(plain, on=True)


def _sqlite_foreign_keys(conn: sa.Connection, on: bool) -> None:
    """PRAGMA foreign_keys is a no-op inside a transaction: set it on the driver's connection, outside one."""
    conn.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]
