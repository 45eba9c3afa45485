"""`pledgeflow audit verify` finds a history row edited, deleted or inserted behind the service's back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from services.access import admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.entrypoints.cli import main
from services.lifecycle import audit
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
        return list(audit.verify(uow.session))


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
