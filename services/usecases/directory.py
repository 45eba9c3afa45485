"""The county's directory: the org tree, people, users and their roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions.vocabulary import ORG_SCOPED_ROLES, OrgKind, PersonStatus, Role
from services.access import Actor, hash_token, new_token
from services.errors import Forbidden, Invalid, NotFound
from services.persistence.tables import Org, Person, RoleGrant, User, WebSession
from services.persistence.uow import UnitOfWork
from services.usecases.commands import CreateOrg, CreatePerson, CreateUser, Grant, UpdateUser


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


def set_public_page(uow: UnitOfWork, actor: Actor, org_id: int, public_page: bool) -> dict[str, Any]:
    """Switch the org's public 公示 page on or off (the office only); the org as the API shows it."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以开启或关闭公示页面")
    org = uow.session.get(Org, org_id)
    if org is None:
        raise NotFound(f"党组织 {org_id} 不存在")
    org.public_page = public_page
    uow.session.add(org)
    uow.commit()
    return org_view(org) | {"public_page": org.public_page}


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


def user_view(user: User, grants: list[RoleGrant]) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "person_id": user.person_id,
        "active": user.active,
        "roles": [{"role": g.role, "org_id": g.org_id} for g in grants],
    }


def list_users(session: Session, actor: Actor) -> list[dict[str, Any]]:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以查看用户")
    grants: dict[int, list[RoleGrant]] = {}
    for g in session.exec(select(RoleGrant).order_by(col(RoleGrant.id))).all():
        grants.setdefault(g.user_id, []).append(g)
    return [user_view(u, grants.get(u.id or 0, [])) for u in session.exec(select(User).order_by(col(User.id))).all()]


def update_user(uow: UnitOfWork, actor: Actor, user_id: int, cmd: UpdateUser) -> dict[str, Any]:
    """Enable or disable a user, or replace their roles: either ends their sessions at once."""
    user = _office_edits(uow.session, actor, user_id)
    if cmd.roles is not None:
        for n, grant in enumerate(cmd.roles):
            _check_grant(uow.session, n, grant, user.person_id)
        uow.session.execute(sa.delete(RoleGrant).where(col(RoleGrant.user_id) == user_id))
        uow.session.add_all(RoleGrant(user_id=user_id, role=g.role.value, org_id=g.org_id) for g in cmd.roles)
    if cmd.active is not None:
        user.active = cmd.active
    _credentials_changed(uow.session, user)
    uow.commit()
    grants = uow.session.exec(select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(col(RoleGrant.id)))
    return user_view(user, list(grants.all()))


def replace_token(uow: UnitOfWork, actor: Actor, user_id: int) -> str:
    """A new token for the user, shown once; the old one and every session stop working at once."""
    user = _office_edits(uow.session, actor, user_id)
    token = new_token()
    user.token_hash = hash_token(token)
    _credentials_changed(uow.session, user)
    uow.commit()
    return token


def _office_edits(session: Session, actor: Actor, user_id: int) -> User:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以管理用户")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    return user


def _credentials_changed(session: Session, user: User) -> None:
    """Callers cached under the old version are not found again (services.access.ActorCache), and the
    user's page sessions end."""
    user.credential_version += 1
    session.add(user)
    session.execute(sa.delete(WebSession).where(col(WebSession.user_id) == user.id))


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
