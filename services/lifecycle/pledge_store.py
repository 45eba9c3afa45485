"""A pledge as one request reads and writes it: plain rows, not ORM objects. The pledge, its org,
its person and its campaign year come in one statement; a change goes out in one UPDATE that
also moves the version (the event path's cost is per statement, see BENCHMARKS.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.access import Actor, can_read_pledge, holds_secretary_role, pledge_roles
from services.errors import Conflict, NotFound
from services.lifecycle import calendar as campaigns
from services.persistence.tables import LeaderComment, Org, Person, Pledge, PledgeItem, ProgressRecord

PLEDGE = Pledge.__table__  # type: ignore[attr-defined]
WITHDRAWN = "withdrawn"
ITEM = PledgeItem.__table__  # type: ignore[attr-defined]
ORG = Org.__table__  # type: ignore[attr-defined]
PERSON = Person.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PledgeRow:
    """A pledge as one request reads it: plain values, not an ORM object; `write` stores a change."""

    id: int
    year: int
    subject_type: str
    org_id: int
    person_id: int | None
    state: str
    version: int
    submitted_by: int | None
    submitted_on_behalf: bool
    data: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: int
    name: str
    path: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str


def _columns(table: sa.Table, row: type) -> list[sa.Column[Any]]:
    return [table.c[f.name] for f in dataclasses.fields(row)]


@dataclass(frozen=True)
class Loaded:
    """A pledge with what access decisions need."""

    pledge: PledgeRow
    org: OrgRow
    person: PersonRow | None
    roles: set[str]
    subject_is_secretary: bool = False


_PLEDGE_COLUMNS = _columns(PLEDGE, PledgeRow)
_ORG_COLUMNS = _columns(ORG, OrgRow)
_PERSON_COLUMNS = _columns(PERSON, PersonRow)
_SUBJECT_IS_SECRETARY = holds_secretary_role(PLEDGE.c.person_id).label("subject_is_secretary")


def joined(*extra: Any) -> sa.Select[Any]:
    """A pledge's row with its org's and person's, as `rows_of` splits them."""
    return (
        sa.select(*extra, *_PLEDGE_COLUMNS, *_ORG_COLUMNS, *_PERSON_COLUMNS)
        .join_from(PLEDGE, Org, col(Org.id) == PLEDGE.c.org_id)
        .outerjoin(Person, col(Person.id) == PLEDGE.c.person_id)
    )


def rows_of(values: Sequence[Any]) -> tuple[PledgeRow, OrgRow, PersonRow | None]:
    """Split a `joined` row (after its extra columns) into the pledge, its org and its person."""
    p, o = len(_PLEDGE_COLUMNS), len(_PLEDGE_COLUMNS) + len(_ORG_COLUMNS)
    person = PersonRow(*values[o:]) if values[o] is not None else None
    return PledgeRow(*values[:p]), OrgRow(*values[p:o]), person


_LOAD = (
    joined(*campaigns.YEAR_COLUMNS, _SUBJECT_IS_SECRETARY)
    .join(campaigns.CAMPAIGN, campaigns.CAMPAIGN.c.year == PLEDGE.c.year)
    .where(PLEDGE.c.id == sa.bindparam("pledge_id"))
)
_ITEMS = sa.select(ITEM).where(ITEM.c.pledge_id == sa.bindparam("pledge_id")).order_by(ITEM.c.position)
_WRITE = (
    sa.update(PLEDGE)
    .where(PLEDGE.c.id == sa.bindparam("pledge_id"), PLEDGE.c.version == sa.bindparam("read_version"))
    .values(version=PLEDGE.c.version + 1)
)
_SET_OUTCOME = (
    sa.update(ITEM)
    .where(ITEM.c.id == sa.bindparam("item_id"))
    .values(outcome=sa.bindparam("outcome"), explanation=sa.bindparam("explanation"))
)


def load(session: Session, actor: Actor, pledge_id: int) -> Loaded:
    """The pledge, its org, its person, its year's campaign and whether that person is a
    secretary: one query."""
    found = session.connection().execute(_LOAD, {"pledge_id": pledge_id}).first()
    if found is None:
        raise NotFound(f"承诺书 {pledge_id} 不存在")
    n = len(campaigns.YEAR_COLUMNS)
    campaign, subject_is_secretary = campaigns.Year(*found[:n]), bool(found[n])
    pledge, org, person = rows_of(found[n + 1 :])
    if not can_read_pledge(actor, pledge, org):
        raise NotFound(f"承诺书 {pledge_id} 不存在")
    campaigns.remember(session, campaign)
    roles = pledge_roles(actor, pledge, org, subject_is_secretary)
    return Loaded(pledge, org, person, roles, subject_is_secretary)


def items_of(session: Session, pledge_id: int) -> list[sa.Row[Any]]:
    """The pledge's items in order, as plain rows (`_replace_items` edits them as ORM objects)."""
    return list(session.connection().execute(_ITEMS, {"pledge_id": pledge_id}))


def write(session: Session, pledge: PledgeRow, **changes: Any) -> PledgeRow:
    """Store `changes` in one UPDATE that also moves the version; a pledge changed by someone else
    since it was read is a Conflict, and the caller's transaction is rolled back with nothing kept."""
    params = {"pledge_id": pledge.id, "read_version": pledge.version, **changes}
    if session.connection().execute(_WRITE, params).rowcount != 1:
        raise Conflict("记录已被他人同时修改，请刷新后重试")
    return dataclasses.replace(pledge, version=pledge.version + 1, **changes)


def _counter(table: Any) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(table).where(table.pledge_id == sa.bindparam("pledge_id"))


COUNT_PROGRESS, COUNT_COMMENTS = _counter(ProgressRecord), _counter(LeaderComment)


def count(session: Session, counter: sa.Select[Any], pledge_id: int) -> int:
    """`counter` is COUNT_PROGRESS or COUNT_COMMENTS: how many the pledge has (guards ask)."""
    found: int = session.connection().execute(counter, {"pledge_id": pledge_id}).scalar_one()
    return found


def set_outcomes(session: Session, outcomes: list[dict[str, Any]]) -> None:
    """How each item was kept, as `appraise` records it: `item_id`, `outcome`, `explanation`."""
    if outcomes:
        session.connection().execute(_SET_OUTCOME, outcomes)


# --- a new pledge ----------------------------------------------------------------------------------------------

_PERSON_AND_ORG = (
    sa.select(*_ORG_COLUMNS)
    .join_from(PERSON, ORG, ORG.c.id == PERSON.c.org_id)
    .where(PERSON.c.id == sa.bindparam("id"))
)
_ORG = sa.select(*_ORG_COLUMNS).where(ORG.c.id == sa.bindparam("id"))
_LIVE = sa.select(PLEDGE.c.id).where(
    PLEDGE.c.year == sa.bindparam("year"),
    PLEDGE.c.subject_key == sa.bindparam("subject_key"),
    PLEDGE.c.state != WITHDRAWN,
)
_INSERT = sa.insert(PLEDGE).returning(PLEDGE.c.id)
_INSERT_ITEMS = sa.insert(ITEM)


def org_of_person(session: Session, person_id: int) -> OrgRow | None:
    """The org a person belongs to, or None when there is no such person."""
    found = session.connection().execute(_PERSON_AND_ORG, {"id": person_id}).first()
    return OrgRow(*found) if found else None


def org_row(session: Session, org_id: int) -> OrgRow | None:
    found = session.connection().execute(_ORG, {"id": org_id}).first()
    return OrgRow(*found) if found else None


def has_live_pledge(session: Session, year: int, subject_key: str) -> bool:
    """Whether the subject already has a pledge for the year that was not withdrawn."""
    return session.connection().execute(_LIVE, {"year": year, "subject_key": subject_key}).first() is not None


def insert(session: Session, values: dict[str, Any], items: list[dict[str, Any]]) -> int:
    """A new pledge at version 1 with its items in order; its id. A second live pledge for the same
    subject and year, written at the same moment, fails here on the unique index (a Conflict)."""
    pledge_id: int = session.connection().execute(_INSERT, {"version": 1, "data": {}, **values}).scalar_one()
    rows = [
        {
            "pledge_id": pledge_id,
            "position": n,
            "content": i["content"],
            "measure": i.get("measure"),
            "due_date": i.get("due_date"),
        }
        for n, i in enumerate(items, start=1)
    ]
    if rows:
        session.connection().execute(_INSERT_ITEMS, rows)
    return pledge_id
