"""Who must act next on a record, as user ids: loaded once per sweep, then looked up in memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.access import reviewed_by_supervisor
from services.persistence.tables import Org, RoleGrant, User


@dataclass(frozen=True, slots=True)
class Subject:
    """What a notice needs to know about one record."""

    lifecycle: str
    id: int
    name: str
    org_id: int
    state: str
    person_id: int | None = None
    on_behalf: bool = False


@dataclass
class Directory:
    """Users by role and org, for one sweep: the staff, and the members of the records it has reached."""

    ancestry: dict[int, list[int]] = field(default_factory=dict)
    """org id → its ids from the root down to itself."""
    secretaries: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    supervisors: dict[int | None, set[int]] = field(default_factory=lambda: defaultdict(set))
    office: set[int] = field(default_factory=set)
    users_of_person: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    secretary_people: set[int] = field(default_factory=set)
    emails: dict[int, str] = field(default_factory=dict)
    people_known: set[int] = field(default_factory=set)
    """People whose accounts `add_people` has read."""
    _by_org: dict[tuple[str, int], frozenset[int]] = field(default_factory=dict)
    """Answers per org, worked out on first use: a sweep asks for the same few orgs thousands of times."""

    def branch_secretaries(self, org_id: int) -> frozenset[int]:
        """The secretaries of the nearest org, from the branch upwards, that has any."""
        if ("secretaries", org_id) not in self._by_org:
            found = (self.secretaries[a] for a in reversed(self.ancestry.get(org_id, [])) if self.secretaries.get(a))
            self._by_org[("secretaries", org_id)] = frozenset(next(found, ()))
        return self._by_org[("secretaries", org_id)]

    def supervisors_for(self, org_id: int) -> frozenset[int]:
        """Supervisors whose contact point covers the org, or all supervisors when none does."""
        if ("supervisors", org_id) not in self._by_org:
            covering = set().union(*(self.supervisors.get(a, set()) for a in self.ancestry.get(org_id, [])))
            self._by_org[("supervisors", org_id)] = frozenset(covering or set().union(*self.supervisors.values()))
        return self._by_org[("supervisors", org_id)]

    def actor(self, role: str | None, s: Subject) -> AbstractSet[int]:
        """Who must act next for a record in its current state (SPEC §2.1 'who must act next').

        Read-only: the sets may be the directory's own."""
        own: AbstractSet[int] = self.users_of_person.get(s.person_id, frozenset()) if s.person_id else frozenset()
        if role == "owner":
            return own or self.branch_secretaries(s.org_id)
        if role == "reviewer":
            to_supervisor = reviewed_by_supervisor(s.person_id, s.person_id in self.secretary_people, s.on_behalf)
            return self.supervisors_for(s.org_id) if to_supervisor else self.branch_secretaries(s.org_id) - own
        if role == "secretary":
            return self.branch_secretaries(s.org_id)
        if role == "supervisor":
            return self.supervisors_for(s.org_id)
        if role == "office":
            return self.office
        return frozenset()


STAFF_ROLES = ("secretary", "supervisor", "office")


def load_directory(session: Session) -> Directory:
    """Orgs and the staff (secretaries, supervisors, office) with their e-mail addresses; members'
    accounts are added per chunk by `add_people`, so a sweep's memory does not grow with them."""
    d = Directory()
    for org_id, path in session.exec(select(Org.id, Org.path)).all():
        d.ancestry[org_id or 0] = [int(p) for p in path.strip("/").split("/") if p]
    staff = (
        sa.select(
            col(RoleGrant.user_id), col(RoleGrant.role), col(RoleGrant.org_id), col(User.person_id), col(User.email)
        )
        .join(User)
        .where(col(RoleGrant.role).in_(STAFF_ROLES))
    )
    for user_id, role, org_id, person_id, email in session.execute(staff).all():
        if role == "secretary" and org_id is not None:
            d.secretaries[org_id].add(user_id)
            if person_id is not None:
                d.secretary_people.add(person_id)
        elif role == "supervisor":
            d.supervisors[org_id].add(user_id)
        elif role == "office":
            d.office.add(user_id)
        if email:
            d.emails[user_id] = email
    return d


def add_people(session: Session, d: Directory, person_ids: Iterable[int]) -> None:
    """The accounts (and e-mail addresses) of these people, unless already known."""
    wanted = sorted(set(person_ids) - d.people_known)
    for start in range(0, len(wanted), 5000):
        part = wanted[start : start + 5000]
        q = select(User.id, User.person_id, User.email).where(col(User.person_id).in_(part))
        for uid, person_id, email in session.exec(q).all():
            d.users_of_person[person_id or 0].add(uid or 0)
            if email:
                d.emails[uid or 0] = email
    d.people_known.update(wanted)
