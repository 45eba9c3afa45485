"""教育工委 and 创先争优办公室 pages: reviews, contact points, scoring; the county dashboard, exports and
the campaign set-up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session, col, select

from notifications.tables import Notice
from services.access import Actor
from services.container import Container
from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web import views
from services.entrypoints.web.charts import stage_chart
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.errors import Forbidden
from services.persistence.tables import Campaign, Deadline, Pledge
from services.persistence.uow import UnitOfWork
from services.queries import contact_points, reports
from services.usecases import campaigns, rectifications
from services.usecases.campaigns import get_campaign
from services.usecases.commands import CreateCampaign
from services.usecases.fields import parse
from services.usecases.org_kinds import own_labels
from services.usecases.sheets import XLSX

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Year = Annotated[int | None, Query(ge=2000, le=2100)]


@router.get("/supervisor")
def supervisor(request: Request, c: ContainerDep, actor: WebActor, now: Now, year: Year = None) -> Response:
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session
        shown = views.current_year(s, now, year)
        listed = views.branch_pledges(s, c, actor, shown, now)
        points = contact_points.contact_points(s, c.engines["pledge"], actor, shown, now)
        context: dict[str, Any] = {
            "year": shown,
            "review": [p for p in listed if {"approve", "appraise"} & set(p["allowed_events"])],
            "batchable": any("approve" in p["allowed_events"] for p in listed),
            "overdue": [p for p in listed if p["overdue"]],
            "points": points,
            "evaluations": views.evaluations(s, c, actor, shown, now),
        }
    return page(request, "supervisor.html", actor, now=now, **context)


def notices_per_org(session: Session, year: int) -> dict[int, int]:
    """Notices sent about pledges of the year, per org (one notice, however many recipients)."""
    q = (
        select(Pledge.org_id, sa.func.count(col(Notice.id)))
        .join(Pledge, sa.and_(col(Notice.subject_type) == "pledge", col(Notice.subject_id) == Pledge.id))
        .where(Pledge.year == year)
        .group_by(col(Pledge.org_id))
    )
    return {org_id: n for org_id, n in session.exec(q).all()}


def calendar(session: Session, c: Container, year: int) -> list[dict[str, Any]]:
    """The campaign's deadlines, with how many records met, missed or still owe each."""
    campaign = get_campaign(session, year)
    q = (
        select(Deadline.name, Deadline.status, sa.func.count())
        .where(Deadline.year == year)
        .group_by(col(Deadline.name), col(Deadline.status))
    )
    counts: dict[str, dict[str, int]] = {}
    for name, status, n in session.exec(q).all():
        counts.setdefault(name, {})[status] = n
    labels = views.deadline_labels(c)
    rows = [
        {
            "name": name,
            "label": labels.get(name, name),
            "due_at": dt.datetime.fromisoformat(due),
            "counts": counts.get(name, {}),
        }
        for name, due in campaign.deadlines.items()
    ]
    return sorted(rows, key=lambda r: r["due_at"])


def _office_only(actor: Actor) -> None:
    if not actor.reads_everything:
        raise Forbidden("县级看板只对创先争优活动办公室和教育工委领导开放")


@router.get("/office")
def office(request: Request, c: ContainerDep, actor: WebActor, now: Now, year: Year = None) -> Response:
    _office_only(actor)
    labels = {st.code: st.label_zh for st in c.engines["pledge"].lifecycle.states}
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session
        shown = views.current_year(s, now, year)
        if s.exec(select(Campaign.id).where(Campaign.year == shown)).first() is None:
            return page(request, "office.html", actor, now=now, year=shown, report=None, labels=labels)
        report = reports.progress(s, c.report_sources(), actor, shown, now)
        rows = [r for r in report["orgs"] if r["kind"] == "branch"]
        context: dict[str, Any] = {
            "year": shown,
            "report": report,
            "rows": rows,
            "labels": labels,
            "chart": Markup(stage_chart(rows, labels)),
            "calendar": calendar(s, c, shown),
            "notices": notices_per_org(s, shown),
            "public_pages": views.public_switches(s),
            "org_records": views.org_records(s, c, actor, shown, now),
            "rectification_labels": own_labels(rectifications.LIFECYCLE),
        }
    return page(request, "office.html", actor, now=now, **context)


@router.get("/office/export/{year}/{fmt}")
def export(
    c: ContainerDep, actor: WebActor, now: Now, year: Annotated[int, Path(ge=2000, le=2100)], fmt: str
) -> Response:
    """The progress report as a file, for the signed-in person (the API wants a bearer token)."""
    if fmt not in ("xlsx", "csv"):
        raise Forbidden("只能导出 xlsx 或 csv")
    src = c.report_sources()
    with UnitOfWork(c.db, write=False) as uow:
        report = reports.progress(uow.session, src, actor, year, now)
    body, media = (reports.to_xlsx(report, src), XLSX) if fmt == "xlsx" else (reports.to_csv(report, src), reports.CSV)
    disposition = reports.content_disposition(reports.filename(year, fmt))
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.post("/office/campaigns")
def create_campaign(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """A campaign year with the default calendar, or with the dates given on the form."""
    overrides = {name: text(form, f"dl_{name}") for name in views.deadline_labels(c) if text(form, f"dl_{name}")}
    calendar = ({"deadlines": overrides} if overrides else {}) | filled(form, "policy")
    cmd = parse(CreateCampaign, {**filled(form, "year"), "calendar": calendar or None})
    with UnitOfWork(c.db) as uow:
        campaigns.create_campaign(uow, c.catalog, actor, cmd, now, c.settings.timezone)
    flash(request, "campaign", "活动年度已建立")
    return RedirectResponse(back_to(form), status_code=303)
