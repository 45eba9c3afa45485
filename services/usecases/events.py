"""The use cases every lifecycle shares: fire an event on a record, read it, read its history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from services.access import Actor
from services.enforcement import event_notices
from services.lifecycle import deadlines, history, store
from services.lifecycle.deadlines import Deadlines
from services.lifecycle.fire import Event, Moved, check_version, fire
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import Loaded
from services.persistence.uow import UnitOfWork
from services.usecases import event_data
from services.usecases.commands import FireEvent


def fire_event(
    uow: UnitOfWork,
    lc: Lifecycles,
    actor: Actor,
    lifecycle: str,
    record_id: int,
    cmd: FireEvent,
    if_match: int | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Fire `cmd` on a record and answer the record as it now stands (in the API's view)."""
    s, kind = uow.session, lc.kinds[lifecycle]
    loaded = store.load(s, kind, actor, record_id)
    check_version(loaded.record, if_match)
    event = Event(cmd.event, cmd.reason, cmd.effective_on, lambda: event_data.read(lifecycle, cmd.event, cmd.data))
    moved = fire(s, lc.engine(lifecycle), kind, loaded, event, actor, now, lc)
    if moved.transitioned.event in kind.tells:
        _announce(s, lc, loaded, moved, cmd.reason, now)
    # The answer is read in the same transaction (no second one just to show what was written).
    answer = views(s, lc, [loaded.moved_to(moved.record, kind, actor)], now, {record_id: moved.deadlines})[0]
    uow.commit()
    return answer


def get(
    session: Session, lc: Lifecycles, actor: Actor, lifecycle: str, record_id: int, now: dt.datetime
) -> dict[str, Any]:
    """One record in the API's view (404 when the caller may not read it)."""
    return views(session, lc, [store.load(session, lc.kinds[lifecycle], actor, record_id)], now)[0]


def views(
    session: Session, lc: Lifecycles, page: list[Loaded], now: dt.datetime, known: Deadlines | None = None
) -> list[dict[str, Any]]:
    """A page of records of one lifecycle in the API's view, in a fixed number of queries (`known`:
    deadline rows the caller already holds, by record id)."""
    if not page:
        return []
    kind = lc.kinds[page[0].record.lifecycle]
    return kind.views(session, lc, page, now, known) if kind.views else record_view(session, lc, page, now, known)


def record_view(
    session: Session, lc: Lifecycles, page: list[Loaded], now: dt.datetime, known: Deadlines | None = None
) -> list[dict[str, Any]]:
    """What every record shows: who, which year, where in its lifecycle, its deadlines, what the
    caller may do now, and its own columns."""
    if not page:
        return []
    lifecycle = page[0].record.lifecycle
    engine = lc.engine(lifecycle)
    rows = known or deadlines.deadlines_of_page(session, lifecycle, [p.record.id for p in page])
    out = []
    for p in page:
        r = p.record
        shown, overdue = deadlines.deadline_view(rows[r.id], now)
        out.append(
            {
                "id": r.id,
                "year": r.year,
                "org_id": r.org_id,
                "org_name": p.org.name,
                "state": r.state,
                "state_label": engine.lifecycle.state(r.state).label_zh,
                "version": r.version,
                "data": r.data,
                "deadlines": shown,
                "overdue": overdue,
                "allowed_events": engine.allowed_events(r.state, p.roles),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                **r.own,
            }
        )
    return out


def record_history(
    session: Session, lc: Lifecycles, actor: Actor, lifecycle: str, record_id: int
) -> list[dict[str, Any]]:
    store.load(session, lc.kinds[lifecycle], actor, record_id)
    return history.history_view(history.history_of(session, lifecycle, record_id), lc.engine(lifecycle).lifecycle)


def subject_name(loaded: Loaded) -> str:
    """Whose record it is, as a notice names it: the member for a member's pledge, else the org."""
    return loaded.person.name if loaded.person else loaded.org.name


def _announce(s: Session, lc: Lifecycles, loaded: Loaded, moved: Moved, reason: str | None, now: dt.datetime) -> None:
    kind, lifecycle = lc.kinds[loaded.record.lifecycle], lc.engine(loaded.record.lifecycle).lifecycle
    event = lifecycle.event(moved.transitioned.event)
    assert event is not None and loaded.history_head is not None
    title = f"【{event.label_zh}】{subject_name(loaded)}的{lifecycle.label_zh}"
    body = f"{title}。当前环节：{lifecycle.state(moved.record.state).label_zh}。" + (
        f"理由：{reason}" if reason else ""
    )
    step = str(loaded.history_head[0] + 1)
    happened = event_notices.Happened(lifecycle.name, moved.record.id, step, title, body)
    who = kind.tells[event.name]
    event_notices.tell(s, happened, who, moved.record.org_id, moved.record.own.get("person_id"), now)
