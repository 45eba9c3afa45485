"""The one event path: fire an event on a loaded record of any lifecycle — the machine and the guards
decide, the lifecycle's hook records what the event's data carries, then one versioned write, the
deadlines and a history row, all in the caller's transaction (the caller commits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from services.access import Actor
from services.errors import Forbidden, PreconditionFailed
from services.lifecycle import deadlines, history, store
from services.lifecycle.calendar import Firing, Year
from services.lifecycle.deadlines import DeadlineRow
from services.lifecycle.store import Kind, Loaded, Record
from workflow import Engine, GuardContext, Transitioned


class Facts(Mapping[str, Any]):
    """What the guards may read about a record: some facts given, the rest each read from the
    database only when a guard of the fired event asks for it (most events need few of them)."""

    def __init__(self, given: dict[str, Any], deferred: dict[str, Callable[[], Any]] | None = None):
        self._known, self._deferred = dict(given), deferred or {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._known:
            self._known[key] = self._deferred[key]()
        return self._known[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._known.keys() | self._deferred.keys())

    def __len__(self) -> int:
        return len(self._known.keys() | self._deferred.keys())


@dataclass(frozen=True)
class Event:
    """An event as the path fires it: the caller's command, and how to read its data."""

    name: str
    reason: str | None
    effective_on: dt.date | None
    data: Callable[[], dict[str, Any]]
    """The event's data, checked by its payload model: called once the state and the roles have passed."""


@dataclass(frozen=True)
class Step:
    """An event that the guards accepted, as a lifecycle's hook sees it (before the record is written)."""

    session: Session
    loaded: Loaded
    moved: Transitioned
    data: dict[str, Any]
    reason: str | None
    actor: Actor
    now: dt.datetime
    lifecycles: Any
    """The container's lifecycles (engines, kinds, definitions), for a hook that starts another record."""


@dataclass(frozen=True)
class Moved:
    """A record's move: the record as written, its deadlines as they now stand, and the step taken."""

    transitioned: Transitioned
    record: Record
    deadlines: list[DeadlineRow]


def check_version(record: Record, if_match: int | None) -> None:
    if if_match is not None and if_match != record.version:
        raise PreconditionFailed(f"版本已变化：当前为 {record.version}，请求基于 {if_match}", version=record.version)


def fire(
    session: Session, engine: Engine, kind: Kind, loaded: Loaded, event: Event, actor: Actor, now: dt.datetime, lc: Any
) -> Moved:
    """Fire `event` on the loaded record; `lc` is the container's lifecycles (for facts and hooks)."""
    firing = Firing(now, event.effective_on, loaded.campaign.timezone)
    data: dict[str, Any] = {}

    def context() -> GuardContext:
        data.update(event.data())
        return GuardContext(record=kind.facts(session, loaded, lc), data=data, reason=event.reason, today=firing.today)

    roles = _roles(engine, loaded.record.state, event.name, loaded.roles, actor, firing.effective_on is not None)
    moved = engine.fire(loaded.record.state, event.name, roles, context)
    with session.no_autoflush:
        hook = kind.on.get(moved.event)
        changes = hook(Step(session, loaded, moved, data, event.reason, actor, now, lc)) if hook else {}
        record = store.write(session, kind, loaded.record, state=moved.dest, updated_at=now, **changes)
        late, rows = deadlines.apply_deadlines(session, engine.lifecycle, record.id, moved, firing)
        role = "office" if firing.effective_on else _acting_role(engine, moved.event, roles)
        history.append_history(
            session,
            kind.lifecycle,
            record.id,
            moved,
            actor,
            role,
            firing,
            reason=event.reason,
            late=late,
            head=loaded.history_head,
            key=lc.history_key,
        )
    return Moved(moved, record, rows)


def _roles(engine: Engine, state: str, event: str, roles: Set[str], actor: Actor, backfill: bool) -> Set[str]:
    """A backfill (补录, `effective_on`) is the office recording, on paper's behalf, any event."""
    if not backfill:
        return roles
    if event in engine.events_from(state) and not actor.is_office:
        raise Forbidden("补录只能由创先争优活动办公室进行", field="effective_on")
    ev = engine.lifecycle.event(event)
    return set(ev.roles) if ev is not None and actor.is_office else roles


def _acting_role(engine: Engine, event: str, roles: Set[str]) -> str:
    ev = engine.lifecycle.event(event)
    assert ev is not None
    return next((r for r in ev.roles if r in roles), ev.roles[0])


def create(
    session: Session,
    lc: Any,
    kind: Kind,
    values: dict[str, Any],
    campaign: Year,
    actor: Actor,
    role: str,
    now: dt.datetime,
    due_at: dict[str, dt.datetime] | None = None,
) -> int:
    """A new record in the lifecycle's initial state with its deadline rows and a `create` history row
    (`lc`: the container's lifecycles)."""
    engine = lc.engine(kind.lifecycle)
    state = engine.lifecycle.initial
    record_id = store.insert(session, kind, {**values, "state": state, "created_at": now, "updated_at": now})
    deadlines.create_deadlines(session, engine.lifecycle, record_id, campaign, now, due_at)
    firing = Firing(now, None, campaign.timezone)
    history.append_history(
        session, kind.lifecycle, record_id, None, actor, role, firing, event="create", state=state, key=lc.history_key
    )
    return record_id
