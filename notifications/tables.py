"""The outbox: notices, inbox entries, webhooks and per-channel deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from notifications.types import SQLITE_AUTOINCREMENT, UTCDateTime

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
WEBHOOK, EMAIL = "webhook", "email"


def _pk() -> Any:
    return Field(default=None, sa_column=sa.Column(ID, primary_key=True, autoincrement=True))


def _time(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


class Notice(SQLModel, table=True):
    """One (subject, deadline, kind, offset), or a digest of one person's reminders of a morning: the unique
    `key` makes it exist at most once."""

    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=20)
    subject_type: str = Field(max_length=30)
    subject_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    deadline: str = Field(max_length=50)
    due_at: dt.datetime = _time()
    offset_days: int = 0
    title: str = Field(max_length=300)
    body: str = Field(max_length=2000)
    recipients: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    items: list[dict[str, Any]] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    """A digest's reminders, each {subject_type, subject_id, deadline, due_at, title}; None for other notices."""
    occurred_at: dt.datetime = _time()


class InboxEntry(SQLModel, table=True):
    __tablename__ = "inbox_entry"
    __table_args__ = (
        sa.UniqueConstraint("notice_id", "user_id"),
        sa.Index("ix_inbox_user_created", "user_id", "id"),
        SQLITE_AUTOINCREMENT,
    )
    id: int | None = _pk()
    notice_id: int = Field(sa_column=sa.Column(ID, sa.ForeignKey("notice.id"), nullable=False))
    user_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    created_at: dt.datetime = _time()
    read_at: dt.datetime | None = _time(nullable=True)


class Webhook(SQLModel, table=True):
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    url: str = Field(max_length=500)
    secret: str = Field(max_length=200)
    kinds: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    """Notice kinds to receive; empty means all."""
    active: bool = True
    created_at: dt.datetime = _time()


class Delivery(SQLModel, table=True):
    """One notice to one webhook or one e-mail address; retried until delivered or given up."""

    __table_args__ = (
        sa.UniqueConstraint("notice_id", "channel", "target_id"),
        sa.Index("ix_delivery_due", "status", "next_attempt_at", "id"),  # the claim's order: no sort
        SQLITE_AUTOINCREMENT,
    )
    id: int | None = _pk()
    delivery_id: str = Field(max_length=40, unique=True)
    """Sent as X-Pledgeflow-Delivery; the same on every retry, so receivers dedupe."""
    notice_id: int = Field(sa_column=sa.Column(ID, sa.ForeignKey("notice.id"), nullable=False))
    channel: str = Field(max_length=10)
    target_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    """The webhook id, or the user id for e-mail."""
    address: str = Field(max_length=500)
    status: str = Field(default=PENDING, max_length=10)
    attempts: int = 0
    next_attempt_at: dt.datetime = _time()
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: dt.datetime | None = _time(nullable=True)
    created_at: dt.datetime = _time()


class Lease(SQLModel, table=True):
    """Who enforces deadlines on SQLite (PostgreSQL uses an advisory lock instead)."""

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=100)
    expires_at: dt.datetime = _time()
