"""Database engine construction and schema set-up, for SQLite (default) and PostgreSQL.

SQLite and a database file that is not writable (it, its directory, `-wal` or `-shm`): SQLite then opens
a connection read-only, and it stays read-only for good, its writes failing with SQLITE_READONLY
("attempt to write a readonly database") after the file is writable again. Worse, this process's
connections to one file share its `-shm` mapping, read-only if it was mapped while not writable: a
connection opened after the permissions are back still fails while any such connection is open. Pooled,
they kept writes failing (503) until a restart. So no connection is kept that cannot write: a new one
tries a write it rolls back (`PRAGMA user_version` set to its own value) and, refused, is closed and its
error raised, which the request answers 503 with Retry-After (entrypoints/api/problems.py); once the file
is writable the next new connection works. Connections opened before the file turned read-only keep
writing meanwhile: their file descriptors were opened for writing, and permissions are checked at open.
A pooled connection that meets SQLITE_READONLY all the same (the file replaced under it: SQLITE_READONLY_
DBMOVED) is treated as a disconnect, as SQLAlchemy documents for new error codes (`handle_error` setting
`ExceptionContext.is_disconnect`): it and the pool are invalidated, and connections replace them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from services.persistence import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from services.persistence.turns import Turns

POOL_SPARE = 4
"""Connections beyond the requests' own: the scheduler's sweep and dispatch, and `/readyz`."""
POOL_WAIT_S = 10
"""How long a checkout waits for a pooled connection before the request is answered 503."""


def make_engine(url: str, echo: bool = False, requests: int = 32) -> Engine:
    """An engine tuned per dialect: SQLite gets WAL, a busy timeout and foreign keys.

    The pool holds a connection for each request the app works on at once (`requests`, the in-flight
    limit) and a few spare. A request holds at most one connection at a time, but may hold it while it
    waits for a worker thread (FastAPI serialises a sync route's answer in one), so with fewer connections
    than requests the threads would wait for connections held by requests waiting for threads: that
    stalled a burst of 100 until the pool's timeout turned it into 500s.

    Bound parameters (token hashes, webhook secrets, everything users typed) are kept out of SQL
    echo and out of the messages of database errors, which end up in logs."""
    pool: dict[str, Any] = {"pool_size": requests + POOL_SPARE, "max_overflow": 0, "pool_timeout": POOL_WAIT_S}
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:  # in memory: SQLAlchemy's one-connection pool, which takes no sizes
            pool = {}
        engine = sa.create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 30},
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if pool:  # a file
            event.listen(engine, "connect", _sqlite_writable)
        event.listen(engine, "handle_error", _sqlite_read_only_is_a_disconnect)
        _take_turns(engine, Turns())
        return engine
    return sa.create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, **pool)


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


def _sqlite_writable(dbapi_conn: Any, _record: Any) -> None:
    """Refuse a connection SQLite opened read-only (see the module's docstring): a write, rolled back.
    Only new connections pay for it, and wait for SQLite's write lock if another holds it."""
    try:
        dbapi_conn.execute("BEGIN IMMEDIATE")
        try:
            (version,) = dbapi_conn.execute("PRAGMA user_version").fetchone()
            dbapi_conn.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            dbapi_conn.execute("ROLLBACK")
    except BaseException:
        dbapi_conn.close()  # SQLAlchemy does not close a connection its `connect` event refused
        raise


def _sqlite_read_only_is_a_disconnect(context: sa.engine.ExceptionContext) -> None:
    """A pooled connection that met SQLITE_READONLY is thrown away with the pool (see the module's docstring)."""
    error = context.original_exception
    if isinstance(error, sqlite3.Error) and getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY:
        context.is_disconnect = True


WRITER_WAIT_S = 30  # as SQLite's busy_timeout


def _take_turns(engine: Engine, turns: Turns) -> None:
    """SQLite has one write lock per database. This process's writing transactions take it in the
    order they asked for it: a write BEGIN first waits its turn here, then takes SQLite's lock at once
    (BEGIN IMMEDIATE: a deferred transaction that reads and then writes would fail on lock upgrade);
    the turn passes on when the connection goes back to the pool (after its commit or rollback).

    Measured (BENCHMARKS.md, HTTP events on SQLite): left to SQLite's busy handler alone, which
    sleeps up to 100 ms between tries, 32 writers gave p99 1,435 ms; taking turns in order, 91 ms.
    Other processes (a second replica, the CLI) still meet SQLite's busy timeout."""

    def begin(conn: Any) -> None:
        if not conn.get_execution_options().get("pledgeflow_write", False):
            conn.exec_driver_sql("BEGIN")
            return
        if not turns.acquire(timeout=WRITER_WAIT_S):
            raise TimeoutError(f"no turn to write to SQLite in {WRITER_WAIT_S} s")
        conn.connection.info["turn"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            conn.connection.info.pop("turn", None)
            turns.release()
            raise

    def passed_on(dbapi_conn: Any, record: Any, *_: Any) -> None:
        if record.info.pop("turn", False):
            turns.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "checkin", passed_on)
    event.listen(engine, "invalidate", passed_on)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head", history_key: bytes | None = None) -> None:
    """Bring the schema to `revision` (Alembic); start-up and `pledgeflow migrate` call this. A migration
    that re-keys the history chains reads `history_key` (the chains' key from the secret)."""
    config = alembic_config()
    config.attributes["history_key"] = history_key
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
