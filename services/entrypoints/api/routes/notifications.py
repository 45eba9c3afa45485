"""Inbox and webhook routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from services.entrypoints.api.params import Limit, Offset, RecordId
from services.entrypoints.api.schemas import (
    DeliveryOut,
    InboxEntryOut,
    InboxPage,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from services.entrypoints.deps import ContainerDep, CurrentActor, Now, ReadUow, WriteUow
from services.usecases import inbox

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/notifications", response_model=InboxPage, name="list", summary="我的消息")
def list_notifications(
    actor: CurrentActor,
    uow: ReadUow,
    unread: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    return inbox.inbox(uow.session, actor, unread, limit, offset)


@router.post("/notifications/{entry_id}/read", response_model=InboxEntryOut, name="mark_read", summary="标记为已读")
def mark_read(entry_id: RecordId, actor: CurrentActor, uow: WriteUow, now: Now) -> Any:
    return inbox.mark_read(uow, actor, entry_id, now)


@router.post("/webhooks", status_code=201, response_model=WebhookOut, name="create_webhook", summary="新建 Webhook")
def create_webhook(body: WebhookIn, actor: CurrentActor, uow: WriteUow, now: Now, c: ContainerDep) -> Any:
    allow_private = c.settings.webhook_allow_private
    return inbox.create_webhook(uow, actor, str(body.url), body.secret, list(body.kinds), now, allow_private)


@router.get("/webhooks", response_model=list[WebhookOut], name="list_webhooks", summary="Webhook 列表")
def list_webhooks(actor: CurrentActor, uow: ReadUow) -> Any:
    return inbox.webhooks(uow.session, actor)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut, name="update_webhook", summary="启用或停用 Webhook")
def update_webhook(webhook_id: RecordId, body: WebhookPatch, actor: CurrentActor, uow: WriteUow) -> Any:
    return inbox.set_webhook_active(uow, actor, webhook_id, body.active)


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, response_class=Response, name="delete_webhook", summary="删除 Webhook"
)
def delete_webhook(webhook_id: RecordId, actor: CurrentActor, uow: WriteUow) -> Response:
    inbox.delete_webhook(uow, actor, webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    name="list_deliveries",
    summary="Webhook 推送记录",
)
def deliveries(
    webhook_id: RecordId,
    actor: CurrentActor,
    uow: ReadUow,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return inbox.deliveries(uow.session, actor, webhook_id, limit, offset)
