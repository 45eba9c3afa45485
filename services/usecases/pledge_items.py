"""A pledge's items (承诺事项) on SQLAlchemy Core: read for a page, written in order, replaced by an
edit or 充实完善 (items that carry their id keep it, and their progress), outcomes set by 考评."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from services.errors import Invalid
from services.persistence.tables import LeaderComment, PledgeItem, ProgressRecord

ITEM: sa.Table = PledgeItem.__table__  # type: ignore[attr-defined]
PROGRESS: sa.Table = ProgressRecord.__table__  # type: ignore[attr-defined]
COMMENT: sa.Table = LeaderComment.__table__  # type: ignore[attr-defined]
FIELDS = ("content", "measure", "due_date")

_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_OF_PAGE = sa.select(ITEM).where(ITEM.c.pledge_id.in_(_IDS)).order_by(ITEM.c.position)
_INSERT = sa.insert(ITEM)
_UPDATE = (
    sa.update(ITEM)
    .where(ITEM.c.id == sa.bindparam("item_id"))
    .values(position=sa.bindparam("position"), content=sa.bindparam("content"))
    .values(measure=sa.bindparam("measure"), due_date=sa.bindparam("due_date"))
)
_DELETE = sa.delete(ITEM).where(ITEM.c.id.in_(_IDS))
_WITH_PROGRESS = sa.select(PROGRESS.c.item_id).where(PROGRESS.c.item_id.in_(_IDS)).limit(1)
_SET_OUTCOME = (
    sa.update(ITEM)
    .where(ITEM.c.id == sa.bindparam("item_id"))
    .values(outcome=sa.bindparam("outcome"), explanation=sa.bindparam("explanation"))
)


def _counter(table: sa.Table) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(table).where(table.c.pledge_id == sa.bindparam("pledge_id"))


COUNT_PROGRESS, COUNT_COMMENTS = _counter(PROGRESS), _counter(COMMENT)


def count(session: Session, counter: sa.Select[Any], pledge_id: int) -> int:
    """`counter` is COUNT_PROGRESS or COUNT_COMMENTS: how many the pledge has (guards ask)."""
    found: int = session.connection().execute(counter, {"pledge_id": pledge_id}).scalar_one()
    return found


def of_page(session: Session, pledge_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The items of a page of pledges, in order, as the API shows them: one query, or none when this
    unit of work read them already (a guard and the answer after an event both ask)."""
    known: dict[int, list[dict[str, Any]]] = session.info.setdefault("pledge_items", {})
    missing = [i for i in pledge_ids if i not in known]
    if missing:
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for i in session.connection().execute(_OF_PAGE, {"ids": missing}):
            found[i.pledge_id].append(view(i))
        known.update({pid: found[pid] for pid in missing})
    return {pid: known[pid] for pid in pledge_ids}


def _changed(session: Session) -> None:
    """What this unit of work read of the items no longer holds."""
    session.info.pop("pledge_items", None)


def view(i: Any) -> dict[str, Any]:
    return {
        "id": i.id,
        "content": i.content,
        "measure": i.measure,
        "due_date": i.due_date,
        "outcome": i.outcome,
        "explanation": i.explanation,
    }


def insert(session: Session, pledge_id: int, items: Sequence[dict[str, Any]]) -> None:
    _changed(session)
    rows = [{"pledge_id": pledge_id, "position": n, **{f: i.get(f) for f in FIELDS}} for n, i in enumerate(items, 1)]
    if rows:
        session.connection().execute(_INSERT, rows)


def replace(
    session: Session, pledge_id: int, current: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]
) -> None:
    """Make the pledge's items `items`, in order. An item that carries an id keeps that row (and its
    outcome and progress records); an item whose row is no longer listed is deleted, unless it has
    progress records (what was done is never lost)."""
    _changed(session)
    existing = {i["id"] for i in current}
    for n, item in enumerate(items):
        if item.get("id") is not None and item["id"] not in existing:
            raise Invalid(f"items[{n}].id", f"承诺事项 {item['id']} 不属于本承诺书")
    kept = {i["id"] for i in items if i.get("id") is not None}
    gone = sorted(existing - kept)
    conn = session.connection()
    if gone and conn.execute(_WITH_PROGRESS, {"ids": gone}).first() is not None:
        raise Invalid("items", "已有践诺记录的承诺事项不能删除")
    if gone:
        conn.execute(_DELETE, {"ids": gone})
    updates = [
        {"item_id": i["id"], "position": n, **{f: i.get(f) for f in FIELDS}}
        for n, i in enumerate(items, 1)
        if i.get("id") is not None
    ]
    if updates:
        conn.execute(_UPDATE, updates)
    added = [
        {"pledge_id": pledge_id, "position": n, **{f: i.get(f) for f in FIELDS}}
        for n, i in enumerate(items, 1)
        if i.get("id") is None
    ]
    if added:
        conn.execute(_INSERT, added)


def set_outcomes(session: Session, outcomes: Sequence[dict[str, Any]]) -> None:
    """How each item was kept, as `appraise` records it."""
    _changed(session)
    rows = [{"item_id": o["item"], "outcome": o.get("outcome"), "explanation": o.get("explanation")} for o in outcomes]
    if rows:
        session.connection().execute(_SET_OUTCOME, rows)
