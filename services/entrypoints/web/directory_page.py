"""党组织和人员 for the office: the org tree with each org's people, a new org and a new person — through the
API's own use cases and commands (services.usecases.directory), refused with the same messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from definitions.vocabulary import OrgKind, PersonStatus
from services.entrypoints.deps import ContainerDep
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.errors import Forbidden
from services.persistence.tables import Person
from services.persistence.uow import UnitOfWork
from services.usecases import directory
from services.usecases.commands import CreateOrg, CreatePerson
from services.usecases.fields import parse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PATH = "/office/orgs"


@router.get(PATH)
def orgs_page(request: Request, c: ContainerDep, actor: WebActor) -> Response:
    if not actor.is_office:
        raise Forbidden("党组织和人员只由创先争优活动办公室管理")
    with UnitOfWork(c.db, write=False) as uow:
        orgs = directory.list_orgs(uow.session)
        people: dict[int, list[Any]] = {}
        for p in uow.session.exec(select(Person).order_by(col(Person.org_id), col(Person.id))).all():
            people.setdefault(p.org_id, []).append(p)
    depth = {o.id: o.path.count("/") - 2 for o in orgs}
    return page(
        request,
        "orgs.html",
        actor,
        orgs=orgs,
        depth=depth,
        people=people,
        kinds=OrgKind.labels(),
        statuses=PersonStatus.labels(),
    )


@router.post(PATH)
def add_org(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor) -> Response:
    cmd = parse(CreateOrg, filled(form, "name", "kind", "parent_id"))
    with UnitOfWork(c.db) as uow:
        org = directory.create_org(uow, actor, cmd)
    flash(request, text(form, "form"), f"已建立党组织：{org.name}")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/office/people")
def add_person(request: Request, form: CheckedForm, c: ContainerDep, actor: WebActor) -> Response:
    cmd = parse(CreatePerson, filled(form, "name", "org_id", "status", "position"))
    with UnitOfWork(c.db) as uow:
        person = directory.create_person(uow, actor, cmd)
    flash(request, text(form, "form"), f"已登记人员：{person.name}")
    return RedirectResponse(back_to(form), status_code=303)
