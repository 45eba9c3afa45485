"""What the pages read, through the same use cases, listings and access rules as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, select

from services.access import Actor
from services.container import Container
from services.lifecycle import store
from services.persistence.tables import Campaign, Org, Person, Pledge
from services.queries import diagrams, listings
from services.usecases import events, pledges
from services.usecases import self_evaluations as se

IN_PROGRESS_AFTER = dt.timedelta(days=60)


def current_year(session: Session, now: dt.datetime, asked: int | None = None) -> int:
    """The year asked for; else the campaign in progress today: the oldest whose latest deadline is
    ahead or passed less than 60 days ago (so setting up next year's campaign does not hide this
    one); else the latest campaign's year; else this year."""
    if asked:
        return asked
    campaigns = session.exec(select(Campaign.year, Campaign.deadlines).order_by(col(Campaign.year))).all()
    for year, deadlines in campaigns:
        due = [dt.datetime.fromisoformat(d) for d in deadlines.values()]
        if due and now - max(due) < IN_PROGRESS_AFTER:
            return int(year)
    return int(campaigns[-1][0]) if campaigns else now.year


def years(session: Session) -> list[int]:
    """Every campaign's year, newest first (the year selector's choices)."""
    return [int(y) for y in session.exec(select(Campaign.year).order_by(col(Campaign.year).desc())).all()]


def deadline_labels(c: Container) -> dict[str, str]:
    return {rule.name: rule.label_zh for engine in c.engines.values() for rule in engine.lifecycle.deadlines}


def pledge_page(session: Session, c: Container, actor: Actor, pledge_id: int, now: dt.datetime) -> dict[str, Any]:
    """One pledge as every page shows it: the API's view, progress, comments, history and the diagram."""
    lc, engine = c.lifecycles, c.engines[pledges.LIFECYCLE]
    loaded = store.load(session, pledges.KIND, actor, pledge_id)
    view = events.views(session, lc, [loaded], now)[0]
    items = {i["id"]: i["content"] for i in view["items"]}
    labels = {e.name: e.label_zh for e in engine.lifecycle.events}
    return view | {
        "roles": loaded.roles,
        "may_comment": pledges.may_comment(actor, loaded),
        "progress": [
            {"item": items.get(p.item_id, ""), "note": p.note, "on": p.happened_on}
            for p in pledges.progress(session, pledge_id)
        ],
        "comments": pledges.comments(session, actor, pledge_id),
        "history": events.record_history(session, lc, actor, pledges.LIFECYCLE, pledge_id),
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
    listed = listings.listing(session, c.lifecycles, actor, pledges.LIFECYCLE, listings.Filters(year=year), 200, 0, now)
    order = {s.code: n for n, s in enumerate(c.engines[pledges.LIFECYCLE].lifecycle.states)}
    return sorted(listed["items"], key=lambda p: (not p["overdue"], order[p["state"]], p["id"]))


def evaluations(session: Session, c: Container, actor: Actor, year: int, now: dt.datetime) -> list[dict[str, Any]]:
    filters = listings.Filters(year=year)
    return list(listings.listing(session, c.lifecycles, actor, se.LIFECYCLE, filters, 200, 0, now)["items"])


def pledge_subjects(session: Session, actor: Actor, year: int) -> list[tuple[str, str]]:
    """Whose pledge the actor may write for `year` and has not yet: themself, the members of the orgs
    they are secretary of, and those orgs — as (`person:3` or `org:2`, the name shown)."""
    taken = set(session.exec(select(Pledge.subject_key).where(Pledge.year == year, Pledge.state != "withdrawn")).all())
    found: list[tuple[str, str]] = []
    if actor.person_id is not None:
        found.append((f"person:{actor.person_id}", f"本人（{actor.name}）"))
    if actor.secretary_orgs:
        orgs = session.exec(select(Org).where(col(Org.id).in_(actor.secretary_orgs)).order_by(col(Org.id))).all()
        found += [(f"org:{o.id}", f"{o.name}（党组织承诺）") for o in orgs]
        people = session.exec(
            select(Person).where(col(Person.org_id).in_(actor.secretary_orgs)).order_by(col(Person.id))
        ).all()
        found += [(f"person:{m.id}", m.name) for m in people if m.id != actor.person_id]
    return [(key, label) for key, label in found if key not in taken]
