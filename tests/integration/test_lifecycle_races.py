"""Every lifecycle on the one event path, raced: N identical events at once on one record — exactly
one wins, the version moves once, one history row is written (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.access import Actor, admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.errors import Conflict
from services.lifecycle import history
from services.persistence.uow import UnitOfWork
from services.usecases import appraisals, demo_sites, events, rectifications, self_evaluations
from services.usecases.commands import CreateRound, CreateSelfEvaluation, IssueRectification, NominateSite
from tests import usecases as uc
from workflow import TransitionNotAllowed

NOW = dt.datetime(2030, 9, 1, 8, tzinfo=dt.UTC)
ITEMS = [{"content": "认真备好每一节课，提高教学质量", "measure": "每周集体备课"}]
RACERS = 8


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    c = build_container(Settings(database_url=db_url, scheduler=False))
    yield c
    c.db.dispose()


def _branch(c: Container) -> tuple[int, Actor, Actor]:
    org = uc.org(c, "一中党支部")
    uc.campaign(c, 2030, NOW)
    sec_person, member = uc.person(c, "王书记", org.id), uc.person(c, "李老师", org.id)
    secretary = uc.user(c, "王书记", sec_person.id, [{"role": "secretary", "org_id": org.id}], NOW)
    owner = uc.user(c, "李老师", member.id, [{"role": "member"}], NOW)
    return org.id, secretary, owner


def _pledge(c: Container) -> tuple[int, Actor, dict[str, Any]]:
    _, secretary, owner = _branch(c)
    pid = uc.pledge(c, owner, {"year": 2030, "person_id": owner.person_id, "items": ITEMS}, NOW)
    uc.fire(c, owner, pid, {"event": "submit"}, NOW)
    return pid, secretary, {"event": "approve"}


def _self_evaluation(c: Container) -> tuple[int, Actor, dict[str, Any]]:
    org_id, secretary, _ = _branch(c)
    cmd = CreateSelfEvaluation(year=2030, org_id=org_id)
    return uc.do(c, self_evaluations.create, c.lifecycles, secretary, cmd, NOW), secretary, {"event": "start"}


def _round(c: Container) -> tuple[int, Actor, dict[str, Any]]:
    org_id, secretary, _ = _branch(c)
    rid = uc.do(c, appraisals.open_round, c.lifecycles, secretary, CreateRound(year=2030, org_id=org_id), NOW)
    return rid, secretary, {"event": "open"}


def _demo_site(c: Container) -> tuple[int, Actor, dict[str, Any]]:
    org_id, secretary, _ = _branch(c)
    cmd = NominateSite(
        year=2030, org_id=org_id, typical_formulation="提法", typical_person="人物", typical_event="事件"
    )
    sid = uc.do(c, demo_sites.nominate, c.lifecycles, secretary, cmd, NOW)
    return sid, admin_actor(), {"event": "evaluate", "data": {"methods": ["report", "site_visit"]}}


def _rectification(c: Container) -> tuple[int, Actor, dict[str, Any]]:
    org_id, secretary, _ = _branch(c)
    cmd = IssueRectification(year=2030, org_id=org_id, problems="组织生活不经常", due_date=dt.date(2030, 12, 1))
    oid = uc.do(c, rectifications.issue, c.lifecycles, admin_actor(), cmd, NOW)
    return oid, secretary, {"event": "acknowledge"}


SETUPS: dict[str, Callable[[Container], tuple[int, Actor, dict[str, Any]]]] = {
    "pledge": _pledge,
    "self_evaluation": _self_evaluation,
    "appraisal_round": _round,
    "demo_site": _demo_site,
    "rectification": _rectification,
}


@pytest.mark.parametrize("lifecycle", sorted(SETUPS))
def test_identical_events_at_once_exactly_one_wins(container: Container, lifecycle: str) -> None:
    record_id, actor, body = SETUPS[lifecycle](container)
    before = _record(container, lifecycle, record_id)
    barrier, outcomes = threading.Barrier(RACERS), []

    def fire() -> None:
        barrier.wait()
        try:
            uc.fire(container, actor, record_id, body, NOW, lifecycle=lifecycle)
            outcomes.append("ok")
        except (Conflict, TransitionNotAllowed) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=fire) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == RACERS, outcomes
    after = _record(container, lifecycle, record_id)
    assert after["version"] == before["version"] + 1
    with UnitOfWork(container.db, write=False) as uow:
        rows = history.history_of(uow.session, lifecycle, record_id)
    assert [h.event for h in rows].count(body["event"]) == 1


def _record(c: Container, lifecycle: str, record_id: int) -> dict[str, Any]:
    with UnitOfWork(c.db, write=False) as uow:
        return events.get(uow.session, c.lifecycles, admin_actor(), lifecycle, record_id, NOW)
