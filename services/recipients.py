"""Who must act next on a record, as user ids: loaded once per sweep, then looked up in memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from sqlmodel import Session, select

from services.tables import Org, RoleGrant, User


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
    """Users by role and org, for one sweep. Small next to the records: a county has hundreds of orgs."""

    ancestry: dict[int, list[int]] = field(default_factory=dict)
    """org id → its ids from the root down to itself."""
    secretaries: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    supervisors: dict[int | None, set[int]] = field(default_factory=lambda: defaultdict(set))
    office: set[int] = field(default_factory=set)
    users_of_person: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    secretary_people: set[int] = field(default_factory=set)
    emails: dict[int, str] = field(default_factory=dict)
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
            to_supervisor = s.person_id is None or s.person_id in self.secretary_people or s.on_behalf
            return self.supervisors_for(s.org_id) if to_supervisor else self.branch_secretaries(s.org_id) - own
        if role == "secretary":
            return self.branch_secretaries(s.org_id)
        if role == "supervisor":
            return self.supervisors_for(s.org_id)
        if role == "office":
            return self.office
        return frozenset()


def load_directory(session: Session, person_ids: Iterable[int] = ()) -> Directory:
    d = Directory()
    for org_id, path in session.exec(select(Org.id, Org.path)).all():
        d.ancestry[org_id or 0] = [int(p) for p in path.strip("/").split("/") if p]
    grants = session.exec(select(RoleGrant.user_id, RoleGrant.role, RoleGrant.org_id, User.person_id).join(User)).all()
    for user_id, role, org_id, person_id in grants:
        if role == "secretary" and org_id is not None:
            d.secretaries[org_id].add(user_id)
            if person_id is not None:
                d.secretary_people.add(person_id)
        elif role == "supervisor":
            d.supervisors[org_id].add(user_id)
        elif role == "office":
            d.office.add(user_id)
    wanted = set(person_ids)
    for uid, person_id, email in session.exec(select(User.id, User.person_id, User.email)).all():
        if person_id is not None and (not wanted or person_id in wanted):
            d.users_of_person[person_id].add(uid or 0)
        if email:
            d.emails[uid or 0] = email
    return d
