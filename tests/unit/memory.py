"""What the in-memory use-case tests share: the clock's moment, firing and reading a record, a snapshot of one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.access import Actor
from services.container import Container
from services.lifecycle import deadlines
from services.persistence.uow import UnitOfWork
from services.usecases import events, pledges
from services.usecases.commands import AddComment, AddProgress
from tests import usecases as uc
from tests.county import GOOD_ITEMS, TODAY, YEAR

NOW = TODAY
"""Before every deadline of the campaign's default calendar (the first is pledge_published, 2030-10-31)."""
AFTER_PUBLISHED = dt.datetime(2030, 11, 5, 8, tzinfo=dt.UTC)
"""After pledge_published (2030-10-31, the end of the day in Shanghai)."""
COMMENT = AddComment(achievements="备课认真", problems="家访记录不全", direction="坚持家访")


def fire(
    c: Container,
    actor: Actor,
    record_id: int,
    event: str,
    lifecycle: str = "pledge",
    if_match: int | None = None,
    now: dt.datetime = NOW,
    **body: Any,
) -> dict[str, Any]:
    return uc.fire(c, actor, record_id, {"event": event, **body}, now, if_match, lifecycle)


def view(c: Container, actor: Actor, lifecycle: str, record_id: int, now: dt.datetime = NOW) -> dict[str, Any]:
    return dict(uc.read(c, events.get, c.lifecycles, actor, lifecycle, record_id, now))


def history(c: Container, actor: Actor, lifecycle: str, record_id: int) -> list[dict[str, Any]]:
    return list(uc.read(c, events.record_history, c.lifecycles, actor, lifecycle, record_id))


def statuses(record: dict[str, Any]) -> dict[str, str]:
    return {d["name"]: d["status"] for d in record["deadlines"]}


def member_pledge(c: Container, r: uc.Roster, who: str = "m1", items: list[dict[str, Any]] | None = None) -> int:
    body = {"year": YEAR, "person_id": r.people[who], "items": GOOD_ITEMS if items is None else items}
    return uc.pledge(c, r.actors[who], body, NOW)


def progress(c: Container, actor: Actor, pid: int, item: int, note: str = "参加集体备课8次") -> Any:
    cmd = AddProgress(item=item, note=note, happened_on=NOW.date())
    return uc.do(c, pledges.add_progress, actor, pid, cmd, NOW)


def snapshot(c: Container, r: uc.Roster, lifecycle: str, record_id: int, now: dt.datetime) -> tuple[Any, ...]:
    """The record as shown, its history and its stored deadline rows (a view works out `missed` on its own)."""
    office = r.actors["office"]
    with UnitOfWork(c.db, write=False) as uow:
        stored = deadlines.deadlines_of(uow.session, lifecycle, record_id)
    return view(c, office, lifecycle, record_id, now), history(c, office, lifecycle, record_id), stored
