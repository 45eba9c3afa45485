"""What the pages read, through the same use cases, listings and access rules as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, select

from definitions.vocabulary import Role
from services.access import Actor
from services.container import Container
from services.errors import NotFound
from services.lifecycle import store
from services.persistence.tables import Campaign, Org, Person, Pledge, User
from services.queries import diagrams, listings
from services.usecases import appraisals, directory, events, pledge_items, pledges
from services.usecases import self_evaluations as se
from services.usecases.org_kinds import STARTS

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


PAGES = {"pledge": "/pledges/{}", "self_evaluation": "/self-evaluations/{}"}
"""A record's own page; the org records (rounds, demo sites, rectifications) are at /records/{lifecycle}/{id}."""
NOT_TASKS = {"withdraw"}
"""Events a person may do but is never asked to (a withdrawal is no to-do)."""


def tasks(session: Session, c: Container, actor: Actor, year: int, now: dt.datetime) -> list[dict[str, Any]]:
    """What the actor must act on now in `year`, across lifecycles, soonest deadline first; the
    pledges a secretary submitted on a member's behalf, waiting for 教育工委 (four eyes); and the
    open rounds where the person has subjects left to vote on."""
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
            name = r["subject"]["name"] if "subject" in r else r["org_name"]
            do = "、".join(labels.get(e, e) for e in to_do) if to_do else "已代为提交，等待教育工委审查"
            link = PAGES.get(lifecycle, f"/records/{lifecycle}/{{}}").format(r["id"])
            found.append(_task(f"{name} · {kind.label_zh}（{r['state_label']}）", do, r, link))
    rounds = c.lifecycles.kinds[appraisals.LIFECYCLE].label_zh
    for r in open_rounds(session, c, actor, now):
        left = sum(not s["voted"] for s in r["subjects"])
        if r["year"] == year and left:
            what = f"{r['org_name']} · {rounds}（{r['state_label']}）"
            found.append(_task(what, f"评议投票：还有 {left} 个对象未评", r, "/ballot"))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda t: (t["due_at"] or far, t["what"]))


def _task(what: str, do: str, record: dict[str, Any], link: str) -> dict[str, Any]:
    due = [d["due_at"] for d in record["deadlines"] if d["status"] in ("pending", "missed")]
    return {"what": what, "do": do, "due_at": min(due) if due else None, "overdue": record["overdue"], "link": link}


def open_rounds(session: Session, c: Container, actor: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    """Open rounds the actor may vote in, each with its subjects: the org, then its people."""
    filters = listings.Filters(state="open")
    rounds = listings.listing(session, c.lifecycles, actor, appraisals.LIFECYCLE, filters, 200, 0, now)["items"]
    out = []
    for r in rounds:
        org = session.get(Org, r["org_id"])
        if org is None or not actor.votes_in(org):
            continue
        people = session.exec(
            select(Person).join(Org, col(Org.id) == Person.org_id).where(col(Org.path).startswith(org.path))
        ).all()
        subjects = [{"type": "org", "id": org.id, "name": org.name}]
        subjects += [{"type": "person", "id": p.id, "name": p.name} for p in people if p.id != actor.person_id]
        out.append(r | {"subjects": subjects})
    done = appraisals.voted(session, actor, [r["id"] for r in out])
    for r in out:
        for subject in r["subjects"]:
            subject["voted"] = (r["id"], subject["type"], subject["id"]) in done
    return out


def printed(session: Session, c: Container, view: dict[str, Any]) -> dict[str, Any]:
    """A pledge as its printed 承诺书 shows it: the API's view, whether it is published yet, and whether
    its org's public 公示 page (the QR code's target) answers."""
    org = session.get(Org, view["org_id"])
    return view | {
        "published": view["state"] in published_states(c),
        "public_page": bool(org and org.public_page),
    }


def print_sheet(session: Session, c: Container, actor: Actor, pledge_id: int, now: dt.datetime) -> dict[str, Any]:
    """One pledge to print, read as its page reads it (the same load and access rule: 404 otherwise)."""
    loaded = store.load(session, pledges.KIND, actor, pledge_id)
    return printed(session, c, events.views(session, c.lifecycles, [loaded], now)[0])


def branch_sheets(session: Session, c: Container, actor: Actor, year: int, now: dt.datetime) -> list[dict[str, Any]]:
    """Every live pledge the secretary's workbench lists in `year` (their orgs' and members'), to print
    one a page: each org's own pledge first, then its members' by name."""
    found: list[dict[str, Any]] = []
    while True:
        listed = listings.listing(
            session, c.lifecycles, actor, pledges.LIFECYCLE, listings.Filters(year=year), 200, len(found), now
        )
        found += listed["items"]
        if not listed["items"] or len(found) >= listed["total"]:
            break
    mine = [p for p in found if p["state"] != pledges.WITHDRAWN]
    mine.sort(key=lambda p: (p["org_id"], p["subject"]["type"] != "org", p["subject"]["name"], p["id"]))
    return [printed(session, c, p) for p in mine]


PUBLIC_PAGE_OFF = "该组织的公示页面已关闭"
PUBLISHED_DEADLINE = "pledge_published"
"""The deadline a pledge settles by being made public: the states it names are 'published or later'."""


def published_states(c: Container) -> frozenset[str]:
    """The states of a published pledge, from the lifecycle's definition (the `pledge_published`
    deadline is reached in them), not from a second list."""
    rules = c.engines[pledges.LIFECYCLE].lifecycle.deadlines
    return frozenset(s for rule in rules if rule.name == PUBLISHED_DEADLINE for s in rule.reached_in)


def public_org(session: Session, c: Container, year: int, org_id: int) -> dict[str, Any]:
    """What an org's public 公示 page shows of `year`: its own and its members' published pledges —
    names, items, measures, due dates, publication — and nothing else (no outcome, grade, comment,
    progress, score or ballot is read at all). 404 for an unknown year or org, or a page switched off."""
    if session.exec(select(Campaign.id).where(Campaign.year == year)).first() is None:
        raise NotFound(f"{year}年度活动不存在")
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound(f"党组织 {org_id} 不存在")
    if not org.public_page:
        raise NotFound(PUBLIC_PAGE_OFF)
    q = select(Pledge.id, Pledge.person_id, Pledge.data).where(
        Pledge.year == year, Pledge.org_id == org_id, col(Pledge.state).in_(published_states(c))
    )
    rows = [(int(pid or 0), person_id, data) for pid, person_id, data in session.exec(q).all()]
    names = dict(session.exec(select(Person.id, Person.name).where(col(Person.id).in_({r[1] for r in rows}))).all())
    items = pledge_items.of_page(session, [r[0] for r in rows])
    shown = [
        {
            "id": pid,
            "name": names.get(person_id, "") if person_id else org.name,
            "is_org": person_id is None,
            "items": [{k: i[k] for k in ("content", "measure", "due_date")} for i in items[pid]],
            "publication": (data or {}).get("publication") or {},
        }
        for pid, person_id, data in rows
    ]
    shown.sort(key=lambda p: (not p["is_org"], p["name"], p["id"]))
    return {"year": year, "org": {"id": org.id, "name": org.name}, "pledges": shown}


def public_switches(session: Session) -> dict[int, bool]:
    """Whether each org's public 公示 page is on, by org id (for the office's switch)."""
    return {int(i): bool(on) for i, on in session.exec(select(Org.id, Org.public_page)).all() if i is not None}


def users(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The users as the API lists them (the same use case, so the same office-only rule), with what a
    person reads beside them: e-mail, the person and their org, each role's label and org."""
    listed = directory.list_users(session, actor)
    emails = dict(session.exec(select(User.id, User.email)).all())
    people = {p.id: p for p in session.exec(select(Person)).all()}
    orgs = dict(session.exec(select(Org.id, Org.name)).all())
    for u in listed:
        person = people.get(u["person_id"])
        u["email"] = emails.get(u["id"])
        u["person"] = f"{person.name}（{orgs.get(person.org_id, '')}）" if person else ""
        for r in u["roles"]:
            r["label"] = Role.of(r["role"]).label_zh
            r["org_name"] = orgs.get(r["org_id"], "") if r["org_id"] else ""
    return listed


def org_choices(session: Session) -> list[tuple[int, str]]:
    """Every org as (id, name), in tree order, for a role's org."""
    return [(int(o.id), o.name) for o in directory.list_orgs(session) if o.id is not None]


ORG_RECORDS_SHOWN = 200


def org_records(session: Session, c: Container, actor: Actor, year: int, now: dt.datetime) -> list[dict[str, Any]]:
    """The year's appraisal rounds, demo sites and rectification orders the person may read, by kind."""
    out = []
    for lifecycle in STARTS:
        listed = listings.listing(
            session, c.lifecycles, actor, lifecycle, listings.Filters(year=year), ORG_RECORDS_SHOWN, 0, now
        )
        out.append({"lifecycle": lifecycle, "label": c.lifecycles.kinds[lifecycle].label_zh, **listed})
    return out


def secretary_orgs(session: Session, actor: Actor) -> list[Org]:
    """The orgs a secretary answers for, in tree order."""
    return list(session.exec(select(Org).where(col(Org.id).in_(actor.secretary_orgs)).order_by(col(Org.path))).all())


def rounds_open_to(session: Session, c: Container, actor: Actor, now: dt.datetime) -> int:
    """How many appraisal rounds are open to the person (a voter of the round's org reads it)."""
    return listings.count(session, c.lifecycles, actor, "appraisal_round", listings.Filters(state="open"), now)
