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


PAGES = {"pledge": "/pledges/{}", "self_evaluation": "/self-evaluations/{}", "appraisal_round": "/branch"}
NOT_TASKS = {"withdraw"}
"""Events a person may do but is never asked to (a withdrawal is no to-do)."""


def tasks(session: Session, c: Container, actor: Actor, year: int, now: dt.datetime) -> list[dict[str, Any]]:
    """What the actor must act on now in `year`, across lifecycles, soonest deadline first; and the
    pledges a secretary submitted on a member's behalf, waiting for 教育工委 (four eyes)."""
    found = []
    for lifecycle, kind in c.lifecycles.kinds.items():
        lifecycle_def = c.engines[lifecycle].lifecycle
        labels = {e.name: e.label_zh for e in lifecycle_def.events}
        listed = listings.listing(session, c.lifecycles, actor, lifecycle, listings.Filters(year=year), 500, 0, now)
        for r in listed["items"]:
            to_do = [e for e in r["allowed_events"] if e not in NOT_TASKS]
            waiting = lifecycle == pledges.LIFECYCLE and r["state"] == "reviewing" and r["submitted_on_behalf"]
            if not to_do and not (waiting and r["org_id"] in actor.secretary_orgs):
                continue
            due = [d["due_at"] for d in r["deadlines"] if d["status"] in ("pending", "missed")]
            name = r["subject"]["name"] if "subject" in r else r["org_name"]
            page = PAGES.get(lifecycle)
            found.append(
                {
                    "what": f"{name} · {kind.label_zh}（{r['state_label']}）",
                    "do": "、".join(labels.get(e, e) for e in to_do) if to_do else "已代为提交，等待教育工委审查",
                    "due_at": min(due) if due else None,
                    "overdue": r["overdue"],
                    "link": page.format(r["id"]) if page else None,
                }
            )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda t: (t["due_at"] or far, t["what"]))
