"""限期整改: an order to an org to fix named problems by a date, whose due date the scheduler enforces."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from services.access import Actor
from services.errors import Invalid
from services.lifecycle.calendar import campaign_for
from services.persistence.tables import Rectification
from services.persistence.uow import UnitOfWork
from services.usecases.org_records import Kind, create
from workflow import Engine
from workflow import deadlines as dl

KIND = Kind(
    lifecycle="rectification",
    table=Rectification,
    label_zh="限期整改",
    creators=frozenset({"office", "supervisor"}),
    fields=("problems", "due_date", "evaluation_id"),
    data_events=frozenset({"report"}),
)


def issue(uow: UnitOfWork, engine: Engine, actor: Actor, body: dict[str, Any], now: dt.datetime) -> int:
    order_id = add(uow, engine, actor, body, now)
    uow.commit()
    return order_id


def add(uow: UnitOfWork, engine: Engine, actor: Actor, body: dict[str, Any], now: dt.datetime) -> int:
    """Add an order in the caller's transaction (also used when an assessment orders rectification)."""
    if not str(body.get("problems") or "").strip():
        raise Invalid("problems", "请写明须整改的问题（problems）")
    due = _due(uow.session, body["year"], body["due_date"])
    if due <= now:
        raise Invalid("due_date", "整改期限须晚于今天")
    return create(uow, engine, KIND, actor, body, now, due={"rectification_reported": due})


def _due(session: Session, year: int, due_date: dt.date) -> dt.datetime:
    return dl.due_at(due_date, campaign_for(session, year).timezone)
