"""FastAPI dependencies: the container, the unit of work, the caller, the clock, If-Match."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from services.access import Actor, authenticate
from services.container import Container
from services.errors import PreconditionFailed
from services.uow import UnitOfWork


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def current_actor(
    container: ContainerDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "请先登录：缺少 Authorization: Bearer 令牌")
    admin = container.settings.admin_token.get_secret_value() if container.settings.admin_token else None
    with UnitOfWork(container.db, write=False) as uow:
        actor = authenticate(uow.session, token.strip(), admin)
    if actor is None:
        raise HTTPException(401, "令牌无效")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def _uow(container: Container, write: bool) -> Iterator[UnitOfWork]:
    with UnitOfWork(container.db, write=write) as uow:
        yield uow


def write_uow(container: ContainerDep, actor: CurrentActor) -> Iterator[UnitOfWork]:
    """A writing transaction. It depends on the caller so that authentication (its own short
    read) is done before the write lock is taken: on SQLite, a request holding the lock while
    waiting for a pooled connection for its read would deadlock with requests queued on the lock."""
    yield from _uow(container, write=True)


def read_uow(container: ContainerDep) -> Iterator[UnitOfWork]:
    yield from _uow(container, write=False)


WriteUow = Annotated[UnitOfWork, Depends(write_uow)]
ReadUow = Annotated[UnitOfWork, Depends(read_uow)]


def now(container: ContainerDep) -> dt.datetime:
    return container.clock()


Now = Annotated[dt.datetime, Depends(now)]


def if_match(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"`; anything else cannot match any version."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise PreconditionFailed(f"If-Match 无法识别：{if_match}")
    return int(text)


IfMatch = Annotated[int | None, Depends(if_match)]
