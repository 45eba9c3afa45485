"""Which process enforces deadlines: a PostgreSQL advisory lock, or on SQLite a lease row with expiry."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

import sqlalchemy as sa
from sqlmodel import select

from notifications.tables import Lease
from services.persistence.uow import UnitOfWork

log = logging.getLogger("pledgeflow.lease")
NAME = "deadline-enforcer"
ADVISORY_KEY = 0x706C6467  # "pldg": one cluster-wide lock id for the enforcer


class EnforcerLease:
    """`held(now)` tells whether this process may sweep now, taking or renewing the lease."""

    def __init__(self, db: sa.Engine, ttl: dt.timedelta):
        self.db, self.ttl = db, ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pg = db.dialect.name == "postgresql"
        self._conn: sa.Connection | None = None

    def held(self, now: dt.datetime) -> bool:
        return self._advisory() if self._pg else self._row(now)

    def _advisory(self) -> bool:
        # The lock lives as long as this session: a crashed holder's connection closes and frees it.
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.DBAPIError:
                log.warning("enforcer connection lost; lease dropped")
                self._conn = None
        conn = self.db.connect()
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        conn.commit()
        if got:
            self._conn = conn
            log.info("enforcer lease taken by %s", self.holder)
            return True
        conn.close()
        return False

    def _row(self, now: dt.datetime) -> bool:
        with UnitOfWork(self.db) as uow:
            lease = uow.session.exec(select(Lease).where(Lease.name == NAME)).first()
            if lease is None:
                uow.session.add(Lease(name=NAME, holder=self.holder, expires_at=now + self.ttl))
                log.info("enforcer lease taken by %s", self.holder)
            elif lease.holder == self.holder or lease.expires_at <= now:
                if lease.holder != self.holder:
                    log.info("enforcer lease taken over from %s by %s", lease.holder, self.holder)
                lease.holder, lease.expires_at = self.holder, now + self.ttl
                uow.session.add(lease)
            else:
                return False
            uow.commit()
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
            return
        if not self._pg:
            with UnitOfWork(self.db) as uow:
                lease = uow.session.exec(select(Lease).where(Lease.name == NAME, Lease.holder == self.holder)).first()
                if lease is not None:
                    uow.session.delete(lease)
                    uow.commit()
