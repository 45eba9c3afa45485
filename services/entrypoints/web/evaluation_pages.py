"""自查总结评估报告 page: the 100-point sheet with self and assessed scores, and the report's events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.lifecycle import store
from services.persistence.uow import UnitOfWork
from services.queries import diagrams
from services.usecases import events
from services.usecases import self_evaluations as se
from services.usecases.commands import FireEvent, PutScores
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
EvaluationId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/self-evaluations/{evaluation_id}")
def evaluation_page(
    request: Request, evaluation_id: EvaluationId, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    engine = c.engines[se.LIFECYCLE]
    with UnitOfWork(c.db, write=False) as uow:
        loaded = store.load(uow.session, se.KIND, actor, evaluation_id)
        view = events.views(uow.session, c.lifecycles, [loaded], now)[0]
        history = events.record_history(uow.session, c.lifecycles, actor, se.LIFECYCLE, evaluation_id)
    scores: dict[str, dict[str, Any]] = {"self": {}, "assessed": {}}
    for entry in view["scores"]:
        scores[entry["kind"]][entry["code"]] = entry
    kind = None
    if view["state"] == se.SCORE_STATES["self"] and "secretary" in loaded.roles:
        kind = "self"
    elif view["state"] == se.SCORE_STATES["assessed"] and {"office", "supervisor"} & loaded.roles:
        kind = "assessed"
    return page(
        request,
        "evaluation.html",
        actor,
        kind=kind,
        ev=view,
        roles=loaded.roles,
        sheet=c.scorecard,
        scores=scores,
        history=history,
        labels={e.name: e.label_zh for e in engine.lifecycle.events},
        diagram=Markup(diagrams.svg(engine.lifecycle, view["state"])),
        now=now,
    )


def score_items(form: FormData, kind: str) -> list[dict[str, Any]]:
    """The sheet's filled-in rows, as the API's scores (the command judges each value)."""
    items = []
    for key, value in form.multi_items():
        if key.startswith("pts_") and str(value).strip():
            code = key[4:]
            item = {"code": code, "points": str(value).strip()}
            if kind == "assessed":
                item |= filled(form, f"method_{code}", as_="method")
            items.append(item)
    return items


@router.post("/self-evaluations/{evaluation_id}/scores")
def put_scores(
    request: Request, evaluation_id: EvaluationId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    kind = "assessed" if text(form, "kind") == "assessed" else "self"
    cmd = parse(PutScores, {"kind": kind, "items": score_items(form, kind)})
    with UnitOfWork(c.db) as uow:
        se.put_scores(uow, c.lifecycles, actor, evaluation_id, cmd, now)
    flash(request, text(form, "form"), "得分已保存")
    return RedirectResponse(back_to(form), status_code=303)


def event_body(form: FormData) -> FireEvent:
    event = text(form, "event")
    body: dict[str, Any] = filled(form, "event", "reason")
    if event == "submit":
        body["data"] = filled(form, "report", "meeting_held_on", "questionnaires")
    elif event == "order_rectification":
        body["data"] = filled(form, "due_date")
    return parse(FireEvent, body)


@router.post("/self-evaluations/{evaluation_id}/events")
def fire(
    request: Request, evaluation_id: EvaluationId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    cmd = event_body(form)
    with UnitOfWork(c.db) as uow:
        events.fire_event(uow, c.lifecycles, actor, se.LIFECYCLE, evaluation_id, cmd, None, now)
    flash(request, text(form, "form"), "已完成")
    return RedirectResponse(back_to(form), status_code=303)
