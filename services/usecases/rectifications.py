"""限期整改: an order to an org to fix named problems by a date, whose due date the scheduler enforces."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from services.access import Actor
from services.enforcement import event_notices
from services.errors import Invalid
from services.lifecycle.calendar import campaign_for
from services.lifecycle.fire import Step
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import Kind
from services.persistence.tables import Rectification
from services.persistence.uow import UnitOfWork
from services.usecases import org_records
from services.usecases.commands import IssueRectification
from services.usecases.fields import as_json
from workflow import deadlines as dl

LIFECYCLE = "rectification"
CREATORS = frozenset({"office", "supervisor"})


def _reported(step: Step) -> dict[str, Any]:
    return {"data": {**step.loaded.record.data, "report": as_json(step.data)}}


KIND = Kind(
    lifecycle=LIFECYCLE,
    label_zh="限期整改",
    table=Rectification.__table__,  # type: ignore[attr-defined]
    own=("problems", "due_date", "evaluation_id"),
    on={"report": _reported},
    tells={event: "secretary" for event in ("verify", "reject_report")},
)


def issue(uow: UnitOfWork, lc: Lifecycles, actor: Actor, cmd: IssueRectification, now: dt.datetime) -> int:
    order_id = add(uow.session, lc, actor, cmd, now)
    uow.commit()
    return order_id


def add(
    session: Session,
    lc: Lifecycles,
    actor: Actor,
    cmd: IssueRectification,
    now: dt.datetime,
    evaluation_id: int | None = None,
) -> int:
    """An order in the caller's transaction (also when an assessment orders rectification); its
    deadline is its due date, the end of that day in the campaign's time zone."""
    if not cmd.problems.strip():
        raise Invalid("problems", "请写明须整改的问题")
    due = dl.due_at(cmd.due_date, campaign_for(session, cmd.year).timezone)
    if due <= now:
        raise Invalid("due_date", "整改期限须晚于今天")
    values = {**cmd.model_dump(), "evaluation_id": evaluation_id}
    order_id = org_records.start(session, lc, LIFECYCLE, CREATORS, actor, values, now, {"rectification_reported": due})
    if evaluation_id is None:  # an order from an assessment is told by its own event
        org = org_records.org_row(session, cmd.org_id)
        title = f"【限期整改】{org.name}"
        body = f"{title}：{cmd.problems}。整改期限：{cmd.due_date.isoformat()}。"
        happened = event_notices.Happened(LIFECYCLE, order_id, "1", title, body)
        event_notices.tell(session, happened, "secretary", cmd.org_id, None, now)
    return order_id
