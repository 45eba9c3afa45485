"""Writing a pledge on the web: a member's own, a secretary's for a member or for the branch; its
items edited while 提出承诺 and 充实完善 while 践行承诺 — through the API's commands and use cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.forms import text
from services.entrypoints.web.pledge_pages import PledgeId
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, flash
from services.errors import Invalid
from services.persistence.uow import UnitOfWork
from services.usecases import events, pledges
from services.usecases.commands import CreatePledge, EditItems, FireEvent
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Year = Annotated[int | None, Query(ge=2000, le=2100)]
ROW = ("item_id", "content", "measure", "due_date")


def items_of(form: FormData) -> list[dict[str, Any]]:
    """The editor's rows, in the order shown; a row left wholly empty is no item (that is how a row is
    removed without the page's script)."""
    columns = [[str(v).strip() for v in form.getlist(name)] for name in ROW]
    rows = []
    for item_id, content, measure, due_date in zip(*columns, strict=False):
        if not (content or measure or due_date):
            continue
        row: dict[str, Any] = {"content": content}
        if item_id:
            row["id"] = item_id
        if measure:
            row["measure"] = measure
        if due_date:
            row["due_date"] = due_date
        rows.append(row)
    return rows


@router.get("/pledges/new")
def new_pledge(request: Request, c: ContainerDep, actor: WebActor, now: Now, year: Year = None) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        shown = views.current_year(uow.session, now, year)
        subjects = views.pledge_subjects(uow.session, actor, shown)
    if not subjects:
        raise Invalid("subject", f"{shown}年度没有需要您填写的承诺书（本人和本支部的承诺书都已建立）")
    return page(request, "pledge_editor.html", actor, mode="new", year=shown, subjects=subjects, rows=[], p=None)


@router.post("/pledges/new")
def create_pledge(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    kind, _, subject = text(form, "subject").partition(":")
    body: dict[str, Any] = {"year": text(form, "year"), "items": items_of(form)}
    if kind in ("org", "person") and subject:
        body[f"{kind}_id"] = subject
    cmd = parse(CreatePledge, body)
    with UnitOfWork(c.db) as uow:
        pledge_id = pledges.create(uow, c.lifecycles, actor, cmd, now)
    flash(request, f"events-{pledge_id}", "承诺书已保存。请核对承诺事项，确认无误后点击“提交审查”。")
    return RedirectResponse(f"/pledges/{pledge_id}", status_code=303)


@router.get("/pledges/{pledge_id}/edit")
def edit_form(request: Request, pledge_id: PledgeId, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        p = views.pledge_page(uow.session, c, actor, pledge_id, now)
    if "amend" in p["allowed_events"]:
        mode = "amend"
    elif p["state"] == "proposing" and "owner" in p["roles"]:
        mode = "edit"
    else:
        raise Invalid("state", f"当前阶段（{p['state_label']}）不能修改承诺事项")
    return page(request, "pledge_editor.html", actor, mode=mode, year=p["year"], subjects=[], rows=p["items"], p=p)


@router.post("/pledges/{pledge_id}/edit")
def save_items(
    request: Request, pledge_id: PledgeId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    """Save the rows (提出承诺), or 充实完善 them with its reason (践行承诺: kept rows keep their records)."""
    version = int(text(form, "version") or 0) or None
    with UnitOfWork(c.db) as uow:
        if text(form, "mode") == "amend":
            cmd = parse(
                FireEvent, {"event": "amend", "reason": text(form, "reason"), "data": {"items": items_of(form)}}
            )
            events.fire_event(uow, c.lifecycles, actor, pledges.LIFECYCLE, pledge_id, cmd, version, now)
            done = "已充实完善，承诺书已重新提交审查"
        else:
            edit = parse(EditItems, {"items": items_of(form)})
            pledges.edit_items(uow, c.lifecycles, actor, pledge_id, edit, version, now)
            done = "承诺事项已保存"
    flash(request, f"events-{pledge_id}", done)
    return RedirectResponse(f"/pledges/{pledge_id}", status_code=303)
