"""名册导入 for the office: the template, an upload checked (仅检查) or imported, the refused cells by
sheet, row and column, and the new users' login cards — shown once, in this answer only."""

from __future__ import annotations

import base64

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor
from services.errors import Forbidden, Invalid
from services.persistence.uow import UnitOfWork
from services.queries.reports import content_disposition
from services.usecases import roster, roster_book
from services.usecases.sheets import XLSX

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PATH = "/office/roster"


def _office(actor: WebActor) -> None:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以导入名册")


@router.get(PATH)
def roster_form(request: Request, actor: WebActor) -> Response:
    _office(actor)
    return page(request, "roster.html", actor, outcome=None, errors=[])


@router.get(PATH + "/template.xlsx")
def roster_template(actor: WebActor) -> Response:
    _office(actor)
    disposition = content_disposition(roster_book.TEMPLATE_NAME, "roster-template")
    return Response(roster_book.template(), media_type=XLSX, headers={"Content-Disposition": disposition})


@router.post(PATH)
async def roster_upload(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """Drawn in this answer, not after a redirect: the login cards must not be kept anywhere to be shown."""
    _office(actor)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("file", "请选择要导入的名册文件（.xlsx）")
    data, dry_run = await upload.read(), form.get("dry_run") == "1"
    await upload.close()

    def run() -> roster.Outcome:
        with UnitOfWork(c.db) as uow:
            return roster.import_roster(uow, actor, data, now, dry_run)

    try:
        outcome = await anyio.to_thread.run_sync(run)
    except roster.RosterRefused as exc:
        name = upload.filename
        return page(request, "roster.html", actor, status=422, outcome=None, errors=exc.errors, filename=name)
    cards = base64.b64encode(roster_book.login_cards(outcome.cards)).decode() if outcome.cards else ""
    response = page(
        request, "roster.html", actor, outcome=outcome, errors=[], filename=upload.filename, xlsx=XLSX, cards_xlsx=cards
    )
    response.headers["Cache-Control"] = "no-store"
    return response
