"""The dispatcher: claims due deliveries in short transactions, sends them with none open, records the outcomes.

Delivery is at least once. A claim pushes `next_attempt_at` past `now`, so other dispatchers (other
processes, replicas, the next tick) skip the delivery while it is being sent; if the sender dies, the
claim simply runs out and the delivery is due again. A round's outcomes are recorded together, each only
over the claimed state, so a late sender never undoes what another one recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from notifications.channels import EmailChannel, Result, WebhookChannel
from notifications.outbox import DELIVERY
from notifications.tables import CANCELLED, DELIVERED, EMAIL, FAILED, PENDING, WEBHOOK, Delivery, Notice, Webhook

CLAIM = dt.timedelta(seconds=60)
ROUND = 4
"""Deliveries claimed at a time: four sends at the 10 s timeout end well inside one claim."""
MAX_DELAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Stats:
    """What one dispatch run did: delivered, scheduled for another attempt, given up, cancelled (its webhook
    deleted or switched off)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0

    def __add__(self, other: Stats) -> Stats:
        return Stats(
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.cancelled + other.cancelled,
        )


@dataclass(frozen=True)
class Retry:
    """Exponential backoff: the n-th failed attempt waits backoff x 2^(n-1), capped at a day."""

    max_attempts: int
    backoff_seconds: float

    def delay(self, attempts: int) -> dt.timedelta:
        seconds = self.backoff_seconds * 2.0 ** min(attempts - 1, 32)
        return dt.timedelta(seconds=min(seconds, MAX_DELAY_SECONDS))


@dataclass(frozen=True)
class Job:
    """A claimed delivery with what sending it needs, loaded while claiming."""

    delivery: Delivery
    notice: Notice
    webhook: Webhook | None


def dispatch_due(
    engine: Engine,
    now: dt.datetime,
    webhooks: WebhookChannel,
    email: EmailChannel | None,
    max_attempts: int = 8,
    backoff_seconds: float = 2.0,
    batch: int = 100,
    claim: dt.timedelta = CLAIM,
) -> Stats:
    """Send up to `batch` deliveries due at `now`. Without an e-mail channel, e-mails wait, still pending."""
    retry = Retry(max_attempts, backoff_seconds)
    channels = (WEBHOOK,) if email is None else (WEBHOOK, EMAIL)
    stats, handled = Stats(), 0
    # One connection for the run: each claim and each round's outcomes still commit on their own, but
    # the pool checkout (and its pre-ping round trip) is paid once, not per transaction.
    with engine.connect() as conn:
        while handled < batch:
            jobs = _claim(conn, now, channels, min(ROUND, batch - handled), claim)
            if not jobs:
                break
            stats += _deliver_round(conn, jobs, now, webhooks, email, retry)
            handled += len(jobs)
    return stats


def _claim(conn: Connection, now: dt.datetime, channels: Sequence[str], limit: int, claim: dt.timedelta) -> list[Job]:
    """Push the next deliveries `claim` ahead, so others skip them; a crashed dispatcher's claim lapses."""
    with Session(bind=conn, expire_on_commit=False) as session:
        if conn.dialect.name == "postgresql":
            # Right after a sweep has published thousands of deliveries, the table's statistics still say
            # few are pending: the planner then sorts every due row (a bitmap scan) to take four, ~28 ms per
            # claim at 100,000 due. The index already holds the claim's order; make the planner use it.
            session.execute(sa.text("SET LOCAL enable_sort = off"))
        ids = list(session.scalars(_claim_statement(now, channels, limit, claim)))
        jobs = _load(session, ids) if ids else []
        session.commit()
    return jobs


def _claim_statement(now: dt.datetime, channels: Sequence[str], limit: int, claim: dt.timedelta) -> sa.Update:
    # One UPDATE, so SQLite takes its write lock up front; SQLite renders no FOR UPDATE (its single
    # writer already serialises claims), PostgreSQL skips rows another dispatcher is claiming.
    due = (
        sa.select(DELIVERY.c.id)
        .where(DELIVERY.c.status == PENDING, DELIVERY.c.next_attempt_at <= now, DELIVERY.c.channel.in_(channels))
        .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = sa.update(DELIVERY).where(DELIVERY.c.id.in_(due)).values(next_attempt_at=now + claim)
    return claimed.returning(DELIVERY.c.id)


def _load(session: Session, ids: list[int]) -> list[Job]:
    """The claimed deliveries with their notices and webhooks (None for e-mail, or when the webhook is gone)."""
    hook = sa.and_(col(Delivery.channel) == WEBHOOK, col(Webhook.id) == col(Delivery.target_id))
    q = (
        sa.select(Delivery, Notice, Webhook)
        .join(Notice, col(Notice.id) == col(Delivery.notice_id))
        .outerjoin(Webhook, hook)
        .where(col(Delivery.id).in_(ids))
        .order_by(col(Delivery.id))
    )
    return [Job(delivery, notice, webhook) for delivery, notice, webhook in session.execute(q)]


def _deliver_round(
    conn: Connection,
    jobs: list[Job],
    now: dt.datetime,
    webhooks: WebhookChannel,
    email: EmailChannel | None,
    retry: Retry,
) -> Stats:
    """Send each claimed delivery, then record the outcomes in one transaction (one commit per round, not per
    delivery). If a send raises, what was already sent is still recorded before the error goes on."""
    outcomes: list[tuple[Delivery, Result | None]] = []
    try:
        for job in jobs:
            outcomes.append((job.delivery, _send(job, webhooks, email)))
    finally:
        stats = Stats()
        with conn.begin():
            for delivery, result in outcomes:
                stats += _record(conn, delivery, result, now, retry)
    return stats


def _send(job: Job, webhooks: WebhookChannel, email: EmailChannel | None) -> Result | None:
    """The attempt's result, or None when nothing can send this delivery any more."""
    if job.delivery.channel == EMAIL and email is not None:
        return email.send(job.delivery, job.notice)
    if job.delivery.channel == WEBHOOK and job.webhook is not None and job.webhook.active:
        return webhooks.send(job.delivery, job.notice, job.webhook.secret)
    return None


def _record(conn: Connection, delivery: Delivery, result: Result | None, now: dt.datetime, retry: Retry) -> Stats:
    if result is None:  # its webhook was deleted or switched off after the delivery was claimed
        return Stats(cancelled=1) if _update_claimed(conn, delivery, {"status": CANCELLED}) else Stats()
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_status": result.status, "last_error": result.error}
    if result.ok:
        values |= {"status": DELIVERED, "delivered_at": now}
        stats = Stats(sent=1)
    elif attempts >= retry.max_attempts:
        values["status"] = FAILED
        stats = Stats(failed=1)
    else:
        values["next_attempt_at"] = now + retry.delay(attempts)
        stats = Stats(retried=1)
    return stats if _update_claimed(conn, delivery, values) else Stats()


def _update_claimed(conn: Connection, delivery: Delivery, values: dict[str, Any]) -> bool:
    """Apply `values` unless another dispatcher recorded an attempt since this one claimed it."""
    stmt = (
        sa.update(DELIVERY)
        .where(DELIVERY.c.id == delivery.id, DELIVERY.c.status == PENDING, DELIVERY.c.attempts == delivery.attempts)
        .values(**values)
    )
    return conn.execute(stmt).rowcount == 1


def cancel_pending(session: Session, webhook_id: int) -> int:
    """Cancel a webhook's deliveries not yet made (it is being deleted or switched off): none will be sent.
    One already claimed and being sent may still go out; its outcome is then not recorded over this."""
    stmt = (
        sa.update(DELIVERY)
        .where(DELIVERY.c.channel == WEBHOOK, DELIVERY.c.target_id == webhook_id, DELIVERY.c.status == PENDING)
        .values(status=CANCELLED)
    )
    result: Any = session.execute(stmt)
    return int(result.rowcount)


def deliveries_for_webhook(session: Session, webhook_id: int, limit: int, offset: int) -> list[Delivery]:
    """One webhook's deliveries, newest first, for the API listing."""
    q = sa.select(Delivery).where(col(Delivery.channel) == WEBHOOK, col(Delivery.target_id) == webhook_id)
    return list(session.scalars(q.order_by(col(Delivery.id).desc()).limit(limit).offset(offset)))
