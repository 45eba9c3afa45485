"""评议投票: the open appraisal rounds a voter may rate, one ballot per subject; made for a phone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.persistence.uow import UnitOfWork
from services.usecases import appraisals
from services.usecases.commands import CastBallot
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RoundId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/ballot")
def ballot_page(request: Request, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        rounds = views.open_rounds(uow.session, c, actor, now)
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
