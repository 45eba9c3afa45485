"""The county's directory: the org tree, people, users and their roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from definitions.vocabulary import ORG_SCOPED_ROLES, OrgKind, PersonStatus, Role
from services.access import Actor, hash_token, new_token
from services.errors import Forbidden, Invalid
from services.persistence.tables import Org, Person, RoleGrant, User
from services.persistence.uow import UnitOfWork
from services.usecases.commands import CreateOrg, CreatePerson, CreateUser, Grant


def create_org(uow: UnitOfWork, actor: Actor, cmd: CreateOrg) -> Org:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以建立党组织")
    s, parent_id = uow.session, cmd.parent_id
    parent = s.get(Org, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise Invalid("parent_id", f"上级党组织 {parent_id} 不存在")
    org = Org(name=cmd.name, kind=cmd.kind.value, parent_id=parent_id)
    s.add(org)
    s.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    s.add(org)
    uow.commit()
    return org


def org_view(org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind,
        "kind_label": OrgKind.of(org.kind).label_zh,
        "parent_id": org.parent_id,
    }


def list_orgs(session: Session) -> list[Org]:
    return list(session.exec(select(Org).order_by(Org.path)).all())


def create_person(uow: UnitOfWork, actor: Actor, cmd: CreatePerson) -> Person:
    s = uow.session
    org = s.get(Org, cmd.org_id)
    if org is None:
        raise Invalid("org_id", f"党组织 {cmd.org_id} 不存在")
    if not (actor.is_office or actor.secretary_of(org)):
        raise Forbidden("只有活动办公室或本组织的支部书记可以登记人员")
    person = Person(**cmd.model_dump(mode="json"))
    s.add(person)
    uow.commit()
    return person


def person_view(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "org_id": p.org_id,
        "status": p.status,
        "status_label": PersonStatus.of(p.status).label_zh,
        "position": p.position,
    }


def create_user(uow: UnitOfWork, actor: Actor, cmd: CreateUser, now: dt.datetime) -> tuple[User, str]:
    """Create a user and return it with its token, which is shown once and stored hashed."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以建立用户")
    s = uow.session
    if cmd.person_id is not None and s.get(Person, cmd.person_id) is None:
        raise Invalid("person_id", f"人员 {cmd.person_id} 不存在")
    for n, grant in enumerate(cmd.roles):
        _check_grant(s, n, grant, cmd.person_id)
    token = new_token()
    user = User(name=cmd.name, person_id=cmd.person_id, token_hash=hash_token(token), email=cmd.email, created_at=now)
    s.add(user)
    s.flush()
    for grant in cmd.roles:
        s.add(RoleGrant(user_id=user.id or 0, role=grant.role.value, org_id=grant.org_id))
    uow.commit()
    return user, token


def _check_grant(session: Session, n: int, grant: Grant, person_id: int | None) -> None:
    if grant.role in ORG_SCOPED_ROLES and grant.org_id is None:
        raise Invalid(f"roles[{n}].org_id", f"{grant.role.label_zh}须指定所属党组织")
    if grant.org_id is not None and session.get(Org, grant.org_id) is None:
        raise Invalid(f"roles[{n}].org_id", f"党组织 {grant.org_id} 不存在")
    if grant.role == Role.member and person_id is None:
        raise Invalid(f"roles[{n}].role", "党员角色须关联人员")


def me_view(session: Session, actor: Actor) -> dict[str, Any]:
    person = session.get(Person, actor.person_id) if actor.person_id else None
    return {
        "id": actor.user_id,
        "name": actor.name,
        "person": person_view(person) if person else None,
        "roles": [{"role": r, "org_id": o} for r, o in actor.grants],
    }
