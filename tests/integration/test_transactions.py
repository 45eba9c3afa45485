"""The service layer on a real database: one transaction per change, races resolved by version."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from services.access import Actor, admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.errors import Conflict
from services.lifecycle import pledge_store, records
from services.persistence.tables import History, Pledge
from services.persistence.uow import UnitOfWork
from services.usecases import directory, pledges
from services.usecases.campaigns import create_campaign
from workflow import TransitionNotAllowed

NOW = dt.datetime(2030, 9, 1, 8, tzinfo=dt.UTC)
ITEMS = [{"content": "认真备好每一节课，提高教学质量", "measure": "每周集体备课"}]


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    c = build_container(Settings(database_url=db_url))
    yield c
    c.db.dispose()


def _do(c: Container, fn, *args):  # type: ignore[no-untyped-def]
    with UnitOfWork(c.db) as uow:
        return fn(uow, *args)


def _setup(c: Container) -> tuple[int, Actor, Actor]:
    """A branch with a secretary and a member whose pledge is waiting for review."""
    admin = admin_actor()
    org = _do(c, directory.create_org, admin, "一中党支部", "branch", None)
    sec_person = _do(c, directory.create_person, admin, {"name": "王书记", "org_id": org.id, "status": "full"})
    member = _do(c, directory.create_person, admin, {"name": "李老师", "org_id": org.id, "status": "full"})
    _do(c, create_campaign, c.catalog, admin, 2030, None, NOW, c.settings.timezone)
    roles = [{"role": "secretary", "org_id": org.id}]
    sec_user, _ = _do(c, directory.create_user, admin, "王书记", sec_person.id, roles, NOW)
    member_user, _ = _do(c, directory.create_user, admin, "李老师", member.id, [{"role": "member"}], NOW)
    with UnitOfWork(c.db, write=False) as uow:
        sec = directory.user_actor(uow.session, sec_user.id)
        owner = directory.user_actor(uow.session, member_user.id)
    pid = _do(
        c, pledges.create, c.engines["pledge"], owner, {"year": 2030, "person_id": member.id, "items": ITEMS}, NOW
    )
    _do(c, pledges.fire_event, c.engines["pledge"], owner, pid, {"event": "submit"}, None, NOW)
    return pid, sec, owner


def _history(c: Container, pid: int) -> list[History]:
    with UnitOfWork(c.db, write=False) as uow:
        return records.history_of(uow.session, "pledge", pid)


def test_racing_approvals_exactly_one_wins(container: Container) -> None:
    pid, sec, _ = _setup(container)
    barrier, outcomes = threading.Barrier(8), []

    def approve() -> None:
        barrier.wait()
        try:
            _do(container, pledges.fire_event, container.engines["pledge"], sec, pid, {"event": "approve"}, None, NOW)
            outcomes.append("ok")
        except (Conflict, TransitionNotAllowed) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=approve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == 8
    assert [h.event for h in _history(container, pid)].count("approve") == 1


def test_a_failure_after_the_state_change_keeps_nothing(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    pid, sec, _ = _setup(container)
    before = len(_history(container, pid))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(records, "append_history", broken)
    with pytest.raises(RuntimeError):
        _do(container, pledges.fire_event, container.engines["pledge"], sec, pid, {"event": "approve"}, None, NOW)
    with UnitOfWork(container.db, write=False) as uow:
        pledge = uow.session.get(Pledge, pid)
        assert pledge is not None and pledge.state == "reviewing" and pledge.version == 2
    assert len(_history(container, pid)) == before


def test_stale_version_is_refused(container: Container) -> None:
    pid, sec, _ = _setup(container)
    from services.errors import PreconditionFailed

    with pytest.raises(PreconditionFailed):
        _do(container, pledges.fire_event, container.engines["pledge"], sec, pid, {"event": "approve"}, 1, NOW)
    _do(container, pledges.fire_event, container.engines["pledge"], sec, pid, {"event": "approve"}, 2, NOW)


def test_a_write_from_a_stale_read_is_a_conflict_and_keeps_nothing(container: Container) -> None:
    pid, sec, _ = _setup(container)
    with UnitOfWork(container.db, write=False) as uow:
        stale = pledge_store.load(uow.session, sec, pid).pledge
    _do(container, pledges.fire_event, container.engines["pledge"], sec, pid, {"event": "approve"}, None, NOW)

    def write_stale(uow: UnitOfWork) -> None:
        pledge_store.write(uow.session, stale, state="proposing", updated_at=NOW)
        uow.commit()

    with pytest.raises(Conflict):
        _do(container, write_stale)
    with UnitOfWork(container.db, write=False) as uow:
        pledge = uow.session.get(Pledge, pid)
        assert pledge is not None and (pledge.state, pledge.version) == ("publicizing", stale.version + 1)
