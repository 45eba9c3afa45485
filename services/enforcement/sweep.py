"""The deadline sweep: set-based SQL over indexed rows, in chunks; idempotent, so safe to repeat."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions import Catalog
from notifications.outbox import NoticeDraft, active_webhooks, among, publish
from services.enforcement import digests, notices
from services.enforcement.recipients import Subject, add_people, load_directory
from services.lifecycle.calendar import reminder_time
from services.lifecycle.deadlines import campaign_stages, notice_at
from services.persistence.tables import (
    AppraisalRound,
    Campaign,
    Deadline,
    Org,
    Person,
    Pledge,
    Rectification,
    SelfEvaluation,
)
from services.persistence.uow import UnitOfWork
from workflow import deadlines as dl

CHUNK = 5000
DEADLINE: sa.Table = Deadline.__table__  # type: ignore[attr-defined]
PLEDGE: sa.Table = Pledge.__table__  # type: ignore[attr-defined]
ORG: sa.Table = Org.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = Person.__table__  # type: ignore[attr-defined]
SUBJECTS: dict[str, sa.Table] = {
    "pledge": PLEDGE,
    "self_evaluation": SelfEvaluation.__table__,  # type: ignore[attr-defined]
    "appraisal_round": AppraisalRound.__table__,  # type: ignore[attr-defined]
    "rectification": Rectification.__table__,  # type: ignore[attr-defined]
}
"""The records a deadline can belong to, by lifecycle; each has a state and an org."""


@dataclass
class SweepResult:
    missed: int = 0
    notices: int = 0
    deadlines: int = 0


def sweep(db: sa.Engine, catalog: Catalog, now: dt.datetime, chunk: int = CHUNK) -> SweepResult:
    """Send every notice whose time has come (once each), and mark passed deadlines missed."""
    result = SweepResult()
    drafter: notices.Drafter | None = None
    while True:
        with UnitOfWork(db) as uow:
            rows = _due_rows(uow.session, now, chunk)
            if not rows:
                break
            drafter = drafter or notices.Drafter(load_directory(uow.session), now)
            add_people(uow.session, drafter.directory, {r.person_id for r in rows if r.person_id is not None})
            missed, created = _emit(uow.session, catalog, drafter, rows, now)
            result.missed += missed
            result.notices += len(created)
            result.deadlines += len(rows)
            uow.commit()
        if len(rows) < chunk:
            break
    # Most passed deadlines were due rows, marked with their next stage; this finds the others.
    result.missed += mark_missed(db, now, chunk)
    return result


def mark_missed(db: sa.Engine, now: dt.datetime, chunk: int) -> int:
    """pending → missed for every deadline past due, one chunk per transaction."""
    total = 0
    while True:
        with UnitOfWork(db) as uow:
            ids = (
                select(Deadline.id)
                .where(Deadline.status == dl.PENDING, col(Deadline.due_at) <= now)
                .limit(chunk)
                .scalar_subquery()
            )
            stmt = sa.update(Deadline).where(col(Deadline.id).in_(ids)).values(status=dl.MISSED, fired_at=now)
            result: Any = uow.session.execute(stmt, execution_options={"synchronize_session": False})
            count = int(result.rowcount)
            uow.commit()
        total += count
        if count < chunk:
            return total


def _due_rows(session: Session, now: dt.datetime, chunk: int) -> list[Due]:
    """The deadlines whose next notice is due, each read with its record."""
    d = DEADLINE.c
    q = _with_subjects(
        sa.select(d.id, d.year, d.subject_type, d.subject_id, d.name, d.due_at, d.status, d.notice_stage)
    )
    q = q.where(d.next_notice_at <= now).order_by(d.next_notice_at).limit(chunk)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True, of=DEADLINE)
    return [Due._make(row) for row in session.execute(q)]


def _with_subjects(q: sa.Select[Any]) -> sa.Select[Any]:
    """Join each row's record (by its lifecycle), the record's org and, for a person's pledge, the person."""
    joined: sa.FromClause = DEADLINE
    for lifecycle, table in SUBJECTS.items():
        mine = sa.and_(DEADLINE.c.subject_type == lifecycle, table.c.id == DEADLINE.c.subject_id)
        joined = joined.outerjoin(table, mine)
    org_id = sa.func.coalesce(*(table.c.org_id for table in SUBJECTS.values()))
    joined = joined.outerjoin(ORG, ORG.c.id == org_id).outerjoin(PERSON, PERSON.c.id == PLEDGE.c.person_id)
    state = sa.func.coalesce(*(table.c.state for table in SUBJECTS.values()))
    subject = (state, org_id, ORG.c.name, PLEDGE.c.person_id, PLEDGE.c.submitted_on_behalf, PERSON.c.name)
    return q.add_columns(*subject).select_from(joined)


class Due(NamedTuple):
    """A deadline whose next notice is due, with its record's state, org and name (None when the record is gone),
    in the order `_due_rows` selects them. A plain tuple: a SQLAlchemy Row's columns by name are several times
    slower to read, and a chunk reads each a few times."""

    id: int
    year: int
    lifecycle: str
    subject_id: int
    name: str
    due_at: dt.datetime
    status: str
    notice_stage: int
    state: str | None
    org_id: int | None
    org_name: str | None
    person_id: int | None
    on_behalf: bool | None
    person_name: str | None

    def subject(self) -> Subject | None:
        if self.state is None or self.org_id is None or self.org_name is None:
            return None
        name = self.person_name or self.org_name
        on_behalf = bool(self.on_behalf)
        return Subject(self.lifecycle, self.subject_id, name, self.org_id, self.state, self.person_id, on_behalf)


class Step(NamedTuple):
    """Where a due deadline goes: the notices to send now, its next stage and when that falls due."""

    send: list[dl.Stage]
    stage: int
    at: dt.datetime | None


@dataclass
class Campaigns:
    """The campaigns' notice stages and time zones by year, and each kind of deadline's next step at `now`."""

    stages: dict[int, list[dl.Stage]]
    timezones: dict[int, str]
    now: dt.datetime
    _steps: dict[tuple[int, int, dt.datetime], Step] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, now: dt.datetime) -> Campaigns:
        campaigns = session.exec(select(Campaign)).all()
        return cls({c.year: campaign_stages(c) for c in campaigns}, {c.year: c.timezone for c in campaigns}, now)

    def step(self, due: Due) -> Step:
        """Worked out once per year, stage and due time: thousands of rows share them."""
        key = (due.year, due.notice_stage, due.due_at)
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = self.next_step(due.year, due.notice_stage, due.due_at)
        return step

    def next_step(self, year: int, start: int, due: dt.datetime) -> Step:
        """The stages due now and the next one's time; a reminder due now outside working hours (a sweep
        that runs late) is held to the next working morning instead of going out."""
        stages, timezone = self.stages[year], self.timezones[year]
        send, stage, at = dl.due_stages(stages, start, due, self.now)
        held = reminder_time(self.now, timezone)
        if send and send[0].kind == dl.REMINDER and held != self.now:
            return Step(send[1:], stages.index(send[0]), min(held, due))
        return Step(send, stage, notice_at(stages, stage, at, due, timezone))


def _emit(
    session: Session, catalog: Catalog, drafter: notices.Drafter, rows: list[Due], now: dt.datetime
) -> tuple[int, list[int]]:
    """Advance the rows and publish their notices (a person's several reminders as one digest); the number
    of rows newly missed, the notices created."""
    campaigns = Campaigns.load(session, now)
    missed = _advance(session, campaigns, rows)
    zoned = [(d, campaigns.timezones[due.year]) for due in rows for d in _drafts(catalog, drafter, campaigns, due)]
    webhooks = active_webhooks(session)
    return missed, publish(session, digests.gather(zoned, now), webhooks, drafter.directory.emails, now)


def _advance(session: Session, campaigns: Campaigns, rows: list[Due]) -> int:
    """Move each row to its next stage, and a pending one past due to missed: one UPDATE per outcome."""
    now = campaigns.now
    outcomes: dict[tuple[int, dt.datetime | None, bool], list[int]] = defaultdict(list)
    for due in rows:
        step = campaigns.step(due)
        outcomes[(step.stage, step.at, due.status == dl.PENDING and due.due_at <= now)].append(due.id)
    for (stage, at, missed), ids in outcomes.items():
        values: dict[str, Any] = {"notice_stage": stage, "next_notice_at": at}
        if missed:
            values |= {"status": dl.MISSED, "fired_at": now}
        session.execute(sa.update(DEADLINE).where(among(session, DEADLINE.c.id, ids)).values(values))
    return sum(len(ids) for (_, _, missed), ids in outcomes.items() if missed)


def _drafts(catalog: Catalog, drafter: notices.Drafter, campaigns: Campaigns, due: Due) -> Iterator[NoticeDraft]:
    subject = due.subject()
    if subject is None:
        return
    lc = catalog.lifecycles[due.lifecycle]
    for stage in campaigns.step(due).send:
        yield drafter.draft(stage, subject, lc, due.name, due.due_at, campaigns.timezones[due.year])


def next_wake(db: sa.Engine) -> dt.datetime | None:
    """The earliest moment something becomes due: a notice, or a deadline turning missed."""
    with UnitOfWork(db, write=False) as uow:
        notice_at = uow.session.exec(select(sa.func.min(Deadline.next_notice_at))).one()
        due_at = uow.session.exec(select(sa.func.min(Deadline.due_at)).where(Deadline.status == dl.PENDING)).one()
    times = [t for t in (notice_at, due_at) if t is not None]
    return min(times) if times else None
