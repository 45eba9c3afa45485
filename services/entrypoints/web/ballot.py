"""评议投票: the open appraisal rounds a voter may rate, one ballot per subject; made for a phone."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from services.access import Actor
from services.container import Container
from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.persistence.tables import Org, Person
from services.persistence.uow import UnitOfWork
from services.queries import listings
from services.usecases import appraisals
from services.usecases.commands import CastBallot
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RoundId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def open_rounds(session: Session, c: Container, actor: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    """Open rounds the actor may vote in, each with its subjects: the org, then its people."""
    filters = listings.Filters(state="open")
    rounds = listings.listing(session, c.lifecycles, actor, appraisals.LIFECYCLE, filters, 200, 0, now)["items"]
    out = []
    for r in rounds:
        org = session.get(Org, r["org_id"])
        if org is None or not actor.votes_in(org):
            continue
        people = session.exec(
            select(Person).join(Org, col(Org.id) == Person.org_id).where(col(Org.path).startswith(org.path))
        ).all()
        subjects = [{"type": "org", "id": org.id, "name": org.name}]
        subjects += [{"type": "person", "id": p.id, "name": p.name} for p in people if p.id != actor.person_id]
        out.append(r | {"subjects": subjects})
    done = appraisals.voted(session, actor, [r["id"] for r in out])
    for r in out:
        for subject in r["subjects"]:
            subject["voted"] = (r["id"], subject["type"], subject["id"]) in done
    return out


@router.get("/ballot")
def ballot_page(request: Request, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        rounds = open_rounds(uow.session, c, actor, now)
    ratings = [(r.code, r.label_zh) for r in c.catalog.rating_scale.ratings]
    return page(request, "ballot.html", actor, rounds=rounds, ratings=ratings)


@router.post("/rounds/{round_id}/ballots")
def cast(request: Request, round_id: RoundId, form: CheckedForm, c: ContainerDep, actor: WebActor) -> Response:
    subject = {
        "type": "org" if text(form, "subject_type") == "org" else "person",
        **filled(form, "subject_id", as_="id"),
    }
    cmd = parse(CastBallot, {"subject": subject, **filled(form, "rating")})
    with UnitOfWork(c.db) as uow:
        appraisals.cast(uow, c.catalog.rating_scale, actor, round_id, cmd)
    flash(request, text(form, "form"), "已投票，谢谢！")
    return RedirectResponse(back_to(form), status_code=303)
