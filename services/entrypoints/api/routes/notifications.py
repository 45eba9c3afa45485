"""Inbox and webhook routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.entrypoints.api.schemas import DeliveryOut, InboxEntryOut, InboxPage, WebhookIn, WebhookOut
from services.entrypoints.deps import CurrentActor, Now, ReadUow, WriteUow
from services.usecases import inbox

router = APIRouter(prefix="/api/v1", tags=["notifications"])
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/notifications", response_model=InboxPage, name="list", summary="我的消息")
def list_notifications(
    actor: CurrentActor,
    uow: ReadUow,
    unread: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Any:
    return inbox.inbox(uow.session, actor, unread, limit, offset)


@router.post("/notifications/{entry_id}/read", response_model=InboxEntryOut, name="mark_read", summary="标记为已读")
def mark_read(entry_id: EntryId, actor: CurrentActor, uow: WriteUow, now: Now) -> Any:
    return inbox.mark_read(uow, actor, entry_id, now)


@router.post("/webhooks", status_code=201, response_model=WebhookOut, name="create_webhook", summary="新建 Webhook")
def create_webhook(body: WebhookIn, actor: CurrentActor, uow: WriteUow, now: Now) -> Any:
    return inbox.create_webhook(uow, actor, str(body.url), body.secret, list(body.kinds), now)


@router.get("/webhooks", response_model=list[WebhookOut], name="list_webhooks", summary="Webhook 列表")
def list_webhooks(actor: CurrentActor, uow: ReadUow) -> Any:
    return inbox.webhooks(uow.session, actor)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    name="list_deliveries",
    summary="Webhook 推送记录",
)
def deliveries(
    webhook_id: EntryId,
    actor: CurrentActor,
    uow: ReadUow,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Any:
    return inbox.deliveries(uow.session, actor, webhook_id, limit, offset)
