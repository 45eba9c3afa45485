"""Read-side queries that list records within what the caller may see."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services import pledges
from services.access import Actor, pledge_roles, secretary_people
from services.tables import Deadline, Org, Person, Pledge, PledgeItem
from workflow import Engine
from workflow import deadlines as dl


@dataclass(frozen=True)
class PledgeFilters:
    year: int | None = None
    state: str | None = None
    org_id: int | None = None
    subject_type: str | None = None
    overdue: bool | None = None


def visible(actor: Actor, org_table: Any, person_column: Any = None) -> Any:
    """The SQL condition for records the actor may read (SPEC §4: who may create and read):
    everything for office and supervisors, the subtree for a secretary, and — where a record
    belongs to a person (`person_column`) — their own."""
    if actor.reads_everything:
        return sa.true()
    scopes = [org_table.path.like(f"%/{org_id}/%") for org_id in actor.secretary_orgs]
    if actor.person_id is not None and person_column is not None:
        scopes.append(person_column == actor.person_id)
    return sa.or_(*scopes) if scopes else sa.false()


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


def page_views(session: Session, engine: Engine, actor: Actor, ids: list[int], now: dt.datetime) -> list[Any]:
    """The views of a page of pledges in five queries, not five per pledge."""
    rows = session.exec(
        select(Pledge, Org, Person)
        .join(Org, col(Org.id) == Pledge.org_id)
        .outerjoin(Person, col(Person.id) == Pledge.person_id)
        .where(col(Pledge.id).in_(ids))
        .order_by(col(Pledge.id))
    ).all()
    items: dict[int, list[PledgeItem]] = defaultdict(list)
    for item in session.exec(
        select(PledgeItem).where(col(PledgeItem.pledge_id).in_(ids)).order_by(col(PledgeItem.position))
    ):
        items[item.pledge_id].append(item)
    deadlines: dict[int, list[Deadline]] = defaultdict(list)
    q = select(Deadline).where(Deadline.subject_type == "pledge", col(Deadline.subject_id).in_(ids))
    for row in session.exec(q.order_by(col(Deadline.due_at), col(Deadline.id))):
        deadlines[row.subject_id].append(row)
    secretaries = secretary_people(session, [p.person_id for p, _, _ in rows if p.person_id])
    return [
        pledges.view(
            session,
            engine,
            pledges.Loaded(p, o, person, pledge_roles(actor, p, o, p.person_id in secretaries)),
            now,
            items[p.id or 0],
            deadlines[p.id or 0],
        )
        for p, o, person in rows
    ]
