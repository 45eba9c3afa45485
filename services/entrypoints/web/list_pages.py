"""承诺书列表: every pledge the person may read, narrowed by branch, stage, overdue and name, sorted and paged
in SQL (the API's one listing); the dashboard's overdue counts lead here."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import WebActor
from services.persistence.uow import UnitOfWork
from services.queries import listings
from services.usecases import pledges
from services.usecases.fields import STATE_CODE

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 50
ORDERS = {"due": "期限最近在前", "name": "按姓名", "id": "按建立先后"}


@router.get("/pledges")
def pledge_list(
    request: Request,
    c: ContainerDep,
    actor: WebActor,
    now: Now,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    org_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    state: Annotated[str | None, Query(max_length=30, pattern=STATE_CODE)] = None,
    overdue: Annotated[bool, Query()] = False,
    name: Annotated[str | None, Query(max_length=50)] = None,
    order: Annotated[Literal["due", "name", "id"], Query()] = "due",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session
        shown = views.current_year(s, now, year)
        filters = listings.Filters(
            year=shown,
            org_id=org_id,
            subtree=org_id is not None,
            state=state or None,
            overdue=True if overdue else None,
            name=(name or "").strip() or None,
            order=order,
        )
        listed = listings.listing(s, c.lifecycles, actor, pledges.LIFECYCLE, filters, PAGE, offset, now)
        mine = [(int(o.id or 0), o.name) for o in views.secretary_orgs(s, actor)]
        orgs = views.org_choices(s) if actor.reads_everything else mine
    asked = {"year": shown, "org_id": org_id, "state": state, "overdue": overdue or None, "name": name, "order": order}
    query = urlencode({k: v for k, v in asked.items() if v not in (None, "", False)})
    return page(
        request,
        "pledges.html",
        actor,
        now=now,
        year=shown,
        rows=listed["items"],
        total=listed["total"],
        offset=offset,
        size=PAGE,
        query=query,
        asked=asked,
        orgs=orgs,
        states={st.code: st.label_zh for st in c.engines[pledges.LIFECYCLE].lifecycle.states},
        orders=ORDERS,
    )
