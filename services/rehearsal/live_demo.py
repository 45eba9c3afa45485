"""The demo a newcomer first sees (`serve --demo`, `pledgeflow demo`): the demo county with its campaign
in progress on the day it is seeded.

The year's calendar is moved so that today is 14 November of it: 完成公开 passed two weeks ago, 上报自查报告
is six days ahead and the year-end deadlines further. The weeks before today are played on a simulated
clock with the rehearsal's tracks and sweeps (services/rehearsal/simulate.py), so every record got where it
is through the use cases, with its history, and the notices those weeks sent are in the inboxes: pledges
at every stage (a few late, one returned with its reason), self-evaluations from draft to accepted, one
waiting for 受理, and a round of 党员群众评议 open.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from services.config import Settings
from services.container import build_container
from services.persistence.tables import Org
from services.persistence.uow import UnitOfWork
from services.rehearsal import demo
from services.rehearsal.demo import Seeded
from services.rehearsal.simulate import (
    EvaluationTrack,
    PledgeTrack,
    Rehearsal,
    RoundTrack,
    SimClock,
    Track,
    play,
)
from services.usecases.campaigns import default_calendar

TODAY = (11, 14)
"""The day of the played calendar that the seeding day becomes."""
Steps = list[tuple[str, int, int]]
MEMBER_PLEDGES: list[Steps] = [
    [("submit", 10, 20), ("return", 10, 22)],  # returned: the member to try first reads why, amends, resubmits
    [("submit", 10, 8), ("approve", 10, 10), ("publish", 10, 12), ("progress", 10, 25), ("request_appraisal", 11, 1),
     ("comment", 11, 5), ("appraise", 11, 8)],
    [("submit", 10, 9), ("approve", 10, 12), ("publish", 10, 14), ("progress", 11, 3), ("request_appraisal", 11, 10)],
    [("submit", 10, 10), ("approve", 10, 14), ("publish", 10, 16), ("progress", 11, 6)],
    [("submit", 10, 12), ("approve", 10, 16), ("publish", 10, 20), ("progress", 11, 12), ("comment", 11, 13)],
    [("submit", 10, 28), ("approve", 11, 4), ("publish", 11, 6)],  # published after the deadline
    [("submit", 10, 15), ("approve", 10, 18), ("publish", 10, 22)],
    [("submit", 11, 12)],  # submitted late, not yet reviewed
]  # fmt: skip
ORG_PLEDGES: list[Steps] = [
    [("submit", 11, 12)],  # waiting for the supervisor whose token is shown
    [("submit", 10, 10), ("approve", 10, 12), ("publish", 10, 15), ("progress", 11, 5)],
    [("submit", 10, 12), ("approve", 10, 14), ("publish", 10, 18)],
    [("submit", 10, 26), ("approve", 10, 30)],  # approved, not yet made public: late
]
EVALUATIONS: list[Steps] = [
    [("start", 10, 15), ("self_scores", 10, 20), ("submit", 11, 10), ("accept", 11, 12)],
    [("start", 10, 20), ("self_scores", 11, 1)],
    [("start", 11, 5)],
    [("start", 10, 18), ("self_scores", 10, 25), ("submit", 11, 13)],  # waiting for the office's 受理
]
ROUND: Steps = [("open", 11, 11)]
"""The first branch's 党员群众评议: opened three days ago, four ballots cast, open for the rest."""
VOTERS = 4


def seed_live(settings: Settings, now: dt.datetime) -> Seeded | None:
    """Seed the demo county into an empty database with its year played up to `now`; None when the
    database already holds an org."""
    tz = ZoneInfo(settings.timezone)
    local = now.astimezone(tz)
    shift = dt.timedelta(days=(local.date() - dt.date(local.year, *TODAY)).days)
    start = dt.datetime(local.year, 9, 1, 8, tzinfo=tz) + shift
    clock = SimClock(start)
    c = build_container(settings.model_copy(update={"scheduler": False}), clock)
    try:
        with UnitOfWork(c.db, write=False) as uow:
            if uow.session.exec(select(Org.id).limit(1)).first() is not None:
                return None
        calendar = default_calendar(c.catalog, local.year)
        deadlines = {name: _moved(value, shift) for name, value in calendar.deadlines.items()}
        seeded = demo.seed(c, start, accounts_for_all=True, with_pledges=False, year=local.year, deadlines=deadlines)
        r = Rehearsal(c, local.year, start, shift=shift)
        tracks = _tracks(r, seeded)
        play(r, tracks, int((now - start).total_seconds()) // 60, clock, None)
        seeded.pledges, seeded.refused = len(demo.pledgers(seeded)) + len(seeded.branches), r.refused
        return seeded
    finally:
        c.db.dispose()


def _moved(value: dt.date | dt.datetime, shift: dt.timedelta) -> str:
    return (value + shift).isoformat()


def _tracks(r: Rehearsal, s: Seeded) -> list[Track]:
    office, supervisor, other_supervisor = s.actors["office"], s.actors["supervisor"], s.actors["supervisor:2"]
    tracks: list[Track] = []
    for n, person in enumerate(demo.pledgers(s)):
        owner, secretary = s.actors[f"person:{person.id}"], s.actors[f"secretary:{person.org_id}"]
        body = {"year": r.year, "person_id": person.id, "items": demo.ITEMS}
        tracks.append(PledgeTrack(*_timed(r, MEMBER_PLEDGES[n % len(MEMBER_PLEDGES)]), body, owner, *[secretary] * 3))
    for b, branch in enumerate(s.branches):
        secretary = s.actors[f"secretary:{branch.id}"]
        reviewer = supervisor if b == 0 else other_supervisor
        org_body: dict[str, Any] = {"year": r.year, "org_id": branch.id, "items": demo.ITEMS}
        tracks.append(PledgeTrack(*_timed(r, ORG_PLEDGES[b]), org_body, secretary, reviewer, reviewer, secretary))
        assessor = supervisor if b == 0 else other_supervisor
        steps, times = _timed(r, EVALUATIONS[b])
        tracks.append(EvaluationTrack(steps, times, branch.id or 0, secretary, office, assessor, less=1 + b))
    first = s.branches[0]
    shown = demo.pledgers(s)[0].id  # the member whose token is shown votes herself
    voters = [s.actors[f"person:{p.id}"] for p in demo.pledgers(s) if p.org_id == first.id and p.id != shown]
    steps, times = _timed(r, [*ROUND, *(("ballot", 11, 12 + n // 2) for n in range(VOTERS))])
    tracks.append(RoundTrack(steps, times, first.id or 0, s.actors[f"secretary:{first.id}"], voters[:VOTERS]))
    return tracks


def _timed(r: Rehearsal, steps: Steps) -> tuple[list[str], list[int]]:
    """Created at the start, then each step at 10:00 on its (month, day) of the moved calendar."""
    return ["create", *(name for name, _, _ in steps)], [0, *(r.minutes(m, d) for _, m, d in steps)]
