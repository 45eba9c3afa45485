"""Kept answers of `Idempotency-Key` requests: how long they live, and forgetting the old ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.persistence.tables import IdempotencyKey
from services.persistence.uow import UnitOfWork

TTL = dt.timedelta(hours=24)


def purge(db: Engine, now: dt.datetime) -> int:
    """Forget answers older than 24 h."""
    with UnitOfWork(db) as uow:
        result: Any = uow.session.execute(sa.delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < now - TTL))
        uow.commit()
    return int(result.rowcount)
