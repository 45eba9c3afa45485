"""联系点: each supervisor's assigned branches, with their pledges and the leader comments on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from services.access import Actor
from services.errors import Forbidden
from services.persistence.tables import LeaderComment, Org, Person, Pledge
from services.queries.listings import overdue_condition
from workflow import Engine


def contact_points(session: Session, engine: Engine, actor: Actor, year: int | None, now: dt.datetime) -> list[Any]:
    if not actor.is_supervisor:
        raise Forbidden("联系点只对教育工委领导开放")
    org_ids = sorted({org_id for role, org_id in actor.grants if role == "supervisor" and org_id is not None})
    return [
        _point(session, engine, org, year, now) for org in session.exec(select(Org).where(col(Org.id).in_(org_ids)))
    ]


def _point(session: Session, engine: Engine, org: Org, year: int | None, now: dt.datetime) -> dict[str, Any]:
    q = (
        select(Pledge, Person.name, Org.name, overdue_condition("pledge", Pledge.id, now))
        .join(Org, col(Org.id) == Pledge.org_id)
        .outerjoin(Person, col(Person.id) == Pledge.person_id)
        .where(col(Org.path).startswith(org.path))
        .order_by(col(Pledge.id))
    )
    if year is not None:
        q = q.where(Pledge.year == year)
    rows = session.exec(q).all()
    ids = [p.id for p, *_ in rows]
    comments = session.exec(
        select(LeaderComment).where(col(LeaderComment.pledge_id).in_(ids)).order_by(col(LeaderComment.id))
    ).all()
    return {
        "org": {"id": org.id, "name": org.name},
        "pledges": [
            {
                "id": p.id,
                "year": p.year,
                "subject_name": person_name or org_name,
                "state": p.state,
                "state_label": engine.lifecycle.state(p.state).label_zh,
                "overdue": bool(overdue),
            }
            for p, person_name, org_name, overdue in rows
        ],
        "comments": [c.model_dump() for c in comments],
    }
