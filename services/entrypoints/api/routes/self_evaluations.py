"""Self-evaluation routes: create, list, read, events, scores, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.entrypoints.api.schemas import (
    STATE_CODE,
    EventIn,
    HistoryOut,
    ScoresIn,
    SelfEvaluationIn,
    SelfEvaluationOut,
    SelfEvaluationPage,
)
from services.entrypoints.deps import ContainerDep, CurrentActor, IfMatch, Now, ReadUow, WriteUow
from services.usecases import self_evaluations as se

router = APIRouter(prefix="/api/v1/self-evaluations", tags=["self_evaluations"])
EvaluationId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _answer(c: ContainerDep, uow: Any, actor: Any, evaluation_id: int, now: Any, response: Response) -> dict[str, Any]:
    loaded = se.load(uow.session, actor, evaluation_id)
    body = se.view(uow.session, c.engines[se.LIFECYCLE], c.scorecard, loaded, now)
    response.headers["ETag"] = f'"{body["version"]}"'
    return body


@router.post("", status_code=201, response_model=SelfEvaluationOut, name="create", summary="新建自查总结评估报告")
def create(
    body: SelfEvaluationIn, c: ContainerDep, actor: CurrentActor, uow: WriteUow, now: Now, response: Response
) -> Any:
    evaluation_id = se.create(uow, c.engines[se.LIFECYCLE], actor, body.year, body.org_id, now)
    return _answer(c, uow, actor, evaluation_id, now, response)


@router.get("", response_model=SelfEvaluationPage, name="list", summary="自查总结评估报告列表")
def list_evaluations(
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
    return se.listing(uow.session, c.engines[se.LIFECYCLE], c.scorecard, actor, filters, limit, offset, now)


@router.get("/{evaluation_id}", response_model=SelfEvaluationOut, name="read", summary="自查总结评估报告")
def get(
    evaluation_id: EvaluationId, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now, response: Response
) -> Any:
    return _answer(c, uow, actor, evaluation_id, now, response)


@router.post(
    "/{evaluation_id}/events",
    response_model=SelfEvaluationOut,
    name="fire_event",
    summary="执行流程操作（开始、上报、受理、评定等）",
)
def fire_event(
    evaluation_id: EvaluationId,
    body: EventIn,
    c: ContainerDep,
    actor: CurrentActor,
    uow: WriteUow,
    now: Now,
    version: IfMatch,
    response: Response,
) -> Any:
    se.fire_event(uow, c.engines, c.scorecard, actor, evaluation_id, body.model_dump(), version, now)
    return _answer(c, uow, actor, evaluation_id, now, response)


@router.put(
    "/{evaluation_id}/scores", response_model=SelfEvaluationOut, name="put_scores", summary="填写自评分或考核评分"
)
def put_scores(
    evaluation_id: EvaluationId,
    body: ScoresIn,
    c: ContainerDep,
    actor: CurrentActor,
    uow: WriteUow,
    now: Now,
    response: Response,
) -> Any:
    items = [i.model_dump() for i in body.items]
    se.put_scores(uow, c.engines[se.LIFECYCLE], c.scorecard, actor, evaluation_id, body.kind, items, now)
    return _answer(c, uow, actor, evaluation_id, now, response)


@router.get("/{evaluation_id}/history", response_model=list[HistoryOut], name="history", summary="流程记录")
def history(evaluation_id: EvaluationId, actor: CurrentActor, uow: ReadUow) -> Any:
    return se.history(uow.session, actor, evaluation_id)
