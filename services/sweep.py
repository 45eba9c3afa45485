"""The deadline sweep: set-based SQL over indexed rows, in chunks; idempotent, so safe to repeat."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions import Catalog
from notifications.outbox import NoticeDraft, publish
from notifications.tables import Webhook
from services import notices
from services.recipients import Directory, Subject, load_directory
from services.records import campaign_stages
from services.tables import AppraisalRound, Campaign, Deadline, Org, Person, Pledge, Rectification, SelfEvaluation
from services.uow import UnitOfWork
from workflow import deadlines as dl

CHUNK = 5000
ORG_RECORDS: dict[str, Any] = {
    "self_evaluation": SelfEvaluation,
    "appraisal_round": AppraisalRound,
    "rectification": Rectification,
}
"""Records whose subject, for a notice, is their org."""


@dataclass
class SweepResult:
    missed: int = 0
    notices: int = 0
    deadlines: int = 0


def sweep(db: sa.Engine, catalog: Catalog, now: dt.datetime, chunk: int = CHUNK) -> SweepResult:
    """Mark passed deadlines missed, then send every notice whose time has come (once each)."""
    result = SweepResult(missed=mark_missed(db, now, chunk))
    directory: Directory | None = None
    while True:
        with UnitOfWork(db) as uow:
            rows = _due_rows(uow.session, now, chunk)
            if not rows:
                break
            directory = directory or load_directory(uow.session)
            result.notices += len(_emit(uow.session, catalog, directory, rows, now))
            result.deadlines += len(rows)
            uow.commit()
        if len(rows) < chunk:
            break
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


def _due_rows(session: Session, now: dt.datetime, chunk: int) -> list[Any]:
    q = (
        sa.select(
            col(Deadline.id),
            col(Deadline.year),
            col(Deadline.subject_type),
            col(Deadline.subject_id),
            col(Deadline.name),
            col(Deadline.due_at),
            col(Deadline.notice_stage),
        )
        .where(col(Deadline.next_notice_at) <= now)
        .order_by(col(Deadline.next_notice_at))
        .limit(chunk)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True, of=Deadline)
    return list(session.execute(q).all())


def _emit(session: Session, catalog: Catalog, d: Directory, rows: list[Any], now: dt.datetime) -> list[int]:
    campaigns = {c.year: c for c in session.exec(select(Campaign)).all()}
    subjects = _subjects(session, rows)
    drafts: list[NoticeDraft] = []
    updates = []
    for row in rows:
        campaign = campaigns[row.year]
        stages = campaign_stages(campaign)
        send, index, at = dl.due_stages(stages, row.notice_stage, row.due_at, now)
        updates.append({"id": row.id, "notice_stage": index, "next_notice_at": at})
        subject = subjects.get((row.subject_type, row.subject_id))
        if subject is None:
            continue
        lc = catalog.lifecycles[row.subject_type]
        drafts += [notices.draft(s, subject, lc, d, row.name, row.due_at, campaign.timezone) for s in send]
    session.execute(sa.update(Deadline), updates)
    webhooks = list(session.exec(select(Webhook).where(Webhook.active == sa.true())).all())
    return publish(session, drafts, webhooks, d.emails, now)


def _subjects(session: Session, rows: list[Any]) -> dict[tuple[str, int], Subject]:
    ids: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        ids[row.subject_type].append(row.subject_id)
    found: dict[tuple[str, int], Subject] = {}
    if ids.get("pledge"):
        q: Any = (
            sa.select(
                col(Pledge.id),
                col(Pledge.state),
                col(Pledge.org_id),
                col(Pledge.person_id),
                col(Pledge.submitted_on_behalf),
                col(Org.name),
                col(Person.name),
            )
            .join(Org, col(Org.id) == Pledge.org_id)
            .outerjoin(Person, col(Person.id) == Pledge.person_id)
            .where(col(Pledge.id).in_(ids["pledge"]))
        )
        for pid, state, org_id, person_id, on_behalf, org_name, person_name in session.execute(q).all():
            name = person_name or org_name
            found[("pledge", pid)] = Subject("pledge", pid, name, org_id, state, person_id, on_behalf)
    for lifecycle, table in ORG_RECORDS.items():
        if not ids.get(lifecycle):
            continue
        q2: Any = (
            sa.select(col(table.id), col(table.state), col(table.org_id), col(Org.name))
            .join(Org, col(Org.id) == table.org_id)
            .where(col(table.id).in_(ids[lifecycle]))
        )
        for rid, state, org_id, org_name in session.execute(q2).all():
            found[(lifecycle, rid)] = Subject(lifecycle, rid, org_name, org_id, state)
    return found


def next_wake(db: sa.Engine) -> dt.datetime | None:
    """The earliest moment something becomes due: a notice, or a deadline turning missed."""
    with UnitOfWork(db, write=False) as uow:
        notice_at = uow.session.exec(select(sa.func.min(Deadline.next_notice_at))).one()
        due_at = uow.session.exec(select(sa.func.min(Deadline.due_at)).where(Deadline.status == dl.PENDING)).one()
    times = [t for t in (notice_at, due_at) if t is not None]
    return min(times) if times else None
