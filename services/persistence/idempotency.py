"""Kept answers of `Idempotency-Key` requests: how long they live, and forgetting the old ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from services.persistence.tables import IdempotencyKey
from services.persistence.uow import UnitOfWork

TTL = dt.timedelta(hours=24)


def purge(db: Engine, now: dt.datetime) -> int:
    """Forget answers older than 24 h."""
    with UnitOfWork(db) as uow:
        result: Any = uow.session.execute(sa.delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < now - TTL))
        uow.commit()
    return int(result.rowcount)


def claim(db: Engine, now: dt.datetime, caller: str, route: str, key: str, body_hash: str) -> tuple[str, Any]:
    """Claim `key` for the first request: ("new", row id), or what a repeat meets — ("replay", the
    kept answer), ("pending", the row or None while the first is still handled), ("mismatch", row)
    when the key came with another body."""
    with UnitOfWork(db) as uow:
        s = uow.session
        q = select(IdempotencyKey).where(
            IdempotencyKey.caller == caller, IdempotencyKey.route == route, IdempotencyKey.key == key
        )
        row = s.exec(q).first()
        if row is not None and row.created_at < now - TTL:
            s.delete(row)
            s.flush()
            row = None
        if row is not None:
            if row.body_hash != body_hash:
                return "mismatch", row
            return ("pending", row) if row.status is None else ("replay", row)
        row = IdempotencyKey(caller=caller, route=route, key=key, body_hash=body_hash, created_at=now)
        s.add(row)
        try:
            uow.commit()
        except sa.exc.IntegrityError:
            return "pending", None
        return "new", row.id


def finish(db: Engine, row_id: int, status: int, response: bytes, headers: dict[str, str], keep: bool) -> None:
    """Keep the first request's answer for its repeats, or (`keep` false: it was refused, and may be
    corrected and sent again) forget the claim."""
    with UnitOfWork(db) as uow:
        row = uow.session.get(IdempotencyKey, row_id)
        if row is None:
            return
        if keep:
            row.status, row.response, row.headers = status, response.decode(), headers
            uow.session.add(row)
        else:
            uow.session.delete(row)
        uow.commit()


def answer(db: Engine, row_id: int) -> IdempotencyKey | None:
    """The claim as it is now (a repeat waits on it until the first request has its answer)."""
    with UnitOfWork(db, write=False) as uow:
        return uow.session.get(IdempotencyKey, row_id)
