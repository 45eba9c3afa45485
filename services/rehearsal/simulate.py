"""`pledgeflow simulate`: rehearse a campaign year on a simulated clock, for the demo county or a generated one.

Every record follows a `Track`: its steps (use-case calls) in time order. The clock advances in
six-hour steps; each step runs the actions that fell due in it, in one unit of work, then the
deadline sweep, as the scheduler would. Only the next step of each track waits in the queue, so a
county of 240,000 pledges plans in little memory.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import tempfile
import time
from abc import ABC, abstractmethod
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select

from definitions.vocabulary import DEADLINE_NOTICES, CalendarPolicy, DeadlineStatus, NoticeKind
from notifications.tables import InboxEntry, Notice
from services.access import Actor, admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.enforcement.sweep import sweep
from services.errors import Conflict, Invalid, ServiceError
from services.persistence.tables import (
    AppraisalRound,
    Deadline,
    History,
    Org,
    Person,
    Pledge,
    PledgeItem,
    ScoreEntry,
    SelfEvaluation,
    Tally,
    User,
)
from services.persistence.uow import UnitOfWork
from services.rehearsal import demo
from services.rehearsal.county import County, Shape, generate
from services.rehearsal.demo import Seeded
from services.usecases import appraisals, events, pledges, self_evaluations
from services.usecases.campaigns import deadline_labels, default_calendar, move_deadlines, resolve_deadlines
from services.usecases.commands import (
    AddComment,
    AddProgress,
    CastBallot,
    CreatePledge,
    CreateRound,
    CreateSelfEvaluation,
    FireEvent,
    PutScores,
)
from workflow.errors import WorkflowError

STEP = 6 * 60
"""Minutes between two sweeps of the simulated scheduler."""
REPORT = "本支部按照教育工委部署，认真开展创先争优活动，组织党员公开承诺、践行承诺，召开民主生活会，开展问卷测评。" * 4
# Member pledge profiles: (month, day) of submit, approve, publish, progress, request_appraisal, comment, appraise.
PROFILES: list[tuple[str, list[Any]]] = [
    ("按期完成", [(10, 8), (10, 12), (10, 15), (11, 10), (12, 5), (12, 8), (12, 15)]),
    ("逾期完成", [(10, 28), (11, 4), (11, 6), (11, 20), (12, 20), (12, 22), (12, 28)]),
    ("逾期未考评", [(11, 10), (11, 14), (11, 16), (12, 1), (12, 10), None, None]),
    ("未行动", [None] * 7),
]
PLEDGE_STEPS = ("submit", "approve", "publish", "progress", "request_appraisal", "comment", "appraise")
EVALUATION_STEPS = ("start", "self_scores", "submit", "accept", "assessed_scores", "assess")
COMMENT = {"achievements": "承诺事项落实较好", "problems": "记录还不够细", "direction": "继续发挥带头作用"}
RETURN_REASON = "践诺措施还不够具体，请补充后重新提交"
GRADES = ("excellent",) * 3 + ("good",) * 6 + ("basic",)


class SimClock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Track(ABC):
    """A record's way through the year: step names, and when each runs (minutes after the start)."""

    __slots__ = ("steps", "times")
    lifecycle = ""

    def __init__(self, steps: Sequence[str], times: Sequence[int]):
        self.steps, self.times = tuple(steps), array("i", times)

    @abstractmethod
    def run(self, r: Rehearsal, k: int, uow: UnitOfWork, now: dt.datetime) -> None:
        """Take step `k` of this record at `now`, in the step's unit of work."""


class PledgeTrack(Track):
    """A pledge: created, then submitted (perhaps returned once), approved, published, practised, appraised."""

    __slots__ = ("body", "commenter", "grade", "items", "owner", "pid", "reviewer", "secretary")
    lifecycle = "pledge"

    def __init__(self, steps: Sequence[str], times: Sequence[int], body: dict[str, Any], *actors: Actor):
        super().__init__(steps, times)
        self.body = body
        self.owner, self.reviewer, self.commenter, self.secretary = actors
        self.pid, self.grade = 0, "excellent"
        self.items: tuple[int, ...] = ()

    def run(self, r: Rehearsal, k: int, uow: UnitOfWork, now: dt.datetime) -> None:
        step, lc = self.steps[k], r.c.lifecycles
        if step == "create":
            self.pid = pledges.create(uow, lc, self.owner, CreatePledge.model_validate(self.body), now)
            r.created.append(self)
        elif step == "progress":
            note = AddProgress(item=self.items[0], note="按计划推进", happened_on=now.astimezone(r.tz).date())
            pledges.add_progress(uow, self.owner, self.pid, note, now)
        elif step == "comment":
            pledges.add_comment(uow, self.commenter, self.pid, AddComment.model_validate(COMMENT), now)
        else:
            actor, body = self._event(step, r, now)
            cmd = FireEvent.model_validate({"event": step, **body})
            events.fire_event(uow, lc, actor, "pledge", self.pid, cmd, None, now)

    def _event(self, step: str, r: Rehearsal, now: dt.datetime) -> tuple[Actor, dict[str, Any]]:
        if step == "submit":
            org = "org_id" in self.body
            return self.owner, {"data": {"meeting": {"held_on": r.date(9, 20), "attendees": 9}} if org else {}}
        if step == "publish":
            return self.secretary, {"data": {"channel": "notice_board", "published_on": now.astimezone(r.tz).date()}}
        if step == "request_appraisal":
            return self.owner, {}
        if step == "return":
            return self.reviewer, {"reason": RETURN_REASON}
        if step == "appraise":
            outcomes = [{"item": i, "outcome": "done"} for i in self.items]
            return self.reviewer, {"data": {"grade": self.grade, "outcomes": outcomes}}
        return self.reviewer, {}


class EvaluationTrack(Track):
    """A branch's self-evaluation: started, self-scored, submitted, accepted, scored and assessed."""

    __slots__ = ("assessor", "eid", "less", "office", "org_id", "secretary")
    lifecycle = "self_evaluation"

    def __init__(self, steps: Sequence[str], times: Sequence[int], org_id: int, *actors: Actor, less: int):
        super().__init__(steps, times)
        self.org_id, self.less, self.eid = org_id, less, 0
        self.secretary, self.office, self.assessor = actors

    def run(self, r: Rehearsal, k: int, uow: UnitOfWork, now: dt.datetime) -> None:
        c, step = r.c, self.steps[k]
        lc, sheet = c.lifecycles, c.scorecard
        if step == "create":
            cmd = CreateSelfEvaluation(year=r.year, org_id=self.org_id)
            self.eid = self_evaluations.create(uow, lc, self.secretary, cmd, now)
        elif step.endswith("_scores"):
            kind, actor, less = (
                ("self", self.secretary, 1) if step == "self_scores" else ("assessed", self.assessor, self.less)
            )
            items = [it for area in sheet.areas for it in area.items]
            rows = [
                {"code": it.code, "points": max(it.max_points - (less if n % 3 == 0 else 0), 0), "method": "documents"}
                for n, it in enumerate(items)
            ]
            scores = PutScores.model_validate({"kind": kind, "items": rows})
            self_evaluations.put_scores(uow, lc, actor, self.eid, scores, now)
        else:
            actor = {"accept": self.office, "assess": self.assessor}.get(step, self.secretary)
            body: dict[str, Any] = {"event": step}
            if step == "submit":
                body["data"] = {"report": REPORT, "meeting_held_on": r.date(11, 5), "questionnaires": 30}
            events.fire_event(uow, lc, actor, "self_evaluation", self.eid, FireEvent.model_validate(body), None, now)


class RoundTrack(Track):
    """A branch's 党员群众评议: created and opened by its secretary, one ballot per member on the branch, closed."""

    __slots__ = ("org_id", "rid", "secretary", "voters")
    lifecycle = "appraisal_round"
    RATINGS = ("satisfied",) * 14 + ("fairly",) * 4 + ("basic", "dissatisfied")

    def __init__(self, steps: Sequence[str], times: Sequence[int], org_id: int, secretary: Actor, voters: list[Actor]):
        super().__init__(steps, times)
        self.org_id, self.secretary, self.voters, self.rid = org_id, secretary, voters, 0

    def run(self, r: Rehearsal, k: int, uow: UnitOfWork, now: dt.datetime) -> None:
        lc, step = r.c.lifecycles, self.steps[k]
        if step == "create":
            self.rid = appraisals.open_round(uow, lc, self.secretary, CreateRound(year=r.year, org_id=self.org_id), now)
        elif step == "ballot":
            voter = self.voters[k - 2]
            rating = self.RATINGS[(voter.user_id or 0) * 7 % len(self.RATINGS)]
            ballot = CastBallot.model_validate({"subject": {"type": "org", "id": self.org_id}, "rating": rating})
            appraisals.cast(uow, lc.rating_scale, voter, self.rid, ballot)
        else:
            events.fire_event(uow, lc, self.secretary, "appraisal_round", self.rid, FireEvent(event=step), None, now)


@dataclass
class Rehearsal:
    """The container, the simulated year, and what the run did: use-case calls by kind, their time, refusals."""

    c: Container
    year: int
    start: dt.datetime
    calls: Counter[str] = field(default_factory=Counter)
    spent: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    refused: list[str] = field(default_factory=list)
    created: list[PledgeTrack] = field(default_factory=list)
    """Pledges created in the current step, whose item ids are read back once the step's calls are done."""
    busiest: tuple[int, int] = (0, 0)
    """The most use-case calls in one six-hour step, and that step's end (minutes after the start)."""
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    shift: dt.timedelta = dt.timedelta(0)
    """How far the played year is moved from its calendar (the live demo plays it around today)."""

    @property
    def tz(self) -> ZoneInfo:
        """The service's time zone (PLEDGEFLOW_TIMEZONE): the campaign's days and hours are local."""
        return ZoneInfo(self.c.settings.timezone)

    def minutes(self, month: int, day: int, hour: int = 10) -> int:
        """Minutes from the start to `hour` o'clock on (month, day) of the campaign year."""
        moment = dt.datetime(self.year, month, day, hour, tzinfo=self.tz) + self.shift
        return int((moment - self.start).total_seconds()) // 60

    def at(self, minutes: int) -> dt.datetime:
        return self.start + dt.timedelta(minutes=minutes)

    def date(self, month: int, day: int) -> str:
        """(month, day) of the campaign year, moved as the year is: a meeting's date, as ISO text."""
        return (dt.date(self.year, month, day) + self.shift).isoformat()


class Days:
    """Working-hours moments on the campaign's days, drawn from a seeded RNG: each step on a later day."""

    def __init__(self, r: Rehearsal, rng: random.Random):
        self.r, self.rng = r, rng
        local = r.start.astimezone(r.tz)
        self.first, self.opening = local.date(), local.hour * 60 + local.minute

    def day(self, month: int, day: int, spread: int = 0) -> int:
        """Days after the start to (month, day) — in January, of the next year — plus up to `spread`."""
        year = self.r.year + (1 if month < self.first.month else 0)
        return (dt.date(year, month, day) - self.first).days + self.rng.randint(0, spread)

    def chain(self, *specs: tuple[int, ...]) -> list[int]:
        """Days from specs: (lo, hi) days after the previous one, or (month, day, spread) but after the previous."""
        days: list[int] = []
        for spec in specs:
            if len(spec) == 2:
                days.append(days[-1] + self.rng.randint(*spec))
            else:
                days.append(max(self.day(*spec), days[-1] + 1 if days else 0))
        return days

    def moments(self, days: list[int]) -> list[int]:
        """Minutes after the start, between 08:00 and 21:00 local time on each day."""
        return [d * 1440 + self.rng.randint(8 * 60, 21 * 60) - self.opening for d in days]


def _demo_tracks(r: Rehearsal, s: Seeded) -> list[Track]:
    """The demo county's year, as `simulate --year` has always played it: four profiles, branch by branch."""
    tracks: list[Track] = []
    for n, person in enumerate(demo.pledgers(s)):
        owner, secretary = s.actors[f"person:{person.id}"], s.actors[f"secretary:{person.org_id}"]
        body = {"year": r.year, "person_id": person.id, "items": demo.ITEMS}
        tracks.append(PledgeTrack(*_days(r, PLEDGE_STEPS, PROFILES[n % 4][1]), body, owner, *[secretary] * 3))
    plans: list[list[Any]] = [
        [(10, 20), (11, 14), (11, 15), (11, 18), (12, 19), (12, 20)],
        [(11, 1), (11, 24), (11, 25), (11, 28), (12, 29), (12, 30)],
        [(11, 10), None, None, None, None, None],
        [None] * 6,
    ]
    office, supervisor = s.actors["office"], s.actors["supervisor"]
    for b, branch in enumerate(s.branches):
        secretary = s.actors[f"secretary:{branch.id}"]
        body = {"year": r.year, "org_id": branch.id, "items": demo.ITEMS}
        org_pledge = _days(r, PLEDGE_STEPS, PROFILES[b % 4][1])
        tracks.append(PledgeTrack(*org_pledge, body, secretary, supervisor, supervisor, secretary))
        evaluation = _days(r, EVALUATION_STEPS, plans[b % 4])
        tracks.append(EvaluationTrack(*evaluation, branch.id or 0, secretary, office, supervisor, less=1 + 2 * b))
    return tracks


def _days(r: Rehearsal, names: Sequence[str], days: list[Any]) -> tuple[list[str], list[int]]:
    """Created at the start, then each named step on its (month, day) at 10:00, or never when None."""
    steps, times = ["create"], [0]
    for name, day in zip(names, days, strict=True):
        if day is not None:
            steps.append(name)
            times.append(r.minutes(*day))
    return steps, times


def _county_tracks(r: Rehearsal, county: County) -> list[Track]:
    """A generated county's year: every pledge goes all the way, most on time, some late, a few returned once."""
    days = Days(r, random.Random(f"{county.shape.seed}:{r.year}"))
    tracks: list[Track] = []
    for branch in county.branches:
        secretary, supervisor = county.secretaries[branch.id], county.supervisor_of[branch.general_id]
        body = {"year": r.year, "org_id": branch.id, "items": demo.ITEMS}
        tracks.append(_pledge(days, body, secretary, supervisor, supervisor, secretary))
        for pid in branch.members:
            up = supervisor if pid == branch.secretary else secretary
            body = {"year": r.year, "person_id": pid, "items": demo.ITEMS}
            tracks.append(_pledge(days, body, county.members[pid], up, up, secretary))
        tracks.append(_evaluation(days, branch.id, secretary, county.office, supervisor))
        tracks.append(_round(days, branch.id, secretary, [county.members[pid] for pid in branch.members]))
    return tracks


WRITTEN = ((9, 20, 14), (1, 6), (1, 4), (1, 3))
"""create, submit, approve, publish: written in late September, public by mid-October."""
PRACTISED = ((11, 1, 25), (12, 1, 9), (1, 4), (1, 6))
"""progress, request_appraisal, comment, appraise: all done before Christmas."""


def _pledge(days: Days, body: dict[str, Any], *actors: Actor) -> PledgeTrack:
    draw, steps = days.rng.random(), ["create", *PLEDGE_STEPS]
    if draw < 0.15:  # published late: written and reviewed after the October deadline
        chain = days.chain((10, 15, 10), (10, 28, 5), (11, 3, 5), (11, 9, 6), (11, 20, 10), (12, 5, 10), (1, 3), (1, 5))
    elif draw < 0.25:  # appraised late: asked for appraisal at Christmas, graded in the new year
        chain = days.chain(*WRITTEN, (11, 1, 25), (12, 18, 8), (1, 3), (1, 1, 1))
    elif draw < 0.30:  # returned once by the reviewer, then submitted again
        chain = days.chain(*WRITTEN[:2], (1, 3), (1, 3), *WRITTEN[2:], *PRACTISED)
        steps[2:2] = ["return", "submit"]
    else:
        chain = days.chain(*WRITTEN, *PRACTISED)
    track = PledgeTrack(steps, days.moments(chain), body, *actors)
    track.grade = days.rng.choice(GRADES)
    return track


def _evaluation(days: Days, org_id: int, secretary: Actor, office: Actor, assessor: Actor) -> EvaluationTrack:
    draw, written = days.rng.random(), ((10, 8, 10), (1, 5), (1, 10))
    if draw < 0.15:  # reported after the mid-November deadline
        chain = days.chain(*written, (11, 21, 8), (1, 3), (12, 1, 15), (1, 3))
    elif draw < 0.20:  # assessed in the new year
        chain = days.chain(*written, (11, 10, 10), (1, 3), (12, 28, 2), (1, 1, 1))
    else:
        chain = days.chain(*written, (11, 10, 10), (1, 3), (12, 1, 15), (1, 3))
    less = days.rng.choice((0, 1, 1, 2, 2, 3, 5))
    steps = ["create", *EVALUATION_STEPS]
    return EvaluationTrack(steps, days.moments(chain), org_id, secretary, office, assessor, less=less)


def _round(days: Days, org_id: int, secretary: Actor, voters: list[Actor]) -> RoundTrack:
    late = days.rng.random() < 0.05
    created, opened, closed = days.moments(days.chain((12, 1, 3), (1, 2), (1, 1, 1) if late else (12, 20, 8)))
    ballots = sorted((days.rng.randint(opened + 1, closed - 1), n) for n in range(len(voters)))
    steps = ["create", "open", *["ballot"] * len(voters), "close"]
    times = [created, opened, *(t for t, _ in ballots), closed]
    return RoundTrack(steps, times, org_id, secretary, [voters[n] for _, n in ballots])


def play(r: Rehearsal, tracks: list[Track], end: int, clock: SimClock, out: TextIO | None) -> None:
    """Advance the clock a step at a time: the actions due, in one unit of work, then the sweep (and the timeline)."""
    c = r.c
    queue = [(t.times[0], n, n, 0) for n, t in enumerate(tracks) if t.times]
    heapq.heapify(queue)
    seq, last = len(queue), 0
    names = _user_names(c) if out else {}
    for now_minutes in range(0, end + 1, STEP):
        if queue and queue[0][0] <= now_minutes:
            started, calls = time.perf_counter(), 0
            with UnitOfWork(c.db) as uow:
                while queue and queue[0][0] <= now_minutes:
                    calls += 1
                    minute, _, n, k = heapq.heappop(queue)
                    track = tracks[n]
                    _act(r, track, k, uow, r.at(minute), clock)
                    if k + 1 < len(track.times):
                        heapq.heappush(queue, (track.times[k + 1], seq, n, k + 1))
                        seq += 1
                _read_items(r, uow)
            r.seconds["actions"] += time.perf_counter() - started
            r.busiest = max(r.busiest, (calls, now_minutes))
        now = clock.now = r.at(now_minutes)
        started = time.perf_counter()
        sweep(c.db, c.catalog, now)
        r.seconds["sweep"] += time.perf_counter() - started
        if out is not None:
            last = _print_notices(c, names, now, last, out)


def _read_items(r: Rehearsal, uow: UnitOfWork) -> None:
    """The item ids of the pledges created in this step (for progress records and outcomes), in one query."""
    if not r.created:
        return
    started, by_pledge = time.perf_counter(), {t.pid: t for t in r.created}
    q = select(PledgeItem.pledge_id, PledgeItem.id).where(col(PledgeItem.pledge_id).in_(by_pledge))
    items: defaultdict[int, list[int]] = defaultdict(list)
    for pledge_id, item_id in uow.session.exec(q.order_by(col(PledgeItem.pledge_id), col(PledgeItem.position))):
        items[pledge_id].append(item_id or 0)
    for pid, track in by_pledge.items():
        track.items = tuple(items[pid])
    r.created.clear()
    r.seconds["read_items"] += time.perf_counter() - started


def _act(r: Rehearsal, track: Track, k: int, uow: UnitOfWork, at: dt.datetime, clock: SimClock) -> None:
    """One use-case call; a refusal is rolled back, noted, and the rehearsal goes on."""
    kind, started = f"{track.lifecycle}.{track.steps[k]}", time.perf_counter()
    clock.now = at
    try:
        track.run(r, k, uow, at)
    except (ServiceError, WorkflowError) as exc:
        uow.session.rollback()
        r.refused.append(f"{at.astimezone(r.tz):%Y-%m-%d %H:%M} {kind}: {exc}")
    r.calls[kind] += 1
    r.spent[kind] += time.perf_counter() - started


def _print_notices(c: Container, names: dict[int, str], now: dt.datetime, last: int, out: TextIO) -> int:
    """The deadline notices (reminders, overdue notices, escalations) published since `last`: the
    timeline; event notices (returned, approved, …) are counted, not printed."""
    with UnitOfWork(c.db, write=False) as uow:
        new = uow.session.exec(select(Notice).where(col(Notice.id) > last).order_by(col(Notice.id))).all()
    for n in new:
        last = n.id or last
        if n.kind not in DEADLINE_NOTICES:
            continue
        who = "、".join(names.get(u, str(u)) for u in n.recipients) or "（无收件人）"
        print(
            f"{now.astimezone(ZoneInfo(c.settings.timezone)):%Y-%m-%d %H:%M} "
            f"[{NoticeKind.of(n.kind).label_zh}] {n.title} → {who}",
            file=out,
        )
        last = n.id or last
    return last


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
            view = events.get(uow.session, c.lifecycles, admin_actor(), "self_evaluation", ev.id or 0, c.clock())
            band = view["band"]["label_zh"] if view["band"] else "—"
            stage = "、".join(f"{k}{v}份" for k, v in sorted(states.items()))
            score = view["assessed_score"] if view["assessed_score"] is not None else "—"
            print(
                f"- {branch.name}：承诺书{len(rows)}份（{stage}）；期限按期{status['met']}项、"
                f"逾期完成{status['late']}项、逾期未完成{status['missed']}项；"
                f"自查报告：{view['state_label']}，考核得分{score}（{band}）",
                file=out,
            )


def figures(c: Container, year: int) -> dict[str, Any]:
    """What the year left in the database, counted by state, status and kind (a few GROUP BY queries)."""
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session

        def grouped(*columns: Any, where: Any = None) -> dict[Any, int]:
            q = sa.select(*columns, sa.func.count()).group_by(*columns)
            rows = s.execute(q if where is None else q.where(where)).all()
            return {(tuple(row[:-1]) if len(row) > 2 else row[0]): row[-1] for row in rows}

        def count(table: Any, where: Any = None) -> int:
            q = sa.select(sa.func.count()).select_from(table)
            return int(s.execute(q if where is None else q.where(where)).scalar_one())

        assessed = s.execute(
            sa.select(col(ScoreEntry.evaluation_id), sa.func.sum(col(ScoreEntry.points)))
            .where(col(ScoreEntry.kind) == "assessed")
            .group_by(col(ScoreEntry.evaluation_id))
        ).all()
        return {
            "orgs": grouped(col(Org.kind)),
            "people": count(Person),
            "users": count(User),
            "pledges": grouped(col(Pledge.state), where=Pledge.year == year),
            "deadlines": grouped(col(Deadline.subject_type), col(Deadline.name), col(Deadline.status)),
            "evaluations": grouped(col(SelfEvaluation.state), where=SelfEvaluation.year == year),
            "bands": Counter(c.scorecard.band(total).code for _, total in assessed),
            "rounds": grouped(col(AppraisalRound.state), where=AppraisalRound.year == year),
            "ballots": {
                r: int(n)
                for r, n in s.execute(
                    sa.select(col(Tally.rating), sa.func.sum(col(Tally.ballots))).group_by(col(Tally.rating))
                )
            },
            "notices": grouped(col(Notice.kind)),
            "inbox_entries": count(InboxEntry),
            "history": count(History),
            "late_transitions": count(History, History.late == sa.true()),
        }


@dataclass
class Outcome:
    """What a rehearsal did and how long it took: for the summary, the tests and bench/simulate.py."""

    dialect: str
    seconds: dict[str, float]
    calls: dict[str, int]
    spent: dict[str, float]
    refused: list[str]
    figures: dict[str, Any]
    db_bytes: int
    busiest: tuple[int, dt.datetime]
    """The most use-case calls in one six-hour step of the simulated clock, and when that step ended."""

    @property
    def transitions(self) -> int:
        return int(self.figures["history"])


def simulate(
    year: int,
    out: TextIO,
    shape: Shape | None = None,
    database_url: str | None = None,
    timeline: bool | None = None,
) -> Outcome:
    """Rehearse `year`: the demo county and its timeline, or a generated county of `shape` and a summary.

    The database is a temporary SQLite file unless `database_url` names an empty one."""
    started, cpu = time.perf_counter(), time.process_time()
    tz = ZoneInfo(Settings().timezone)
    start, end = dt.datetime(year, 9, 1, 8, tzinfo=tz), dt.datetime(year + 1, 1, 3, 8, tzinfo=tz)
    with ExitStack() as stack:
        if database_url is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pledgeflow-simulate-"))
            database_url = f"sqlite:///{tmp}/rehearsal.db"
        clock = SimClock(start)
        c = build_container(Settings(database_url=database_url, scheduler=False), clock)
        stack.callback(c.db.dispose)
        _require_empty(c)
        r = Rehearsal(c, year, start)
        r.seconds["setup"] = time.perf_counter() - started
        seeded, county = None, None
        if shape is None:
            seeded = demo.seed(c, start, accounts_for_all=True, with_pledges=False)
            tracks = _demo_tracks(r, seeded)
        else:
            county = generate(c, shape, year, start)
            r.seconds["generate"] = time.perf_counter() - started - r.seconds["setup"]
            tracks = _county_tracks(r, county)
        print(f"{year}年度创先争优活动演练（模拟时钟，{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）", file=out)
        print("\n".join(policy_lines(c, year)), file=out)
        show = shape is None if timeline is None else timeline
        play(r, tracks, int((end - start).total_seconds()) // 60, clock, out if show else None)
        if seeded is not None:
            _summary(c, seeded, year, out)
        counted = figures(c, year)
        r.seconds["total"] = time.perf_counter() - started
        r.seconds["cpu"] = time.process_time() - cpu
        busiest = (r.busiest[0], r.at(r.busiest[1]))
        outcome = Outcome(
            c.db.dialect.name,
            dict(r.seconds),
            dict(r.calls),
            dict(r.spent),
            r.refused,
            counted,
            db_bytes(c.db),
            busiest,
        )
        if county is not None:
            _report(c, county, outcome, out)
        return outcome


WEEKDAYS = "一二三四五六日"


def policy_lines(c: Container, year: int) -> list[str]:
    """Where each calendar policy would move the year's deadlines (China's holidays and 调休); the
    rehearsal itself keeps them as set (`fixed`)."""
    tz = c.settings.timezone
    calendar = default_calendar(c.catalog, year)
    as_set = resolve_deadlines(calendar, tz, {})
    labels = deadline_labels(c.catalog)

    def day(due: dt.datetime) -> str:
        local = due.astimezone(ZoneInfo(tz))
        return f"{local:%Y-%m-%d}（星期{WEEKDAYS[local.weekday()]}）"

    moving = [p for p in CalendarPolicy if p is not CalendarPolicy.fixed]
    lines = ["各期限在日历规则下的日期（法定节假日和调休）："]
    try:
        moved = {p: move_deadlines(as_set, p, tz) for p in moving}
        for name, due in as_set.items():
            ways = "；".join(
                f"{p.label_zh} {day(moved[p][name])}" if moved[p][name] != due else f"{p.label_zh}：不变"
                for p in moving
            )
            lines.append(f"- {labels.get(name, name)}：{day(due)} → {ways}")
    except Invalid as exc:
        lines.append(f"- {exc.detail}")
    return [*lines, f"本次演练按“{CalendarPolicy.fixed.label_zh}”进行。"]


def _require_empty(c: Container) -> None:
    with UnitOfWork(c.db, write=False) as uow:
        if uow.session.exec(select(Org.id).limit(1)).first() is not None:
            raise Conflict("演练需要一个空数据库：该数据库已有党组织")


def db_bytes(db: sa.Engine) -> int:
    """The database's size on disk: SQLite's file after a checkpoint, or PostgreSQL's tables and indexes."""
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            path = Path(db.url.database or "")
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        q = (
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')"
        )
        return int(conn.exec_driver_sql(q).scalar_one() or 0)


def _report(c: Container, county: County, o: Outcome, out: TextIO) -> None:
    """The generated county's year in a few Chinese lines: counts by state, deadlines, notices, time taken."""
    f, lcs = o.figures, c.catalog.lifecycles
    orgs = f["orgs"]
    print(
        f"规模：{sum(orgs.values()):,}个党组织（教育工委{orgs.get('committee', 0)}个、"
        f"党总支{orgs.get('general_branch', 0)}个、党支部{orgs.get('branch', 0):,}个），"
        f"党员{f['people']:,}名，用户账号{f['users']:,}个",
        file=out,
    )
    print(f"\n承诺书{sum(f['pledges'].values()):,}份：{_states(lcs['pledge'], f['pledges'], '份')}", file=out)
    evaluations = _states(lcs["self_evaluation"], f["evaluations"], "份")
    print(f"自查总结评估报告{sum(f['evaluations'].values()):,}份：{evaluations}", file=out)
    bands = "、".join(f"{b.label_zh}{f['bands'][b.code]:,}个" for b in c.scorecard.bands if f["bands"].get(b.code))
    print(f"  考核等次：{bands or '—'}", file=out)
    print(
        f"党员群众评议{sum(f['rounds'].values()):,}轮：{_states(lcs['appraisal_round'], f['rounds'], '轮')}", file=out
    )
    ratings = "、".join(f"{x.label_zh}{f['ballots'].get(x.code, 0):,}" for x in c.catalog.rating_scale.ratings)
    print(f"  选票{sum(f['ballots'].values()):,}张（{ratings}）", file=out)
    print("\n期限：", file=out)
    for name in ("pledge", "self_evaluation", "appraisal_round"):
        for rule in lcs[name].deadlines:
            statuses = {s: n for (t, d, s), n in f["deadlines"].items() if t == name and d == rule.name}
            labels = DeadlineStatus.labels().items()
            shown = "、".join(f"{label}{statuses[s]:,}项" for s, label in labels if statuses.get(s))
            print(f"- {lcs[name].label_zh}·{rule.label_zh}：{shown or '—'}", file=out)
    notices = "、".join(f"{k.label_zh}{f['notices'].get(k.value, 0):,}条" for k in DEADLINE_NOTICES)
    print(f"\n通知{sum(f['notices'].values()):,}条（{notices}），收件箱{f['inbox_entries']:,}条", file=out)
    calls, history = sum(o.calls.values()), o.transitions
    print(
        f"用例调用{calls:,}次（被拒绝{len(o.refused)}次），状态变更{history:,}次（其中逾期后办理{f['late_transitions']:,}次）",
        file=out,
    )
    for line in o.refused[:5]:
        print(f"  被拒绝：{line}", file=out)
    calls_then, then = o.busiest
    print(
        f"最忙的6小时：至{then.astimezone(ZoneInfo(c.settings.timezone)):%Y-%m-%d %H:%M}，用例调用{calls_then:,}次",
        file=out,
    )
    s = o.seconds
    run, total = s["actions"] + s["sweep"], s["total"]
    print(
        f"\n用时：建库{s['setup']:.1f}秒、生成{s.get('generate', 0):.1f}秒、演练{run:.1f}秒"
        f"（用例{s['actions']:.1f}秒、定时扫描{s['sweep']:.1f}秒），合计{total:.1f}秒（本进程CPU {s['cpu']:.1f}秒）",
        file=out,
    )
    print(
        f"速度：每秒状态变更{history / total:,.0f}次、用例调用{calls / total:,.0f}次；"
        f"数据库{o.db_bytes / 2**20:,.1f} MB（{o.dialect}）",
        file=out,
    )


def _states(lc: Any, counts: dict[str, int], unit: str) -> str:
    return "、".join(f"{s.label_zh}{counts[s.code]:,}{unit}" for s in lc.states if counts.get(s.code)) or "—"
