"""The service layer on a real database: one transaction per change, races resolved by version."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from services.access import Actor
from services.config import Settings
from services.container import Container, build_container
from services.errors import Conflict
from services.lifecycle import history, store
from services.persistence.tables import History, Pledge
from services.persistence.uow import UnitOfWork
from services.usecases import pledges
from tests import usecases as uc
from workflow import TransitionNotAllowed

NOW = dt.datetime(2030, 9, 1, 8, tzinfo=dt.UTC)
ITEMS = [{"content": "认真备好每一节课，提高教学质量", "measure": "每周集体备课"}]


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    c = build_container(Settings(database_url=db_url))
    yield c
    c.db.dispose()


def _setup(c: Container) -> tuple[int, Actor, Actor]:
    """A branch with a secretary and a member whose pledge is waiting for review."""
    org = uc.org(c, "一中党支部")
    sec_person = uc.person(c, "王书记", org.id)
    member = uc.person(c, "李老师", org.id)
    uc.campaign(c, 2030, NOW)
    sec = uc.user(c, "王书记", sec_person.id, [{"role": "secretary", "org_id": org.id}], NOW)
    owner = uc.user(c, "李老师", member.id, [{"role": "member"}], NOW)
    pid = uc.pledge(c, owner, {"year": 2030, "person_id": member.id, "items": ITEMS}, NOW)
    uc.fire(c, owner, pid, {"event": "submit"}, NOW)
    return pid, sec, owner


def _history(c: Container, pid: int) -> list[History]:
    with UnitOfWork(c.db, write=False) as uow:
        return history.history_of(uow.session, "pledge", pid)


def test_racing_approvals_exactly_one_wins(container: Container) -> None:
    pid, sec, _ = _setup(container)
    barrier, outcomes = threading.Barrier(8), []

    def approve() -> None:
        barrier.wait()
        try:
            uc.fire(container, sec, pid, {"event": "approve"}, NOW)
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

    monkeypatch.setattr(history, "append_history", broken)
    with pytest.raises(RuntimeError):
        uc.fire(container, sec, pid, {"event": "approve"}, NOW)
    with UnitOfWork(container.db, write=False) as uow:
        pledge = uow.session.get(Pledge, pid)
        assert pledge is not None and pledge.state == "reviewing" and pledge.version == 2
    assert len(_history(container, pid)) == before


def test_stale_version_is_refused(container: Container) -> None:
    pid, sec, _ = _setup(container)
    from services.errors import PreconditionFailed

    with pytest.raises(PreconditionFailed):
        uc.fire(container, sec, pid, {"event": "approve"}, NOW, if_match=1)
    uc.fire(container, sec, pid, {"event": "approve"}, NOW, if_match=2)


def test_a_write_from_a_stale_read_is_a_conflict_and_keeps_nothing(container: Container) -> None:
    pid, sec, _ = _setup(container)
    with UnitOfWork(container.db, write=False) as uow:
        stale = store.load(uow.session, pledges.KIND, sec, pid).record
    uc.fire(container, sec, pid, {"event": "approve"}, NOW)

    def write_stale(uow: UnitOfWork) -> None:
        store.write(uow.session, pledges.KIND, stale, state="proposing", updated_at=NOW)
        uow.commit()

    with pytest.raises(Conflict):
        uc.do(container, write_stale)
    with UnitOfWork(container.db, write=False) as uow:
        pledge = uow.session.get(Pledge, pid)
        assert pledge is not None and (pledge.state, pledge.version) == ("publicizing", stale.version + 1)
