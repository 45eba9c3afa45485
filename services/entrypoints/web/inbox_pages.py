"""消息: the signed-in person's inbox, newest first, read one by one or all at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.forms import text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.persistence.uow import UnitOfWork
from services.usecases import inbox

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 50
LINKS = {"pledge": "/pledges/{}", "self_evaluation": "/self-evaluations/{}"}


@router.get("/notifications")
def notifications(
    request: Request, c: ContainerDep, actor: WebActor, offset: Annotated[int, Query(ge=0, le=10**9)] = 0
) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        listed = inbox.inbox(uow.session, actor, None, PAGE, offset)
    for entry in listed["items"]:
        link = LINKS.get(entry["subject"]["type"])
        entry["link"] = link.format(entry["subject"]["id"]) if link else None
    return page(
        request, "notifications.html", actor, entries=listed["items"], total=listed["total"], offset=offset, size=PAGE
    )


@router.post("/notifications/{entry_id}/read")
def read_one(
    request: Request,
    entry_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    form: CheckedForm,
    c: ContainerDep,
    actor: WebActor,
    now: Now,
) -> Response:
    with UnitOfWork(c.db) as uow:
        inbox.mark_read(uow, actor, entry_id, now)
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/notifications/read")
def read_all(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db) as uow:
        done = inbox.mark_all_read(uow, actor, now)
    flash(request, text(form, "form"), f"已将 {done} 条消息标为已读")
    return RedirectResponse(back_to(form), status_code=303)
