"""The outbox: publish notices once per key with their inbox entries and deliveries; the webhook payload."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifications.tables import EMAIL, PENDING, WEBHOOK, Delivery, InboxEntry, Notice, Webhook

CHUNK = 500
"""Rows per statement: 500 notices x 11 columns stays far below SQLite's 32766 bound variables."""

NOTICE: sa.Table = Notice.__table__  # type: ignore[attr-defined]
INBOX: sa.Table = InboxEntry.__table__  # type: ignore[attr-defined]
DELIVERY: sa.Table = Delivery.__table__  # type: ignore[attr-defined]

T = TypeVar("T")


@dataclass(frozen=True)
class NoticeDraft:
    """A notice to publish; `key` names (subject, deadline, kind, offset) and makes it unique."""

    key: str
    kind: str
    subject_type: str
    subject_id: int
    deadline: str
    due_at: dt.datetime
    offset_days: int
    title: str
    body: str
    recipients: tuple[int, ...]


def publish(
    session: Session,
    drafts: Sequence[NoticeDraft],
    webhooks: Sequence[Webhook],
    emails: Mapping[int, str],
    now: dt.datetime,
) -> list[int]:
    """Insert the notices not yet known, and for those only their inbox entries and deliveries.

    Does not commit: the notices leave with the caller's transaction or not at all."""
    unique = _first_per_key(drafts)
    created: dict[str, int] = {}
    for chunk in _chunks(unique):
        created.update(_insert_notices(session, chunk, now))
    new = [(created[d.key], d) for d in unique if d.key in created]
    _insert_all(session, INBOX, [_inbox_row(nid, user, now) for nid, d in new for user in _recipients(d)])
    rows = [row for nid, d in new for row in _delivery_rows(nid, d, webhooks, emails, now)]
    _insert_all(session, DELIVERY, rows)
    return [nid for nid, _ in new]


def _first_per_key(drafts: Sequence[NoticeDraft]) -> list[NoticeDraft]:
    first: dict[str, NoticeDraft] = {}
    for draft in drafts:
        first.setdefault(draft.key, draft)
    return list(first.values())


def _chunks(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _recipients(draft: NoticeDraft) -> list[int]:
    return list(dict.fromkeys(draft.recipients))


def _insert_notices(session: Session, drafts: Sequence[NoticeDraft], now: dt.datetime) -> dict[str, int]:
    stmt = _dialect_insert(session)(NOTICE).on_conflict_do_nothing(index_elements=[NOTICE.c.key])
    stmt = stmt.returning(NOTICE.c.id, NOTICE.c.key)
    result = session.execute(stmt, [_notice_row(d, now) for d in drafts])
    return {key: nid for nid, key in result}


def _dialect_insert(session: Session) -> Callable[[sa.Table], Any]:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise ValueError(f"unsupported database dialect: {name}")


def _insert_all(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        session.execute(sa.insert(table), list(chunk))


def _notice_row(draft: NoticeDraft, now: dt.datetime) -> dict[str, Any]:
    return {
        "key": draft.key,
        "kind": draft.kind,
        "subject_type": draft.subject_type,
        "subject_id": draft.subject_id,
        "deadline": draft.deadline,
        "due_at": draft.due_at,
        "offset_days": draft.offset_days,
        "title": draft.title,
        "body": draft.body,
        "recipients": _recipients(draft),
        "occurred_at": now,
    }


def _inbox_row(notice_id: int, user_id: int, now: dt.datetime) -> dict[str, Any]:
    return {"notice_id": notice_id, "user_id": user_id, "created_at": now, "read_at": None}


def _delivery_rows(
    notice_id: int, draft: NoticeDraft, webhooks: Sequence[Webhook], emails: Mapping[int, str], now: dt.datetime
) -> Iterator[dict[str, Any]]:
    for hook in webhooks:
        if hook.active and hook.id is not None and (not hook.kinds or draft.kind in hook.kinds):
            yield _delivery_row(notice_id, WEBHOOK, hook.id, hook.url, now)
    for user in _recipients(draft):
        if emails.get(user):
            yield _delivery_row(notice_id, EMAIL, user, emails[user], now)


def _delivery_row(notice_id: int, channel: str, target_id: int, address: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "delivery_id": uuid.uuid4().hex,
        "notice_id": notice_id,
        "channel": channel,
        "target_id": target_id,
        "address": address,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_status": None,
        "last_error": None,
        "delivered_at": None,
        "created_at": now,
    }


def payload(notice: Notice) -> dict[str, Any]:
    """What a webhook receives for a notice; the same on every retry."""
    return {
        "id": notice.id,
        "kind": notice.kind,
        "subject": {"type": notice.subject_type, "id": notice.subject_id},
        "deadline": notice.deadline,
        "due_at": notice.due_at.isoformat(),
        "recipients": list(notice.recipients),
        "occurred_at": notice.occurred_at.isoformat(),
        "title": notice.title,
        "body": notice.body,
    }


def encode(data: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The X-Pledgeflow-Signature value: HMAC-SHA256 of the raw body, keyed by the webhook secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
