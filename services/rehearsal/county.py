"""A generated county: committee → general branches → branches, members with accounts, and the year's campaign.

The directory rows (orgs, people, users, role grants) are seed data, not lifecycle events, so they are
bulk-inserted; they are the rows `directory.create_org`, `create_person` and `create_user` would write
(same columns, the org's materialized path, a random token stored only as its hash). The campaign is
set up by the `campaigns.create_campaign` use case. Names and sizes come from a seeded RNG: the same
shape and seed give the same county.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from services.access import Actor, actor, admin_actor, hash_token, new_token
from services.container import Container
from services.persistence.tables import Org, Person, RoleGrant, User
from services.persistence.uow import UnitOfWork
from services.usecases import campaigns
from services.usecases.commands import CreateCampaign

ORG: sa.Table = Org.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = Person.__table__  # type: ignore[attr-defined]
USER: sa.Table = User.__table__  # type: ignore[attr-defined]
GRANT: sa.Table = RoleGrant.__table__  # type: ignore[attr-defined]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
GIVEN = "建国秀英志强丽华海燕文博晓明春梅国庆玉兰红霞桂芳德胜振华淑珍永刚雪梅俊杰凤英建军立新小平宏伟子涵思远雅静"
TOWNS = [
    "延庆镇",
    "康庄镇",
    "八达岭镇",
    "永宁镇",
    "旧县镇",
    "张山营镇",
    "四海镇",
    "千家店镇",
    "沈家营镇",
    "大榆树镇",
    "井庄镇",
    "大庄科乡",
    "刘斌堡乡",
    "香营乡",
    "珍珠泉乡",
]
SCHOOLS = ("中心小学", "小学", "中学", "幼儿园", "中心幼儿园", "九年一贯制学校")
POSITIONS = ("教师",) * 6 + ("班主任", "教研组长", "副校长", "后勤")
DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class Shape:
    """How big a county to generate: orgs counts the committee, the general branches and the branches."""

    orgs: int
    members: int
    seed: int = 2010

    @property
    def generals(self) -> int:
        """About one per 21 orgs, as in the 2010 district; at least two once there are branches for both."""
        return max(1, min(2, (self.orgs - 1) // 3), round((self.orgs - 1) / 21))

    @property
    def branches(self) -> int:
        return self.orgs - 1 - self.generals

    def scaled(self, factor: float) -> Shape:
        return Shape(max(3, round(self.orgs * factor)), max(3, round(self.members * factor)), self.seed)

    def check(self) -> None:
        if self.orgs < 3:
            raise ValueError("a county needs at least 3 orgs: the committee, a general branch and a branch")
        if self.members < self.branches:
            raise ValueError(f"{self.members} members cannot fill {self.branches} branches (one secretary each)")


DISTRICT = Shape(653, 23_625)
"""A 2010 district that published its figures: 653 party organisations, 23,625 members."""


@dataclass(frozen=True)
class Branch:
    id: int
    name: str
    general_id: int
    path: str
    secretary: int
    """The secretary's person id; also the first of `members`."""
    members: tuple[int, ...]


@dataclass
class County:
    year: int
    shape: Shape
    committee: int
    generals: list[int]
    branches: list[Branch]
    names: dict[int, str] = field(default_factory=dict)
    """person id → name."""
    office: Actor = field(default_factory=admin_actor)
    supervisors: list[Actor] = field(default_factory=list)
    supervisor_of: dict[int, Actor] = field(default_factory=dict)
    """general branch id → the supervisor whose contact point (联系点) it is."""
    secretaries: dict[int, Actor] = field(default_factory=dict)
    """branch id → its secretary's actor."""
    members: dict[int, Actor] = field(default_factory=dict)
    """person id → the member's actor (secretaries included)."""

    @property
    def people(self) -> int:
        return sum(len(b.members) for b in self.branches)

    @property
    def users(self) -> int:
        return 1 + len(self.supervisors) + len(self.members)


def zh_number(n: int) -> str:
    """1 → 一, 12 → 十二, 305 → 三百零五: school numbers as they are written."""
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        tail = "" if rest == 0 else "零" + DIGITS[rest] if rest < 10 else ("一" if rest < 20 else "") + zh_number(rest)
        return DIGITS[hundreds] + "百" + tail
    return str(n)


def distribute(total: int, parts: int, rng: random.Random, minimum: int, spread: float) -> list[int]:
    """Split `total` into `parts` sizes of at least `minimum` (when there is enough), varying by about ±`spread`."""
    minimum = min(minimum, total // parts)
    weights = [rng.uniform(1 - spread, 1 + spread) for _ in range(parts)]
    free, scale = total - minimum * parts, sum(weights)
    shares = [free * w / scale for w in weights]
    sizes = [minimum + int(s) for s in shares]
    by_fraction = sorted(range(parts), key=lambda i: int(shares[i]) - shares[i])
    for i in by_fraction[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2]) if rng.random() < 0.8 else rng.choice(GIVEN)
    return rng.choice(SURNAMES) + given


def org_names(shape: Shape, rng: random.Random) -> tuple[list[str], list[list[str]]]:
    """The general branches' names and, per general branch, its branches' names (schools of its town)."""
    generals, places = ["教委机关党委"], ["教委机关"]
    for g in range(1, shape.generals):
        town, again = TOWNS[(g - 1) % len(TOWNS)], (g - 1) // len(TOWNS)
        places.append(f"{town}第{zh_number(again + 1)}学区" if again else town)
        generals.append(f"{town}{'第' + zh_number(again + 1) if again else ''}学区党总支")
    branches = []
    for g, count in enumerate(distribute(shape.branches, shape.generals, rng, 1, 0.6)):
        if g == 0:
            branches.append([f"教委机关第{zh_number(n + 1)}党支部" for n in range(count)])
            continue
        place, seen, names = places[g], dict.fromkeys(SCHOOLS, 0), []
        for _ in range(count):
            school = rng.choice(SCHOOLS)
            seen[school] += 1
            n = seen[school]
            names.append(f"{place}{school}党支部" if n == 1 else f"{place}第{zh_number(n)}{school}党支部")
        branches.append(names)
    return generals, branches


def generate(c: Container, shape: Shape, year: int, now: dt.datetime) -> County:
    """Write the county's directory and set up its campaign for `year`; the database holds no orgs yet."""
    shape.check()
    rng = random.Random(shape.seed)
    general_names, branch_names = org_names(shape, rng)
    sizes = distribute(shape.members, shape.branches, rng, 3, 0.7)
    with UnitOfWork(c.db) as uow:
        s = uow.session
        [committee] = _orgs(s, [("延庆县委教育工委", "committee", None)])
        generals = _orgs(s, [(name, "general_branch", committee) for name in general_names])
        rows = [(name, "branch", generals[g]) for g, names in enumerate(branch_names) for name in names]
        under = [generals[g][0] for g, names in enumerate(branch_names) for _ in names]
        county = County(year, shape, committee[0], [g for g, _ in generals], [])
        for (branch_id, path), (name, _, _), general_id, size in zip(_orgs(s, rows), rows, under, sizes, strict=True):
            people = _people(s, county, rng, branch_id, size)
            county.branches.append(Branch(branch_id, name, general_id, path, people[0], tuple(people)))
        _accounts(s, county, rng, now)
        uow.commit()
    with UnitOfWork(c.db) as uow:
        campaigns.create_campaign(uow, c.catalog, admin_actor(), CreateCampaign(year=year), now, c.settings.timezone)
    return county


def _orgs(session: Any, rows: Sequence[tuple[str, str, tuple[int, str] | None]]) -> list[tuple[int, str]]:
    """Insert orgs, then set each one's path as `directory.create_org` does: the parent's path + its id."""
    insert = sa.insert(ORG).returning(ORG.c.id, sort_by_parameter_order=True)
    values = [
        {"name": name, "kind": kind, "parent_id": parent[0] if parent else None, "path": ""}
        for name, kind, parent in rows
    ]
    ids = list(session.execute(insert, values).scalars())
    paths = [f"{parent[1] if parent else '/'}{oid}/" for oid, (_, _, parent) in zip(ids, rows, strict=True)]
    update = sa.update(ORG).where(ORG.c.id == sa.bindparam("oid")).values(path=sa.bindparam("new_path"))
    session.execute(update, [{"oid": oid, "new_path": path} for oid, path in zip(ids, paths, strict=True)])
    return list(zip(ids, paths, strict=True))


def _people(session: Any, county: County, rng: random.Random, branch_id: int, size: int) -> list[int]:
    """The branch's people: its secretary first, then full and probationary members."""
    rows: list[dict[str, Any]] = []
    for n in range(size):
        status = "probationary" if n and rng.random() < 0.06 else "full"
        position = "支部书记" if n == 0 else rng.choice(POSITIONS)
        rows.append({"name": person_name(rng), "org_id": branch_id, "status": status, "position": position})
    insert = sa.insert(PERSON).returning(PERSON.c.id, sort_by_parameter_order=True)
    ids = list(session.execute(insert, rows).scalars())
    for pid, row in zip(ids, rows, strict=True):
        county.names[pid] = row["name"]
    return ids


def _accounts(session: Any, county: County, rng: random.Random, now: dt.datetime) -> None:
    """The office, supervisors with their contact points (联系点), a secretary per branch and every member."""
    supervisors = max(2, len(county.generals) // 4 + 1)
    Pairs = list[tuple[str, int | None]]
    accounts: list[tuple[str, int | None, Pairs, str | None]] = [("办公室主任", None, [("office", None)], None)]
    accounts.append((person_name(rng), None, [("supervisor", None)], None))
    for k in range(1, supervisors):
        points = county.generals[k - 1 :: supervisors - 1]
        accounts.append((person_name(rng), None, [("supervisor", g) for g in points], None))
    for branch in county.branches:
        for pid in branch.members:
            member: Pairs = [("member", None)]
            pairs = [("secretary", branch.id), *member] if pid == branch.secretary else member
            accounts.append((county.names[pid], pid, pairs, branch.path))
    insert = sa.insert(USER).returning(USER.c.id, sort_by_parameter_order=True)
    users = [
        {"name": name, "person_id": pid, "token_hash": hash_token(new_token()), "email": None, "created_at": now}
        for name, pid, _, _ in accounts
    ]
    ids = list(session.execute(insert, users).scalars())
    grants = [
        {"user_id": uid, "role": role, "org_id": org}
        for uid, (_, _, pairs, _) in zip(ids, accounts, strict=True)
        for role, org in pairs
    ]
    session.execute(sa.insert(GRANT), grants)
    # the actors `access.caller` would load for these users, built without reading them back
    actors = [actor(uid, name, pid, pairs, path) for uid, (name, pid, pairs, path) in zip(ids, accounts, strict=True)]
    county.office, county.supervisors = actors[0], actors[1 : 1 + supervisors]
    for sup in county.supervisors[1:]:
        county.supervisor_of.update((org, sup) for role, org in sup.grants if org is not None)
    for account in actors[1 + supervisors :]:
        county.members[account.person_id or 0] = account
        county.secretaries.update((org, account) for org in account.secretary_orgs)
