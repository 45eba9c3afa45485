"""The roster import (SPEC §7.2): its template, and the import itself (multipart, field `file`)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from services.access import Actor
from services.entrypoints.api.roster_schemas import RosterOut
from services.entrypoints.deps import CurrentActor, Now, WriteUow
from services.errors import Forbidden
from services.queries.reports import content_disposition
from services.usecases import roster, roster_book
from services.usecases.sheets import XLSX

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


def _office(actor: CurrentActor) -> Actor:
    """Refused before the upload is read: a non-office caller learns nothing about the file's checks."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以导入名册")
    return actor


OfficeActor = Annotated[Actor, Depends(_office)]
BINARY = {"schema": {"type": "string", "format": "binary"}}
PATH = "/api/v1/imports/roster"


@router.get(
    "/roster/template.xlsx",
    response_class=Response,
    name="roster_template",
    summary="名册导入模板（Excel：党组织、人员两张表）",
    responses={200: {"content": {XLSX: BINARY}, "description": "名册导入模板"}},
)
def roster_template(actor: OfficeActor) -> Response:
    disposition = content_disposition(roster_book.TEMPLATE_NAME, "roster-template")
    return Response(roster_book.template(), media_type=XLSX, headers={"Content-Disposition": disposition})


@router.post("/roster", response_model=RosterOut, name="import_roster", summary="导入名册（全部成功或全部不写入）")
def import_roster(
    file: Annotated[UploadFile, File(title="名册文件", description="用模板填写的 .xlsx")],
    actor: OfficeActor,
    uow: WriteUow,
    now: Now,
    response: Response,
    dry_run: Annotated[bool, Query(title="仅检查")] = False,
) -> Any:
    """Refused as a whole with 422 and every refused cell (`errors`: sheet, row, column, message)."""
    outcome = roster.import_roster(uow, actor, file.file.read(), now, dry_run=dry_run)
    response.headers["Cache-Control"] = "no-store"  # login cards carry tokens: kept by no cache, no replay
    return view(outcome)


def view(outcome: roster.Outcome) -> dict[str, Any]:
    counts = {k: dataclasses.asdict(getattr(outcome, k)) for k in ("orgs", "people", "users")}
    cards = [dataclasses.asdict(c) for c in outcome.cards]
    return {"dry_run": outcome.dry_run, **counts, "login_cards": cards, "errors": []}
