"""A record's history: append-only rows chained by hash (lifecycle/audit.py), written in the
caller's transaction, read back oldest first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions import Lifecycle
from services.access import Actor
from services.lifecycle.calendar import Firing
from services.persistence import history_hash
from services.persistence.tables import History
from workflow import Transitioned

_INSERT_HISTORY = sa.insert(History.__table__)  # type: ignore[attr-defined]
_LAST_HISTORY = (
    select(History.seq, History.hash)
    .where(col(History.subject_type) == sa.bindparam("type"), col(History.subject_id) == sa.bindparam("id"))
    .order_by(col(History.seq).desc())
    .limit(1)
)


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
    head: tuple[int, str | None] | None = None,
    key: bytes,
) -> None:
    """Insert the record's next history row, chained to its last one (`head`: its seq and hash, when
    the record's load read them already) under the history key (`Lifecycles.history_key`); an INSERT
    of values, not an ORM object: nothing reads the row back in this transaction."""
    connection = session.connection()
    if head is None:
        last = connection.execute(_LAST_HISTORY, {"type": lifecycle, "id": subject_id}).first()
        head = (last[0], last[1]) if last else (0, None)
    seq, prev_hash = head
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
    connection.execute(_INSERT_HISTORY, {**row, "hash": history_hash.digest(row, prev_hash, key)})


def history_of(session: Session, lifecycle: str, subject_id: int) -> list[History]:
    q = select(History).where(History.subject_type == lifecycle, History.subject_id == subject_id)
    return list(session.exec(q.order_by(History.seq)).all())  # type: ignore[arg-type]


def history_view(rows: list[History], lifecycle: Lifecycle) -> list[dict[str, Any]]:
    """History rows as the API and the pages show them, each event also by its Chinese label."""
    labels = {e.name: e.label_zh for e in lifecycle.events} | {"create": "建立", "edit": "修改承诺事项"}
    return [
        {
            "seq": h.seq,
            "event": h.event,
            "event_label": labels.get(h.event, h.event),
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


def head_of(subject_type: str, subject_id: Any) -> tuple[Any, Any]:
    """SQL: a record's last history seq and hash, as columns for the statement that loads it."""
    h = History.__table__  # type: ignore[attr-defined]
    last = (
        sa.select(h.c.seq, h.c.hash)
        .where(h.c.subject_type == subject_type, h.c.subject_id == subject_id)
        .order_by(h.c.seq.desc())
        .limit(1)
    )
    return last.with_only_columns(h.c.seq).scalar_subquery(), last.with_only_columns(h.c.hash).scalar_subquery()
