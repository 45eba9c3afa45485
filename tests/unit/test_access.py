"""The one access rule in its two forms: `visible` (SQL, for listings and reports) and `can_read`
(one loaded record) agree for every kind of caller and record."""

from __future__ import annotations

import itertools
import random

import sqlalchemy as sa

from services.access import Actor, actor, can_read, visible

TREE = {1: "/1/", 2: "/1/2/", 3: "/1/2/3/", 4: "/1/4/", 5: "/1/4/5/"}
"""A committee (1), two general branches (2, 4), two branches (3, 5)."""
PEOPLE = {10: 3, 11: 3, 12: 5}
"""person → org."""


def _actors() -> list[Actor]:
    found = [
        actor(1, "办公室", None, [("office", None)], None),
        actor(2, "领导", None, [("supervisor", 4)], None),
        actor(3, "无角色", None, [], None),
    ]
    ids = itertools.count(10)
    for org in TREE:
        found.append(actor(next(ids), f"书记{org}", 10, [("secretary", org), ("member", None)], TREE[3]))
        found.append(actor(next(ids), f"评议人{org}", None, [("appraiser", org)], None))
    for person, org in PEOPLE.items():
        found.append(actor(next(ids), f"党员{person}", person, [("member", None)], TREE[org]))
    return found


def test_visible_and_can_read_agree_for_every_caller_and_record() -> None:
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    org = sa.Table("org", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("path", sa.String))
    rec = sa.Table(
        "rec",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer),
        sa.Column("person_id", sa.Integer, nullable=True),
    )
    meta.create_all(engine)
    rng = random.Random(7)
    rows = [{"id": n, "org_id": rng.choice(list(TREE)), "person_id": rng.choice([None, *PEOPLE])} for n in range(1, 60)]
    with engine.begin() as conn:
        conn.execute(org.insert(), [{"id": i, "path": p} for i, p in TREE.items()])
        conn.execute(rec.insert(), rows)
    checked = 0
    for who in _actors():
        for person_scoped, voters in itertools.product((False, True), repeat=2):
            q = sa.select(rec.c.id).join(org, org.c.id == rec.c.org_id)
            q = q.where(visible(who, org.c, rec.c.person_id if person_scoped else None, voters=voters))
            with engine.connect() as conn:
                in_sql = set(conn.execute(q).scalars())
            in_python = {
                r["id"]
                for r in rows
                if can_read(who, TREE[r["org_id"]], r["person_id"] if person_scoped else None, voters=voters)
            }
            assert in_sql == in_python, (who.name, person_scoped, voters)
            checked += len(rows)
    assert checked > 1000
    engine.dispose()
