"""What the pages read, through the same use cases and access rules as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlmodel import Session, col, select

from services.access import Actor, visible
from services.container import Container
from services.lifecycle import pledge_store
from services.persistence.tables import Campaign, Org, Pledge, ProgressRecord, SelfEvaluation
from services.queries import diagrams
from services.queries import listings as queries
from services.usecases import pledges
from services.usecases import self_evaluations as se


def current_year(session: Session, now: dt.datetime, asked: int | None = None) -> int:
    """The year asked for, else the latest campaign's, else this year."""
    if asked:
        return asked
    latest = session.exec(select(sa.func.max(Campaign.year))).one()
    return int(latest or now.year)


def deadline_labels(c: Container) -> dict[str, str]:
    return {rule.name: rule.label_zh for engine in c.engines.values() for rule in engine.lifecycle.deadlines}


def pledge_page(session: Session, c: Container, actor: Actor, pledge_id: int, now: dt.datetime) -> dict[str, Any]:
    """One pledge as every page shows it: the API's view, progress, comments, history and the diagram."""
    engine = c.engines["pledge"]
    loaded = pledge_store.load(session, actor, pledge_id)
    view = pledges.view(session, engine, loaded, now)
    items = {i["id"]: i["content"] for i in view["items"]}
    progress = session.exec(
        select(ProgressRecord).where(ProgressRecord.pledge_id == pledge_id).order_by(col(ProgressRecord.happened_on))
    ).all()
    labels = {e.name: e.label_zh for e in engine.lifecycle.events}
    return view | {
        "roles": loaded.roles,
        "may_comment": bool({"secretary", "supervisor"} & loaded.roles)
        and not (loaded.person is not None and loaded.person.id == actor.person_id),
        "progress": [{"item": items.get(p.item_id, ""), "note": p.note, "on": p.happened_on} for p in progress],
        "comments": pledges.comments(session, actor, pledge_id),
        "history": pledges.history(session, actor, pledge_id),
        "event_labels": labels,
        "diagram": Markup(diagrams.svg(engine.lifecycle, view["state"])),
        "deadline_labels": deadline_labels(c),
    }


def my_pledges(session: Session, c: Container, actor: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    if actor.person_id is None:
        return []
    q = select(Pledge.id).where(Pledge.person_id == actor.person_id).order_by(col(Pledge.year).desc())
    return [pledge_page(session, c, actor, pid, now) for pid in session.exec(q).all() if pid]


def branch_pledges(session: Session, c: Container, actor: Actor, year: int, now: dt.datetime) -> list[dict[str, Any]]:
    """The pledges the actor may read in `year`: overdue first, then by stage, then by id."""
    listed = queries.list_pledges(session, c.engines["pledge"], actor, queries.PledgeFilters(year=year), 200, 0, now)
    order = {s.code: n for n, s in enumerate(c.engines["pledge"].lifecycle.states)}
    return sorted(listed["items"], key=lambda p: (not p["overdue"], order[p["state"]], p["id"]))


def item_choices(session: Session, pledge_id: int) -> list[Any]:
    return pledge_store.items_of(session, pledge_id)


def evaluations(session: Session, c: Container, actor: Actor, year: int, now: object) -> list[dict[str, object]]:
    q = select(SelfEvaluation.id).join(Org, col(Org.id) == SelfEvaluation.org_id).where(visible(actor, Org))
    ids = session.exec(q.where(SelfEvaluation.year == year).order_by(col(SelfEvaluation.id))).all()
    engine = c.engines[se.LIFECYCLE]
    return [se.view(session, engine, c.scorecard, se.load(session, actor, i), now) for i in ids if i]  # type: ignore[arg-type]
