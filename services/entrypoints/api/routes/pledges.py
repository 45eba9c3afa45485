"""Pledge routes: create, list, read, edit items, events, history, comments, progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.entrypoints.api.params import Limit, Offset, OrgFilter, RecordId, StateFilter, YearFilter
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

router = APIRouter(prefix="/api/v1/pledges", tags=["pledges"])
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
    year: YearFilter = None,
    state: StateFilter = None,
    org_id: OrgFilter = None,
    subject_type: Annotated[str | None, Query(pattern="^(org|person)$", title="承诺主体")] = None,
    overdue: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    filters = listings.Filters(year=year, state=state, org_id=org_id, subject_type=subject_type, overdue=overdue)
    return listings.listing(uow.session, c.lifecycles, actor, LIFECYCLE, filters, limit, offset, now)


@router.get("/{pledge_id}", response_model=PledgeOut, name="read", summary="公开承诺书")
def get_pledge(
    pledge_id: RecordId, c: ContainerDep, uow: ReadUow, actor: CurrentActor, now: Now, response: Response
) -> Any:
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, pledge_id, now))


@router.patch("/{pledge_id}", response_model=PledgeOut, name="edit_items", summary="修改承诺事项")
def patch_pledge(
    pledge_id: RecordId,
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
    pledge_id: RecordId,
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
def pledge_history(pledge_id: RecordId, c: ContainerDep, uow: ReadUow, actor: CurrentActor) -> Any:
    return events.record_history(uow.session, c.lifecycles, actor, LIFECYCLE, pledge_id)


@router.post(
    "/{pledge_id}/comments", status_code=201, response_model=CommentOut, name="add_comment", summary="领导点评"
)
def add_comment(pledge_id: RecordId, body: AddComment, uow: WriteUow, actor: CurrentActor, now: Now) -> Any:
    return pledges.add_comment(uow, actor, pledge_id, body, now)


@router.get("/{pledge_id}/comments", response_model=list[CommentOut], name="list_comments", summary="领导点评列表")
def list_comments(pledge_id: RecordId, uow: ReadUow, actor: CurrentActor) -> Any:
    return pledges.comments(uow.session, actor, pledge_id)


@router.post(
    "/{pledge_id}/progress", status_code=201, response_model=ProgressOut, name="add_progress", summary="新增践诺记录"
)
def add_progress(pledge_id: RecordId, body: AddProgress, uow: WriteUow, actor: CurrentActor, now: Now) -> Any:
    return pledges.add_progress(uow, actor, pledge_id, body, now)
