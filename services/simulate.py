"""`pledgeflow simulate`: rehearse a whole campaign year on a simulated clock and print its timeline."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from notifications.tables import KIND_ZH, Notice
from services import demo, pledges, self_evaluations
from services.config import Settings
from services.container import Container, build_container
from services.demo import Seeded, do
from services.sweep import sweep
from services.tables import Deadline, Pledge, SelfEvaluation, User
from services.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
STEP = dt.timedelta(hours=6)
REPORT = "本支部按照教育工委部署，认真开展创先争优活动，组织党员公开承诺、践行承诺，召开民主生活会，开展问卷测评。" * 4
# Member pledge profiles: (month, day) of submit, approve, publish, progress, request_appraisal, comment, appraise.
PROFILES: list[tuple[str, list[Any]]] = [
    ("按期完成", [(10, 8), (10, 12), (10, 15), (11, 10), (12, 5), (12, 8), (12, 15)]),
    ("逾期完成", [(10, 28), (11, 4), (11, 6), (11, 20), (12, 20), (12, 22), (12, 28)]),
    ("逾期未考评", [(11, 10), (11, 14), (11, 16), (12, 1), (12, 10), None, None]),
    ("未行动", [None] * 7),
]


class SimClock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass(order=True)
class Action:
    at: dt.datetime
    seq: int
    run: Callable[[dt.datetime], None]


class Rehearsal:
    def __init__(self, c: Container, seeded: Seeded, year: int):
        self.c, self.s, self.year = c, seeded, year
        self.actions: list[Action] = []

    def on(self, month_day: tuple[int, int] | None, run: Callable[[dt.datetime], None]) -> None:
        if month_day is not None:
            at = dt.datetime(self.year, *month_day, 10, tzinfo=TZ)
            self.actions.append(Action(at, len(self.actions), run))

    def fire(self, actor_key: str, pid: int, event: str, **body: Any) -> Callable[[dt.datetime], None]:
        actor = self.s.actors[actor_key]
        return lambda now: do(
            self.c, pledges.fire_event, self.c.engines["pledge"], actor, pid, {"event": event, **body}, None, now
        )

    def plan_pledge(
        self, pid: int, owner: str, reviewer: str, commenter: str, secretary: str, days: list[Any], org: bool
    ) -> None:
        items = self._items(pid)
        submit_data = {"meeting": {"held_on": f"{self.year}-09-20", "attendees": 9}} if org else {}
        outcomes = [{"item": i, "outcome": "done"} for i in items]
        progress = {"item": items[0], "note": "按计划推进", "happened_on": dt.date(self.year, 11, 1)}
        comment = {"achievements": "承诺事项落实较好", "problems": "记录还不够细", "direction": "继续发挥带头作用"}
        steps = [
            self.fire(owner, pid, "submit", data=submit_data),
            self.fire(reviewer, pid, "approve"),
            self.fire(
                secretary, pid, "publish", data={"channel": "notice_board", "published_on": f"{self.year}-10-15"}
            ),
            lambda now: do(self.c, pledges.add_progress, self.s.actors[owner], pid, progress, now),
            self.fire(owner, pid, "request_appraisal"),
            lambda now: do(self.c, pledges.add_comment, self.s.actors[commenter], pid, comment, now),
            self.fire(reviewer, pid, "appraise", data={"grade": "excellent", "outcomes": outcomes}),
        ]
        for day, step in zip(days, steps, strict=True):
            self.on(day, step)

    def _items(self, pid: int) -> list[int]:
        with UnitOfWork(self.c.db, write=False) as uow:
            return [i.id or 0 for i in pledges.items_of(uow.session, pid)]


def _plan(r: Rehearsal, start: dt.datetime) -> None:
    s, c = r.s, r.c
    for n, person in enumerate(demo.pledgers(s)):
        owner, secretary = f"person:{person.id}", f"secretary:{person.org_id}"
        body = {"year": r.year, "person_id": person.id, "items": demo.ITEMS}
        pid = do(c, pledges.create, c.engines["pledge"], s.actors[owner], body, start)
        r.plan_pledge(pid, owner, secretary, secretary, secretary, PROFILES[n % 4][1], org=False)
    for b, branch in enumerate(s.branches):
        secretary = f"secretary:{branch.id}"
        body = {"year": r.year, "org_id": branch.id, "items": demo.ITEMS}
        pid = do(c, pledges.create, c.engines["pledge"], s.actors[secretary], body, start)
        r.plan_pledge(pid, secretary, "supervisor", "supervisor", secretary, PROFILES[b % 4][1], org=True)
        _plan_evaluation(r, b, secretary, branch.id or 0, start)


def _plan_evaluation(r: Rehearsal, b: int, secretary: str, org_id: int, start: dt.datetime) -> None:
    c, engine, sheet = r.c, r.c.engines["self_evaluation"], r.c.scorecard
    eid = do(c, self_evaluations.create, engine, r.s.actors[secretary], r.year, org_id, start)
    items = [it for area in sheet.areas for it in area.items]

    def event(actor: str, name: str, **body: Any) -> Callable[[dt.datetime], None]:
        return lambda now: do(
            c, self_evaluations.fire_event, c.engines, sheet, r.s.actors[actor], eid, {"event": name, **body}, None, now
        )

    def scores(actor: str, kind: str, less: int) -> Callable[[dt.datetime], None]:
        rows = [
            {"code": it.code, "points": max(it.max_points - (less if n % 3 == 0 else 0), 0), "method": "documents"}
            for n, it in enumerate(items)
        ]
        return lambda now: do(c, self_evaluations.put_scores, engine, sheet, r.s.actors[actor], eid, kind, rows, now)

    data = {"report": REPORT, "meeting_held_on": f"{r.year}-11-05", "questionnaires": 30}
    plans: list[list[Any]] = [
        [(10, 20), (11, 14), (11, 15), (11, 18), (12, 19), (12, 20)],
        [(11, 1), (11, 24), (11, 25), (11, 28), (12, 29), (12, 30)],
        [(11, 10), None, None, None, None, None],
        [None] * 6,
    ]
    steps = [
        event(secretary, "start"),
        scores(secretary, "self", 1),
        event(secretary, "submit", data=data),
        event("office", "accept"),
        scores("supervisor", "assessed", 1 + 2 * b),
        event("supervisor", "assess"),
    ]
    for day, step in zip(plans[b % 4], steps, strict=True):
        r.on(day, step)


def simulate(year: int, out: TextIO) -> None:
    start = dt.datetime(year, 9, 1, 8, tzinfo=TZ)
    end = dt.datetime(year + 1, 1, 3, 8, tzinfo=TZ)
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimClock(start)
        c = build_container(Settings(database_url=f"sqlite:///{tmp}/rehearsal.db", scheduler=False), clock)
        try:
            seeded = demo.seed(c, start, accounts_for_all=True, with_pledges=False)
            rehearsal = Rehearsal(c, seeded, year)
            _plan(rehearsal, start)
            print(f"{year}年度创先争优活动演练（模拟时钟，{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）", file=out)
            _run(c, rehearsal, start, end, clock, out)
            _summary(c, seeded, year, out)
        finally:
            c.db.dispose()


def _run(c: Container, r: Rehearsal, start: dt.datetime, end: dt.datetime, clock: SimClock, out: TextIO) -> None:
    names = _user_names(c)
    actions, last, now = sorted(r.actions), 0, start
    while now <= end:
        while actions and actions[0].at <= now:
            action = actions.pop(0)
            clock.now = action.at
            action.run(action.at)
        clock.now = now
        sweep(c.db, c.catalog, now)
        with UnitOfWork(c.db, write=False) as uow:
            new = uow.session.exec(select(Notice).where(col(Notice.id) > last).order_by(col(Notice.id))).all()
        for n in new:
            who = "、".join(names.get(u, str(u)) for u in n.recipients) or "（无收件人）"
            print(f"{now.astimezone(TZ):%Y-%m-%d %H:%M} [{KIND_ZH[n.kind]}] {n.title} → {who}", file=out)
            last = n.id or last
        now += STEP


def _user_names(c: Container) -> dict[int, str]:
    with UnitOfWork(c.db, write=False) as uow:
        return {u.id or 0: u.name for u in uow.session.exec(select(User)).all()}


def _summary(c: Container, s: Seeded, year: int, out: TextIO) -> None:
    lc = c.engines["pledge"].lifecycle
    print("\n各支部情况汇总：", file=out)
    with UnitOfWork(c.db, write=False) as uow:
        for branch in s.branches:
            rows = uow.session.exec(select(Pledge).where(Pledge.org_id == branch.id, Pledge.year == year)).all()
            states = Counter(lc.state(p.state).label_zh for p in rows)
            ids = [p.id for p in rows]
            deadlines = uow.session.exec(
                select(Deadline).where(Deadline.subject_type == "pledge", col(Deadline.subject_id).in_(ids))
            ).all()
            status = Counter(d.status for d in deadlines)
            ev = uow.session.exec(select(SelfEvaluation).where(SelfEvaluation.org_id == branch.id)).one()
            view = self_evaluations.view(
                uow.session,
                c.engines["self_evaluation"],
                c.scorecard,
                self_evaluations.Loaded(ev, branch, set()),
                c.clock(),
            )
            band = view["band"]["label_zh"] if view["band"] else "—"
            stage = "、".join(f"{k}{v}份" for k, v in sorted(states.items()))
            score = view["assessed_score"] if view["assessed_score"] is not None else "—"
            print(
                f"- {branch.name}：承诺书{len(rows)}份（{stage}）；期限按期{status['met']}项、"
                f"逾期完成{status['late']}项、逾期未完成{status['missed']}项；"
                f"自查报告：{view['state_label']}，考核得分{score}（{band}）",
                file=out,
            )
