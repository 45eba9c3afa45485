"""What every lifecycle record shares: history rows and deadline rows, written in the caller's transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions import Lifecycle
from services.access import Actor
from services.errors import Forbidden, PreconditionFailed
from services.lifecycle import audit
from services.lifecycle.calendar import Year, campaign_for
from services.persistence.tables import Campaign, Deadline, History
from workflow import Engine, GuardContext, Transitioned
from workflow import deadlines as dl


@dataclass(frozen=True)
class Firing:
    """The moment an event is fired: the real clock, and the effective time for a backfill."""

    now: dt.datetime
    effective_on: dt.date | None = None
    timezone: str = "Asia/Shanghai"

    @property
    def judged_at(self) -> dt.datetime:
        """Deadlines are judged by the server's clock; a backfill by noon of its effective day."""
        if self.effective_on is None:
            return self.now
        noon = dt.datetime.combine(self.effective_on, dt.time(12), tzinfo=ZoneInfo(self.timezone))
        return min(self.now, noon)


class Facts(Mapping[str, Any]):
    """What the guards may read about a record: some facts given, the rest each read from the
    database only when a guard of the fired event asks for it (most events need few of them)."""

    def __init__(self, given: dict[str, Any], deferred: dict[str, Callable[[], Any]]):
        self._known, self._deferred = dict(given), deferred

    def __getitem__(self, key: str) -> Any:
        if key not in self._known:
            self._known[key] = self._deferred[key]()
        return self._known[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._known.keys() | self._deferred.keys())

    def __len__(self) -> int:
        return len(self._known.keys() | self._deferred.keys())


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
_INSERT_HISTORY = sa.insert(History.__table__)  # type: ignore[attr-defined]
_LAST_HISTORY = (
    select(History.seq, History.hash)
    .where(col(History.subject_type) == sa.bindparam("type"), col(History.subject_id) == sa.bindparam("id"))
    .order_by(col(History.seq).desc())
    .limit(1)
)


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
        shown.append({"name": row.name, "due_at": row.due_at, "status": status, "status_label": dl.STATUS_ZH[status]})
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


def append_history(
    session: Session,
    lifecycle: str,
    subject_id: int,
    moved: Transitioned | None,
    actor: Actor,
    role: str,
    firing: Firing,
    *,
    event: str | None = None,
    state: str | None = None,
    reason: str | None = None,
    late: bool = False,
    data: dict[str, Any] | None = None,
) -> None:
    """Insert the record's next history row, chained to its last one (an INSERT of values, not an
    ORM object: nothing reads the row back in this transaction)."""
    connection = session.connection()
    last = connection.execute(_LAST_HISTORY, {"type": lifecycle, "id": subject_id}).first()
    seq, prev_hash = last if last else (0, None)
    row = {
        "subject_type": lifecycle,
        "subject_id": subject_id,
        "seq": seq + 1,
        "event": moved.event if moved else (event or ""),
        "from_state": moved.source if moved else state,
        "to_state": moved.dest if moved else (state or ""),
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "actor_role": role,
        "at": firing.now,
        "reason": reason,
        "late": late,
        "backfilled": firing.effective_on is not None,
        "effective_on": firing.effective_on,
        "data": data or {},
        "prev_hash": prev_hash,
    }
    connection.execute(_INSERT_HISTORY, {**row, "hash": audit.digest(row, prev_hash)})


def history_of(session: Session, lifecycle: str, subject_id: int) -> list[History]:
    q = select(History).where(History.subject_type == lifecycle, History.subject_id == subject_id)
    return list(session.exec(q.order_by(History.seq)).all())  # type: ignore[arg-type]


def history_view(rows: list[History]) -> list[dict[str, Any]]:
    return [
        {
            "seq": h.seq,
            "event": h.event,
            "from_state": h.from_state,
            "to_state": h.to_state,
            "actor": {"user_id": h.actor_id, "name": h.actor_name, "role": h.actor_role},
            "at": h.at,
            "reason": h.reason,
            "late": h.late,
            "backfilled": h.backfilled,
            "effective_on": h.effective_on,
        }
        for h in rows
    ]


def fire(
    engine: Engine, state: str, event: str, roles: Set[str], ctx: GuardContext, actor: Actor, backfill: bool
) -> tuple[Transitioned, str]:
    """Fire through the engine; a backfill is the office recording, on paper's behalf, any event."""
    if backfill:
        if event in engine.events_from(state) and not actor.is_office:
            raise Forbidden("补录（effective_on）只能由创先争优活动办公室进行", field="effective_on")
        ev = engine.lifecycle.event(event)
        roles = set(ev.roles) if ev is not None and actor.is_office else roles
    moved = engine.fire(state, event, roles, ctx)
    ev = engine.lifecycle.event(event)
    assert ev is not None
    role = "office" if backfill else next((r for r in ev.roles if r in roles), ev.roles[0])
    return moved, role


def check_version(record: Any, if_match: int | None) -> None:
    """`record`: any stored record, as an ORM object or a plain row (both carry `version`)."""
    if if_match is not None and if_match != record.version:
        raise PreconditionFailed(f"版本已变化：当前为 {record.version}，请求基于 {if_match}", version=record.version)


@dataclass(frozen=True)
class Moved:
    """A stored record's move, with its deadline rows as they now stand (for the answer)."""

    transitioned: Transitioned
    deadlines: list[DeadlineRow]


def transition(
    session: Session,
    engine: Engine,
    record: Any,
    roles: Set[str],
    actor: Actor,
    body: dict[str, Any],
    facts: Mapping[str, Any],
    now: dt.datetime,
    store: Callable[[Transitioned], None],
) -> Moved:
    """Fire `body["event"]` for a stored record (read: its id, year and state): guards, then
    `store` (which writes the record's new state and what the event's data records, in one
    versioned UPDATE), deadlines and history — all in the caller's transaction. Nothing is flushed
    before the caller commits: the reads here (deadlines, the last history row) never depend on
    what this move changes."""
    campaign = campaign_for(session, record.year)
    firing = Firing(now, body.get("effective_on"), campaign.timezone)
    ctx = GuardContext(record=facts, data=body.get("data") or {}, reason=body.get("reason"), now=now)
    moved, role = fire(engine, record.state, body["event"], roles, ctx, actor, firing.effective_on is not None)
    with session.no_autoflush:
        store(moved)
        late, deadlines = apply_deadlines(session, engine.lifecycle, record.id, moved, firing)
        append_history(
            session, engine.lifecycle.name, record.id, moved, actor, role, firing, reason=body.get("reason"), late=late
        )
    return Moved(moved, deadlines)


def set_state(session: Session, record: Any, moved: Transitioned, now: dt.datetime) -> None:
    """`store` for a record held as an ORM object: its version moves when the session flushes it."""
    record.state, record.updated_at = moved.dest, now
    session.add(record)
