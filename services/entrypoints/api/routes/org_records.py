"""Routes for the records that follow an org's lifecycle: appraisal rounds, demo sites, rectifications."""

# No `from __future__ import annotations` here: FastAPI must see each router's own body class.
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from services.entrypoints.api.params import Limit, Offset, OrgFilter, RecordId, StateFilter, YearFilter
from services.entrypoints.api.routes.pledges import tagged
from services.entrypoints.api.schemas import (
    BallotOut,
    HistoryOut,
    OrgRecordOut,
    OrgRecordPage,
    RoundResults,
)
from services.entrypoints.deps import ContainerDep, CurrentActor, IfMatch, Now, ReadUow, WriteUow
from services.queries import listings
from services.usecases import appraisals, demo_sites, events, rectifications
from services.usecases.commands import CastBallot, FireEvent
from services.usecases.org_kinds import STARTS

Creator = Callable[..., int]


def build(lifecycle: str, label: str, path: str, body_type: type[BaseModel], creator: Creator) -> APIRouter:
    """create, list, get, events, history — the same five routes for every kind (`label`: its Chinese name)."""
    router = APIRouter(prefix=f"/api/v1/{path}", tags=[path.replace("-", "_")])

    @router.post("", status_code=201, response_model=OrgRecordOut, name="create", summary=f"新建{label}")
    def create(
        body: body_type,  # type: ignore[valid-type]
        c: ContainerDep,
        actor: CurrentActor,
        uow: WriteUow,
        now: Now,
        response: Response,
    ) -> Any:
        record_id = creator(uow, c.lifecycles, actor, body, now)
        return tagged(response, events.get(uow.session, c.lifecycles, actor, lifecycle, record_id, now))

    @router.get("", response_model=OrgRecordPage, name="list", summary=f"{label}列表")
    def listing(
        c: ContainerDep,
        actor: CurrentActor,
        uow: ReadUow,
        now: Now,
        year: YearFilter = None,
        org_id: OrgFilter = None,
        state: StateFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Any:
        filters = listings.Filters(year=year, org_id=org_id, state=state)
        return listings.listing(uow.session, c.lifecycles, actor, lifecycle, filters, limit, offset, now)

    @router.get("/{record_id}", response_model=OrgRecordOut, name="read", summary=label)
    def get(
        record_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now, response: Response
    ) -> Any:
        return tagged(response, events.get(uow.session, c.lifecycles, actor, lifecycle, record_id, now))

    @router.post(
        "/{record_id}/events", response_model=OrgRecordOut, name="fire_event", summary=f"{label}：执行流程操作"
    )
    def fire(
        record_id: RecordId,
        body: FireEvent,
        c: ContainerDep,
        actor: CurrentActor,
        uow: WriteUow,
        now: Now,
        version: IfMatch,
        response: Response,
    ) -> Any:
        answer = events.fire_event(uow, c.lifecycles, actor, lifecycle, record_id, body, version, now)
        return tagged(response, answer)

    @router.get("/{record_id}/history", response_model=list[HistoryOut], name="history", summary=f"{label}：流程记录")
    def history(record_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow) -> Any:
        return events.record_history(uow.session, c.lifecycles, actor, lifecycle, record_id)

    return router


def _built(kind: Any) -> APIRouter:
    start = STARTS[kind.lifecycle]
    return build(kind.lifecycle, kind.label_zh, start.path, start.command, start.start)


appraisal_rounds, demo_site_routes, rectification_routes = (
    _built(k) for k in (appraisals.KIND, demo_sites.KIND, rectifications.KIND)
)


@appraisal_rounds.post(
    "/{record_id}/ballots", status_code=201, response_model=BallotOut, name="cast_ballot", summary="投票"
)
def cast_ballot(record_id: RecordId, body: CastBallot, c: ContainerDep, actor: CurrentActor, uow: WriteUow) -> Any:
    appraisals.cast(uow, c.catalog.rating_scale, actor, record_id, body)
    return {"round_id": record_id, "subject": body.subject.model_dump(), "rating": body.rating}


@appraisal_rounds.get("/{record_id}/results", response_model=RoundResults, name="read_results", summary="评议结果")
def round_results(record_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow) -> Any:
    basic = c.settings.basic_counts_as_satisfied
    return appraisals.results(uow.session, c.catalog.rating_scale, actor, record_id, basic)


routers = (appraisal_rounds, demo_site_routes, rectification_routes)
