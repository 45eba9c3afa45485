"""One listing for every record type: filters, the caller's access scope and paging in SQL, then the
page's views in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.access import Actor, visible
from services.lifecycle import store
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import ORG, PERSON, Kind
from services.persistence.tables import Deadline
from services.usecases import events
from workflow import deadlines as dl

Order = Literal["id", "name", "due"]


@dataclass(frozen=True)
class Filters:
    """What a listing may be narrowed by; None leaves a filter out."""

    year: int | None = None
    state: str | None = None
    org_id: int | None = None
    """The record's org, or (`subtree`) any org below it too."""
    subtree: bool = False
    subject_type: str | None = None
    """Pledges only: `org` or `person`."""
    overdue: bool | None = None
    name: str | None = None
    """Part of the org's name, or of the person's (a pledge's subject)."""
    order: Order = "id"


def overdue_condition(subject_type: str, subject_id: Any, now: dt.datetime) -> Any:
    """SQL: the record has a deadline past due and not settled (swept as missed or not yet)."""
    return (
        select(Deadline.id)
        .where(
            col(Deadline.subject_type) == subject_type,
            col(Deadline.subject_id) == subject_id,
            sa.or_(
                col(Deadline.status) == dl.MISSED,
                sa.and_(col(Deadline.status) == dl.PENDING, col(Deadline.due_at) < now),
            ),
        )
        .exists()
    )


def _next_due(kind: Kind) -> Any:
    """SQL: the record's soonest open deadline (for ordering by urgency)."""
    d = Deadline.__table__  # type: ignore[attr-defined]
    return (
        sa.select(sa.func.min(d.c.due_at))
        .where(d.c.subject_type == kind.lifecycle, d.c.subject_id == kind.table.c.id, d.c.status.in_(dl.OPEN))
        .scalar_subquery()
    )


def count(session: Session, lc: Lifecycles, actor: Actor, lifecycle: str, f: Filters, now: dt.datetime) -> int:
    """How many records of `lifecycle` the caller may read under the filters (the listing's own query)."""
    return _count(session, _query(lc.kinds[lifecycle], actor, f, now))


def _count(session: Session, q: sa.Select[Any]) -> int:
    return int(session.connection().execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one())


def _query(kind: Kind, actor: Actor, f: Filters, now: dt.datetime) -> sa.Select[Any]:
    t = kind.table
    q = sa.select(t.c.id).join_from(t, ORG, ORG.c.id == t.c.org_id)
    if kind.person:
        q = q.outerjoin(PERSON, PERSON.c.id == t.c.person_id)
    person = t.c.person_id if kind.person else None
    q = q.where(visible(actor, ORG.c, person, voters=kind.voters_read))
    if f.year is not None:
        q = q.where(t.c.year == f.year)
    if f.state is not None:
        q = q.where(t.c.state == f.state)
    if f.org_id is not None and f.subtree:
        q = q.where(ORG.c.path.like(f"%/{f.org_id}/%"))
    elif f.org_id is not None:
        q = q.where(t.c.org_id == f.org_id)
    if f.subject_type is not None and kind.person:
        q = q.where(t.c.subject_type == f.subject_type)
    if f.overdue is not None:
        cond = overdue_condition(kind.lifecycle, t.c.id, now)
        q = q.where(cond if f.overdue else sa.not_(cond))
    if f.name:
        pattern = f"%{f.name}%"
        q = q.where(
            sa.or_(ORG.c.name.like(pattern), PERSON.c.name.like(pattern)) if kind.person else ORG.c.name.like(pattern)
        )
    return q


def listing(
    session: Session,
    lc: Lifecycles,
    actor: Actor,
    lifecycle: str,
    f: Filters,
    limit: int,
    offset: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """A page of the records of `lifecycle` the caller may read, with how many there are in all."""
    kind = lc.kinds[lifecycle]
    q = _query(kind, actor, f, now)
    total = _count(session, q)
    t = kind.table
    by = {
        "id": [t.c.id],
        "name": [PERSON.c.name if kind.person else ORG.c.name, ORG.c.name, t.c.id],
        "due": [_next_due(kind).is_(None), _next_due(kind), t.c.id],
    }[f.order]
    ids = list(session.connection().execute(q.order_by(*by).limit(limit).offset(offset)).scalars())
    page = {p.record.id: p for p in store.load_page(session, kind, actor, ids)}
    return {"items": events.views(session, lc, [page[i] for i in ids], now), "total": total}
