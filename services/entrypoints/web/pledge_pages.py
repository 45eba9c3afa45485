"""我的承诺 and the pledge page: items, stage, deadlines, actions, progress records, leader comments."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.forms import integer, text
from services.entrypoints.web.render import page
from services.entrypoints.web.session import CheckedForm, WebActor, WebRoute, back_to, flash
from services.errors import Invalid
from services.persistence.uow import UnitOfWork
from services.usecases import pledges

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PledgeId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/me")
def my_pledges(request: Request, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        mine = views.my_pledges(uow.session, c, actor, now)
    return page(request, "me.html", actor, pledges=mine, now=now)


@router.get("/pledges/{pledge_id}")
def pledge_page(request: Request, pledge_id: PledgeId, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        pledge = views.pledge_page(uow.session, c, actor, pledge_id, now)
    return page(request, "pledge.html", actor, p=pledge, now=now)


def event_body(form: FormData) -> dict[str, Any]:
    """The API's event body, from a page's form (the use case judges every value)."""
    event = text(form, "event")
    body: dict[str, Any] = {"event": event}
    if text(form, "reason"):
        body["reason"] = text(form, "reason")
    if event == "publish":
        body["data"] = {"channel": text(form, "channel"), "published_on": text(form, "published_on")}
    elif event == "submit" and "held_on" in form:
        body["data"] = {"meeting": {"held_on": text(form, "held_on"), "attendees": integer(form, "attendees")}}
    elif event == "appraise":
        outcomes = [
            {
                "item": int(key.removeprefix("outcome_")),
                "outcome": str(value),
                "explanation": text(form, f"why_{key[8:]}") or None,
            }
            for key, value in form.multi_items()
            if key.startswith("outcome_") and key[8:].isdigit() and value
        ]
        body["data"] = {"grade": text(form, "grade"), "outcomes": outcomes}
    return body


@router.post("/pledges/{pledge_id}/events")
def fire(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    body = event_body(form)
    with UnitOfWork(c.db) as uow:
        pledges.fire_event(uow, c.engines["pledge"], actor, pledge_id, body, None, now, criteria=c.catalog.criteria)
    label = c.engines["pledge"].lifecycle.event(body["event"])
    flash(request, text(form, "form"), f"已完成：{label.label_zh if label else body['event']}")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/pledges/{pledge_id}/progress")
def add_progress(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    if not text(form, "note"):
        raise Invalid("note", "请填写践诺情况")
    try:
        happened_on = dt.date.fromisoformat(text(form, "happened_on"))
    except ValueError:
        raise Invalid("happened_on", "日期格式应为 YYYY-MM-DD") from None
    body = {"item": integer(form, "item"), "note": text(form, "note"), "happened_on": happened_on}
    with UnitOfWork(c.db) as uow:
        pledges.add_progress(uow, actor, pledge_id, body, now)
    flash(request, "progress", "践诺记录已保存")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/pledges/{pledge_id}/comments")
def add_comment(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    parts = {name: text(form, name) for name in ("achievements", "problems", "direction")}
    for name, label in (("achievements", "肯定成绩"), ("problems", "指出问题"), ("direction", "努力方向")):
        if not parts[name]:
            raise Invalid(name, f"请填写“{label}”")
    with UnitOfWork(c.db) as uow:
        pledges.add_comment(uow, actor, pledge_id, parts, now)
    flash(request, "comment", "领导点评已保存")
    return RedirectResponse(back_to(form), status_code=303)
