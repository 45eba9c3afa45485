"""A demo county: the committee, a general branch, four branches, 36 people, one user per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from services import campaigns, directory, pledges
from services.access import Actor, admin_actor
from services.container import Container
from services.tables import Org
from services.uow import UnitOfWork

BRANCHES = ["延庆一中党支部", "延庆二中党支部", "第一小学党支部", "第三小学党支部"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "丽华", "海燕", "文博", "晓明", "春梅", "国庆"]
STATUSES = ["full"] * 6 + ["probationary", "activist"]
ITEMS = [
    ("认真备好每一节课，所教班级学业水平稳步提高", "每周参加集体备课，每月听课不少于4节"),
    ("主动联系3名学困生，定期家访，帮助其树立学习信心", "每月家访一次并做好记录"),
    ("带头践行低碳生活，组织学生开展绿色出行宣传活动", "每学期组织一次主题班会"),
]


@dataclass
class Seeded:
    year: int
    tokens: list[tuple[str, str, str]] = field(default_factory=list)
    """(role label, name, token) — printed once; only hashes are stored."""
    counts: dict[str, int] = field(default_factory=dict)


def seed_if_empty(c: Container, now: dt.datetime) -> Seeded | None:
    with UnitOfWork(c.db, write=False) as uow:
        if uow.session.exec(select(Org.id)).first() is not None:
            return None
    return seed(c, now)


def _do(c: Container, fn: Any, *args: Any) -> Any:
    with UnitOfWork(c.db) as uow:
        return fn(uow, *args)


def seed(c: Container, now: dt.datetime) -> Seeded:
    admin, year = admin_actor(), now.year
    out = Seeded(year=year)
    committee = _do(c, directory.create_org, admin, "延庆县委教育工委", "committee", None)
    general = _do(c, directory.create_org, admin, "教委机关党委", "general_branch", committee.id)
    branches = [_do(c, directory.create_org, admin, name, "branch", general.id) for name in BRANCHES]
    people: dict[int, list[Any]] = {}
    n = 0
    for branch in branches:
        people[branch.id] = []
        for i in range(9):
            name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
            body = {
                "name": name,
                "org_id": branch.id,
                "status": STATUSES[i % len(STATUSES)],
                "position": "支部书记" if i == 0 else "教师",
            }
            people[branch.id].append(_do(c, directory.create_person, admin, body))
            n += 1
    _do(c, campaigns.create_campaign, c.catalog, admin, year, None, now)

    def user(label: str, name: str, person_id: int | None, roles: list[dict[str, Any]]) -> Actor:
        u, token = _do(c, directory.create_user, admin, name, person_id, roles, now)
        out.tokens.append((label, name, token))
        with UnitOfWork(c.db, write=False) as uow:
            return directory.user_actor(uow.session, u.id)

    user("活动办公室", "办公室主任", None, [{"role": "office"}])
    user("教育工委领导", "工委书记", None, [{"role": "supervisor", "org_id": branches[0].id}])
    first = people[branches[0].id]
    secretary = user(
        "支部书记", first[0].name, first[0].id, [{"role": "secretary", "org_id": branches[0].id}, {"role": "member"}]
    )
    member = user("党员", first[1].name, first[1].id, [{"role": "member"}])
    user("评议人", "群众代表", None, [{"role": "appraiser", "org_id": branches[0].id}])
    out.counts = {"orgs": 2 + len(branches), "people": n, "pledges": _seed_pledges(c, secretary, member, first, now)}
    return out


def _seed_pledges(c: Container, secretary: Actor, member: Actor, people: list[Any], now: dt.datetime) -> int:
    engine = c.engines["pledge"]
    items = [{"content": content, "measure": measure} for content, measure in ITEMS]
    created = 0
    for person in people[1:]:
        if person.status not in ("full", "probationary"):
            continue
        actor = member if person.id == member.person_id else secretary
        pledge_id = _do(
            c, pledges.create, engine, actor, {"year": now.year, "person_id": person.id, "items": items}, now
        )
        created += 1
        if person.id == member.person_id:
            _do(c, pledges.fire_event, engine, member, pledge_id, {"event": "submit"}, None, now)
    return created


def describe(s: Seeded) -> str:
    lines = [
        f"已建立演示数据（{s.year}年度）：{s.counts['orgs']}个党组织、{s.counts['people']}名人员、{s.counts['pledges']}份承诺书。",
        "登录令牌（只显示这一次，请妥善保存）：",
    ]
    lines += [f"  {label:<8} {name:<6} {token}" for label, name, token in s.tokens]
    return "\n".join(lines)
