"""Pledge use cases: the pledge's kind on the one event path (who holds which role, what its guards
read, what each event's data records), and create, edit items, comments and progress records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.access import Actor, pledge_roles
from services.enforcement import event_notices
from services.errors import Conflict, Forbidden, Invalid
from services.lifecycle import deadlines, fire, history, store
from services.lifecycle.calendar import Firing, campaign_for, local_date
from services.lifecycle.deadlines import Deadlines
from services.lifecycle.fire import Facts, Step, check_version
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import PERSON, Kind, Loaded, OrgRow
from services.persistence.tables import LeaderComment, Pledge, ProgressRecord
from services.persistence.uow import UnitOfWork
from services.usecases import pledge_items
from services.usecases.commands import AddComment, AddProgress, CreatePledge, EditItems
from services.usecases.fields import as_json
from services.usecases.org_records import org_row

LIFECYCLE = "pledge"
PLEDGE: sa.Table = Pledge.__table__  # type: ignore[attr-defined]
WITHDRAWN = "withdrawn"


def _roles(actor: Actor, p: Loaded) -> frozenset[str]:
    own = p.record.own
    return pledge_roles(
        actor, p.org, own["person_id"], own["submitted_by"], own["submitted_on_behalf"], p.subject_is_secretary
    )


def _facts(session: Session, p: Loaded, lc: Lifecycles) -> Facts:
    def criteria() -> Any:
        return lc.criteria.get(p.campaign.criteria.get(p.record.own["subject_type"], ""))

    pid = p.record.id
    return Facts(
        {"kind": p.record.own["subject_type"]},
        {
            "items": lambda: pledge_items.of_page(session, [pid])[pid],
            "criteria": lambda: {c.code: c.label_zh for c in found.criteria} if (found := criteria()) else {},
            "criteria_levels": lambda: dict(found.levels) if (found := criteria()) else {},
            "progress_count": lambda: pledge_items.count(session, pledge_items.COUNT_PROGRESS, pid),
            "comment_count": lambda: pledge_items.count(session, pledge_items.COUNT_COMMENTS, pid),
        },
    )


def _submitted(step: Step) -> dict[str, Any]:
    """Who submitted it, and whether on the member's behalf (then a supervisor reviews: four eyes)."""
    own = step.loaded.record.own
    changes: dict[str, Any] = {"submitted_by": step.actor.user_id}
    changes["submitted_on_behalf"] = own["person_id"] is not None and step.actor.person_id != own["person_id"]
    if step.moved.event == "submit" and own["subject_type"] == "org":
        changes["data"] = {**step.loaded.record.data, "meeting": as_json(step.data.get("meeting"))}
    return changes


def _amended(step: Step) -> dict[str, Any]:
    pid = step.loaded.record.id
    pledge_items.replace(step.session, pid, pledge_items.of_page(step.session, [pid])[pid], step.data["items"])
    return _submitted(step)


def _published(step: Step) -> dict[str, Any]:
    publication = {"channel": step.data["channel"], "published_on": str(step.data["published_on"])}
    return {"data": {**step.loaded.record.data, "publication": publication}}


def _appraised(step: Step) -> dict[str, Any]:
    pledge_items.set_outcomes(step.session, step.data.get("outcomes", []))
    data = {**step.loaded.record.data, "grade": step.data["grade"]}
    if step.data.get("ratings"):
        data["ratings"] = dict(step.data["ratings"])
    return {"data": data}


def views(
    session: Session, lc: Lifecycles, page: Sequence[Loaded], now: dt.datetime, known: Deadlines | None = None
) -> list[dict[str, Any]]:
    """The API's pledges: a page in two queries (the records were loaded with their org and person)."""
    ids = [p.record.id for p in page]
    items = pledge_items.of_page(session, ids)
    rows = known or deadlines.deadlines_of_page(session, LIFECYCLE, ids)
    engine = lc.engine(LIFECYCLE)
    out = []
    for p in page:
        r = p.record
        shown, overdue = deadlines.deadline_view(rows[r.id], now)
        subject = (
            {"type": "person", "id": p.person.id, "name": p.person.name}
            if p.person
            else {"type": "org", "id": p.org.id, "name": p.org.name}
        )
        out.append(
            {
                "id": r.id,
                "year": r.year,
                "subject": subject,
                "org_id": r.org_id,
                "org_name": p.org.name,
                "state": r.state,
                "state_label": engine.lifecycle.state(r.state).label_zh,
                "version": r.version,
                "items": items[r.id],
                "data": r.data,
                "deadlines": shown,
                "overdue": overdue,
                "allowed_events": engine.allowed_events(r.state, p.roles),
                "submitted_on_behalf": r.own["submitted_on_behalf"],
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
        )
    return out


KIND = Kind(
    lifecycle=LIFECYCLE,
    label_zh="承诺书",
    table=PLEDGE,
    own=("subject_type", "person_id", "submitted_by", "submitted_on_behalf"),
    person=True,
    roles=_roles,
    facts=_facts,
    on={"submit": _submitted, "amend": _amended, "publish": _published, "appraise": _appraised},
    views=views,
    tells={event: "owner" for event in ("return", "approve", "publish", "appraise", "withdraw")},
)

_ORG_OF_PERSON = sa.select(PERSON.c.org_id).where(PERSON.c.id == sa.bindparam("id"))
_LIVE = sa.select(PLEDGE.c.id).where(
    PLEDGE.c.year == sa.bindparam("year"), PLEDGE.c.subject_key == sa.bindparam("key"), PLEDGE.c.state != WITHDRAWN
)


def create(uow: UnitOfWork, lc: Lifecycles, actor: Actor, cmd: CreatePledge, now: dt.datetime) -> int:
    """A new pledge in 提出承诺, for a member (by them or their secretary) or an org (by its secretary)."""
    s = uow.session
    org, role, key = _subject(s, actor, cmd)
    carrying = next((n for n, i in enumerate(cmd.items) if i.id is not None), None)
    if carrying is not None:
        raise Invalid(f"items[{carrying}].id", f"承诺事项 {cmd.items[carrying].id} 不属于本承诺书")
    campaign = campaign_for(s, cmd.year)
    if s.connection().execute(_LIVE, {"year": cmd.year, "key": key}).first() is not None:
        raise Conflict(f"该对象{cmd.year}年度已有承诺书", field="year")
    values = {
        "year": cmd.year,
        "subject_type": "person" if cmd.person_id is not None else "org",
        "subject_key": key,
        "org_id": org.id,
        "person_id": cmd.person_id,
        "submitted_on_behalf": False,
    }
    pledge_id = fire.create(s, lc, KIND, values, campaign, actor, role, now)
    pledge_items.insert(s, pledge_id, [i.model_dump() for i in cmd.items])
    uow.commit()
    return pledge_id


def _subject(session: Session, actor: Actor, cmd: CreatePledge) -> tuple[OrgRow, str, str]:
    """The pledge's org, the role its creator acts in, and its subject key (one live pledge a year)."""
    if cmd.person_id is not None:
        org_id = session.connection().execute(_ORG_OF_PERSON, {"id": cmd.person_id}).scalar_one_or_none()
        if org_id is None:
            raise Invalid("person_id", f"人员 {cmd.person_id} 不存在")
        org = org_row(session, org_id)
        if not (actor.person_id == cmd.person_id or actor.secretary_of(org) or actor.is_office):
            raise Forbidden("只能为本人或本支部党员创建承诺书")
        key = f"person:{cmd.person_id}"
    else:
        org = org_row(session, cmd.org_id or 0)
        if not (actor.secretary_of(org) or actor.is_office):
            raise Forbidden("只有本组织的支部书记可以创建党组织承诺书")
        key = f"org:{org.id}"
    role = "secretary" if actor.secretary_of(org) else "office" if actor.is_office else "member"
    return org, role, key


def edit_items(
    uow: UnitOfWork,
    lc: Lifecycles,
    actor: Actor,
    pledge_id: int,
    cmd: EditItems,
    if_match: int | None,
    now: dt.datetime,
) -> None:
    """Replace the items of a pledge still being proposed (its owner or their secretary)."""
    s = uow.session
    loaded = store.load(s, KIND, actor, pledge_id)
    check_version(loaded.record, if_match)
    engine = lc.engine(LIFECYCLE)
    state = loaded.record.state
    if state != "proposing":
        label = engine.lifecycle.state(state).label_zh
        raise Conflict(
            f"只有在“提出承诺”阶段才能修改承诺事项（当前：{label}）；践行中请用“充实完善”",
            allowed_events=engine.allowed_events(state, loaded.roles),
        )
    if "owner" not in loaded.roles:
        raise Forbidden("只有承诺人或本支部书记可以修改承诺事项")
    current = pledge_items.of_page(s, [pledge_id])[pledge_id]
    pledge_items.replace(s, pledge_id, current, [i.model_dump() for i in cmd.items])
    store.write(s, KIND, loaded.record, updated_at=now)
    firing = Firing(now, None, loaded.campaign.timezone)
    history.append_history(
        s, LIFECYCLE, pledge_id, None, actor, "owner", firing, event="edit", state=state, key=lc.history_key
    )
    uow.commit()


def add_comment(uow: UnitOfWork, actor: Actor, pledge_id: int, cmd: AddComment, now: dt.datetime) -> LeaderComment:
    """领导点评: a supervisor on org pledges and secretaries' own, a secretary on their members'."""
    s = uow.session
    loaded = store.load(s, KIND, actor, pledge_id)
    if not may_comment(actor, loaded):
        raise Forbidden("领导点评：教育工委领导点评党组织及书记的承诺，支部书记点评本支部党员的承诺")
    comment = LeaderComment(
        pledge_id=pledge_id,
        author_id=actor.user_id,
        author_name=actor.name,
        author_role="supervisor" if _to_supervisor(loaded) else "secretary",
        created_at=now,
        **cmd.model_dump(),
    )
    s.add(comment)
    s.flush()
    title = f"【领导点评】{loaded.person.name if loaded.person else loaded.org.name}的公开承诺"
    body = f"{title}。{actor.name}：肯定成绩——{cmd.achievements}；指出问题——{cmd.problems}；努力方向——{cmd.direction}"
    happened = event_notices.Happened(LIFECYCLE, pledge_id, f"comment-{comment.id}", title, body)
    event_notices.tell(s, happened, "owner", loaded.org.id, loaded.record.own["person_id"], now)
    uow.commit()
    return comment


def _to_supervisor(loaded: Loaded) -> bool:
    return loaded.record.own["person_id"] is None or loaded.subject_is_secretary


def may_comment(actor: Actor, loaded: Loaded) -> bool:
    """Whether `actor` may comment on this pledge (SPEC §4: the level above the pledger)."""
    if _to_supervisor(loaded):
        return actor.is_supervisor
    return actor.secretary_of(loaded.org) and loaded.record.own["person_id"] != actor.person_id


def comments(session: Session, actor: Actor, pledge_id: int) -> list[LeaderComment]:
    store.load(session, KIND, actor, pledge_id)
    q = select(LeaderComment).where(LeaderComment.pledge_id == pledge_id).order_by(col(LeaderComment.id))
    return list(session.exec(q).all())


def add_progress(uow: UnitOfWork, actor: Actor, pledge_id: int, cmd: AddProgress, now: dt.datetime) -> ProgressRecord:
    """践诺记录 on one item of a pledge being carried out (its owner or their secretary)."""
    s = uow.session
    loaded = store.load(s, KIND, actor, pledge_id)
    if "owner" not in loaded.roles:
        raise Forbidden("只有承诺人或本支部书记可以填写践诺记录")
    if loaded.record.state != "practising":
        raise Conflict("只有在“践行承诺”阶段才能填写践诺记录")
    if not any(i["id"] == cmd.item for i in pledge_items.of_page(s, [pledge_id])[pledge_id]):
        raise Invalid("item", f"承诺事项 {cmd.item} 不属于本承诺书")
    today = local_date(now, loaded.campaign.timezone)
    if cmd.happened_on > today:
        raise Invalid("happened_on", f"践诺日期不能晚于今天（{today}）")
    record = ProgressRecord(
        pledge_id=pledge_id,
        item_id=cmd.item,
        author_id=actor.user_id,
        created_at=now,
        note=cmd.note,
        happened_on=cmd.happened_on,
    )
    s.add(record)
    uow.commit()
    return record


def progress(session: Session, pledge_id: int) -> list[ProgressRecord]:
    q = select(ProgressRecord).where(ProgressRecord.pledge_id == pledge_id)
    return list(session.exec(q.order_by(col(ProgressRecord.happened_on), col(ProgressRecord.id))).all())
