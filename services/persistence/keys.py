"""Secrets the service makes once and keeps in its own database (the voter-hash key)."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from services.persistence.tables import AppSecret


def kept_secret(session: Session, name: str) -> str:
    """A random secret made once under `name`, kept in the database, shown nowhere."""
    row = session.get(AppSecret, name)
    if row is None:
        row = AppSecret(name=name, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.value
