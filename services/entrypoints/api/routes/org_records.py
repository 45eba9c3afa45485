"""Routes for the records that follow an org's lifecycle: appraisal rounds, demo sites, rectifications."""

# No `from __future__ import annotations` here: FastAPI must see each router's own body class.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from services.entrypoints.api.schemas import (
    STATE_CODE,
    AppraisalRoundIn,
    BallotIn,
    BallotOut,
    DemoSiteIn,
    EventIn,
    HistoryOut,
    OrgRecordOut,
    OrgRecordPage,
    RectificationIn,
    RoundResults,
)
from services.entrypoints.deps import ContainerDep, CurrentActor, IfMatch, Now, ReadUow, WriteUow
from services.usecases import appraisals, demo_sites, org_records, rectifications
from services.usecases.org_records import Kind

RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Creator = Callable[..., int]


def build(kind: Kind, path: str, body_type: type[BaseModel], creator: Creator) -> APIRouter:
    """create, list, get, events, history — the same five routes for every kind."""
    router = APIRouter(prefix=f"/api/v1/{path}", tags=[path.replace("-", "_")])

    def answer(c: ContainerDep, uow: Any, actor: Any, record_id: int, now: Any, response: Response) -> dict[str, Any]:
        loaded = org_records.load(uow.session, kind, actor, record_id)
        body = org_records.view(uow.session, c.engines[kind.lifecycle], kind, loaded, now)
        response.headers["ETag"] = f'"{body["version"]}"'
        return body

    @router.post("", status_code=201, response_model=OrgRecordOut, name="create", summary=f"新建{kind.label_zh}")
    def create(
        body: body_type,  # type: ignore[valid-type]
        c: ContainerDep,
        actor: CurrentActor,
        uow: WriteUow,
        now: Now,
        response: Response,
    ) -> Any:
        record_id = creator(uow, c.engines[kind.lifecycle], actor, body.model_dump(), now)  # type: ignore[attr-defined]
        return answer(c, uow, actor, record_id, now, response)

    @router.get("", response_model=OrgRecordPage, name="list", summary=f"{kind.label_zh}列表")
    def listing(
        c: ContainerDep,
        actor: CurrentActor,
        uow: ReadUow,
        now: Now,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        org_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        state: Annotated[str | None, Query(max_length=30, pattern=STATE_CODE)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    ) -> Any:
        filters = {"year": year, "org_id": org_id, "state": state}
        return org_records.listing(uow.session, c.engines[kind.lifecycle], kind, actor, filters, limit, offset, now)

    @router.get("/{record_id}", response_model=OrgRecordOut, name="read", summary=kind.label_zh)
    def get(
        record_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now, response: Response
    ) -> Any:
        return answer(c, uow, actor, record_id, now, response)

    @router.post(
        "/{record_id}/events", response_model=OrgRecordOut, name="fire_event", summary=f"{kind.label_zh}：执行流程操作"
    )
    def fire(
        record_id: RecordId,
        body: EventIn,
        c: ContainerDep,
        actor: CurrentActor,
        uow: WriteUow,
        now: Now,
        version: IfMatch,
        response: Response,
    ) -> Any:
        engine = c.engines[kind.lifecycle]
        org_records.fire_event(uow, engine, kind, actor, record_id, body.model_dump(), version, now)
        return answer(c, uow, actor, record_id, now, response)

    @router.get(
        "/{record_id}/history", response_model=list[HistoryOut], name="history", summary=f"{kind.label_zh}：流程记录"
    )
    def history(record_id: RecordId, actor: CurrentActor, uow: ReadUow) -> Any:
        return org_records.history(uow.session, kind, actor, record_id)

    return router


def _open_round(uow: Any, engine: Any, actor: Any, body: dict[str, Any], now: Any) -> int:
    round_id = org_records.create(uow, engine, appraisals.KIND, actor, body, now)
    uow.commit()
    return round_id


appraisal_rounds = build(appraisals.KIND, "appraisal-rounds", AppraisalRoundIn, _open_round)
demo_site_routes = build(demo_sites.KIND, "demo-sites", DemoSiteIn, demo_sites.nominate)
rectification_routes = build(rectifications.KIND, "rectifications", RectificationIn, rectifications.issue)


@appraisal_rounds.post(
    "/{record_id}/ballots", status_code=201, response_model=BallotOut, name="cast_ballot", summary="投票"
)
def cast_ballot(record_id: RecordId, body: BallotIn, c: ContainerDep, actor: CurrentActor, uow: WriteUow) -> Any:
    subject = body.subject.model_dump()
    appraisals.cast(uow, c.catalog.rating_scale, actor, record_id, subject, body.rating)
    return {"round_id": record_id, "subject": subject, "rating": body.rating}


@appraisal_rounds.get("/{record_id}/results", response_model=RoundResults, name="read_results", summary="评议结果")
def round_results(record_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow) -> Any:
    basic = c.settings.basic_counts_as_satisfied
    return appraisals.results(uow.session, c.catalog.rating_scale, actor, record_id, basic)


routers = (appraisal_rounds, demo_site_routes, rectification_routes)
