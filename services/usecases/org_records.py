"""Records that belong to one org and follow a lifecycle: appraisal rounds, demo sites, rectifications.

They share one shape (create, list, get, events, history), so they share these use cases; what
differs per kind — who creates, what an event's data records — is stated in `Kind`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from services.access import Actor, evaluation_roles
from services.errors import Forbidden, Invalid, NotFound
from services.lifecycle import records
from services.lifecycle.calendar import campaign_for
from services.persistence.tables import AppraisalRound, DemoSite, Org, Rectification
from services.persistence.uow import UnitOfWork
from workflow import Engine, Transitioned
from workflow import deadlines as dl

OrgRecord = AppraisalRound | DemoSite | Rectification


@dataclass(frozen=True)
class Kind:
    lifecycle: str
    table: Any
    label_zh: str
    creators: frozenset[str]
    """User roles that may create one for an org they cover ('secretary' means of that org)."""
    readers_extra: Callable[[Session, Actor, Org], bool] = lambda s, a, o: False
    fields: tuple[str, ...] = ()
    """Columns shown beside the common ones."""
    data_events: frozenset[str] = field(default_factory=frozenset)
    """Events whose `data` is kept on the record under the event's name."""


@dataclass(frozen=True)
class Loaded:
    record: Any
    org: Org
    roles: set[str]


def load(session: Session, kind: Kind, actor: Actor, record_id: int) -> Loaded:
    record = session.get(kind.table, record_id)
    org = session.get(Org, record.org_id) if record is not None else None
    if record is None or org is None or not can_read(session, kind, actor, org):
        raise NotFound(f"{kind.label_zh} {record_id} 不存在")
    return Loaded(record, org, evaluation_roles(actor, org))


def can_read(session: Session, kind: Kind, actor: Actor, org: Org) -> bool:
    return actor.reads_everything or actor.secretary_of(org) or kind.readers_extra(session, actor, org)


def view(session: Session, engine: Engine, kind: Kind, loaded: Loaded, now: dt.datetime) -> dict[str, Any]:
    r = loaded.record
    deadlines, overdue = records.deadline_view(records.deadlines_of(session, kind.lifecycle, r.id), now)
    body = {
        "id": r.id,
        "year": r.year,
        "org_id": r.org_id,
        "org_name": loaded.org.name,
        "state": r.state,
        "state_label": engine.lifecycle.state(r.state).label_zh,
        "version": r.version,
        "data": r.data,
        "deadlines": deadlines,
        "overdue": overdue,
        "allowed_events": engine.allowed_events(r.state, loaded.roles),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }
    return body | {name: getattr(r, name) for name in kind.fields}


def create(
    uow: UnitOfWork,
    engine: Engine,
    kind: Kind,
    actor: Actor,
    values: dict[str, Any],
    now: dt.datetime,
    due: dict[str, dt.datetime] | None = None,
) -> int:
    """Add a record in the lifecycle's initial state, with its deadlines and a `create` history row
    (the caller commits)."""
    s = uow.session
    org = s.get(Org, values["org_id"])
    if org is None:
        raise Invalid("org_id", f"党组织 {values['org_id']} 不存在")
    role = creator_role(kind, actor, org)
    campaign = campaign_for(s, values["year"])
    record = kind.table(**values, state=engine.lifecycle.initial, created_at=now, updated_at=now)
    s.add(record)
    s.flush()
    records.create_deadlines(s, engine.lifecycle, record.id, campaign, now, due)
    records.append_history(
        s, kind.lifecycle, record.id, None, actor, role, records.Firing(now), event="create", state=record.state
    )
    return int(record.id)


def creator_role(kind: Kind, actor: Actor, org: Org) -> str:
    if "secretary" in kind.creators and actor.secretary_of(org):
        return "secretary"
    for role in ("office", "supervisor"):
        if role in kind.creators and actor.has(role):
            return role
    raise Forbidden(f"您无权为该党组织建立{kind.label_zh}")


def fire_event(
    uow: UnitOfWork,
    engine: Engine,
    kind: Kind,
    actor: Actor,
    record_id: int,
    body: dict[str, Any],
    if_match: int | None,
    now: dt.datetime,
) -> None:
    s = uow.session
    loaded = load(s, kind, actor, record_id)
    record = loaded.record
    records.check_version(record, if_match)

    def store(moved: Transitioned) -> None:
        if moved.event in kind.data_events:
            record.data = {**record.data, moved.event: body.get("data") or {}}
        records.set_state(s, record, moved, now)

    records.transition(s, engine, record, loaded.roles, actor, body, {"data": record.data}, now, store=store)
    uow.commit()


def listing(
    session: Session,
    engine: Engine,
    kind: Kind,
    actor: Actor,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    now: dt.datetime,
) -> dict[str, Any]:
    table = kind.table
    q = select(table, Org).join(Org, col(Org.id) == table.org_id)
    for name, value in filters.items():
        if value is not None:
            q = q.where(getattr(table, name) == value)
    rows = [(r, o) for r, o in session.exec(q.order_by(table.id)).all() if can_read(session, kind, actor, o)]
    items = [view(session, engine, kind, Loaded(r, o, evaluation_roles(actor, o)), now) for r, o in rows]
    return {"items": items[offset : offset + limit], "total": len(items)}


def history(session: Session, kind: Kind, actor: Actor, record_id: int) -> list[dict[str, Any]]:
    load(session, kind, actor, record_id)
    return records.history_view(records.history_of(session, kind.lifecycle, record_id))


def end_of_day(day: dt.date, timezone: str) -> dt.datetime:
    return dl.due_at(day, timezone)
