"""消息: the signed-in person's inbox, newest first, read one by one or all at once; a digest lists its reminders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from definitions.vocabulary import NoticeKind
from notifications.tables import Notice
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
        digested = _digest_items(uow.session, listed["items"])
    for entry in listed["items"]:
        entry["link"] = _link(entry["subject"]["type"], entry["subject"]["id"])
        items = digested.get(entry["notice_id"], [])
        entry["listed"] = [i | {"link": _link(i["subject_type"], i["subject_id"])} for i in items]
    return page(
        request, "notifications.html", actor, entries=listed["items"], total=listed["total"], offset=offset, size=PAGE
    )


def _link(subject_type: str, subject_id: int) -> str | None:
    link = LINKS.get(subject_type)
    return link.format(subject_id) if link else None


def _digest_items(session: Session, entries: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """The reminders each digest on the page lists, by notice id."""
    ids = [e["notice_id"] for e in entries if e["kind"] == NoticeKind.digest.value]
    if not ids:
        return {}
    rows = session.exec(select(Notice.id, Notice.items).where(col(Notice.id).in_(ids))).all()
    return {int(nid or 0): list(items or []) for nid, items in rows}


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
