"""The scheduler: APScheduler wakes the sweep and the dispatcher; deadlines live in our tables.

Jobs are kept in memory only (a shared APScheduler job store double-fires across processes);
the enforcer lease picks the one process that sweeps and dispatches.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from notifications.channels import EmailChannel, WebhookChannel
from notifications.dispatcher import Stats, dispatch_due
from notifications.transport import webhook_client
from services.container import Container
from services.enforcement.lease import EnforcerLease
from services.enforcement.sweep import SweepResult, next_wake, sweep
from services.persistence import idempotency

log = logging.getLogger("pledgeflow.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class Enforcer:
    """Sweeps deadlines and dispatches the outbox while it holds the lease."""

    def __init__(self, container: Container):
        s = container.settings
        self.c = container
        self.lease = EnforcerLease(container.db, dt.timedelta(seconds=3 * s.sweep_interval))
        self.http = webhook_client(allow_private=s.webhook_allow_private, timeout=10)
        self.webhooks = WebhookChannel(self.http)
        self.email = EmailChannel(s.smtp_url) if s.smtp_url else None
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(s.timezone), job_defaults=JOB_DEFAULTS)
        self._lock = threading.Lock()

    def sweep_once(self) -> SweepResult | None:
        with self._lock:
            now = self.c.clock()
            if not self.lease.held(now):
                return None
            result = sweep(self.c.db, self.c.catalog, now)
            idempotency.purge(self.c.db, now)
            if result.missed or result.notices:
                log.info("sweep at %s: %d missed, %d notices", now.isoformat(), result.missed, result.notices)
        self._schedule_wake()
        self.dispatch_once()
        return result

    def dispatch_once(self) -> None:
        now = self.c.clock()
        if not self.lease.held(now):
            return
        s = self.c.settings
        stats = dispatch_due(
            self.c.db,
            now,
            self.webhooks,
            self.email,
            max_attempts=s.webhook_max_attempts,
            backoff_seconds=s.webhook_backoff_seconds,
            claim=dt.timedelta(seconds=s.dispatch_claim_seconds),
        )
        if stats != Stats():
            log.info(
                "dispatch: %d sent, %d retried, %d failed, %d cancelled",
                stats.sent,
                stats.retried,
                stats.failed,
                stats.cancelled,
            )

    def _schedule_wake(self) -> None:
        """Wake exactly when the next deadline or notice falls due, not only at the next interval."""
        when = next_wake(self.c.db)
        if when is not None and self.scheduler.running:
            when = max(when, self.c.clock()) + dt.timedelta(milliseconds=50)
            self.scheduler.add_job(self._safe_sweep, "date", run_date=when, id="wake", replace_existing=True)

    def _safe_sweep(self) -> None:
        try:
            self.sweep_once()
        except Exception:  # a failed sweep must not kill the scheduler thread; the next one retries
            log.exception("sweep failed")

    def _safe_dispatch(self) -> None:
        try:
            self.dispatch_once()
        except Exception:
            log.exception("dispatch failed")

    def start(self) -> None:
        s = self.c.settings
        now = dt.datetime.now(ZoneInfo(s.timezone))
        self.scheduler.add_job(self._safe_sweep, "interval", seconds=s.sweep_interval, id="sweep", next_run_time=now)
        self.scheduler.add_job(self._safe_dispatch, "interval", seconds=s.dispatch_interval, id="dispatch")
        self.scheduler.start()
        log.info("scheduler started (sweep every %ss, dispatch every %ss)", s.sweep_interval, s.dispatch_interval)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.lease.release()
        self.http.close()
        log.info("scheduler stopped; lease released")
