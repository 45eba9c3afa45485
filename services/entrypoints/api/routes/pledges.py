"""Pledge routes: create, list, read, edit items, events, history, comments, progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.entrypoints.api.schemas import (
    CommentOut,
    HistoryOut,
    PledgeOut,
    PledgePage,
    ProgressOut,
)
from services.entrypoints.deps import ContainerDep, CurrentActor, IfMatch, Now, ReadUow, WriteUow
from services.queries import listings
from services.usecases import events, pledges
from services.usecases.commands import AddComment, AddProgress, CreatePledge, EditItems, FireEvent
from services.usecases.fields import STATE_CODE

router = APIRouter(prefix="/api/v1/pledges", tags=["pledges"])
PledgeId = Annotated[int, Path(ge=1, le=2**63 - 1)]
LIFECYCLE = pledges.LIFECYCLE


def tagged(response: Response, body: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = f'"{body["version"]}"'
    return body


@router.post("", status_code=201, response_model=PledgeOut, name="create", summary="新建公开承诺书")
def create_pledge(
    body: CreatePledge, c: ContainerDep, uow: WriteUow, actor: CurrentActor, now: Now, response: Response
) -> Any:
    pledge_id = pledges.create(uow, c.lifecycles, actor, body, now)
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, pledge_id, now))


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
    filters = listings.Filters(year=year, state=state, org_id=org_id, subject_type=subject_type, overdue=overdue)
    return listings.listing(uow.session, c.lifecycles, actor, LIFECYCLE, filters, limit, offset, now)


@router.get("/{pledge_id}", response_model=PledgeOut, name="read", summary="公开承诺书")
def get_pledge(
    pledge_id: PledgeId, c: ContainerDep, uow: ReadUow, actor: CurrentActor, now: Now, response: Response
) -> Any:
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, pledge_id, now))


@router.patch("/{pledge_id}", response_model=PledgeOut, name="edit_items", summary="修改承诺事项")
def patch_pledge(
    pledge_id: PledgeId,
    body: EditItems,
    c: ContainerDep,
    uow: WriteUow,
    actor: CurrentActor,
    now: Now,
    version: IfMatch,
    response: Response,
) -> Any:
    pledges.edit_items(uow, c.lifecycles, actor, pledge_id, body, version, now)
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, pledge_id, now))


@router.post(
    "/{pledge_id}/events",
    response_model=PledgeOut,
    name="fire_event",
    summary="执行流程操作（提交、审查、公开、考评等）",
)
def fire_event(
    pledge_id: PledgeId,
    body: FireEvent,
    c: ContainerDep,
    uow: WriteUow,
    actor: CurrentActor,
    now: Now,
    version: IfMatch,
    response: Response,
) -> Any:
    return tagged(response, events.fire_event(uow, c.lifecycles, actor, LIFECYCLE, pledge_id, body, version, now))


@router.get("/{pledge_id}/history", response_model=list[HistoryOut], name="history", summary="流程记录")
def pledge_history(pledge_id: PledgeId, c: ContainerDep, uow: ReadUow, actor: CurrentActor) -> Any:
    return events.record_history(uow.session, c.lifecycles, actor, LIFECYCLE, pledge_id)


@router.post(
    "/{pledge_id}/comments", status_code=201, response_model=CommentOut, name="add_comment", summary="领导点评"
)
def add_comment(pledge_id: PledgeId, body: AddComment, uow: WriteUow, actor: CurrentActor, now: Now) -> Any:
    return pledges.add_comment(uow, actor, pledge_id, body, now)


@router.get("/{pledge_id}/comments", response_model=list[CommentOut], name="list_comments", summary="领导点评列表")
def list_comments(pledge_id: PledgeId, uow: ReadUow, actor: CurrentActor) -> Any:
    return pledges.comments(uow.session, actor, pledge_id)


@router.post(
    "/{pledge_id}/progress", status_code=201, response_model=ProgressOut, name="add_progress", summary="新增践诺记录"
)
def add_progress(pledge_id: PledgeId, body: AddProgress, uow: WriteUow, actor: CurrentActor, now: Now) -> Any:
    return pledges.add_progress(uow, actor, pledge_id, body, now)
