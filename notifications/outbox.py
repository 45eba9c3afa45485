"""The outbox: publish notices once per key with their inbox entries and deliveries; the webhook payload."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifications.tables import EMAIL, PENDING, WEBHOOK, Delivery, InboxEntry, Notice, Webhook

CHUNK = 5000
"""Notices per statement: they travel as one JSON parameter, so the bound-variable limit does not apply."""

NOTICE: sa.Table = Notice.__table__  # type: ignore[attr-defined]
WEBHOOK_TABLE: sa.Table = Webhook.__table__  # type: ignore[attr-defined]
INBOX: sa.Table = InboxEntry.__table__  # type: ignore[attr-defined]
DELIVERY: sa.Table = Delivery.__table__  # type: ignore[attr-defined]

FIELDS = (
    "key",
    "kind",
    "subject_type",
    "subject_id",
    "deadline",
    "due_at",
    "offset_days",
    "title",
    "body",
    "recipients",
    "items",
)
"""A notice's columns as a draft gives them (`occurred_at` is the publishing time)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
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
    items: tuple[dict[str, Any], ...] | None = None
    """A digest's reminders (see `Notice.items`); None for other notices."""


class Hook(Protocol):
    """A webhook as publishing reads it (an ORM `Webhook` or a plain row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def url(self) -> str: ...
    @property
    def kinds(self) -> list[str]: ...
    @property
    def active(self) -> bool: ...


_ACTIVE = sa.select(WEBHOOK_TABLE.c.id, WEBHOOK_TABLE.c.url, WEBHOOK_TABLE.c.kinds, WEBHOOK_TABLE.c.active).where(
    WEBHOOK_TABLE.c.active == sa.true()
)


def active_webhooks(session: Session) -> list[Hook]:
    """The webhooks that get new notices, as plain rows."""
    return list(session.connection().execute(_ACTIVE))


def publish(
    session: Session,
    drafts: Sequence[NoticeDraft],
    webhooks: Sequence[Hook],
    emails: Mapping[int, str],
    now: dt.datetime,
) -> list[int]:
    """Insert the notices not yet known, and for those only their inbox entries and deliveries.

    Does not commit: the notices leave with the caller's transaction or not at all."""
    new: list[int] = []
    for chunk in _chunks(_first_per_key(drafts)):
        created = _insert_notices(session, chunk, now)
        fresh = [(created[d.key], d) for d in chunk if d.key in created]
        if fresh:
            _fan_out(session, fresh, webhooks, emails, now)
        new += [nid for nid, _ in fresh]
    return new


def _fan_out(
    session: Session,
    fresh: Sequence[tuple[int, NoticeDraft]],
    webhooks: Sequence[Hook],
    emails: Mapping[int, str],
    now: dt.datetime,
) -> None:
    """The new notices' inbox entries and deliveries: one statement each for the inbox and per webhook."""
    conn, sql = session.connection(), _statements(_dialect(session))
    ids = json.dumps([nid for nid, _ in fresh])
    conn.execute(sql.inbox, {"ids": ids, "now": now})
    for hook in webhooks:
        if hook.active and hook.id is not None:
            kinds = {"any_kind": not hook.kinds, "kinds": list(hook.kinds) or [""]}
            conn.execute(sql.deliveries, {"ids": ids, "now": now, "hook_id": hook.id, "url": hook.url, **kinds})
    mailed = [(nid, user) for nid, d in fresh for user in _recipients(d) if emails.get(user)] if emails else []
    rows = [_delivery_row(nid, EMAIL, user, emails[user], now) for nid, user in mailed]
    for chunk in _chunks(rows):
        conn.execute(sa.insert(DELIVERY), list(chunk))


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
    """Insert the drafts whose key is new, in their order; their ids by key. The rows travel as one JSON array
    the database takes apart: no bound parameter per value for the driver (or SQLAlchemy) to process."""
    sql = _statements(_dialect(session))
    document = _json_document(session, drafts)
    return {key: nid for nid, key in session.connection().execute(sql.notices, {"rows": document, "now": now})}


def _json_document(session: Session, drafts: Sequence[NoticeDraft]) -> str:
    """The drafts as one JSON array of rows in FIELDS order, each value as its column would be sent it.

    Due times and recipient lists repeat across a sweep's notices: each distinct one is converted once."""
    dialect = session.get_bind().dialect
    stored = cache(NOTICE.c.due_at.type.dialect_impl(dialect).bind_processor(dialect) or str)
    listed = cache(lambda recipients: json.dumps(list(dict.fromkeys(recipients))))

    def row(d: NoticeDraft) -> list[Any]:
        head = [d.key, d.kind, d.subject_type, d.subject_id, d.deadline, stored(d.due_at), d.offset_days, d.title]
        return [*head, d.body, listed(d.recipients), None if d.items is None else json.dumps(d.items, default=str)]

    return json.dumps([row(d) for d in drafts], ensure_ascii=False, default=str)


@dataclass(frozen=True)
class _Statements:
    notices: Any
    inbox: Any
    deliveries: Any


@cache
def _statements(dialect: str) -> _Statements:
    """The outbox's statements for one SQL dialect, built once (their values are all bound parameters)."""
    now = sa.bindparam("now", type_=NOTICE.c.occurred_at.type)
    rows = _json_rows(dialect, sa.bindparam("rows", type_=sa.String))
    values = [_json_field(dialect, rows.c.value, i, NOTICE.c[name]) for i, name in enumerate(FIELDS)]
    select = sa.select(*values, now).select_from(rows).where(sa.true()).order_by(rows.c.key)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(NOTICE)
    fresh = insert.from_select([*FIELDS, "occurred_at"], select).on_conflict_do_nothing(index_elements=[NOTICE.c.key])
    notices = fresh.returning(NOTICE.c.id, NOTICE.c.key)
    new = NOTICE.c.id.in_(
        sa.select(sa.cast(_json_rows(dialect, sa.bindparam("ids", type_=sa.String)).c.value, NOTICE.c.id.type))
    )
    people = _json_rows(dialect, NOTICE.c.recipients)
    to_inbox = sa.select(NOTICE.c.id, sa.cast(people.c.value, INBOX.c.user_id.type), now)
    to_inbox = to_inbox.select_from(NOTICE).join(people, sa.true()).where(new).order_by(NOTICE.c.id, people.c.key)
    inbox = sa.insert(INBOX).from_select(["notice_id", "user_id", "created_at"], to_inbox)
    kinds = sa.or_(sa.bindparam("any_kind", type_=sa.Boolean), NOTICE.c.kind.in_(sa.bindparam("kinds", expanding=True)))
    hook = (sa.bindparam("hook_id", type_=DELIVERY.c.target_id.type), sa.bindparam("url", type_=sa.String))
    to_deliver = sa.select(
        _random_hex(dialect), NOTICE.c.id, sa.literal(WEBHOOK), *hook, sa.literal(PENDING), sa.literal(0), now, now
    )
    to_deliver = to_deliver.where(new, kinds).order_by(NOTICE.c.id)
    columns = ["delivery_id", "notice_id", "channel", "target_id", "address", "status", "attempts"]
    deliveries = sa.insert(DELIVERY).from_select([*columns, "next_attempt_at", "created_at"], to_deliver)
    return _Statements(notices, inbox, deliveries)


def _json_field(dialect: str, row: Any, index: int, column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """Item `index` of a JSON array row, as the column's type. PostgreSQL's `->>` gives text to cast; SQLite's
    json_extract gives the value itself, which a CAST would mangle (a date string cast to a number is its year)."""
    if dialect == "postgresql":
        return sa.cast(row.op("->>")(sa.literal_column(str(index))), column.type)
    return sa.type_coerce(sa.func.json_extract(row, f"$[{index}]"), column.type)


def _json_rows(dialect: str, array: sa.ColumnElement[Any]) -> Any:
    """The elements of a JSON array as rows (`value`, and `key`: the position), by the dialect's function."""
    if dialect == "postgresql":
        elements = sa.func.jsonb_array_elements(sa.cast(array, postgresql.JSONB))
        return elements.table_valued("value", with_ordinality="key").render_derived()
    return sa.func.json_each(array).table_valued("value", "key")


def json_rows(session: Session, array: sa.ColumnElement[Any]) -> Any:
    """`_json_rows` for the session's dialect (the dispatcher and the sweep read JSON arrays this way too)."""
    return _json_rows(_dialect(session), array)


def among(session: Session, column: sa.ColumnElement[int], ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """`column IN ids` with the ids sent as one JSON array: a short statement however many ids there are."""
    rows = json_rows(session, sa.bindparam("ids", list(ids), type_=sa.JSON, unique=True))
    return column.in_(sa.select(sa.cast(rows.c.value, column.type)))


def _random_hex(dialect: str) -> sa.ColumnElement[str]:
    """32 random hex digits per row, made by the database, like `uuid.uuid4().hex` (a delivery's id)."""
    if dialect == "postgresql":
        return sa.func.replace(sa.cast(sa.func.gen_random_uuid(), sa.Text), "-", "")
    return sa.func.lower(sa.func.hex(sa.func.randomblob(16)))


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise ValueError(f"unsupported database dialect: {name}")
    return name


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
    """What a webhook receives for a notice; the same on every retry. A digest lists its reminders (`items`)."""
    data = {
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
    return data if notice.items is None else data | {"items": notice.items}


def encode(data: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The X-Pledgeflow-Signature value: HMAC-SHA256, keyed by the webhook secret, of `<timestamp>.<raw body>`
    (the X-Pledgeflow-Timestamp value, a dot, the body's bytes), so a receiver can refuse an old one replayed."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
