"""The dispatcher: claims due deliveries in short transactions, sends them with none open, records each outcome.

Delivery is at least once. A claim pushes `next_attempt_at` past `now`, so other dispatchers (other
processes, replicas, the next tick) skip the delivery while it is being sent; if the sender dies, the
claim simply runs out and the delivery is due again. Outcomes are recorded only over the claimed state,
so a late sender never undoes what another one recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from notifications.channels import EmailChannel, Result, WebhookChannel
from notifications.outbox import DELIVERY
from notifications.tables import DELIVERED, EMAIL, FAILED, PENDING, WEBHOOK, Delivery, Notice, Webhook

CLAIM = dt.timedelta(seconds=60)
ROUND = 4
"""Deliveries claimed at a time: four sends at the 10 s timeout end well inside one claim."""
MAX_DELAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Stats:
    """What one dispatch run did: delivered, scheduled for another attempt, given up."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: Stats) -> Stats:
        return Stats(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)


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
    while handled < batch:
        jobs = _claim(engine, now, channels, min(ROUND, batch - handled), claim)
        if not jobs:
            break
        for job in jobs:
            stats += _deliver(engine, job, now, webhooks, email, retry)
        handled += len(jobs)
    return stats


def _claim(engine: Engine, now: dt.datetime, channels: Sequence[str], limit: int, claim: dt.timedelta) -> list[Job]:
    """Push the next deliveries `claim` ahead, so others skip them; a crashed dispatcher's claim lapses."""
    with Session(engine, expire_on_commit=False) as session:
        ids = list(session.scalars(_claim_statement(now, channels, limit, claim)))
        jobs = _load(session, ids)
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
    deliveries = list(session.scalars(sa.select(Delivery).where(col(Delivery.id).in_(ids)).order_by(col(Delivery.id))))
    notice_ids = {d.notice_id for d in deliveries}
    notices = {n.id: n for n in session.scalars(sa.select(Notice).where(col(Notice.id).in_(notice_ids)))}
    hook_ids = {d.target_id for d in deliveries if d.channel == WEBHOOK}
    hooks = {h.id: h for h in session.scalars(sa.select(Webhook).where(col(Webhook.id).in_(hook_ids)))}
    return [Job(d, notices[d.notice_id], hooks.get(d.target_id) if d.channel == WEBHOOK else None) for d in deliveries]


def _deliver(
    engine: Engine, job: Job, now: dt.datetime, webhooks: WebhookChannel, email: EmailChannel | None, retry: Retry
) -> Stats:
    result = _send(job, webhooks, email)
    if result is None:
        return _give_up(engine, job.delivery, "webhook removed or inactive")
    return _record(engine, job.delivery, result, now, retry)


def _send(job: Job, webhooks: WebhookChannel, email: EmailChannel | None) -> Result | None:
    """The attempt's result, or None when nothing can send this delivery any more."""
    if job.delivery.channel == EMAIL and email is not None:
        return email.send(job.delivery, job.notice)
    if job.delivery.channel == WEBHOOK and job.webhook is not None and job.webhook.active:
        return webhooks.send(job.delivery, job.notice, job.webhook.secret)
    return None


def _record(engine: Engine, delivery: Delivery, result: Result, now: dt.datetime, retry: Retry) -> Stats:
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
    return stats if _update_claimed(engine, delivery, values) else Stats()


def _give_up(engine: Engine, delivery: Delivery, error: str) -> Stats:
    recorded = _update_claimed(engine, delivery, {"status": FAILED, "last_error": error})
    return Stats(failed=1) if recorded else Stats()


def _update_claimed(engine: Engine, delivery: Delivery, values: dict[str, Any]) -> bool:
    """Apply `values` unless another dispatcher recorded an attempt since this one claimed it."""
    stmt = (
        sa.update(DELIVERY)
        .where(DELIVERY.c.id == delivery.id, DELIVERY.c.status == PENDING, DELIVERY.c.attempts == delivery.attempts)
        .values(**values)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def deliveries_for_webhook(session: Session, webhook_id: int, limit: int, offset: int) -> list[Delivery]:
    """One webhook's deliveries, newest first, for the API listing."""
    q = sa.select(Delivery).where(col(Delivery.channel) == WEBHOOK, col(Delivery.target_id) == webhook_id)
    return list(session.scalars(q.order_by(col(Delivery.id).desc()).limit(limit).offset(offset)))
