"""The roster import (SPEC §7.2): the office's workbook of orgs and people, checked whole and written
all or nothing, found again by each row's code (编码), so importing the same file twice changes nothing
and a changed row updates what it names. A person with roles gets a user, whose token is on the login
cards returned once. Written with Core statements in bulk: a district (653 orgs, 23,625 people) is one
transaction of a few statements per thousand rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from definitions.vocabulary import ORG_SCOPED_ROLES, Role
from services.access import Actor, hash_token, new_token
from services.errors import Forbidden, Invalid
from services.persistence.tables import Org, Person, RoleGrant, User, WebSession
from services.persistence.uow import UnitOfWork
from services.usecases import roster_book
from services.usecases.fields import message_of
from services.usecases.roster_book import ORGS, PEOPLE, Card, RosterOrg, RosterPerson, Row

ORG: sa.Table = Org.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = Person.__table__  # type: ignore[attr-defined]
USER: sa.Table = User.__table__  # type: ignore[attr-defined]
GRANT: sa.Table = RoleGrant.__table__  # type: ignore[attr-defined]
WEB_SESSION: sa.Table = WebSession.__table__  # type: ignore[attr-defined]
ERRORS_SHOWN = 200
"""A file with more refused cells lists the first ones and says how many more there are."""
CHUNK = 1000
Progress = Callable[[int, int], None]
"""Told how many more rows were checked or written, and of how many steps in all (each row is checked,
then written)."""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Outcome:
    dry_run: bool
    orgs: Counts = field(default_factory=Counts)
    people: Counts = field(default_factory=Counts)
    users: Counts = field(default_factory=Counts)
    cards: list[Card] = field(default_factory=list)


class RosterRefused(Invalid):
    """The whole file is refused: every refused cell with its sheet, row and column."""

    def __init__(self, errors: list[dict[str, Any]]):
        shown = errors[:ERRORS_SHOWN]
        detail = f"导入失败，共 {len(errors)} 处错误，未写入任何数据：" + "；".join(
            f"「{e['sheet']}」第{e['row']}行{e['column']}列：{e['message']}" for e in shown[:5]
        )
        if len(errors) > 5:
            detail += " 等"
        super().__init__(shown[0]["field"], detail, shown)


def rows_of(data: bytes) -> list[Row]:
    """The file's filled rows (a file that cannot be read is refused as a whole)."""
    try:
        return list(roster_book.read(data))
    except Invalid as exc:
        sheet = next((s for s in roster_book.SHEETS if exc.field.startswith(s.code)), None)
        refusal = {"sheet": sheet.name if sheet else None, "row": 1 if sheet else None, "column": None}
        raise RosterRefused([{"field": exc.field, **refusal, "message": exc.detail}]) from None


def import_roster(
    uow: UnitOfWork,
    actor: Actor,
    data: bytes,
    now: dt.datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Check every row, then write them all in the unit of work and commit — or, for a dry run, count
    what would change and write nothing."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以导入名册")
    rows = rows_of(data)
    steps = 2 * len(rows)

    def tell(n: int) -> None:
        if progress is not None:
            progress(n, steps)

    errors: list[dict[str, Any]] = []
    orgs = _parse(rows, ORGS.name, RosterOrg, errors)
    people = _parse(rows, PEOPLE.name, RosterPerson, errors)
    tell(len(rows))
    conn = uow.session.connection()
    known = {r.code: r for r in conn.execute(sa.select(ORG).where(ORG.c.code.is_not(None))).mappings()}
    _check_orgs(orgs, known, errors)
    _check_people([r for r in rows if r.sheet is PEOPLE], set(known) | {o.code for _, o in orgs}, errors)
    if errors:
        raise RosterRefused(errors)
    outcome = Outcome(dry_run)
    ids = _write_orgs(conn, orgs, known, outcome.orgs)
    tell(len(orgs))
    person_ids = _write_people(conn, people, ids, outcome.people, tell)
    _write_users(conn, people, ids, person_ids, outcome, now)
    if dry_run:  # the unit of work rolls back what was not committed
        outcome.cards = []
    else:
        uow.commit()
    return outcome


def _parse(rows: list[Row], sheet: str, model: Any, errors: list[dict[str, Any]]) -> list[tuple[Row, Any]]:
    parsed: list[tuple[Row, Any]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.sheet.name != sheet:
            continue
        try:
            value = model.model_validate(row.values)
        except ValidationError as exc:  # each refused cell named by its header
            for e in exc.errors():
                _refuse(errors, row, str(e["loc"][0]), message_of(model, e, e["loc"][:1]))
            continue
        if value.code in seen:
            _refuse(errors, row, "code", f"编码 {value.code} 与第{seen[value.code]}行重复")
            continue
        seen[value.code] = row.number
        parsed.append((row, value))
    return parsed


def _refuse(errors: list[dict[str, Any]], row: Row, name: str, message: str) -> None:
    errors.append(
        {
            "field": f"{row.sheet.code}.{row.number}.{name}",
            "sheet": row.sheet.name,
            "row": row.number,
            "column": row.columns.get(name),
            "message": message,
        }
    )


def _check_orgs(orgs: list[tuple[Row, RosterOrg]], known: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    """Each 上级编码 names an org of the file or one already imported, and no chain of parents loops."""
    code_of = {r["id"]: c for c, r in known.items()}
    parents = {c: code_of.get(r["parent_id"]) for c, r in known.items()}
    parents.update({o.code: o.parent_code for _, o in orgs})
    for row, org in orgs:
        if org.parent_code is None:
            continue
        if org.parent_code not in parents:
            _refuse(errors, row, "parent_code", f"上级编码：找不到编码为 {org.parent_code} 的党组织")
            continue
        seen, code = {org.code}, org.parent_code
        ancestor: str | None = code
        while ancestor is not None:
            if ancestor in seen:
                _refuse(errors, row, "parent_code", f"上级编码：{org.code} 的上级关系形成了循环")
                break
            seen.add(ancestor)
            ancestor = parents.get(ancestor)


def _check_people(rows: list[Row], org_codes: set[str], errors: list[dict[str, Any]]) -> None:
    """Each person's org is in the file or already imported (read from the cell, so a row refused for
    another cell is told this too)."""
    for row in rows:
        code = row.values.get("org_code")
        if code is not None and code not in org_codes:
            _refuse(errors, row, "org_code", f"所在党组织编码：找不到编码为 {code} 的党组织")


def _write_orgs(
    conn: Connection, orgs: list[tuple[Row, RosterOrg]], known: dict[str, Any], counts: Counts
) -> dict[str, tuple[int, str]]:
    """Orgs parents first; code → (id, path) for every coded org."""
    placed = {code: (r["id"], r["path"]) for code, r in known.items()}
    pending = [o for _, o in orgs]
    while pending:
        ready = [o for o in pending if o.parent_code is None or o.parent_code in placed]
        pending = [o for o in pending if not (o.parent_code is None or o.parent_code in placed)]
        for org in ready:
            parent_id, parent_path = placed[org.parent_code] if org.parent_code else (None, "/")
            values = {"name": org.name, "kind": org.kind.value, "parent_id": parent_id}
            old = known.get(org.code)
            if old is None:
                insert = ORG.insert().values(code=org.code, path="", **values).returning(ORG.c.id)
                new_id = conn.execute(insert).scalar_one()
                path = f"{parent_path}{new_id}/"
                conn.execute(ORG.update().where(ORG.c.id == new_id).values(path=path))
                placed[org.code] = (new_id, path)
                counts.created += 1
            elif {k: old[k] for k in values} != values:
                path = f"{parent_path}{old['id']}/"
                conn.execute(ORG.update().where(ORG.c.id == old["id"]).values(path=path, **values))
                if path != old["path"]:  # the subtree moves with it
                    _move_subtree(conn, old["path"], path)
                placed[org.code] = (old["id"], path)
                counts.updated += 1
            else:
                counts.unchanged += 1
    return placed


def _move_subtree(conn: Connection, old: str, new: str) -> None:
    below = ORG.c.path.startswith(old, autoescape=True) & (ORG.c.path != old)
    tail = sa.func.substr(ORG.c.path, len(old) + 1)
    conn.execute(ORG.update().where(below).values(path=sa.literal(new) + tail))


PERSON_FIELDS = ("name", "org_id", "status", "position")


def _write_people(
    conn: Connection,
    people: list[tuple[Row, RosterPerson]],
    orgs: dict[str, tuple[int, str]],
    counts: Counts,
    tell: Callable[[int], None],
) -> dict[str, int]:
    """People inserted and updated in bulk; code → id for every person of the file."""
    codes = [p.code for _, p in people]
    known: dict[str, Any] = {}
    for chunk in _chunks(codes):
        found = conn.execute(sa.select(PERSON).where(PERSON.c.code.in_(chunk))).mappings()
        known.update({r["code"]: r for r in found})
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for _, p in people:
        values = {"name": p.name, "org_id": orgs[p.org_code][0], "status": p.status.value, "position": p.position}
        old = known.get(p.code)
        if old is None:
            new.append({"code": p.code, **values})
        elif {k: old[k] for k in PERSON_FIELDS} != values:
            changed.append({"person_id": old["id"], **values})
        else:
            counts.unchanged += 1
    tell(counts.unchanged)
    for batch in _chunks(new):
        conn.execute(PERSON.insert(), batch)
        tell(len(batch))
    update = PERSON.update().where(PERSON.c.id == sa.bindparam("person_id"))
    for batch in _chunks(changed):
        conn.execute(update, batch)
        tell(len(batch))
    counts.created, counts.updated = len(new), len(changed)
    ids: dict[str, int] = {}
    for new_codes in _chunks([r["code"] for r in new]):
        found_ids = conn.execute(sa.select(PERSON.c.code, PERSON.c.id).where(PERSON.c.code.in_(new_codes)))
        ids.update({code: pid for code, pid in found_ids})
    ids.update({code: r["id"] for code, r in known.items()})
    return ids


def _write_users(
    conn: Connection,
    people: list[tuple[Row, RosterPerson]],
    orgs: dict[str, tuple[int, str]],
    person_ids: dict[str, int],
    outcome: Outcome,
    now: dt.datetime,
) -> None:
    """A user for each person with roles: made with a new token (on a login card), or, when the row's
    roles or e-mail changed, updated — which ends the user's sessions and cached callers, as the users
    page does. A row without roles leaves an existing user as it is."""
    with_roles = [(p, person_ids[p.code]) for _, p in people if p.roles]
    users = _users_of(conn, [pid for _, pid in with_roles])
    grants = _grants_of(conn, [u["id"] for u in users.values()])
    org_names = _org_names(conn, {orgs[p.org_code][0] for p, _ in with_roles})
    new_users, new_grants, changed = [], [], []
    for p, pid in with_roles:
        org_id = orgs[p.org_code][0]
        wanted = sorted((r.value, org_id if r in SCOPED else None) for r in p.roles)
        user = users.get(pid)
        if user is None:
            token = new_token()
            new_users.append({"name": p.name, "person_id": pid, "token_hash": hash_token(token), "email": p.email})
            new_grants.append((pid, wanted))
            outcome.cards.append(Card(p.name, p.code, org_names[org_id], "、".join(r.label_zh for r in p.roles), token))
        elif sorted(grants.get(user["id"], [])) != wanted or user["email"] != p.email:
            changed.append((user["id"], p.email, wanted))
        else:
            outcome.users.unchanged += 1
    for chunk in _chunks(new_users):
        conn.execute(USER.insert(), [{**u, "created_at": now, "active": True, "credential_version": 1} for u in chunk])
    made = _users_of(conn, [pid for pid, _ in new_grants])
    rows = [{"user_id": made[pid]["id"], "role": r, "org_id": o} for pid, wanted in new_grants for r, o in wanted]
    rows += [{"user_id": uid, "role": r, "org_id": o} for uid, _, wanted in changed for r, o in wanted]
    for uid_chunk in _chunks([uid for uid, _, _ in changed]):
        conn.execute(GRANT.delete().where(GRANT.c.user_id.in_(uid_chunk)))
        conn.execute(WEB_SESSION.delete().where(WEB_SESSION.c.user_id.in_(uid_chunk)))
    for chunk in _chunks(rows):
        conn.execute(GRANT.insert(), chunk)
    bump = USER.update().where(USER.c.id == sa.bindparam("user_id"))
    bump = bump.values(email=sa.bindparam("new_email"), credential_version=USER.c.credential_version + 1)
    for chunk in _chunks([{"user_id": uid, "new_email": email} for uid, email, _ in changed]):
        conn.execute(bump, chunk)
    outcome.users.created, outcome.users.updated = len(new_users), len(changed)


SCOPED = ORG_SCOPED_ROLES | {Role.supervisor}
"""Roles a roster grants on the person's own org (a supervisor there oversees its subtree)."""


def _users_of(conn: Connection, person_ids: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for chunk in _chunks(person_ids):
        rows = conn.execute(sa.select(USER).where(USER.c.person_id.in_(chunk)).order_by(USER.c.id)).mappings()
        for r in rows:
            found.setdefault(r["person_id"], r)
    return found


def _grants_of(conn: Connection, user_ids: list[int]) -> dict[int, list[tuple[str, int | None]]]:
    found: dict[int, list[tuple[str, int | None]]] = {}
    for chunk in _chunks(user_ids):
        for uid, role, org_id in conn.execute(
            sa.select(GRANT.c.user_id, GRANT.c.role, GRANT.c.org_id).where(GRANT.c.user_id.in_(chunk))
        ):
            found.setdefault(uid, []).append((role, org_id))
    return found


def _org_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        names.update(dict(conn.execute(sa.select(ORG.c.id, ORG.c.name).where(ORG.c.id.in_(chunk))).all()))
    return names


T = TypeVar("T")


def _chunks(items: Iterable[T]) -> Iterable[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch
