"""FastAPI dependencies: the container, the unit of work, the caller, the clock, If-Match."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Header, HTTPException, Request

from services import access
from services.access import Actor, admin_actor, hash_token
from services.container import Container
from services.errors import PreconditionFailed
from services.persistence.uow import UnitOfWork


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def caller(container: Container, token_hash: str) -> Actor | None:
    """The one way a caller is known, for the API and the pages alike: the admin token of the
    settings, else the container's short-lived cache, else one query (which fills the cache)."""
    admin = container.settings.admin_token
    if admin is not None and hmac.compare_digest(hash_token(admin.get_secret_value()), token_hash):
        return admin_actor()
    actor = container.actors.get(token_hash)
    if actor is None:
        with UnitOfWork(container.db, write=False) as uow:
            actor = access.caller(uow.session, token_hash)
        if actor is not None:
            container.actors.put(token_hash, actor)
    return actor


async def current_actor(
    container: ContainerDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    """The caller of the bearer token; a cache miss is read in a worker thread."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "请先登录：缺少 Authorization: Bearer 令牌")
    key = hash_token(token.strip())
    actor = container.actors.get(key) or await anyio.to_thread.run_sync(caller, container, key)
    if actor is None:
        raise HTTPException(401, "令牌无效")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def write_uow(container: ContainerDep, actor: CurrentActor) -> AsyncIterator[UnitOfWork]:
    """A writing transaction. It depends on the caller so that authentication (its own short read)
    is done before the write lock is taken: on SQLite, a request holding the writers' turn while
    waiting for a pooled connection for its read would deadlock with requests queued for the turn.
    Entered and left on the event loop: the route's worker thread opens the session at its first use."""
    with UnitOfWork(container.db, write=True) as uow:
        yield uow


async def read_uow(container: ContainerDep) -> AsyncIterator[UnitOfWork]:
    with UnitOfWork(container.db, write=False) as uow:
        yield uow


WriteUow = Annotated[UnitOfWork, Depends(write_uow)]
ReadUow = Annotated[UnitOfWork, Depends(read_uow)]


async def now(container: ContainerDep) -> dt.datetime:
    return container.clock()


Now = Annotated[dt.datetime, Depends(now)]


async def if_match(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"`; anything else cannot match any version."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise PreconditionFailed(f"If-Match 无法识别：{if_match}")
    return int(text)


IfMatch = Annotated[int | None, Depends(if_match)]
