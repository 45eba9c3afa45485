"""The county's directory: the org tree, people, users and their roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from services.access import USER_ROLES, Actor, actor_for_user, hash_token, new_token
from services.errors import Forbidden, Invalid
from services.persistence.tables import Org, Person, RoleGrant, User
from services.persistence.uow import UnitOfWork

ORG_KINDS = {"committee": "教育工委", "general_branch": "党总支/机关党委", "branch": "党支部"}
PERSON_STATUSES = {"full": "正式党员", "probationary": "预备党员", "activist": "入党积极分子", "non_member": "群众"}
ORG_SCOPED = {"secretary", "appraiser"}


def create_org(uow: UnitOfWork, actor: Actor, name: str, kind: str, parent_id: int | None) -> Org:
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以建立党组织")
    s = uow.session
    parent = s.get(Org, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise Invalid("parent_id", f"上级党组织 {parent_id} 不存在")
    org = Org(name=name, kind=kind, parent_id=parent_id)
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
        "kind_label": ORG_KINDS[org.kind],
        "parent_id": org.parent_id,
    }


def list_orgs(session: Session) -> list[Org]:
    return list(session.exec(select(Org).order_by(Org.path)).all())


def create_person(uow: UnitOfWork, actor: Actor, body: dict[str, Any]) -> Person:
    s = uow.session
    org = s.get(Org, body["org_id"])
    if org is None:
        raise Invalid("org_id", f"党组织 {body['org_id']} 不存在")
    if not (actor.is_office or actor.secretary_of(org)):
        raise Forbidden("只有活动办公室或本组织的支部书记可以登记人员")
    person = Person(**body)
    s.add(person)
    uow.commit()
    return person


def person_view(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "org_id": p.org_id,
        "status": p.status,
        "status_label": PERSON_STATUSES[p.status],
        "position": p.position,
    }


def create_user(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    person_id: int | None,
    roles: list[dict[str, Any]],
    now: dt.datetime,
    email: str | None = None,
) -> tuple[User, str]:
    """Create a user and return it with its token, which is shown once and stored hashed."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以建立用户")
    s = uow.session
    if person_id is not None and s.get(Person, person_id) is None:
        raise Invalid("person_id", f"人员 {person_id} 不存在")
    for n, grant in enumerate(roles):
        _check_grant(s, n, grant, person_id)
    token = new_token()
    user = User(name=name, person_id=person_id, token_hash=hash_token(token), email=email, created_at=now)
    s.add(user)
    s.flush()
    for grant in roles:
        s.add(RoleGrant(user_id=user.id or 0, role=grant["role"], org_id=grant.get("org_id")))
    uow.commit()
    return user, token


def _check_grant(session: Session, n: int, grant: dict[str, Any], person_id: int | None) -> None:
    role, org_id = grant["role"], grant.get("org_id")
    if role not in USER_ROLES:
        raise Invalid(f"roles[{n}].role", f"未知角色 {role}，应为：{'、'.join(USER_ROLES)}")
    if role in ORG_SCOPED and org_id is None:
        raise Invalid(f"roles[{n}].org_id", f"角色 {role} 须指定所属党组织（org_id）")
    if org_id is not None and session.get(Org, org_id) is None:
        raise Invalid(f"roles[{n}].org_id", f"党组织 {org_id} 不存在")
    if role == "member" and person_id is None:
        raise Invalid(f"roles[{n}].role", "党员角色须关联人员（person_id）")


def me_view(session: Session, actor: Actor) -> dict[str, Any]:
    person = session.get(Person, actor.person_id) if actor.person_id else None
    return {
        "id": actor.user_id,
        "name": actor.name,
        "person": person_view(person) if person else None,
        "roles": [{"role": r, "org_id": o} for r, o in actor.grants],
    }


def user_actor(session: Session, user_id: int) -> Actor:
    user = session.get(User, user_id)
    if user is None:
        raise Invalid("user_id", f"用户 {user_id} 不存在")
    return actor_for_user(session, user)
