"""支部工作台: the branch's pledges (overdue first), the review queue with batch approval, publication,
the self-evaluation on the 100-point sheet and the appraisal round."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.access import Actor
from services.container import Container
from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash, messages
from services.errors import Forbidden, Invalid, ServiceError
from services.persistence.uow import UnitOfWork
from services.queries import listings
from services.usecases import appraisals, demo_sites, events, pledges
from services.usecases import self_evaluations as se
from services.usecases.commands import CreateRound, CreateSelfEvaluation, FireEvent
from services.usecases.fields import parse
from services.usecases.org_kinds import own_labels
from workflow import WorkflowError

router = APIRouter(route_class=WebRoute, include_in_schema=False)
APPROVE = FireEvent(event="approve")
Year = Annotated[int | None, Query(ge=2000, le=2100)]
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/branch")
def workbench(request: Request, c: ContainerDep, actor: WebActor, now: Now, year: Year = None) -> Response:
    if not actor.secretary_orgs:
        raise Forbidden("支部工作台只对支部书记开放")
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session
        shown = views.current_year(s, now, year)
        listed = views.branch_pledges(s, c, actor, shown, now)
        rounds = listings.listing(
            s, c.lifecycles, actor, appraisals.LIFECYCLE, listings.Filters(year=shown), 200, 0, now
        )
        context: dict[str, Any] = {
            "year": shown,
            "pledges": listed,
            "review": [p for p in listed if "approve" in p["allowed_events"]],
            "to_publish": [p for p in listed if "publish" in p["allowed_events"]],
            "evaluations": views.evaluations(s, c, actor, shown, now),
            "rounds": rounds["items"],
            "orgs": views.secretary_orgs(s, actor),
            "unwritten": views.pledge_subjects(s, actor, shown),
            "org_records": views.org_records(s, c, actor, shown, now),
            "site_labels": own_labels(demo_sites.LIFECYCLE),
            "labels": {st.code: st.label_zh for st in c.engines["pledge"].lifecycle.states},
        }
    return page(request, "branch.html", actor, now=now, **context)


@router.post("/pledges/approve")
def batch_approve(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """Approve every ticked pledge (a secretary's queue, or the supervisor's), each in its own transaction."""
    return _each(request, form, c, actor, now, APPROVE, "批准")


@router.post("/pledges/publish")
def batch_publish(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """公示 every ticked pledge with one channel and date, each in its own transaction."""
    cmd = parse(FireEvent, {"event": "publish", "data": filled(form, "channel", "published_on")})
    return _each(request, form, c, actor, now, cmd, "公开")


def _each(
    request: Request, form: CheckedForm, c: Container, actor: Actor, now: dt.datetime, cmd: FireEvent, verb: str
) -> Response:
    """`cmd` on each ticked pledge; refusals are listed by pledge, the others done."""
    ids = [int(str(v)) for v in form.getlist("pledge_id") if str(v).isdigit()]
    if not ids:
        raise Invalid("pledge_id", f"请先勾选要{verb}的承诺书")
    done, refused = 0, []
    for pledge_id in ids:
        try:
            with UnitOfWork(c.db) as uow:
                events.fire_event(uow, c.lifecycles, actor, pledges.LIFECYCLE, pledge_id, cmd, None, now)
            done += 1
        except (ServiceError, WorkflowError) as exc:
            refused.append(f"承诺书 {pledge_id}：{'；'.join(messages(exc))}")
    flash(request, text(form, "form"), f"已{verb} {done} 份承诺书", *refused, ok=not refused)
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/branch/records")
def create_record(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """Start the year's self-evaluation or appraisal round for one of the secretary's orgs."""
    values = filled(form, "year", "org_id")
    with UnitOfWork(c.db) as uow:
        if text(form, "what") == "self_evaluation":
            se.create(uow, c.lifecycles, actor, parse(CreateSelfEvaluation, values), now)
        else:
            appraisals.open_round(uow, c.lifecycles, actor, parse(CreateRound, values), now)
    flash(request, text(form, "form"), "已建立")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/rounds/{round_id}/events")
def round_event(
    request: Request, round_id: RecordId, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    cmd = parse(FireEvent, filled(form, "event"))
    with UnitOfWork(c.db) as uow:
        events.fire_event(uow, c.lifecycles, actor, appraisals.LIFECYCLE, round_id, cmd, None, now)
    flash(request, text(form, "form"), "评议状态已更新")
    return RedirectResponse(back_to(form), status_code=303)
