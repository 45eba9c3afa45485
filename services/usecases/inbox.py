"""Use cases for people's inboxes and the office's webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from notifications.addresses import AddressRefused, Resolver, refuse_internal_url, system_resolver
from notifications.dispatcher import cancel_pending, deliveries_for_webhook
from notifications.tables import InboxEntry, Notice, Webhook
from services.access import Actor
from services.errors import Forbidden, Invalid, NotFound
from services.persistence.uow import UnitOfWork

INTERNAL_URL = "不能指向本机、内部网络或云平台元数据服务（回环、私有、链路本地、组播或保留地址）"


def inbox(session: Session, actor: Actor, unread: bool | None, limit: int, offset: int) -> dict[str, Any]:
    q = select(InboxEntry, Notice).join(Notice, col(Notice.id) == InboxEntry.notice_id)
    q = q.where(InboxEntry.user_id == (actor.user_id or 0))
    if unread is not None:
        q = q.where(col(InboxEntry.read_at).is_(None) if unread else col(InboxEntry.read_at).is_not(None))
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(col(InboxEntry.id).desc()).limit(limit).offset(offset)).all()
    return {"items": [_entry(e, n) for e, n in rows], "total": total}


def _entry(e: InboxEntry, n: Notice) -> dict[str, Any]:
    return {
        "id": e.id,
        "notice_id": n.id,
        "kind": n.kind,
        "subject": {"type": n.subject_type, "id": n.subject_id},
        "deadline": n.deadline,
        "due_at": n.due_at,
        "title": n.title,
        "body": n.body,
        "created_at": e.created_at,
        "read_at": e.read_at,
    }


def mark_read(uow: UnitOfWork, actor: Actor, entry_id: int, now: dt.datetime) -> dict[str, Any]:
    entry = uow.session.get(InboxEntry, entry_id)
    if entry is None or entry.user_id != actor.user_id:
        raise NotFound(f"通知 {entry_id} 不存在")
    if entry.read_at is None:
        entry.read_at = now
        uow.session.add(entry)
        uow.commit()
    notice = uow.session.get(Notice, entry.notice_id)
    assert notice is not None
    return _entry(entry, notice)


def mark_all_read(uow: UnitOfWork, actor: Actor, now: dt.datetime) -> int:
    """Every unread entry of the actor's inbox read now; how many there were."""
    mine = (col(InboxEntry.user_id) == (actor.user_id or 0)) & col(InboxEntry.read_at).is_(None)
    result: Any = uow.session.execute(sa.update(InboxEntry).where(mine).values(read_at=now))
    uow.commit()
    return int(result.rowcount)


def unread_count(session: Session, actor: Actor) -> int:
    """How many entries of the actor's inbox are unread (the top bar's count)."""
    mine = (col(InboxEntry.user_id) == (actor.user_id or 0)) & col(InboxEntry.read_at).is_(None)
    return int(session.exec(select(sa.func.count()).select_from(InboxEntry).where(mine)).one())


def create_webhook(
    uow: UnitOfWork,
    actor: Actor,
    url: str,
    secret: str,
    kinds: list[str],
    now: dt.datetime,
    allow_private: bool = False,
    resolve: Resolver = system_resolver,
) -> Webhook:
    """Register a webhook; a URL that is, or resolves to, an internal address is refused (422 on `url`)."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以登记 Webhook")
    try:
        refuse_internal_url(url, allow_private, resolve)
    except AddressRefused:
        raise Invalid("url", INTERNAL_URL) from None
    hook = Webhook(url=url, secret=secret, kinds=kinds, created_at=now)
    uow.session.add(hook)
    uow.commit()
    return hook


def set_webhook_active(uow: UnitOfWork, actor: Actor, webhook_id: int, active: bool) -> Webhook:
    """Switch a webhook on or off; switched off, it gets no new deliveries and its pending ones are cancelled."""
    hook = _office_hook(uow.session, actor, webhook_id, "只有创先争优活动办公室可以停用或启用 Webhook")
    hook.active = active
    uow.session.add(hook)
    if not active:
        cancel_pending(uow.session, webhook_id)
    uow.commit()
    return hook


def delete_webhook(uow: UnitOfWork, actor: Actor, webhook_id: int) -> None:
    """Delete a webhook and its secret; its pending deliveries are cancelled, the ones made are kept."""
    hook = _office_hook(uow.session, actor, webhook_id, "只有创先争优活动办公室可以删除 Webhook")
    cancel_pending(uow.session, webhook_id)
    uow.session.delete(hook)
    uow.commit()


def _office_hook(session: Session, actor: Actor, webhook_id: int, refusal: str) -> Webhook:
    if not actor.is_office:
        raise Forbidden(refusal)
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"Webhook {webhook_id} 不存在")
    return hook


def webhooks(session: Session, actor: Actor) -> list[Webhook]:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以查看 Webhook")
    return list(session.exec(select(Webhook).order_by(col(Webhook.id))).all())


def deliveries(session: Session, actor: Actor, webhook_id: int, limit: int, offset: int) -> list[Any]:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以查看投递记录")
    if session.get(Webhook, webhook_id) is None:
        raise NotFound(f"Webhook {webhook_id} 不存在")
    return list(deliveries_for_webhook(session, webhook_id, limit, offset))
