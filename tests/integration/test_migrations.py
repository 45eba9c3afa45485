"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import SQLModel

from services.entrypoints.cli import main
from services.persistence.db import make_engine, migrate

HEAD = "0011"


def test_an_empty_database_migrates_to_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        migrate(engine)  # a second start-up finds nothing to do
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
    finally:
        engine.dispose()


def test_every_table_with_an_id_never_hands_a_deleted_id_out_again(db_url: str) -> None:
    """Models and migrations alike: SQLite tables carry AUTOINCREMENT (compare_metadata does not look)."""
    with_ids = [t for t in SQLModel.metadata.sorted_tables if "id" in t.c and t.c.id.primary_key]
    assert len(with_ids) >= 20 and all(t.dialect_options["sqlite"]["autoincrement"] for t in with_ids)
    engine = make_engine(db_url)
    try:
        migrate(engine)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                ddl = dict(conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
            assert [t.name for t in with_ids if "AUTOINCREMENT" not in ddl[t.name]] == []
        insert = sa.text("INSERT INTO org (name, kind, path) VALUES ('工委', 'committee', '')")
        with engine.begin() as conn:
            conn.execute(insert)
            first = conn.execute(sa.text("SELECT max(id) FROM org")).scalar_one()
            conn.execute(sa.text("DELETE FROM org"))
            conn.execute(insert)
            assert conn.execute(sa.text("SELECT max(id) FROM org")).scalar_one() > first
    finally:
        engine.dispose()


def test_a_database_with_rows_keeps_them_and_its_links_through_the_rebuild(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    try:
        migrate(engine, "0003")
        with engine.begin() as conn:
            orgs = [(1, "工委", "committee", None), (2, "一支部", "branch", 1), (3, "二支部", "branch", 1)]
            for oid, name, kind, parent in orgs:
                row = {"id": oid, "name": name, "kind": kind, "parent": parent}
                conn.execute(sa.text("INSERT INTO org VALUES (:id, :name, :kind, :parent, '')"), row)
            conn.execute(sa.text("INSERT INTO person (id, name, org_id, status) VALUES (1, '王老师', 2, 'full')"))
            conn.execute(sa.text("DELETE FROM org WHERE id = 3"))  # the newest org: its id came back before
        migrate(engine)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT id, name, parent_id FROM org ORDER BY id")).all() == [
                (1, "工委", None),
                (2, "一支部", 1),
            ]
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1, "switched back on after the rebuild"
            assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
            conn.execute(sa.text("INSERT INTO org (name, kind, parent_id, path) VALUES ('三支部', 'branch', 1, '')"))
            assert conn.execute(sa.text("SELECT max(id) FROM org")).scalar_one() == 3  # after the highest kept
            with pytest.raises(sa.exc.IntegrityError):
                conn.execute(sa.text("INSERT INTO person (name, org_id, status) VALUES ('李老师', 99, 'full')"))
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
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


def test_ballots_cast_before_0008_are_carried_over_without_their_link(db_url: str) -> None:
    """0008 turns each old ballot into a count in `tally` and its voter (found with the old key, once) into
    `voted`: a person for an account of a person, the account otherwise; a ballot whose voter is gone still
    counts. Then the ballots and the key are gone."""
    engine = make_engine(db_url)
    try:
        migrate(engine, "0007")
        at = "2026-11-01T08:00:00+00:00"
        key = "old-ballot-key"
        with engine.begin() as conn:
            run = lambda sql, **p: conn.execute(sa.text(sql), p)  # noqa: E731
            run("INSERT INTO org (id, name, kind, path) VALUES (1, '一支部', 'branch', '/1/')")
            run("INSERT INTO person (id, name, org_id, status) VALUES (1, '王老师', 1, 'full')")
            for uid, person in ((1, 1), (2, 1), (3, None)):  # two accounts of one person, one of no person
                run(
                    'INSERT INTO "user" (id, name, person_id, token_hash, created_at) VALUES (:id, :n, :p, :t, :at)',
                    id=uid, n=f"用户{uid}", p=person, t=f"{uid:064d}", at=at,
                )  # fmt: skip
            run(
                "INSERT INTO appraisal_round (id, year, org_id, state, version, data, created_at, updated_at)"
                " VALUES (1, 2026, 1, 'open', 1, '{}', :at, :at)",
                at=at,
            )
            run("INSERT INTO app_secret (name, value) VALUES ('ballot_key', :k)", k=key)
            ballots = [(1, "org", 1, "satisfied"), (3, "org", 1, "fairly"), (9, "org", 1, "satisfied")]  # 9: gone
            for n, (uid, subject_type, subject_id, rating) in enumerate(ballots, start=1):
                voter = hmac.new(key.encode(), f"1:{uid}".encode(), hashlib.sha256).hexdigest()
                run(
                    "INSERT INTO ballot (id, round_id, subject_type, subject_id, rating, voter_hash)"
                    " VALUES (:id, 1, :t, :s, :r, :v)",
                    id=n, t=subject_type, s=subject_id, r=rating, v=voter,
                )  # fmt: skip
        migrate(engine)
        with engine.connect() as conn:
            tally = conn.execute(sa.text("SELECT rating, ballots FROM tally ORDER BY rating")).all()
            voted = conn.execute(sa.text("SELECT voter FROM voted ORDER BY voter")).scalars().all()
            tables = set(sa.inspect(conn).get_table_names())
        assert [tuple(r) for r in tally] == [("fairly", 1), ("satisfied", 2)]
        assert voted == ["person:1", "user:3"]
        assert not {"ballot", "app_secret"} & tables
    finally:
        engine.dispose()
