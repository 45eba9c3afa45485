"""`pledgeflow audit verify` finds a history row edited, deleted or inserted behind the service's back."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from sqlmodel import col, select

from services.access import admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.entrypoints.cli import main
from services.lifecycle import audit
from services.persistence.db import alembic_config, migrate
from services.persistence.history_hash import canonical
from services.persistence.tables import History
from services.persistence.uow import UnitOfWork
from tests import usecases as uc

NOW = dt.datetime(2030, 9, 1, 8, tzinfo=dt.UTC)
ITEMS = [{"content": "认真备好每一节课，提高教学质量", "measure": "每周集体备课"}]


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    c = build_container(Settings(database_url=db_url))
    uc.org(c, "一中党支部")
    uc.campaign(c, 2030, NOW)
    yield c
    c.db.dispose()


def _pledge_with_history(c: Container) -> int:
    admin = admin_actor()
    with UnitOfWork(c.db, write=False) as uow:
        org_id = uow.session.execute(sa.text("SELECT id FROM org")).scalar_one()
    pid = uc.pledge(c, admin, {"year": 2030, "org_id": org_id, "items": ITEMS}, NOW)
    uc.fire(c, admin, pid, {"event": "withdraw", "reason": "重复录入"}, NOW + dt.timedelta(hours=1))
    return pid


def _verify(c: Container) -> list[audit.Broken]:
    with UnitOfWork(c.db, write=False) as uow:
        return list(audit.verify(uow.session, c.lifecycles.history_key))


def _sql(c: Container, statement: str, **params: object) -> None:
    with c.db.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_an_untouched_history_verifies(container: Container, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _pledge_with_history(container)
    assert _verify(container) == []
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0 and "2 history rows" in result.output


@pytest.mark.parametrize(
    "tamper, expected",
    [
        ("UPDATE history SET reason = '无' WHERE subject_id = :pid AND seq = 2", "内容与哈希不符"),
        ("UPDATE history SET actor_name = '别人' WHERE subject_id = :pid AND seq = 1", "内容与哈希不符"),
        ("DELETE FROM history WHERE subject_id = :pid AND seq = 1", "序号不连续"),
        ("DELETE FROM history WHERE subject_id = :pid AND seq = 2", "当前状态"),
        ("UPDATE history SET seq = 3 WHERE subject_id = :pid AND seq = 2", "序号不连续"),
        (
            "INSERT INTO history (subject_type, subject_id, seq, event, from_state, to_state, actor_id, actor_name,"
            " actor_role, at, reason, late, backfilled, effective_on, data, prev_hash, hash)"
            " SELECT subject_type, subject_id, 3, event, from_state, to_state, actor_id, actor_name, actor_role, at,"
            " reason, late, backfilled, effective_on, data, prev_hash, hash FROM history"
            " WHERE subject_id = :pid AND seq = 2",
            "不衔接",
        ),
    ],
)
def test_tampering_is_found(
    container: Container, db_url: str, monkeypatch: pytest.MonkeyPatch, tamper: str, expected: str
) -> None:
    pid = _pledge_with_history(container)
    _sql(container, tamper, pid=pid)
    broken = _verify(container)
    assert len(broken) == 1 and broken[0].subject_id == pid and expected in broken[0].problem
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1 and f"pledge {pid}" in result.output


def _rehash_unkeyed(c: Container, pid: int) -> None:
    """What someone with the database but not the secret can do: recompute the chain with plain SHA-256."""
    with UnitOfWork(c.db) as uow:
        prev = None
        for row in uow.session.exec(select(History).where(History.subject_id == pid).order_by(col(History.seq))):
            row.prev_hash, row.hash = prev, hashlib.sha256(canonical(row.model_dump(), prev)).hexdigest()
            uow.session.add(row)
            prev = row.hash
        uow.commit()


def test_a_change_hidden_by_recomputing_the_chain_is_found(container: Container) -> None:
    pid = _pledge_with_history(container)
    _sql(container, "UPDATE history SET actor_name = '别人' WHERE subject_id = :pid AND seq = 2", pid=pid)
    _rehash_unkeyed(container, pid)
    broken = _verify(container)
    assert [(b.subject_id, b.seq) for b in broken] == [(pid, 1)] and "内容与哈希不符" in broken[0].problem


def test_a_record_whose_whole_history_was_deleted_is_found(container: Container) -> None:
    pid = _pledge_with_history(container)
    _sql(container, "DELETE FROM history WHERE subject_id = :pid", pid=pid)
    broken = _verify(container)
    assert [(b.subject_type, b.subject_id) for b in broken] == [("pledge", pid)]
    assert "没有任何历史" in broken[0].problem


def test_the_upgrade_rekeys_intact_unkeyed_chains_and_leaves_broken_ones(container: Container) -> None:
    """Chains written before 0007 (plain SHA-256) are re-keyed by it; one already broken stays broken."""
    intact, broken = _pledge_with_history(container), _pledge_with_history(container)
    _rehash_unkeyed(container, intact)
    _rehash_unkeyed(container, broken)
    _sql(container, "UPDATE history SET reason = '改过' WHERE subject_id = :pid AND seq = 2", pid=broken)
    _sql(container, "UPDATE alembic_version SET version_num = '0006'")
    migrate(container.db, "0007", history_key=container.lifecycles.history_key)  # the schema is past it otherwise
    assert [b.subject_id for b in _verify(container)] == [broken]  # from its first row, still unkeyed


def test_the_downgrade_gives_intact_chains_back_their_unkeyed_hashes(container: Container) -> None:
    """Below 0007 again: each chain intact under the key is hashed as before it; a broken one is kept."""
    intact, broken = _pledge_with_history(container), _pledge_with_history(container)
    _sql(container, "UPDATE history SET reason = '改过' WHERE subject_id = :pid AND seq = 2", pid=broken)
    before = _hashes(container)
    config = alembic_config()
    config.attributes["history_key"] = container.lifecycles.history_key
    _sql(container, "UPDATE alembic_version SET version_num = '0007'")  # the later migrations are not undone here
    with container.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    after = _hashes(container)
    assert after[broken] == before[broken]
    unkeyed = []
    with UnitOfWork(container.db, write=False) as uow:
        rows = uow.session.exec(select(History).where(History.subject_id == intact).order_by(col(History.seq)))
        prev = None
        for row in rows:
            unkeyed.append(hashlib.sha256(canonical(row.model_dump(), prev)).hexdigest())
            prev = unkeyed[-1]
    assert after[intact] == unkeyed != before[intact]
    _sql(container, "UPDATE alembic_version SET version_num = '0006'")
    migrate(container.db, "0007", history_key=container.lifecycles.history_key)
    assert _hashes(container)[intact] == before[intact] and [b.subject_id for b in _verify(container)] == [broken]


def _hashes(c: Container) -> dict[int, list[str]]:
    with UnitOfWork(c.db, write=False) as uow:
        rows = uow.session.exec(select(History).order_by(col(History.subject_id), col(History.seq)))
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row.subject_id, []).append(row.hash)
        return found
