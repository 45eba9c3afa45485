"""Read-side queries that list records within what the caller may see."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.access import Actor, pledge_roles, secretary_people, visible
from services.lifecycle import pledge_store, records
from services.persistence.tables import Deadline, Org, Pledge
from services.usecases import pledges
from workflow import Engine
from workflow import deadlines as dl


@dataclass(frozen=True)
class PledgeFilters:
    year: int | None = None
    state: str | None = None
    org_id: int | None = None
    subject_type: str | None = None
    overdue: bool | None = None


def overdue_condition(subject_type: str, subject_id: Any, now: dt.datetime) -> Any:
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


def list_pledges(
    session: Session, engine: Engine, actor: Actor, f: PledgeFilters, limit: int, offset: int, now: dt.datetime
) -> dict[str, Any]:
    q = select(Pledge.id).join(Org, Org.id == Pledge.org_id).where(visible(actor, Org, Pledge.person_id))  # type: ignore[arg-type]
    if f.year is not None:
        q = q.where(Pledge.year == f.year)
    if f.state is not None:
        q = q.where(Pledge.state == f.state)
    if f.org_id is not None:
        q = q.where(Pledge.org_id == f.org_id)
    if f.subject_type is not None:
        q = q.where(Pledge.subject_type == f.subject_type)
    if f.overdue is not None:
        cond = overdue_condition("pledge", Pledge.id, now)
        q = q.where(cond if f.overdue else sa.not_(cond))
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    ids = [i for i in session.exec(q.order_by(Pledge.id).limit(limit).offset(offset)).all() if i]  # type: ignore[arg-type]
    return {"items": page_views(session, engine, actor, ids, now), "total": total}


_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_PAGE = pledge_store.joined().where(pledge_store.PLEDGE.c.id.in_(_IDS)).order_by(pledge_store.PLEDGE.c.id)
_PAGE_ITEMS = (
    sa.select(pledge_store.ITEM).where(pledge_store.ITEM.c.pledge_id.in_(_IDS)).order_by(pledge_store.ITEM.c.position)
)
_PAGE_DEADLINES = (
    sa.select(records.DEADLINE.c.subject_id, *records.DEADLINE_COLUMNS)
    .where(records.DEADLINE.c.subject_type == "pledge", records.DEADLINE.c.subject_id.in_(_IDS))
    .order_by(records.DEADLINE.c.due_at, records.DEADLINE.c.id)
)


def page_views(session: Session, engine: Engine, actor: Actor, ids: list[int], now: dt.datetime) -> list[Any]:
    """The views of a page of pledges in five queries, not five per pledge (plain rows, no ORM objects)."""
    conn = session.connection()
    rows = [pledge_store.rows_of(r) for r in conn.execute(_PAGE, {"ids": ids})]
    items: dict[int, list[Any]] = defaultdict(list)
    for item in conn.execute(_PAGE_ITEMS, {"ids": ids}):
        items[item.pledge_id].append(item)
    deadlines: dict[int, list[records.DeadlineRow]] = defaultdict(list)
    for subject_id, *deadline in conn.execute(_PAGE_DEADLINES, {"ids": ids}):
        deadlines[subject_id].append(records.DeadlineRow(*deadline))
    secretaries = secretary_people(session, [p.person_id for p, _, _ in rows if p.person_id])
    return [
        pledges.view(
            session,
            engine,
            pledge_store.Loaded(p, o, person, pledge_roles(actor, p, o, p.person_id in secretaries)),
            now,
            items[p.id],
            deadlines[p.id],
        )
        for p, o, person in rows
    ]
