"""The printable 承诺书: one pledge on one A4 page laid out like the paper form, and a secretary's whole
branch, one pledge a page — no navigation, no forms, no buttons (static/print.css)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import WebActor
from services.errors import Forbidden
from services.persistence.uow import UnitOfWork

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PledgeId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def printout(request: Request, name: str, **context: Any) -> Response:
    """A page for paper: drawn without the site's layout (no menu, no session token, no message)."""
    built: Jinja2Templates = request.app.state.templates
    return built.TemplateResponse(request, name, context)


@router.get("/pledges/{pledge_id}/print")
def print_pledge(request: Request, pledge_id: PledgeId, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        sheet = views.print_sheet(uow.session, c, actor, pledge_id, now)
    return printout(request, "print_pledge.html", sheets=[sheet], title=None)


@router.get("/branch/print")
def print_branch(request: Request, c: ContainerDep, actor: WebActor, now: Now, year: Year = None) -> Response:
    if not actor.secretary_orgs:
        raise Forbidden("打印本支部承诺书只对支部书记开放")
    with UnitOfWork(c.db, write=False) as uow:
        shown = views.current_year(uow.session, now, year)
        sheets = views.branch_sheets(uow.session, c, actor, shown, now)
    return printout(request, "print_branch.html", sheets=sheets, year=shown, title=f"本支部{shown}年度承诺书")
