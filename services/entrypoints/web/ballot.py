"""评议投票: the open appraisal rounds a voter may rate, one ballot per subject; made for a phone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from services.access import Actor
from services.container import Container
from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.forms import integer, text
from services.entrypoints.web.render import page
from services.entrypoints.web.session import CheckedForm, WebActor, WebRoute, back_to, flash
from services.persistence.tables import AppraisalRound, Org, Person
from services.persistence.uow import UnitOfWork
from services.usecases import appraisals, org_records

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RoundId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def open_rounds(session: Session, c: Container, actor: Actor, now: Any) -> list[dict[str, Any]]:
    """Open rounds the actor may vote in, each with its subjects: the org, then its people."""
    out = []
    for r in session.exec(select(AppraisalRound).where(AppraisalRound.state == "open")).all():
        org = session.get(Org, r.org_id)
        if org is None or not appraisals.KIND.readers_extra(session, actor, org):
            continue
        people = session.exec(
            select(Person).join(Org, col(Org.id) == Person.org_id).where(col(Org.path).startswith(org.path))
        ).all()
        subjects = [{"type": "org", "id": org.id, "name": org.name}]
        subjects += [{"type": "person", "id": p.id, "name": p.name} for p in people]
        loaded = org_records.load(session, appraisals.KIND, actor, r.id or 0)
        view = org_records.view(session, c.engines["appraisal_round"], appraisals.KIND, loaded, now)
        out.append(view | {"subjects": subjects})
    return out


@router.get("/ballot")
def ballot_page(request: Request, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        rounds = open_rounds(uow.session, c, actor, now)
    ratings = [(r.code, r.label_zh) for r in c.catalog.rating_scale.ratings]
    return page(request, "ballot.html", actor, rounds=rounds, ratings=ratings)


@router.post("/rounds/{round_id}/ballots")
def cast(request: Request, round_id: RoundId, form: CheckedForm, c: ContainerDep, actor: WebActor) -> Response:
    subject = {"type": "org" if text(form, "subject_type") == "org" else "person", "id": integer(form, "subject_id")}
    with UnitOfWork(c.db) as uow:
        appraisals.cast(uow, c.catalog.rating_scale, actor, round_id, subject, text(form, "rating"))
    flash(request, text(form, "form"), "已投票，谢谢！")
    return RedirectResponse(back_to(form), status_code=303)
