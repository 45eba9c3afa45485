"""待办: one list of what the signed-in person must act on now, soonest deadline first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import WebActor
from services.persistence.uow import UnitOfWork

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/tasks")
def tasks(
    request: Request,
    c: ContainerDep,
    actor: WebActor,
    now: Now,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        shown = views.current_year(uow.session, now, year)
        found = views.tasks(uow.session, c, actor, shown, now)
    return page(request, "tasks.html", actor, year=shown, tasks=found, now=now)
