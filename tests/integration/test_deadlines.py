"""Deadlines enforced on a controlled clock: the sweep and the dispatcher called as the scheduler calls them,
a real webhook receiver and a real SMTP server (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from notifications.channels import EmailChannel, WebhookChannel
from notifications.dispatcher import dispatch_due
from notifications.tables import PENDING
from notifications.transport import webhook_client
from services.config import Settings
from services.container import Container, build_container
from services.enforcement.sweep import SweepResult, sweep
from services.entrypoints.scheduler import Enforcer
from services.usecases import events, inbox
from tests import usecases as uc
from tests.conftest import Clock, Mailbox
from tests.county import GOOD_ITEMS, PUBLISH, YEAR
from tests.receiver import receiver
from workflow.deadlines import ESCALATION, OVERDUE, REMINDER

SECRET = "webhook-secret-1"
DEADLINE_KINDS = [REMINDER, OVERDUE, ESCALATION]
START = dt.datetime(2030, 10, 1, 1, 0, tzinfo=dt.UTC)
DUE = START + dt.timedelta(hours=1)
"""pledge_published: an hour after the clock starts, so the 7- and 1-day reminders were already past at creation."""
PUBLISHED = PUBLISH | {"published_on": START.date().isoformat()}
"""Published on the day the clock starts (no later: a date after today is refused)."""


def container_on(db_url: str, clock: Clock, **settings: Any) -> Container:
    clock.set(START)
    values: dict[str, Any] = {"database_url": db_url, "scheduler": False, "webhook_allow_private": True}
    values |= settings
    return build_container(Settings(**values), clock)


@pytest.fixture
def container(db_url: str, clock: Clock) -> Iterator[Container]:
    c = container_on(db_url, clock)
    yield c
    c.db.dispose()


def county(c: Container, emails: dict[str, str] | None = None) -> uc.Roster:
    r = uc.roster(c, c.clock(), emails)
    uc.campaign(c, YEAR, c.clock(), {"pledge_published": DUE.isoformat()})
    return r


def inbox_of(c: Container, r: uc.Roster, who: str) -> list[dict[str, Any]]:
    """The deadline notices in a person's inbox (what happens to records is told besides: kind `event`)."""
    entries = uc.read(c, inbox.inbox, r.actors[who], None, 50, 0)["items"]
    return [e for e in entries if e["kind"] in DEADLINE_KINDS]


def pledge_of(c: Container, r: uc.Roster, who: str, pid: int) -> dict[str, Any]:
    return dict(uc.read(c, events.get, c.lifecycles, r.actors[who], "pledge", pid, c.clock()))


def fire(c: Container, r: uc.Roster, who: str, pid: int, event: str, **body: Any) -> dict[str, Any]:
    return uc.fire(c, r.actors[who], pid, {"event": event, **body}, c.clock())


def pledge_by(c: Container, r: uc.Roster, who: str) -> int:
    return uc.pledge(c, r.actors[who], {"year": YEAR, "person_id": r.people[who], "items": GOOD_ITEMS}, c.clock())


def webhook(c: Container, r: uc.Roster, url: str, kinds: list[str] = DEADLINE_KINDS) -> int:
    hook = uc.do(c, inbox.create_webhook, r.actors["office"], url, SECRET, kinds, c.clock(), True)
    return int(hook.id)


def sender() -> httpx.Client:
    """The client the scheduler sends webhooks with, allowed to reach the receiver on 127.0.0.1."""
    return webhook_client(allow_private=True, timeout=10)


def enforce(c: Container, http: httpx.Client, email: EmailChannel | None = None) -> SweepResult:
    """What the scheduler does when it wakes at the clock's time: sweep, then dispatch what is due."""
    now = c.clock()
    result = sweep(c.db, c.catalog, now)
    dispatch_due(c.db, now, WebhookChannel(http), email)
    return result


def user_ids(r: uc.Roster, *who: str) -> list[int]:
    return [int(r.actors[w].user_id or 0) for w in who]


def published_in_time(c: Container, r: uc.Roster) -> int:
    pid = pledge_by(c, r, "m2")
    fire(c, r, "m2", pid, "submit")
    fire(c, r, "sec_a", pid, "approve")
    fire(c, r, "sec_a", pid, "publish", data=PUBLISHED)
    return pid


def statuses(pledge: dict[str, Any]) -> dict[str, str]:
    return {d["name"]: d["status"] for d in pledge["deadlines"]}


def test_a_passed_deadline_sends_one_overdue_notice_to_the_inbox_and_the_webhook(
    container: Container, clock: Clock
) -> None:
    c = container
    r = county(c)
    with receiver() as hook, sender() as http:
        webhook(c, r, hook.url)
        late_id = pledge_by(c, r, "m1")
        on_time = published_in_time(c, r)
        assert enforce(c, http) == SweepResult() and hook.received == []  # before the deadline: nothing

        clock.set(DUE + dt.timedelta(seconds=1))
        first = enforce(c, http)
        assert (first.missed, first.notices) == (1, 1)
        for later in (dt.timedelta(minutes=1), dt.timedelta(hours=23)):  # more sweeps before the escalation is due
            clock.set(DUE + later)
            assert enforce(c, http) == SweepResult(), "nothing may be sent twice"

    pledge = pledge_of(c, r, "m1", late_id)
    assert pledge["overdue"] is True
    assert statuses(pledge)["pledge_published"] == "missed"
    for who in ("m1", "sec_a"):
        entries = inbox_of(c, r, who)
        assert [(e["kind"], e["subject"]["id"]) for e in entries] == [("overdue", late_id)], who
    assert entries[0]["title"].startswith("【逾期】m1老师的公开承诺未在") and entries[0]["title"].endswith("完成公开")
    assert inbox_of(c, r, "supervisor") == [] and inbox_of(c, r, "m2") == []

    assert len(hook.received) == 1
    got = hook.received[0]
    stamp = got.headers["x-pledgeflow-timestamp"]
    assert abs(int(stamp) - time.time()) < 60, "signed with the time of sending, not the simulated clock"
    expected = "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + got.raw, hashlib.sha256).hexdigest()
    assert got.headers["x-pledgeflow-signature"] == expected and got.signed_by(SECRET)
    assert got.body["kind"] == "overdue" and got.body["subject"] == {"type": "pledge", "id": late_id}
    assert sorted(got.body["recipients"]) == sorted(user_ids(r, "m1", "sec_a"))

    other = pledge_of(c, r, "office", on_time)
    assert statuses(other)["pledge_published"] == "met"
    assert other["overdue"] is False

    fire(c, r, "m1", late_id, "submit")
    fire(c, r, "sec_a", late_id, "approve")
    done = fire(c, r, "sec_a", late_id, "publish", data=PUBLISHED)
    assert statuses(done)["pledge_published"] == "late"
    assert done["overdue"] is False
    history = uc.read(c, events.record_history, c.lifecycles, r.actors["m1"], "pledge", late_id)
    assert [h["late"] for h in history] == [False, True, True, True]


def test_an_overdue_notice_is_mailed_once_to_a_recipient_with_an_address(
    container: Container, clock: Clock, mailbox: tuple[Mailbox, int]
) -> None:
    c, (box, port) = container, mailbox
    r = county(c, emails={"m1": "m1@example.org"})
    late_id = pledge_by(c, r, "m1")
    mail = EmailChannel(f"smtp://127.0.0.1:{port}?from=office@edu.example.org")
    with sender() as http:
        for at in (DUE + dt.timedelta(seconds=1), DUE + dt.timedelta(minutes=5)):
            clock.set(at)
            enforce(c, http, mail)
    assert box.envelopes == [("office@edu.example.org", ["m1@example.org"])]  # sec_a has no address
    (message,) = box.messages
    (entry,) = inbox_of(c, r, "m1")
    assert message["Subject"] == entry["title"] and entry["subject"]["id"] == late_id


def deliveries(c: Container, r: uc.Roster, hook_id: int) -> list[Any]:
    return list(uc.read(c, inbox.deliveries, r.actors["office"], hook_id, 100, 0))


@pytest.mark.parametrize("answers", [[500], [500, 500, 500, 500]])
def test_webhook_retries_then_delivers_or_gives_up(db_url: str, clock: Clock, answers: list[int]) -> None:
    c = container_on(db_url, clock, webhook_max_attempts=3, webhook_backoff_seconds=2.0)
    enforcer = Enforcer(c)
    try:
        r = county(c)
        with receiver(answers) as hook:
            hook_id = webhook(c, r, hook.url, kinds=["overdue"])
            pledge_by(c, r, "m1")
            clock.set(DUE + dt.timedelta(seconds=1))
            enforcer.sweep_once()  # the sweep, then the first attempt
            rows = retried(c, r, hook_id, enforcer, clock)
    finally:
        enforcer.stop()
        c.db.dispose()
    assert len(rows) == 1
    assert len(set(hook.deliveries())) == 1, "every retry carries the same delivery id"
    if len(answers) == 1:
        assert (rows[0].status, rows[0].attempts, len(hook.received)) == ("delivered", 2, 2)
    else:
        assert (rows[0].status, rows[0].attempts, len(hook.received)) == ("failed", 3, 3)
        assert rows[0].last_status == 500


def retried(c: Container, r: uc.Roster, hook_id: int, enforcer: Enforcer, clock: Clock) -> list[Any]:
    """Dispatch a minute apart (beyond every backoff) until the delivery settles, then twice more."""
    for _ in range(5):
        rows = deliveries(c, r, hook_id)
        if rows and rows[0].status != PENDING:
            break
        clock.set(clock() + dt.timedelta(minutes=1))
        enforcer.dispatch_once()
    for _ in range(2):
        clock.set(clock() + dt.timedelta(minutes=1))
        enforcer.dispatch_once()
    return deliveries(c, r, hook_id)
