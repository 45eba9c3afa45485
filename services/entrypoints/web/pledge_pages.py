"""我的承诺 and the pledge page: items, stage, deadlines, actions, progress records, leader comments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.persistence.uow import UnitOfWork
from services.usecases import events, pledges
from services.usecases.commands import AddComment, AddProgress, FireEvent
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PledgeId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


@router.get("/me")
def my_pledges(request: Request, c: ContainerDep, actor: WebActor, now: Now, year: Year = None) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        shown = views.current_year(uow.session, now, year)
        mine = views.my_pledges(uow.session, c, actor, now)
        may_write = actor.person_id is not None and any(
            key == f"person:{actor.person_id}" for key, _ in views.pledge_subjects(uow.session, actor, shown)
        )
    return page(request, "me.html", actor, pledges=mine, now=now, year=shown, may_write=may_write)


@router.get("/pledges/{pledge_id}")
def pledge_page(request: Request, pledge_id: PledgeId, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        pledge = views.pledge_page(uow.session, c, actor, pledge_id, now)
    return page(request, "pledge.html", actor, p=pledge, now=now)


def event_body(form: FormData) -> FireEvent:
    """The API's event command, from a page's form: the same model, so the same refusals."""
    event = text(form, "event")
    body: dict[str, Any] = filled(form, "event", "reason")
    if event == "publish":
        body["data"] = filled(form, "channel", "published_on")
    elif event == "submit" and "held_on" in form:
        body["data"] = {"meeting": filled(form, "held_on", "attendees")}
    elif event == "appraise":
        outcomes = [
            {
                "item": key.removeprefix("outcome_"),
                "outcome": str(value),
                **filled(form, f"why_{key[8:]}", as_="explanation"),
            }
            for key, value in form.multi_items()
            if key.startswith("outcome_") and key[8:].isdigit() and value
        ]
        body["data"] = {**filled(form, "grade"), "outcomes": outcomes}
    return parse(FireEvent, body)


@router.post("/pledges/{pledge_id}/events")
def fire(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    cmd = event_body(form)
    with UnitOfWork(c.db) as uow:
        events.fire_event(uow, c.lifecycles, actor, pledges.LIFECYCLE, pledge_id, cmd, None, now)
    label = c.engines[pledges.LIFECYCLE].lifecycle.event(cmd.event)
    flash(request, text(form, "form"), f"已完成：{label.label_zh if label else cmd.event}")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/pledges/{pledge_id}/progress")
def add_progress(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    cmd = parse(AddProgress, filled(form, "item", "note", "happened_on"))
    with UnitOfWork(c.db) as uow:
        pledges.add_progress(uow, actor, pledge_id, cmd, now)
    flash(request, "progress", "践诺记录已保存")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/pledges/{pledge_id}/comments")
def add_comment(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    cmd = parse(AddComment, filled(form, "achievements", "problems", "direction"))
    with UnitOfWork(c.db) as uow:
        pledges.add_comment(uow, actor, pledge_id, cmd, now)
    flash(request, "comment", "领导点评已保存")
    return RedirectResponse(back_to(form), status_code=303)
