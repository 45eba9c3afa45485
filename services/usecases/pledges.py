"""Pledge use cases: create, read, edit items, fire events, comments and progress records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlmodel import Session, select

from definitions import CriteriaSet
from services.access import (
    Actor,
    pledge_roles,
)
from services.errors import Conflict, Forbidden, Invalid
from services.lifecycle import pledge_store, records
from services.lifecycle.calendar import campaign_for
from services.lifecycle.pledge_store import (
    COUNT_COMMENTS,
    COUNT_PROGRESS,
    Loaded,
    OrgRow,
    PledgeRow,
    count,
    items_of,
    load,
    set_outcomes,
    write,
)
from services.persistence.tables import (
    LeaderComment,
    PledgeItem,
    ProgressRecord,
)
from services.persistence.uow import UnitOfWork
from workflow import Engine, Transitioned

LIFECYCLE = "pledge"


PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
"""Text holds no control character but tab and line breaks: PostgreSQL cannot store NUL in a
text column, and a spreadsheet cell (the .xlsx report) cannot hold the others."""


class ItemIn(BaseModel):
    """One pledge item as written by its owner (on create, PATCH and `amend`)."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    content: Annotated[str, Field(min_length=1, max_length=500, pattern=PLAIN_TEXT)]
    measure: Annotated[str, Field(max_length=500, pattern=PLAIN_TEXT)] | None = None
    due_date: dt.date | None = None


class OutcomeIn(BaseModel):
    """How one item was kept, as the reviewer states it on `appraise` (the guards judge the values)."""

    model_config = ConfigDict(extra="forbid")
    item: Annotated[int, Field(ge=1, le=2**63 - 1)]
    outcome: Annotated[str, Field(max_length=20)]
    explanation: Annotated[str, Field(max_length=2000, pattern=PLAIN_TEXT)] | None = None


ITEMS = TypeAdapter(Annotated[list[ItemIn], Field(min_length=1, max_length=50)])
OUTCOMES = TypeAdapter(Annotated[list[OutcomeIn], Field(max_length=50)])
MEETING_FIELDS = frozenset({"held_on", "attendees"})


def _parse(adapter: TypeAdapter[Any], raw: Any, field: str, what: str) -> list[dict[str, Any]]:
    try:
        return [i.model_dump() for i in adapter.validate_python(raw)]
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        path = f"{field}{where}" if where.startswith("[") or not where else f"{field}.{where}"
        raise Invalid(path, f"{what}有误（{path}）：{err['msg']}") from exc


def parse_items(raw: Any, field: str) -> list[dict[str, Any]]:
    return _parse(ITEMS, raw, field, "承诺事项")


def _checked_data(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The parts of an event's data that are stored as given: typed and bounded before any guard reads them."""
    if event == "amend" and "items" in data:
        data = {**data, "items": parse_items(data["items"], "data.items")}
    if event == "appraise" and "outcomes" in data:
        data = {**data, "outcomes": _parse(OUTCOMES, data["outcomes"], "data.outcomes", "兑现情况")}
    if event == "submit" and isinstance(data.get("meeting"), Mapping):
        unknown = sorted(set(data["meeting"]) - MEETING_FIELDS)
        if unknown:
            field = f"data.meeting.{unknown[0]}"
            raise Invalid(field, f"不允许的字段 {field}（会议只记录 held_on 和 attendees）")
    return data


def view(
    session: Session,
    engine: Engine,
    loaded: Loaded,
    now: dt.datetime,
    items: Sequence[Any] | None = None,
    deadline_rows: list[records.DeadlineRow] | None = None,
) -> dict[str, Any]:
    """The API's pledge; a listing passes `items` and `deadline_rows` it loaded for the whole page."""
    p = loaded.pledge
    if deadline_rows is None:
        deadline_rows = records.deadlines_of(session, LIFECYCLE, p.id or 0)
    if items is None:
        items = items_of(session, p.id or 0)
    deadlines, overdue = records.deadline_view(deadline_rows, now)
    subject = (
        {"type": "person", "id": loaded.person.id, "name": loaded.person.name}
        if loaded.person
        else {"type": "org", "id": loaded.org.id, "name": loaded.org.name}
    )
    return {
        "id": p.id,
        "year": p.year,
        "subject": subject,
        "org_id": p.org_id,
        "state": p.state,
        "state_label": engine.lifecycle.state(p.state).label_zh,
        "version": p.version,
        "items": [_item_view(i) for i in items],
        "data": p.data,
        "deadlines": deadlines,
        "overdue": overdue,
        "allowed_events": engine.allowed_events(p.state, loaded.roles),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def _item_view(i: Any) -> dict[str, Any]:
    return {
        "id": i.id,
        "content": i.content,
        "measure": i.measure,
        "due_date": i.due_date,
        "outcome": i.outcome,
        "explanation": i.explanation,
    }


def create(uow: UnitOfWork, engine: Engine, actor: Actor, body: dict[str, Any], now: dt.datetime) -> int:
    s = uow.session
    year = body["year"]
    person_id = body.get("person_id")
    if person_id is not None:
        org = pledge_store.org_of_person(s, person_id)
        if org is None:
            raise Invalid("person_id", f"人员 {person_id} 不存在")
        if not (actor.person_id == person_id or actor.secretary_of(org) or actor.is_office):
            raise Forbidden("只能为本人或本支部党员创建承诺书")
        key = f"person:{person_id}"
    else:
        found = pledge_store.org_row(s, body["org_id"])
        if found is None:
            raise Invalid("org_id", f"党组织 {body['org_id']} 不存在")
        org = found
        if not (actor.secretary_of(org) or actor.is_office):
            raise Forbidden("只有本组织的支部书记可以创建党组织承诺书")
        key = f"org:{org.id}"
    items = body.get("items", [])
    carrying_id = next((n for n, i in enumerate(items) if i.get("id") is not None), None)
    if carrying_id is not None:
        raise Invalid(f"items[{carrying_id}].id", f"承诺事项 {items[carrying_id]['id']} 不属于本承诺书")
    campaign = campaign_for(s, year)
    if pledge_store.has_live_pledge(s, year, key):
        raise Conflict(f"该对象{year}年度已有承诺书", field="year")
    values = {
        "year": year,
        "subject_type": "person" if person_id is not None else "org",
        "subject_key": key,
        "org_id": org.id,
        "person_id": person_id,
        "state": "proposing",
        "submitted_on_behalf": False,
        "created_at": now,
        "updated_at": now,
    }
    pledge_id = pledge_store.insert(s, values, items)
    records.create_deadlines(s, engine.lifecycle, pledge_id, campaign, now)
    role = _role_for_create(actor, org)
    firing = records.Firing(now)
    records.append_history(s, LIFECYCLE, pledge_id, None, actor, role, firing, event="create", state="proposing")
    uow.commit()
    return pledge_id


def _role_for_create(actor: Actor, org: OrgRow) -> str:
    if actor.secretary_of(org):
        return "secretary"
    return "office" if actor.is_office else "member"


def _replace_items(session: Session, pledge_id: int, items: list[dict[str, Any]]) -> None:
    """Replace the item list; items that carry their id keep it (and their outcome)."""
    stored = select(PledgeItem).where(PledgeItem.pledge_id == pledge_id)
    existing = {i.id: i for i in session.exec(stored).all()}
    kept: set[int] = set()
    for position, item in enumerate(items, start=1):
        row = existing.get(item.get("id")) if item.get("id") is not None else None
        if item.get("id") is not None and row is None:
            raise Invalid(f"items[{position - 1}].id", f"承诺事项 {item['id']} 不属于本承诺书")
        row = row or PledgeItem(pledge_id=pledge_id, position=position, content="")
        row.position, row.content = position, item["content"]
        row.measure, row.due_date = item.get("measure"), item.get("due_date")
        session.add(row)
        if row.id is not None:
            kept.add(row.id)
    for item_id, row in existing.items():
        if item_id not in kept:
            if (
                count(session, COUNT_PROGRESS, pledge_id)
                and session.exec(select(ProgressRecord.id).where(ProgressRecord.item_id == item_id)).first()
            ):
                raise Invalid("items", "已有践诺记录的承诺事项不能删除")
            session.delete(row)
    session.flush()


def edit_items(
    uow: UnitOfWork,
    engine: Engine,
    actor: Actor,
    pledge_id: int,
    items: list[dict[str, Any]],
    if_match: int | None,
    now: dt.datetime,
) -> None:
    """Replace the items of a pledge still being proposed (its owner or their secretary)."""
    s = uow.session
    loaded = load(s, actor, pledge_id)
    pledge = loaded.pledge
    records.check_version(pledge, if_match)
    if pledge.state != "proposing":
        label = engine.lifecycle.state(pledge.state).label_zh
        raise Conflict(
            f"只有在“提出承诺”阶段才能修改承诺事项（当前：{label}）；践行中请用 amend",
            allowed_events=engine.allowed_events(pledge.state, loaded.roles),
        )
    if "owner" not in loaded.roles:
        raise Forbidden("只有承诺人或本支部书记可以修改承诺事项")
    _replace_items(s, pledge_id, items)
    write(s, pledge, updated_at=now)
    records.append_history(
        s, LIFECYCLE, pledge_id, None, actor, "owner", records.Firing(now), event="edit", state=pledge.state
    )
    uow.commit()


def fire_event(
    uow: UnitOfWork,
    engine: Engine,
    actor: Actor,
    pledge_id: int,
    body: dict[str, Any],
    if_match: int | None,
    now: dt.datetime,
    criteria: Mapping[str, CriteriaSet] | None = None,
) -> dict[str, Any]:
    """Fire an event on a pledge and answer the pledge as it now stands; `criteria` are the
    五个好/五带头 sets an `appraise` may rate by."""
    s = uow.session
    loaded = load(s, actor, pledge_id)
    records.check_version(loaded.pledge, if_match)
    event = body["event"]
    data = _checked_data(event, body.get("data") or {})
    items = items_of(s, pledge_id)
    written: list[PledgeRow] = []

    def store(moved: Transitioned) -> None:
        changes = _recorded(s, loaded.pledge, moved.event, data, actor)
        written.append(write(s, loaded.pledge, state=moved.dest, updated_at=now, **changes))

    facts = _facts(s, loaded.pledge, items, criteria or {})
    moved = records.transition(s, engine, loaded.pledge, loaded.roles, actor, {**body, "data": data}, facts, now, store)
    uow.commit()
    pledge = written[0]
    roles = pledge_roles(actor, pledge, loaded.org, loaded.subject_is_secretary)  # a submit changes who reviews
    answered = Loaded(pledge, loaded.org, loaded.person, roles, loaded.subject_is_secretary)
    changed_items = event in ("amend", "appraise")
    return view(s, engine, answered, now, None if changed_items else items, moved.deadlines)


def _facts(
    session: Session, pledge: PledgeRow, items: Sequence[Any], criteria_sets: Mapping[str, CriteriaSet]
) -> records.Facts:
    def criteria() -> CriteriaSet | None:
        campaign = campaign_for(session, pledge.year)
        return criteria_sets.get(campaign.criteria.get(pledge.subject_type, ""))

    return records.Facts(
        {"kind": pledge.subject_type, "items": [_item_view(i) for i in items]},
        {
            "criteria": lambda: {c.code: c.label_zh for c in found.criteria} if (found := criteria()) else {},
            "criteria_levels": lambda: dict(found.levels) if (found := criteria()) else {},
            "progress_count": lambda: count(session, COUNT_PROGRESS, pledge.id),
            "comment_count": lambda: count(session, COUNT_COMMENTS, pledge.id),
        },
    )


def _recorded(session: Session, pledge: PledgeRow, event: str, data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """What the event's data carries, once the guards have accepted it: the pledge's changed
    columns (returned) and, for `amend` and `appraise`, its items (written here)."""
    changes: dict[str, Any] = {}
    extra = dict(pledge.data)
    if event == "amend":
        _replace_items(session, pledge.id, data["items"])
    if event in ("submit", "amend"):
        changes["submitted_by"] = actor.user_id
        changes["submitted_on_behalf"] = pledge.person_id is not None and actor.person_id != pledge.person_id
        if event == "submit" and pledge.subject_type == "org":
            extra["meeting"] = data["meeting"]
    elif event == "publish":
        extra["publication"] = {"channel": data["channel"], "published_on": str(data["published_on"])}
    elif event == "appraise":
        extra["grade"] = data["grade"]
        if data.get("ratings"):
            extra["ratings"] = dict(data["ratings"])
        outcomes = [
            {"item_id": o["item"], "outcome": o["outcome"], "explanation": o.get("explanation")}
            for o in data.get("outcomes", [])
        ]
        set_outcomes(session, outcomes)
    if extra != pledge.data:
        changes["data"] = extra
    return changes


def history(session: Session, actor: Actor, pledge_id: int) -> list[dict[str, Any]]:
    load(session, actor, pledge_id)
    return records.history_view(records.history_of(session, LIFECYCLE, pledge_id))


def add_comment(uow: UnitOfWork, actor: Actor, pledge_id: int, body: dict[str, str], now: dt.datetime) -> LeaderComment:
    s = uow.session
    loaded = load(s, actor, pledge_id)
    pledge, org = loaded.pledge, loaded.org
    subject_is_secretary = loaded.subject_is_secretary
    own = pledge.person_id is not None and pledge.person_id == actor.person_id
    if pledge.person_id is None or subject_is_secretary:
        allowed, role = actor.is_supervisor, "supervisor"
    else:
        allowed, role = actor.secretary_of(org) and not own, "secretary"
    if not allowed:
        raise Forbidden("领导点评：教育工委领导点评党组织及书记的承诺，支部书记点评本支部党员的承诺")
    comment = LeaderComment(
        pledge_id=pledge_id,
        author_id=actor.user_id,
        author_name=actor.name,
        author_role=role,
        created_at=now,
        achievements=body["achievements"],
        problems=body["problems"],
        direction=body["direction"],
    )
    s.add(comment)
    uow.commit()
    return comment


def comments(session: Session, actor: Actor, pledge_id: int) -> list[LeaderComment]:
    load(session, actor, pledge_id)
    q = select(LeaderComment).where(LeaderComment.pledge_id == pledge_id).order_by(LeaderComment.id)  # type: ignore[arg-type]
    return list(session.exec(q).all())


def add_progress(
    uow: UnitOfWork, actor: Actor, pledge_id: int, body: dict[str, Any], now: dt.datetime
) -> ProgressRecord:
    s = uow.session
    loaded = load(s, actor, pledge_id)
    if "owner" not in loaded.roles:
        raise Forbidden("只有承诺人或本支部书记可以填写践诺记录")
    if loaded.pledge.state != "practising":
        raise Conflict(f"只有在“践行承诺”阶段才能填写践诺记录（当前：{loaded.pledge.state}）")
    item = s.get(PledgeItem, body["item"])
    if item is None or item.pledge_id != pledge_id:
        raise Invalid("item", f"承诺事项 {body['item']} 不属于本承诺书")
    record = ProgressRecord(
        pledge_id=pledge_id,
        item_id=item.id or 0,
        note=body["note"],
        happened_on=body["happened_on"],
        author_id=actor.user_id,
        created_at=now,
    )
    s.add(record)
    uow.commit()
    return record
