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
from services.entrypoints.throttle import FailureThrottle
from services.entrypoints.throttle import detail as throttle_detail
from services.errors import PreconditionFailed
from services.persistence.uow import UnitOfWork


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def caller(container: Container, token_hash: str | None = None, session_key_hash: str | None = None) -> Actor | None:
    """The one way a caller is known, for the API and the pages alike: the admin token of the
    settings, else the active user of the token (or of the page session), read afresh on every
    request, so a disabled user or a replaced token is refused by the very next one in every
    replica. Their grants come from the container's cache, keyed by the user's credential version."""
    admin = container.settings.admin_token
    if token_hash and admin is not None and hmac.compare_digest(hash_token(admin.get_secret_value()), token_hash):
        return admin_actor()
    with UnitOfWork(container.db, write=False) as uow:
        if token_hash:
            found = access.by_token(uow.session, token_hash)
        elif session_key_hash:
            found = access.by_session(uow.session, session_key_hash, container.clock())
        else:
            return None
        if found is None:
            return None
        actor = container.actors.get(found)
        if actor is None:
            actor = access.user_actor(uow.session, found[0])
            if actor is not None:
                container.actors.put(found, actor)
    return actor


async def current_actor(
    request: Request,
    container: ContainerDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    """The caller of the bearer token, read in a worker thread; an address that keeps sending wrong
    tokens is answered 429 before its token is looked at."""
    throttle: FailureThrottle = request.app.state.throttle
    if wait := throttle.retry_after(request):
        raise HTTPException(429, throttle_detail(wait), headers={"Retry-After": str(wait)})
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "请先登录：缺少 Authorization: Bearer 令牌")
    actor = await anyio.to_thread.run_sync(caller, container, hash_token(token.strip()))
    if actor is None:
        throttle.failed(request)
        raise HTTPException(401, "令牌无效或已停用")
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
