"""A demo county: the committee, a general branch, four branches of nine people, users for every role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from definitions.vocabulary import OrgKind
from services.access import Actor, admin_actor, user_actor
from services.container import Container
from services.persistence.tables import Org
from services.persistence.uow import UnitOfWork
from services.usecases import campaigns, directory, events, pledges
from services.usecases.commands import CreateCampaign, CreateOrg, CreatePerson, CreatePledge, CreateUser, FireEvent

BRANCHES = ["延庆一中党支部", "延庆二中党支部", "第一小学党支部", "第三小学党支部"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "丽华", "海燕", "文博", "晓明", "春梅", "国庆"]
STATUSES = ["full"] * 6 + ["probationary", "activist"]
ITEMS = [
    {"content": "认真备好每一节课，所教班级学业水平稳步提高", "measure": "每周参加集体备课，每月听课不少于4节"},
    {"content": "主动联系3名学困生，定期家访，帮助其树立学习信心", "measure": "每月家访一次并做好记录"},
    {"content": "带头践行低碳生活，组织学生开展绿色出行宣传活动", "measure": "每学期组织一次主题班会"},
]


@dataclass
class Seeded:
    year: int
    branches: list[Org] = field(default_factory=list)
    people: list[Any] = field(default_factory=list)
    actors: dict[str, Actor] = field(default_factory=dict)
    """'office', 'supervisor', 'secretary:<org id>', 'person:<person id>' → actor."""
    tokens: list[tuple[str, str, str]] = field(default_factory=list)
    """(role label, name, token) — printed once; only hashes are stored."""
    pledges: int = 0
    refused: list[str] = field(default_factory=list)
    """Steps of the played weeks (the live demo) that a use case refused: none, unless the demo is out of date."""


def do(c: Container, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with UnitOfWork(c.db) as uow:
        return fn(uow, *args, **kwargs)


def seed(
    c: Container,
    now: dt.datetime,
    accounts_for_all: bool = False,
    with_pledges: bool = True,
    year: int | None = None,
    deadlines: dict[str, str] | None = None,
) -> Seeded:
    """Seed the county and the campaign of `year` (else `now.year`), its calendar's deadlines or the
    given ones; members get accounts when asked."""
    admin = admin_actor()
    out = Seeded(year=year or now.year)
    committee = do(c, directory.create_org, admin, CreateOrg(name="延庆县委教育工委", kind=OrgKind.committee))
    general = do(
        c,
        directory.create_org,
        admin,
        CreateOrg(name="教委机关党委", kind=OrgKind.general_branch, parent_id=committee.id),
    )
    out.branches = [
        do(c, directory.create_org, admin, CreateOrg(name=name, kind=OrgKind.branch, parent_id=general.id))
        for name in BRANCHES
    ]
    for b, branch in enumerate(out.branches):
        for i in range(9):
            n = b * 9 + i
            name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
            body = {"name": name, "org_id": branch.id, "status": STATUSES[i % len(STATUSES)], "position": "教师"}
            if i == 0:
                body["position"] = "支部书记"
            out.people.append(do(c, directory.create_person, admin, CreatePerson.model_validate(body)))
    campaign = CreateCampaign.model_validate(
        {"year": out.year, "calendar": {"deadlines": deadlines} if deadlines else None}
    )
    do(c, campaigns.create_campaign, c.catalog, admin, campaign, now, c.settings.timezone)
    _users(c, out, now, accounts_for_all)
    if with_pledges:
        out.pledges = _pledges(c, out, now)
    return out


def _users(c: Container, out: Seeded, now: dt.datetime, accounts_for_all: bool) -> None:
    def user(key: str, label: str, name: str, person_id: int | None, roles: list[dict[str, Any]], show: bool) -> None:
        cmd = CreateUser.model_validate({"name": name, "person_id": person_id, "roles": roles})
        u, token = do(c, directory.create_user, admin_actor(), cmd, now)
        if show:
            out.tokens.append((label, name, token))
        with UnitOfWork(c.db, write=False) as uow:
            found = user_actor(uow.session, u.id)
        assert found is not None
        out.actors[key] = found

    user("office", "活动办公室", "办公室主任", None, [{"role": "office"}], True)
    user("supervisor", "教育工委领导", "工委书记", None, [{"role": "supervisor", "org_id": out.branches[0].id}], True)
    user("supervisor:2", "教育工委领导", "工委副书记", None, [{"role": "supervisor"}], False)
    for b, branch in enumerate(out.branches):
        person = out.people[b * 9]
        roles: list[dict[str, Any]] = [{"role": "secretary", "org_id": branch.id}, {"role": "member"}]
        user(f"secretary:{branch.id}", "支部书记", person.name, person.id, roles, b == 0)
    for i, person in enumerate(out.people):
        if i % 9 and (accounts_for_all or i == 1):
            user(f"person:{person.id}", "党员", person.name, person.id, [{"role": "member"}], i == 1)
    user("appraiser", "评议人", "群众代表", None, [{"role": "appraiser", "org_id": out.branches[0].id}], True)


def pledgers(out: Seeded) -> list[Any]:
    """Full and probationary members other than the secretaries: those who must pledge."""
    return [p for i, p in enumerate(out.people) if i % 9 and p.status in ("full", "probationary")]


def _pledges(c: Container, out: Seeded, now: dt.datetime) -> int:
    for person in pledgers(out):
        actor = out.actors.get(f"person:{person.id}") or out.actors[f"secretary:{person.org_id}"]
        cmd = CreatePledge.model_validate({"year": out.year, "person_id": person.id, "items": ITEMS})
        pid = do(c, pledges.create, c.lifecycles, actor, cmd, now)
        if f"person:{person.id}" in out.actors:
            do(c, events.fire_event, c.lifecycles, actor, pledges.LIFECYCLE, pid, FireEvent(event="submit"), None, now)
    return len(pledgers(out))


FIRST = "党员"
"""Whose token to try first: a member whose pledge came back with the reviewer's reason."""


def describe(s: Seeded, url: str | None = None) -> str:
    lines = [
        f"已建立演示数据（{s.year}年度，活动进行中）：{len(s.branches) + 2}个党组织、{len(s.people)}名人员、"
        f"{s.pledges}份承诺书。",
    ]
    if url:
        lines += [
            f"网页：{url}/  （接口文档：{url}/docs）",
            f"先用「{FIRST}」的令牌登录网页：看「消息」里被退回的承诺书和理由，修改后重新提交；"
            "再用「支部书记」「教育工委领导」「活动办公室」的令牌看各自的待办。",
        ]
    lines.append("登录令牌（只显示这一次，请妥善保存）：")
    lines += [f"  {label:<8} {name:<6} {token}" for label, name, token in s.tokens]
    return "\n".join(lines)
