"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import SQLModel

from services.entrypoints.cli import main
from services.persistence.db import make_engine, migrate


def test_an_empty_database_migrates_to_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        migrate(engine)  # a second start-up finds nothing to do
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
    finally:
        engine.dispose()


def test_the_migrate_command(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    engine = make_engine(db_url)
    try:
        assert "pledge" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
