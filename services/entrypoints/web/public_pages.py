"""The public 公示 page of an org's year — its own and its members' published pledges, read without
signing in — its QR code for the notice board, and the office's switch that takes the page down."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.entrypoints.deps import ContainerDep
from services.entrypoints.web import views
from services.entrypoints.web.forms import text
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.persistence.uow import UnitOfWork
from services.usecases import directory

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OrgId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Year = Annotated[int, Path(ge=2000, le=2100)]
QR_SCALE = 4


@router.get("/public/{year}/orgs/{org_id}", name="public_org")
def public_org(request: Request, year: Year, org_id: OrgId, c: ContainerDep) -> Response:
    """Drawn for anyone: no sign-in, and the page session is neither read nor begun (no cookie)."""
    with UnitOfWork(c.db, write=False) as uow:
        shown = views.public_org(uow.session, c, year, org_id)
    built: Jinja2Templates = request.app.state.templates
    context: dict[str, Any] = {
        "actor": None,
        "menu": [],
        "csrf": "",
        "flash": {},
        "path": request.url.path,
        "qr": qr_path(year, org_id),
    }
    return built.TemplateResponse(request, "public_org.html", context | shown)


def qr_path(year: int, org_id: int) -> str:
    return f"/public/{year}/orgs/{org_id}/qr.svg"


def public_url(request: Request, year: int, org_id: int) -> str:
    """The public page's absolute address, as the browser reached this app (its base URL)."""
    return str(request.url_for("public_org", year=year, org_id=org_id))


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=QR_SCALE, title="公示页面二维码")
    return out.getvalue()


@router.get("/public/{year}/orgs/{org_id}/qr.svg")
def public_qr(request: Request, year: Year, org_id: OrgId, c: ContainerDep) -> Response:
    """The QR code of the public page's address, for the notice board (only while the page answers)."""
    with UnitOfWork(c.db, write=False) as uow:
        views.public_org(uow.session, c, year, org_id)
    return Response(qr_svg(public_url(request, year, org_id)), media_type="image/svg+xml")


@router.post("/office/orgs/{org_id}/public-page")
def switch_public_page(
    request: Request, org_id: OrgId, form: CheckedForm, c: ContainerDep, actor: WebActor
) -> Response:
    on = text(form, "public_page") == "on"
    with UnitOfWork(c.db) as uow:
        org = directory.set_public_page(uow, actor, org_id, on)
    flash(request, text(form, "form"), f"{org['name']}的公示页面已{'开启' if on else '关闭'}")
    return RedirectResponse(back_to(form), status_code=303)
