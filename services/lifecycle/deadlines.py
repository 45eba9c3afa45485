"""A record's deadline rows: made from the campaign calendar, shown, settled or cancelled by a move,
all in the caller's transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from definitions import Lifecycle
from definitions.vocabulary import DeadlineStatus
from services.lifecycle.calendar import Firing, Year, reminder_time
from services.persistence.tables import Campaign, Deadline
from workflow import Transitioned
from workflow import deadlines as dl


def create_deadlines(
    session: Session,
    lifecycle: Lifecycle,
    subject_id: int,
    campaign: Year,
    now: dt.datetime,
    due_at: dict[str, dt.datetime] | None = None,
) -> None:
    """The record's deadline rows: from the campaign calendar, or `due_at` for its own dates."""
    stages = campaign_stages(campaign)
    dates = {name: dt.datetime.fromisoformat(value) for name, value in campaign.deadlines.items()} | (due_at or {})
    rows = []
    for rule in lifecycle.deadlines:
        if rule.name not in dates:
            continue
        due = dates[rule.name]
        stage, at = dl.first_stage(stages, due, now, campaign.notify_past_deadlines)
        at = notice_at(stages, stage, at, due, campaign.timezone)
        rows.append(
            {
                "year": campaign.year,
                "subject_type": lifecycle.name,
                "subject_id": subject_id,
                "name": rule.name,
                "due_at": due,
                "status": dl.PENDING,
                "notice_stage": stage,
                "next_notice_at": at,
            }
        )
    if rows:
        session.connection().execute(_INSERT_DEADLINES, rows)


def campaign_stages(campaign: Campaign | Year) -> list[dl.Stage]:
    return dl.notice_stages(campaign.reminder_offsets_days, campaign.escalation_after_days)


def notice_at(
    stages: list[dl.Stage], index: int, at: dt.datetime | None, due: dt.datetime, timezone: str
) -> dt.datetime | None:
    """When stage `index`, due `at`, really goes out: a reminder is held to the next working morning when
    it falls on a rest day or outside working hours, but never past the deadline (then the overdue notice
    goes instead); overdue notices and escalations go at their time."""
    if at is None or index >= len(stages) or stages[index].kind != dl.REMINDER:
        return at
    return min(reminder_time(at, timezone), due)


DEADLINE = Deadline.__table__  # type: ignore[attr-defined]
DEADLINE_COLUMNS = (DEADLINE.c.id, DEADLINE.c.name, DEADLINE.c.due_at, DEADLINE.c.status)
"""What a `DeadlineRow` holds, in its order."""
_DEADLINES = (
    sa.select(*DEADLINE_COLUMNS)
    .where(DEADLINE.c.subject_type == sa.bindparam("type"), DEADLINE.c.subject_id == sa.bindparam("id"))
    .order_by(DEADLINE.c.due_at, DEADLINE.c.id)
)
_SETTLE_DEADLINE = (
    sa.update(DEADLINE)
    .where(DEADLINE.c.id == sa.bindparam("deadline_id"))
    .values(status=sa.bindparam("status"), settled_at=sa.bindparam("settled_at"), next_notice_at=None)
)
_INSERT_DEADLINES = sa.insert(DEADLINE)


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    """A deadline as a record's view shows it."""

    id: int
    name: str
    due_at: dt.datetime
    status: str


def deadlines_of(session: Session, subject_type: str, subject_id: int) -> list[DeadlineRow]:
    """The record's deadlines, read on the unit of work's connection (plain values, not ORM objects)."""
    found = session.connection().execute(_DEADLINES, {"type": subject_type, "id": subject_id})
    return [DeadlineRow(*row) for row in found]


def deadline_view(rows: list[DeadlineRow], now: dt.datetime) -> tuple[list[dict[str, Any]], bool]:
    """Rows as the API shows them; a pending row past due shows as missed even before a sweep."""
    shown = []
    for row in rows:
        status = dl.MISSED if dl.is_missed(row.status, row.due_at, now) else row.status
        shown.append(
            {
                "name": row.name,
                "due_at": row.due_at,
                "status": status,
                "status_label": DeadlineStatus.of(status).label_zh,
            }
        )
    return shown, any(d["status"] == dl.MISSED for d in shown)


def apply_deadlines(
    session: Session, lifecycle: Lifecycle, subject_id: int, moved: Transitioned, firing: Firing
) -> tuple[bool, list[DeadlineRow]]:
    """Settle or cancel the record's deadlines for this move; return whether it was late, and the rows."""
    rows = deadlines_of(session, lifecycle.name, subject_id)
    at = firing.judged_at
    late = any(dl.is_missed(row.status, row.due_at, at) for row in rows)
    final = lifecycle.state(moved.dest).final
    now_rows = []
    for row in rows:
        rule = next((r for r in lifecycle.deadlines if r.name == row.name), None)
        status = row.status
        if status in dl.OPEN and rule is not None and moved.dest in rule.reached_in:
            status = dl.settle(row.status, row.due_at, at)
        elif status in dl.OPEN and final:
            status = dl.CANCELLED
        if status != row.status:
            params = {"deadline_id": row.id, "status": status, "settled_at": firing.now}
            session.connection().execute(_SETTLE_DEADLINE, params)
            row = dataclasses.replace(row, status=status)
        now_rows.append(row)
    return late, now_rows


def _page_query() -> sa.Select[Any]:
    ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
    return (
        sa.select(DEADLINE.c.subject_id, *DEADLINE_COLUMNS)
        .where(DEADLINE.c.subject_type == sa.bindparam("type"), DEADLINE.c.subject_id.in_(ids))
        .order_by(DEADLINE.c.due_at, DEADLINE.c.id)
    )


_PAGE = _page_query()


Deadlines = dict[int, list[DeadlineRow]]
"""Deadline rows by record id."""


def deadlines_of_page(session: Session, subject_type: str, ids: list[int]) -> Deadlines:
    """The deadlines of a page of records, in one query."""
    found: dict[int, list[DeadlineRow]] = {i: [] for i in ids}
    for subject_id, *row in session.connection().execute(_PAGE, {"type": subject_type, "ids": ids}):
        found[subject_id].append(DeadlineRow(*row))
    return found
