"""Pledge routes: create, list, read, edit items, events, history, comments, progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.entrypoints.api.schemas import (
    STATE_CODE,
    CommentIn,
    CommentOut,
    EventIn,
    HistoryOut,
    PledgeIn,
    PledgeOut,
    PledgePage,
    PledgePatch,
    ProgressIn,
    ProgressOut,
)
from services.entrypoints.deps import ContainerDep, CurrentActor, IfMatch, Now, ReadUow, WriteUow
from services.lifecycle import pledge_store
from services.queries import listings as queries
from services.usecases import pledges

router = APIRouter(prefix="/api/v1/pledges", tags=["pledges"])
PledgeId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _answer(c: ContainerDep, uow: Any, actor: Any, pledge_id: int, now: Any, response: Response) -> dict[str, Any]:
    engine = c.engines["pledge"]
    body = pledges.view(uow.session, engine, pledge_store.load(uow.session, actor, pledge_id), now)
    response.headers["ETag"] = f'"{body["version"]}"'
    return body


@router.post("", status_code=201, response_model=PledgeOut, name="create", summary="新建公开承诺书")
def create_pledge(
    body: PledgeIn, c: ContainerDep, uow: WriteUow, actor: CurrentActor, now: Now, response: Response
) -> Any:
    pledge_id = pledges.create(uow, c.engines["pledge"], actor, body.model_dump(), now)
    return _answer(c, uow, actor, pledge_id, now, response)


@router.get("", response_model=PledgePage, name="list", summary="公开承诺书列表")
def list_pledges(
    c: ContainerDep,
    uow: ReadUow,
    actor: CurrentActor,
    now: Now,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    state: Annotated[str | None, Query(max_length=30, pattern=STATE_CODE)] = None,
    org_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    subject_type: Annotated[str | None, Query(pattern="^(org|person)$")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Any:
    filters = queries.PledgeFilters(year, state, org_id, subject_type, overdue)
    return queries.list_pledges(uow.session, c.engines["pledge"], actor, filters, limit, offset, now)


@router.get("/{pledge_id}", response_model=PledgeOut, name="read", summary="公开承诺书")
def get_pledge(
    pledge_id: PledgeId, c: ContainerDep, uow: ReadUow, actor: CurrentActor, now: Now, response: Response
) -> Any:
    return _answer(c, uow, actor, pledge_id, now, response)


@router.patch("/{pledge_id}", response_model=PledgeOut, name="edit_items", summary="修改承诺事项")
def patch_pledge(
    pledge_id: PledgeId,
    body: PledgePatch,
    c: ContainerDep,
    uow: WriteUow,
    actor: CurrentActor,
    now: Now,
    version: IfMatch,
    response: Response,
) -> Any:
    items = [i.model_dump() for i in body.items]
    pledges.edit_items(uow, c.engines["pledge"], actor, pledge_id, items, version, now)
    return _answer(c, uow, actor, pledge_id, now, response)


@router.post(
    "/{pledge_id}/events",
    response_model=PledgeOut,
    name="fire_event",
    summary="执行流程操作（提交、审查、公开、考评等）",
)
def fire_event(
    pledge_id: PledgeId,
    body: EventIn,
    c: ContainerDep,
    uow: WriteUow,
    actor: CurrentActor,
    now: Now,
    version: IfMatch,
    response: Response,
) -> Any:
    answer = pledges.fire_event(
        uow, c.engines["pledge"], actor, pledge_id, body.model_dump(), version, now, criteria=c.catalog.criteria
    )
    response.headers["ETag"] = f'"{answer["version"]}"'
    return answer


@router.get("/{pledge_id}/history", response_model=list[HistoryOut], name="history", summary="流程记录")
def pledge_history(pledge_id: PledgeId, uow: ReadUow, actor: CurrentActor) -> Any:
    return pledges.history(uow.session, actor, pledge_id)


@router.post(
    "/{pledge_id}/comments", status_code=201, response_model=CommentOut, name="add_comment", summary="领导点评"
)
def add_comment(pledge_id: PledgeId, body: CommentIn, uow: WriteUow, actor: CurrentActor, now: Now) -> Any:
    return pledges.add_comment(uow, actor, pledge_id, body.model_dump(), now)


@router.get("/{pledge_id}/comments", response_model=list[CommentOut], name="list_comments", summary="领导点评列表")
def list_comments(pledge_id: PledgeId, uow: ReadUow, actor: CurrentActor) -> Any:
    return pledges.comments(uow.session, actor, pledge_id)


@router.post(
    "/{pledge_id}/progress", status_code=201, response_model=ProgressOut, name="add_progress", summary="新增践诺记录"
)
def add_progress(pledge_id: PledgeId, body: ProgressIn, uow: WriteUow, actor: CurrentActor, now: Now) -> Any:
    return pledges.add_progress(uow, actor, pledge_id, body.model_dump(), now)
