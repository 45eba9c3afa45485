"""The one store of lifecycle records (pledge, self-evaluation, appraisal round, demo site,
rectification), on SQLAlchemy Core for every lifecycle.

A record is read with what access, roles and guards need — its org, its campaign year, and for a
record that belongs to a person that person and whether they are a secretary — in one statement,
and written in one versioned UPDATE (`… WHERE id = :id AND version = :v`; no row: a Conflict).
What differs per lifecycle is its `Kind`, declared beside its use cases (services/usecases/).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from services.access import Actor, can_read, holds_secretary_role, staff_roles
from services.errors import Conflict, NotFound
from services.lifecycle.calendar import CAMPAIGN, YEAR_COLUMNS, Year, remember
from services.lifecycle.history import head_of
from services.persistence.tables import Org, Person

ORG: sa.Table = Org.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = Person.__table__  # type: ignore[attr-defined]
COMMON = ("id", "year", "org_id", "state", "version", "data", "created_at", "updated_at")
"""The columns every record table has."""


@dataclass(frozen=True, slots=True)
class Record:
    """A stored record as one request reads it: plain values, not an ORM object."""

    lifecycle: str
    id: int
    year: int
    org_id: int
    state: str
    version: int
    data: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    own: dict[str, Any]
    """The kind's own columns (a pledge's person_id, a rectification's due_date, …)."""


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: int
    name: str
    path: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str


@dataclass(frozen=True)
class Loaded:
    """A record with its org, campaign year and (for a person's record) person, and the roles the
    caller holds on it."""

    record: Record
    org: OrgRow
    campaign: Year
    roles: frozenset[str]
    person: PersonRow | None = None
    subject_is_secretary: bool = False
    history_head: tuple[int, str | None] | None = None
    """The record's last history row (seq, hash) as the load read it: where the next row chains on."""

    def moved_to(self, record: Record, kind: Kind, actor: Actor) -> Loaded:
        """The same record after a write, with the caller's roles on it again (a submit changes who reviews)."""
        moved = dataclasses.replace(self, record=record)
        return dataclasses.replace(moved, roles=kind.roles(actor, moved))


def _staff(actor: Actor, loaded: Loaded) -> frozenset[str]:
    return staff_roles(actor, loaded.org)


@dataclass(frozen=True, eq=False)
class Kind:
    """What one lifecycle's records are and how its events behave; the rest is the one event path.
    `on` and the lifecycle's payload models are checked against its definition at start-up."""

    lifecycle: str
    label_zh: str
    table: sa.Table
    own: tuple[str, ...] = ()
    person: bool = False
    """Records may belong to a person (pledges): the load reads the person and whether they are a secretary."""
    voters_read: bool = False
    """The voters of the org's subtree may read it too (appraisal rounds)."""
    roles: Callable[[Actor, Loaded], frozenset[str]] = _staff
    facts: Callable[[Session, Loaded, Any], Mapping[str, Any]] = lambda session, loaded, lifecycles: {}
    """What the guards may read about a record (lazily: see lifecycle.fire.Facts)."""
    on: Mapping[str, Callable[[Any], dict[str, Any]]] = field(default_factory=dict)
    """event → what its data records: related rows written in the transaction, the record's changed columns returned."""
    views: Callable[..., list[dict[str, Any]]] | None = None
    tells: Mapping[str, str] = field(default_factory=dict)
    """event → who is told that it happened (`owner`, `secretary`, `voters`), by an event notice."""
    """The API's view of a page of records, in a fixed number of queries."""

    @cached_property
    def _columns(self) -> list[sa.Column[Any]]:
        return [self.table.c[name] for name in (*COMMON, *self.own)]

    @cached_property
    def _select(self) -> sa.Select[Any]:
        t = self.table
        extra: list[Any] = []
        q = sa.select(*self._columns, ORG.c.id, ORG.c.name, ORG.c.path, *YEAR_COLUMNS, *head_of(self.lifecycle, t.c.id))
        if self.person:
            extra = [PERSON.c.id, PERSON.c.name, holds_secretary_role(t.c.person_id)]
            q = q.add_columns(*extra)
        q = q.join_from(t, ORG, ORG.c.id == t.c.org_id).join(CAMPAIGN, CAMPAIGN.c.year == t.c.year)
        return q.outerjoin(PERSON, PERSON.c.id == t.c.person_id) if self.person else q

    @cached_property
    def load_one(self) -> sa.Select[Any]:
        return self._select.where(self.table.c.id == sa.bindparam("record_id"))

    @cached_property
    def load_page(self) -> sa.Select[Any]:
        ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
        return self._select.where(self.table.c.id.in_(ids)).order_by(self.table.c.id)

    @cached_property
    def write(self) -> sa.Update:
        t = self.table
        return (
            sa.update(t)
            .where(t.c.id == sa.bindparam("record_id"), t.c.version == sa.bindparam("read_version"))
            .values(version=t.c.version + 1)
        )

    @cached_property
    def insert(self) -> sa.Insert:
        return sa.insert(self.table).returning(self.table.c.id)

    def split(self, row: Sequence[Any], actor: Actor) -> Loaded:
        """One row of `load_one`/`load_page` as a Loaded record, with the caller's roles."""
        n, o = len(COMMON), len(COMMON) + len(self.own)
        record = Record(
            lifecycle=self.lifecycle,
            **dict(zip(COMMON, row[:n], strict=True)),
            own=dict(zip(self.own, row[n:o], strict=True)),
        )
        org, y = OrgRow(*row[o : o + 3]), o + 3
        h = y + len(YEAR_COLUMNS)
        campaign, head = Year(*row[y:h]), (row[h] or 0, row[h + 1])
        person, is_secretary = None, False
        if self.person:
            p = h + 2
            person = PersonRow(row[p], row[p + 1]) if row[p] is not None else None
            is_secretary = bool(row[p + 2])
        loaded = Loaded(record, org, campaign, frozenset(), person, is_secretary, head)
        return dataclasses.replace(loaded, roles=self.roles(actor, loaded))

    def readable(self, actor: Actor, loaded: Loaded) -> bool:
        person_id = loaded.record.own.get("person_id") if self.person else None
        return can_read(actor, loaded.org.path, person_id, voters=self.voters_read)


def load(session: Session, kind: Kind, actor: Actor, record_id: int) -> Loaded:
    """The record and what deciding on it needs, in one statement; 404 when it is missing or the
    caller may not read it (SPEC §4: the two are not told apart)."""
    row = session.connection().execute(kind.load_one, {"record_id": record_id}).first()
    loaded = kind.split(row, actor) if row is not None else None
    if loaded is None or not kind.readable(actor, loaded):
        raise NotFound(f"{kind.label_zh} {record_id} 不存在")
    remember(session, loaded.campaign)
    return loaded


def load_page(session: Session, kind: Kind, actor: Actor, ids: Sequence[int]) -> list[Loaded]:
    """Records already known to be readable (a listing's page), in id order, in one statement."""
    if not ids:
        return []
    return [kind.split(row, actor) for row in session.connection().execute(kind.load_page, {"ids": list(ids)})]


def write(session: Session, kind: Kind, record: Record, **changes: Any) -> Record:
    """Store `changes` in one UPDATE that also moves the version. A record changed by someone else
    since it was read is a Conflict, and the caller's transaction is rolled back with nothing kept."""
    params = {"record_id": record.id, "read_version": record.version, **changes}
    if session.connection().execute(kind.write, params).rowcount != 1:
        raise Conflict("记录已被他人同时修改，请刷新后重试")
    common = {k: v for k, v in changes.items() if k in COMMON}
    own = {k: v for k, v in changes.items() if k not in COMMON}
    return dataclasses.replace(record, version=record.version + 1, **common, own={**record.own, **own})


def insert(session: Session, kind: Kind, values: dict[str, Any]) -> int:
    """A new record at version 1; its id."""
    record_id: int = session.connection().execute(kind.insert, {"version": 1, "data": {}, **values}).scalar_one()
    return record_id
