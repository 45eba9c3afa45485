"""Who the caller is, and which roles they hold on one record (owner, reviewer, secretary, …)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.persistence.tables import Org, Person, RoleGrant, User, WebSession


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class InOrgTree(Protocol):
    """An org as access reads it (an ORM `Org` or a plain row): its materialized path."""

    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    person_id: int | None = None
    grants: tuple[tuple[str, int | None], ...] = ()
    secretary_orgs: frozenset[int] = field(default=frozenset())
    appraiser_orgs: frozenset[int] = field(default=frozenset())
    org_path: str | None = None
    """The materialized path of the org the caller's person belongs to (a voter's subtree)."""

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

    def votes_in(self, org: InOrgTree) -> bool:
        """Voters of an org's appraisal round: members whose person belongs to its subtree
        (secretaries included), and appraisers scoped to it."""
        return self.appraiser_of(org) or (self.org_path is not None and self.org_path.startswith(org.path))


def org_ancestry(org: InOrgTree) -> frozenset[int]:
    return frozenset(int(part) for part in org.path.strip("/").split("/") if part)


def admin_actor() -> Actor:
    return Actor(user_id=None, name="系统管理员", grants=(("office", None),))


def actor(
    user_id: int | None,
    name: str,
    person_id: int | None,
    grants: Iterable[tuple[str, int | None]],
    org_path: str | None,
) -> Actor:
    """A caller with their role grants; `org_path` is their person's org."""
    pairs = tuple(grants)
    return Actor(
        user_id=user_id,
        name=name,
        person_id=person_id,
        grants=pairs,
        secretary_orgs=frozenset(o for r, o in pairs if r == "secretary" and o is not None),
        appraiser_orgs=frozenset(o for r, o in pairs if r == "appraiser" and o is not None),
        org_path=org_path,
    )


_CALLER = (
    sa.select(
        col(User.id), col(User.name), col(User.person_id), col(Org.path), col(RoleGrant.role), col(RoleGrant.org_id)
    )
    .outerjoin(RoleGrant, col(RoleGrant.user_id) == User.id)
    .outerjoin(Person, col(Person.id) == User.person_id)
    .outerjoin(Org, col(Org.id) == Person.org_id)
    .order_by(col(RoleGrant.id))
)
_BY_ID = _CALLER.where(col(User.id) == sa.bindparam("user_id"))
_CREDENTIAL = sa.select(col(User.id), col(User.credential_version)).where(col(User.active))
_BY_TOKEN = _CREDENTIAL.where(col(User.token_hash) == sa.bindparam("token_hash"))
_BY_SESSION = _CREDENTIAL.join(WebSession, col(WebSession.user_id) == User.id).where(
    col(WebSession.key_hash) == sa.bindparam("key_hash"),
    col(WebSession.credential_version) == User.credential_version,
    col(WebSession.expires_at) > sa.bindparam("now"),
)
Credential = tuple[int, int]
"""A user's id and credential version, as the caller's token or session names them."""


def by_token(session: Session, token_hash: str) -> Credential | None:
    """The active user holding the token with this hash."""
    row = session.connection().execute(_BY_TOKEN, {"token_hash": token_hash}).first()
    return (row[0] or 0, row[1]) if row else None


def by_session(session: Session, key_hash: str, now: dt.datetime) -> Credential | None:
    """The active user of an unexpired page session begun under their current credential version."""
    row = session.connection().execute(_BY_SESSION, {"key_hash": key_hash, "now": now}).first()
    return (row[0] or 0, row[1]) if row else None


def user_actor(session: Session, user_id: int) -> Actor | None:
    """The user with this id as a caller, with their role grants, in one query."""
    return _one(session.connection().execute(_BY_ID, {"user_id": user_id}).all())


def _one(rows: Sequence[Any]) -> Actor | None:
    if not rows:
        return None
    user_id, name, person_id, org_path = rows[0][:4]
    return actor(user_id, name, person_id, ((r[4], r[5]) for r in rows if r[4] is not None), org_path)


class ActorCache:
    """Callers by user id and credential version, so that a request reads one short row (by_token,
    by_session) rather than the user's grants and org again. Every change to a user moves the version,
    so an entry is never found after it, in any replica; `ttl` bounds only what is changed straight in
    the database. Bounded in size: the least recently used entry goes first."""

    def __init__(self, ttl: float = 30.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.size, self._clock = ttl, size, clock
        self._entries: OrderedDict[Credential, tuple[float, Actor]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Credential) -> Actor | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < self._clock():
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Credential, actor: Actor) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, actor)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def visible(actor: Actor, org_table: Any, person_column: Any = None, voters: bool = False) -> Any:
    """SQL: the records the actor may read (SPEC §4: who may create and read) — everything for the
    office and supervisors, the subtree for a secretary, their own where a record belongs to a
    person (`person_column`), and an appraisal round for its voters (`voters`). `can_read` is the
    same rule for one loaded record; tests/unit/test_access.py holds the two to each other."""
    if actor.reads_everything:
        return sa.true()
    scopes = [org_table.path.like(f"%/{org_id}/%") for org_id in sorted(actor.secretary_orgs)]
    if actor.person_id is not None and person_column is not None:
        scopes.append(person_column == actor.person_id)
    if voters:
        scopes += [org_table.path.like(f"%/{org_id}/%") for org_id in sorted(actor.appraiser_orgs)]
        if actor.org_path is not None:
            scopes.append(sa.literal(actor.org_path).startswith(org_table.path))
    return sa.or_(*scopes) if scopes else sa.false()


def can_read(actor: Actor, org_path: str, person_id: int | None = None, voters: bool = False) -> bool:
    """`visible`, for one record whose org has `org_path` (and which may belong to `person_id`)."""
    org = _Path(org_path)
    return (
        actor.reads_everything
        or actor.secretary_of(org)
        or (person_id is not None and actor.person_id == person_id)
        or (voters and actor.votes_in(org))
    )


@dataclass(frozen=True, slots=True)
class _Path:
    path: str


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


def reviewed_by_supervisor(person_id: int | None, subject_is_secretary: bool, on_behalf: bool) -> bool:
    """The level above reviews: an org pledge, a secretary's own pledge, and a member's pledge that a
    secretary submitted on the member's behalf (four eyes, SPEC §6) all go up to a supervisor."""
    return person_id is None or subject_is_secretary or on_behalf


def pledge_roles(
    actor: Actor,
    org: InOrgTree,
    person_id: int | None,
    submitted_by: int | None,
    on_behalf: bool,
    subject_is_secretary: bool,
) -> frozenset[str]:
    """The roles `actor` holds on a pledge (SPEC §2.1: owner, reviewer, secretary, office…)."""
    roles = set(staff_roles(actor, org))
    covers = "secretary" in roles
    own = person_id is not None and actor.person_id == person_id
    if own or covers:
        roles.add("owner")
    to_supervisor = reviewed_by_supervisor(person_id, subject_is_secretary, on_behalf)
    may_review = actor.is_supervisor if to_supervisor else covers
    if may_review and not own and actor.user_id != submitted_by:
        roles.add("reviewer")
    return frozenset(roles)


def staff_roles(actor: Actor, org: InOrgTree) -> frozenset[str]:
    """The roles an actor holds on an org's record: office and supervisor wherever, secretary over its subtree."""
    roles = {r for r, _ in actor.grants if r in ("office", "supervisor")}
    if actor.secretary_of(org):
        roles.add("secretary")
    return frozenset(roles)
