"""自查总结评估报告 page: the 100-point sheet with self and assessed scores, and the report's events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.forms import integer, text
from services.entrypoints.web.render import page
from services.entrypoints.web.session import CheckedForm, WebActor, WebRoute, back_to, flash
from services.errors import Invalid
from services.persistence.uow import UnitOfWork
from services.queries import diagrams
from services.usecases import self_evaluations as se

router = APIRouter(route_class=WebRoute, include_in_schema=False)
EvaluationId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/self-evaluations/{evaluation_id}")
def evaluation_page(
    request: Request, evaluation_id: EvaluationId, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    engine = c.engines[se.LIFECYCLE]
    with UnitOfWork(c.db, write=False) as uow:
        loaded = se.load(uow.session, actor, evaluation_id)
        view = se.view(uow.session, engine, c.scorecard, loaded, now)
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
        labels={e.name: e.label_zh for e in engine.lifecycle.events},
        diagram=Markup(diagrams.svg(engine.lifecycle, view["state"])),
        now=now,
    )


def score_items(form: FormData, kind: str) -> list[dict[str, Any]]:
    items = []
    for key, value in form.multi_items():
        if key.startswith("pts_") and str(value).strip():
            code = key[4:]
            try:
                points = float(str(value))
            except ValueError:
                raise Invalid(key, f"{code}：得分应为数字") from None
            item: dict[str, Any] = {"code": code, "points": points}
            if kind == "assessed":
                item["method"] = text(form, f"method_{code}") or None
            items.append(item)
    return items


@router.post("/self-evaluations/{evaluation_id}/scores")
def put_scores(
    request: Request, evaluation_id: EvaluationId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    kind = "assessed" if text(form, "kind") == "assessed" else "self"
    with UnitOfWork(c.db) as uow:
        se.put_scores(
            uow, c.engines[se.LIFECYCLE], c.scorecard, actor, evaluation_id, kind, score_items(form, kind), now
        )
    flash(request, text(form, "form"), "得分已保存")
    return RedirectResponse(back_to(form), status_code=303)


def event_body(form: FormData) -> dict[str, Any]:
    event = text(form, "event")
    body: dict[str, Any] = {"event": event}
    if text(form, "reason"):
        body["reason"] = text(form, "reason")
    if event == "submit":
        body["data"] = {
            "report": text(form, "report"),
            "meeting_held_on": text(form, "meeting_held_on") or None,
            "questionnaires": integer(form, "questionnaires") if text(form, "questionnaires") else 0,
        }
    elif event == "order_rectification":
        body["data"] = {"due_date": text(form, "due_date")}
    return body


@router.post("/self-evaluations/{evaluation_id}/events")
def fire(
    request: Request, evaluation_id: EvaluationId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    body = event_body(form)
    with UnitOfWork(c.db) as uow:
        se.fire_event(uow, c.engines, c.scorecard, actor, evaluation_id, body, None, now)
    flash(request, text(form, "form"), "已完成")
    return RedirectResponse(back_to(form), status_code=303)
