"""Self-evaluation routes: create, list, read, events, scores, history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from services.entrypoints.api.params import Limit, Offset, OrgFilter, RecordId, StateFilter, YearFilter
from services.entrypoints.api.routes.pledges import tagged
from services.entrypoints.api.schemas import HistoryOut, SelfEvaluationOut, SelfEvaluationPage
from services.entrypoints.deps import ContainerDep, CurrentActor, IfMatch, Now, ReadUow, WriteUow
from services.queries import listings
from services.usecases import events
from services.usecases import self_evaluations as se
from services.usecases.commands import CreateSelfEvaluation, FireEvent, PutScores

router = APIRouter(prefix="/api/v1/self-evaluations", tags=["self_evaluations"])
LIFECYCLE = se.LIFECYCLE


@router.post("", status_code=201, response_model=SelfEvaluationOut, name="create", summary="新建自查总结评估报告")
def create(
    body: CreateSelfEvaluation, c: ContainerDep, actor: CurrentActor, uow: WriteUow, now: Now, response: Response
) -> Any:
    evaluation_id = se.create(uow, c.lifecycles, actor, body, now)
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, evaluation_id, now))


@router.get("", response_model=SelfEvaluationPage, name="list", summary="自查总结评估报告列表")
def list_evaluations(
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
    return listings.listing(uow.session, c.lifecycles, actor, LIFECYCLE, filters, limit, offset, now)


@router.get("/{evaluation_id}", response_model=SelfEvaluationOut, name="read", summary="自查总结评估报告")
def get(
    evaluation_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now, response: Response
) -> Any:
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, evaluation_id, now))


@router.post(
    "/{evaluation_id}/events",
    response_model=SelfEvaluationOut,
    name="fire_event",
    summary="执行流程操作（开始、上报、受理、评定等）",
)
def fire_event(
    evaluation_id: RecordId,
    body: FireEvent,
    c: ContainerDep,
    actor: CurrentActor,
    uow: WriteUow,
    now: Now,
    version: IfMatch,
    response: Response,
) -> Any:
    answer = events.fire_event(uow, c.lifecycles, actor, LIFECYCLE, evaluation_id, body, version, now)
    return tagged(response, answer)


@router.put(
    "/{evaluation_id}/scores", response_model=SelfEvaluationOut, name="put_scores", summary="填写自评分或考核评分"
)
def put_scores(
    evaluation_id: RecordId,
    body: PutScores,
    c: ContainerDep,
    actor: CurrentActor,
    uow: WriteUow,
    now: Now,
    response: Response,
) -> Any:
    se.put_scores(uow, c.lifecycles, actor, evaluation_id, body, now)
    return tagged(response, events.get(uow.session, c.lifecycles, actor, LIFECYCLE, evaluation_id, now))


@router.get("/{evaluation_id}/history", response_model=list[HistoryOut], name="history", summary="流程记录")
def history(evaluation_id: RecordId, c: ContainerDep, actor: CurrentActor, uow: ReadUow) -> Any:
    return events.record_history(uow.session, c.lifecycles, actor, LIFECYCLE, evaluation_id)
