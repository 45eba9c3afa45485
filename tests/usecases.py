"""Calling the use cases directly, as the API and the pages do (typed commands, one unit of work each)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from services.access import Actor, admin_actor, user_actor
from services.container import Container
from services.persistence.uow import UnitOfWork
from services.usecases import campaigns, directory, events, pledges
from services.usecases.commands import CreateCampaign, CreateOrg, CreatePerson, CreatePledge, CreateUser, FireEvent


def do(c: Container, fn: Any, *args: Any) -> Any:
    with UnitOfWork(c.db) as uow:
        return fn(uow, *args)


def read(c: Container, fn: Any, *args: Any) -> Any:
    """A query in a read-only unit of work: `fn(session, *args)`."""
    with UnitOfWork(c.db, write=False) as uow:
        return fn(uow.session, *args)


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


def user(
    c: Container,
    name: str,
    person_id: int | None,
    roles: list[dict[str, Any]],
    now: dt.datetime,
    email: str | None = None,
) -> Actor:
    cmd = CreateUser.model_validate({"name": name, "person_id": person_id, "roles": roles, "email": email})
    created, _token = do(c, directory.create_user, admin_actor(), cmd, now)
    with UnitOfWork(c.db, write=False) as uow:
        found = user_actor(uow.session, created.id)
    assert found is not None
    return found


def campaign(c: Container, year: int, now: dt.datetime, deadlines: dict[str, str] | None = None) -> Any:
    calendar = {"deadlines": deadlines} if deadlines else None
    cmd = CreateCampaign.model_validate({"year": year, "calendar": calendar, "min_ballots": 1})  # a small roster
    return do(c, campaigns.create_campaign, c.catalog, admin_actor(), cmd, now, c.settings.timezone)


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


@dataclass
class Roster:
    """The small county of tests/county.py, made through the use cases: orgs, people and an actor per user."""

    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)


def roster(c: Container, now: dt.datetime, emails: dict[str, str] | None = None) -> Roster:
    """Two branches under a committee, their people, and one user per role (names as in tests/county.py)."""
    r, emails = Roster(), emails or {}
    r.orgs["committee"] = org(c, "县委教育工委", "committee").id
    for key, name in (("a", "延庆一中党支部"), ("b", "延庆二中党支部")):
        r.orgs[key] = org(c, name, "branch", r.orgs["committee"]).id
    for who, branch, status in (
        ("sec_a", "a", "full"),
        ("m1", "a", "full"),
        ("m2", "a", "probationary"),
        ("sec_b", "b", "full"),
        ("mb", "b", "full"),
    ):
        r.people[who] = person(c, f"{who}老师", r.orgs[branch], status).id
    grants: dict[str, list[dict[str, Any]]] = {
        "office": [{"role": "office"}],
        "supervisor": [{"role": "supervisor"}],
        "sec_a": [{"role": "secretary", "org_id": r.orgs["a"]}, {"role": "member"}],
        "sec_b": [{"role": "secretary", "org_id": r.orgs["b"]}, {"role": "member"}],
        "m1": [{"role": "member"}],
        "m2": [{"role": "member"}],
        "mb": [{"role": "member"}],
        "appraiser": [{"role": "appraiser", "org_id": r.orgs["a"]}],
    }
    for who, roles in grants.items():
        r.actors[who] = user(c, who, r.people.get(who), roles, now, emails.get(who))
    return r
