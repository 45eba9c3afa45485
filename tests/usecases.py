"""Calling the use cases directly, as the API and the pages do (typed commands, one unit of work each)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.access import Actor, admin_actor, user_actor
from services.container import Container
from services.persistence.uow import UnitOfWork
from services.usecases import campaigns, directory, events, pledges
from services.usecases.commands import CreateCampaign, CreateOrg, CreatePerson, CreatePledge, CreateUser, FireEvent


def do(c: Container, fn: Any, *args: Any) -> Any:
    with UnitOfWork(c.db) as uow:
        return fn(uow, *args)


def org(c: Container, name: str, kind: str = "branch", parent_id: int | None = None) -> Any:
    return do(
        c,
        directory.create_org,
        admin_actor(),
        CreateOrg.model_validate({"name": name, "kind": kind, "parent_id": parent_id}),
    )


def person(c: Container, name: str, org_id: int, status: str = "full") -> Any:
    cmd = CreatePerson.model_validate({"name": name, "org_id": org_id, "status": status})
    return do(c, directory.create_person, admin_actor(), cmd)


def user(c: Container, name: str, person_id: int | None, roles: list[dict[str, Any]], now: dt.datetime) -> Actor:
    cmd = CreateUser.model_validate({"name": name, "person_id": person_id, "roles": roles})
    created, _token = do(c, directory.create_user, admin_actor(), cmd, now)
    with UnitOfWork(c.db, write=False) as uow:
        found = user_actor(uow.session, created.id)
    assert found is not None
    return found


def campaign(c: Container, year: int, now: dt.datetime) -> Any:
    return do(
        c, campaigns.create_campaign, c.catalog, admin_actor(), CreateCampaign(year=year), now, c.settings.timezone
    )


def pledge(c: Container, actor: Actor, body: dict[str, Any], now: dt.datetime) -> int:
    return int(do(c, pledges.create, c.lifecycles, actor, CreatePledge.model_validate(body), now))


def fire(
    c: Container,
    actor: Actor,
    record_id: int,
    body: dict[str, Any],
    now: dt.datetime,
    if_match: int | None = None,
    lifecycle: str = "pledge",
) -> dict[str, Any]:
    cmd = FireEvent.model_validate(body)
    return dict(do(c, events.fire_event, c.lifecycles, actor, lifecycle, record_id, cmd, if_match, now))
