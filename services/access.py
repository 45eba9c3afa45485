"""Who the caller is, and which roles they hold on one record (owner, reviewer, secretary, …)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.errors import NotFound
from services.persistence.tables import Org, RoleGrant, User

ROLE_LABELS = {
    "office": "创先争优活动办公室",
    "supervisor": "教育工委领导",
    "secretary": "支部书记",
    "member": "党员",
    "appraiser": "评议人",
    "owner": "承诺人",
    "reviewer": "审查人",
}
USER_ROLES = ("office", "supervisor", "secretary", "member", "appraiser")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class InOrgTree(Protocol):
    """An org as access reads it (an ORM `Org` or a plain row): its materialized path."""

    @property
    def path(self) -> str: ...


class PledgeSubject(Protocol):
    """What access reads of a pledge (an ORM `Pledge` or a plain row)."""

    @property
    def person_id(self) -> int | None: ...
    @property
    def submitted_by(self) -> int | None: ...
    @property
    def submitted_on_behalf(self) -> bool: ...


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    person_id: int | None = None
    grants: tuple[tuple[str, int | None], ...] = ()
    secretary_orgs: frozenset[int] = field(default=frozenset())
    appraiser_orgs: frozenset[int] = field(default=frozenset())

    def has(self, role: str) -> bool:
        return any(r == role for r, _ in self.grants)

    @property
    def is_office(self) -> bool:
        return self.has("office")

    @property
    def is_supervisor(self) -> bool:
        return self.has("supervisor")

    @property
    def reads_everything(self) -> bool:
        return self.is_office or self.is_supervisor

    def secretary_of(self, org: InOrgTree) -> bool:
        """A secretary's scope covers the org it was granted and that org's subtree."""
        return bool(self.secretary_orgs & org_ancestry(org))

    def appraiser_of(self, org: InOrgTree) -> bool:
        return bool(self.appraiser_orgs & org_ancestry(org))


def org_ancestry(org: InOrgTree) -> frozenset[int]:
    return frozenset(int(part) for part in org.path.strip("/").split("/") if part)


def admin_actor() -> Actor:
    return Actor(user_id=None, name="系统管理员", grants=(("office", None),))


def actor_for_user(session: Session, user: User) -> Actor:
    grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(col(RoleGrant.id))).all()
    return _actor(user, tuple((g.role, g.org_id) for g in grants))


_BY_TOKEN = (
    select(User, RoleGrant.role, RoleGrant.org_id)
    .outerjoin(RoleGrant, col(RoleGrant.user_id) == User.id)
    .where(col(User.token_hash) == sa.bindparam("token_hash"))
    .order_by(col(RoleGrant.id))
)


def authenticate(session: Session, token: str, admin_token: str | None) -> Actor | None:
    """The caller of a bearer token, with their role grants, in one query."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return admin_actor()
    rows = session.exec(_BY_TOKEN, params={"token_hash": hash_token(token)}).all()
    if not rows:
        return None
    return _actor(rows[0][0], tuple((role, org_id) for _, role, org_id in rows if role is not None))


def _actor(user: User, pairs: tuple[tuple[str, int | None], ...]) -> Actor:
    return Actor(
        user_id=user.id,
        name=user.name,
        person_id=user.person_id,
        grants=pairs,
        secretary_orgs=frozenset(o for r, o in pairs if r == "secretary" and o is not None),
        appraiser_orgs=frozenset(o for r, o in pairs if r == "appraiser" and o is not None),
    )


class ActorCache:
    """Callers by token hash, kept a short while so that a request need not read the user and
    their grants again. A user's name and grants are only ever written when the user is created
    (there is no edit or revoke), so an entry can only be stale by a grant added straight into the
    database; `ttl` bounds that. Bounded in size: the least recently used entry goes first."""

    def __init__(self, ttl: float = 30.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.size, self._clock = ttl, size, clock
        self._entries: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Actor | None:
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None or entry[0] < self._clock():
                self._entries.pop(token_hash, None)
                return None
            self._entries.move_to_end(token_hash)
            return entry[1]

    def put(self, token_hash: str, actor: Actor) -> None:
        with self._lock:
            self._entries[token_hash] = (self._clock() + self.ttl, actor)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def visible(actor: Actor, org_table: Any, person_column: Any = None) -> Any:
    """The SQL condition for records the actor may read (SPEC §4: who may create and read):
    everything for office and supervisors, the subtree for a secretary, and — where a record
    belongs to a person (`person_column`) — their own."""
    if actor.reads_everything:
        return sa.true()
    scopes = [org_table.path.like(f"%/{org_id}/%") for org_id in actor.secretary_orgs]
    if actor.person_id is not None and person_column is not None:
        scopes.append(person_column == actor.person_id)
    return sa.or_(*scopes) if scopes else sa.false()


def holds_secretary_role(person_id: Any) -> sa.Exists:
    """SQL: whether the person in `person_id` (a column) holds a secretary role, for a query's select list."""
    return sa.exists().where(
        col(RoleGrant.user_id) == User.id, col(RoleGrant.role) == "secretary", col(User.person_id) == person_id
    )


def secretary_people(session: Session, person_ids: list[int]) -> set[int]:
    """Which of these people hold a secretary role, in one query."""
    q = (
        select(User.person_id)
        .join(RoleGrant, col(RoleGrant.user_id) == User.id)
        .where(RoleGrant.role == "secretary", col(User.person_id).in_(person_ids))
    )
    return {pid for pid in session.exec(q).all() if pid is not None}


def pledge_roles(actor: Actor, pledge: PledgeSubject, org: InOrgTree, subject_is_secretary: bool) -> set[str]:
    """The roles `actor` holds on this pledge (SPEC §2.1: owner, reviewer, secretary, office…)."""
    roles = {r for r, _ in actor.grants if r in ("office", "supervisor")}
    covers = actor.secretary_of(org)
    own = pledge.person_id is not None and actor.person_id == pledge.person_id
    if covers:
        roles.add("secretary")
    if own or covers:
        roles.add("owner")
    # The level above reviews; a secretary's own pledge, an org pledge, and a member's pledge
    # that a secretary submitted on the member's behalf all go up to a supervisor.
    to_supervisor = pledge.person_id is None or subject_is_secretary or pledge.submitted_on_behalf
    may_review = actor.is_supervisor if to_supervisor else covers
    if may_review and not own and actor.user_id != pledge.submitted_by:
        roles.add("reviewer")
    return roles


def evaluation_roles(actor: Actor, org: Org) -> set[str]:
    roles = {r for r, _ in actor.grants if r in ("office", "supervisor")}
    if actor.secretary_of(org):
        roles.add("secretary")
    return roles


def can_read_pledge(actor: Actor, pledge: PledgeSubject, org: InOrgTree) -> bool:
    return (
        actor.reads_everything
        or actor.secretary_of(org)
        or (pledge.person_id is not None and actor.person_id == pledge.person_id)
    )


def load_org(session: Session, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound(f"党组织 {org_id} 不存在")
    return org
