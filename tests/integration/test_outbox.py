"""The outbox on a real database: notices published once, deliveries claimed, retried and recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from notifications import tables  # noqa: F401  (registers the outbox tables)
from notifications.channels import EmailChannel, WebhookChannel
from notifications.dispatcher import Stats, cancel_pending, deliveries_for_webhook, dispatch_due
from notifications.outbox import NoticeDraft, publish
from notifications.tables import CANCELLED, DELIVERED, EMAIL, FAILED, PENDING, Delivery, InboxEntry, Notice
from notifications.tables import Webhook as Hook
from services.persistence.db import make_engine
from tests.conftest import Mailbox
from workflow.deadlines import OVERDUE, REMINDER

NOW = dt.datetime(2030, 10, 31, 16, 0, tzinfo=dt.UTC)
HOOK_URL = "https://receiver.example.org/pledgeflow"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _draft(n: int, kind: str = OVERDUE, recipients: tuple[int, ...] = (1, 2)) -> NoticeDraft:
    return NoticeDraft(
        key=f"pledge:{n}:pledge_published:{kind}:0",
        kind=kind,
        subject_type="pledge",
        subject_id=n,
        deadline="pledge_published",
        due_at=NOW,
        offset_days=0,
        title=f"【逾期】第{n}号公开承诺书未按时公开",
        body="请尽快公开承诺书。",
        recipients=recipients,
    )


def _hook(engine: Engine, kinds: list[str] | None = None, active: bool = True) -> Hook:
    with Session(engine, expire_on_commit=False) as session:
        hook = Hook(url=HOOK_URL, secret="secret", kinds=kinds or [], active=active, created_at=NOW)
        session.add(hook)
        session.commit()
    return hook


def _publish(engine: Engine, drafts: list[NoticeDraft], hooks: list[Hook], emails: dict[int, str]) -> list[int]:
    with Session(engine) as session:
        ids = publish(session, drafts, hooks, emails, NOW)
        session.commit()
    return ids


def _deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


def _count(engine: Engine, table: type[Any]) -> int:
    with Session(engine) as session:
        return session.exec(select(sa.func.count()).select_from(table)).one()


class Receiver:
    """A webhook receiver behind httpx.MockTransport that answers with the given statuses, then 200."""

    def __init__(self, *statuses: int, during: Callable[[], None] | None = None):
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []
        self.during = during

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.during:
            self.during()
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)

    def dispatch(self, engine: Engine, now: dt.datetime, **options: Any) -> Stats:
        with httpx.Client(transport=httpx.MockTransport(self)) as client:
            return dispatch_due(engine, now, WebhookChannel(client), None, **options)


def test_publishing_the_same_drafts_twice_creates_each_notice_once(engine: Engine) -> None:
    hooks = [_hook(engine), _hook(engine, kinds=[REMINDER]), _hook(engine, active=False)]
    drafts = [_draft(1), _draft(2, recipients=(2, 2, 3)), _draft(3), _draft(1)]
    first = _publish(engine, drafts, hooks, {1: "wang@example.org"})
    again = _publish(engine, drafts, hooks, {1: "wang@example.org"})
    assert len(first) == 3 and again == []
    with Session(engine) as session:
        notices = session.exec(select(Notice).order_by(col(Notice.id))).all()
        assert [n.id for n in notices] == first
        assert notices[1].recipients == [2, 3] and notices[0].occurred_at == NOW
        assert session.exec(select(sa.func.count()).select_from(InboxEntry)).one() == 6
    channels = sorted((d.channel, d.target_id) for d in _deliveries(engine))
    assert channels == [("email", 1), ("email", 1), ("webhook", hooks[0].id)] + [("webhook", hooks[0].id)] * 2
    assert {d.status for d in _deliveries(engine)} == {PENDING}


def test_thousands_of_drafts_are_published_in_chunks_and_once(engine: Engine) -> None:
    hook = _hook(engine)
    first = _publish(engine, [_draft(n) for n in range(1203)], [hook], {})
    assert len(set(first)) == 1203
    later = _publish(engine, [_draft(n) for n in range(600, 1800)], [hook], {})
    assert len(later) == 1800 - 1203
    assert _count(engine, Notice) == 1800 and _count(engine, InboxEntry) == 3600 and _count(engine, Delivery) == 1800


def test_nothing_is_published_when_the_caller_rolls_back(engine: Engine) -> None:
    with Session(engine) as session:
        assert publish(session, [_draft(1)], [_hook(engine)], {1: "wang@example.org"}, NOW)
        session.rollback()
    assert _count(engine, Notice) == 0 and _count(engine, Delivery) == 0


def test_a_failed_post_is_retried_with_the_same_delivery_id(engine: Engine) -> None:
    _publish(engine, [_draft(1)], [_hook(engine)], {})
    receiver = Receiver(500)
    assert receiver.dispatch(engine, NOW) == Stats(retried=1)
    (waiting,) = _deliveries(engine)
    assert (waiting.status, waiting.attempts, waiting.last_status) == (PENDING, 1, 500)
    assert waiting.next_attempt_at == NOW + dt.timedelta(seconds=2)
    assert receiver.dispatch(engine, NOW + dt.timedelta(seconds=1)) == Stats()
    assert receiver.dispatch(engine, NOW + dt.timedelta(seconds=3)) == Stats(sent=1)
    first, retry = receiver.requests
    assert first.headers["X-Pledgeflow-Delivery"] == retry.headers["X-Pledgeflow-Delivery"] == waiting.delivery_id
    assert first.content == retry.content
    (done,) = _deliveries(engine)
    assert (done.status, done.attempts, done.last_status, done.last_error) == (DELIVERED, 2, 200, None)
    assert done.delivered_at == NOW + dt.timedelta(seconds=3)


def test_a_receiver_that_always_fails_ends_failed_after_max_attempts(engine: Engine) -> None:
    _publish(engine, [_draft(1)], [_hook(engine)], {})
    receiver = Receiver(*[503] * 10)
    runs = [receiver.dispatch(engine, NOW + dt.timedelta(hours=h), max_attempts=3) for h in range(5)]
    assert runs == [Stats(retried=1), Stats(retried=1), Stats(failed=1), Stats(), Stats()]
    (failed,) = _deliveries(engine)
    assert (failed.status, failed.attempts, failed.last_status, failed.last_error) == (FAILED, 3, 503, "http_error")
    assert len(receiver.requests) == 3


def test_a_claimed_delivery_is_not_sent_by_a_second_dispatcher(engine: Engine) -> None:
    _publish(engine, [_draft(1)], [_hook(engine)], {})
    rival = Receiver()
    nested: list[Stats] = []
    # While the first dispatcher is sending, a second one runs at the same `now`: it must find
    # nothing to claim, and (on SQLite) must not wait for a write lock the first one still holds.
    first = Receiver(during=lambda: nested.append(rival.dispatch(engine, NOW)))
    assert first.dispatch(engine, NOW) == Stats(sent=1)
    assert nested == [Stats()] and rival.requests == [] and len(first.requests) == 1


def test_a_claim_left_by_a_crashed_dispatcher_runs_out(engine: Engine) -> None:
    _publish(engine, [_draft(1)], [_hook(engine)], {})

    def crash() -> None:
        raise RuntimeError("the dispatcher process died")

    with pytest.raises(RuntimeError):
        Receiver(during=crash).dispatch(engine, NOW)
    assert Receiver().dispatch(engine, NOW + dt.timedelta(seconds=30)) == Stats()
    assert Receiver().dispatch(engine, NOW + dt.timedelta(seconds=61)) == Stats(sent=1)


def test_a_delivery_whose_webhook_was_switched_off_behind_its_back_is_cancelled(engine: Engine) -> None:
    hook = _hook(engine)
    _publish(engine, [_draft(1)], [hook], {})
    with Session(engine) as session:
        stored = session.get(Hook, hook.id)
        assert stored is not None
        stored.active = False
        session.commit()
    receiver = Receiver()
    assert receiver.dispatch(engine, NOW) == Stats(cancelled=1)
    (cancelled,) = _deliveries(engine)
    assert receiver.requests == [] and (cancelled.status, cancelled.attempts) == (CANCELLED, 0)


def test_cancelling_a_webhooks_pending_deliveries_leaves_the_others(engine: Engine) -> None:
    hook, other = _hook(engine), _hook(engine)
    _publish(engine, [_draft(1)], [hook, other], {})
    assert Receiver().dispatch(engine, NOW, batch=1) == Stats(sent=1)  # the first hook's delivery is made
    _publish(engine, [_draft(2)], [hook, other], {})
    assert hook.id is not None
    with Session(engine) as session:
        assert cancel_pending(session, hook.id) == 1
        session.commit()
    receiver = Receiver()
    assert receiver.dispatch(engine, NOW) == Stats(sent=2)
    assert {(d.target_id, d.notice_id, d.status) for d in _deliveries(engine)} == {
        (hook.id, 1, DELIVERED),
        (hook.id, 2, CANCELLED),
        (other.id, 1, DELIVERED),
        (other.id, 2, DELIVERED),
    }


def test_deliveries_are_listed_per_webhook_newest_first(engine: Engine) -> None:
    hook, other = _hook(engine), _hook(engine)
    _publish(engine, [_draft(n) for n in range(5)], [hook, other], {})
    assert hook.id is not None
    with Session(engine) as session:
        page = deliveries_for_webhook(session, hook.id, limit=2, offset=1)
    mine = [d.id for d in _deliveries(engine) if d.target_id == hook.id]
    assert len(mine) == 5 and [d.id for d in page] == mine[::-1][1:3]


@pytest.fixture
def smtp_url(mailbox: tuple[Mailbox, int]) -> Iterator[tuple[Mailbox, str]]:
    box, port = mailbox
    yield box, f"smtp://127.0.0.1:{port}?from=office@edu.example.org"


def test_an_email_delivery_reaches_the_mail_server(engine: Engine, smtp_url: tuple[Mailbox, str]) -> None:
    box, url = smtp_url
    _publish(engine, [_draft(1, recipients=(1,))], [], {1: "wang@example.org"})
    assert Receiver().dispatch(engine, NOW) == Stats()
    assert [(d.channel, d.status, d.attempts) for d in _deliveries(engine)] == [(EMAIL, PENDING, 0)]
    with httpx.Client(transport=httpx.MockTransport(Receiver())) as client:
        stats = dispatch_due(engine, NOW, WebhookChannel(client), EmailChannel(url))
    assert stats == Stats(sent=1)
    (done,) = _deliveries(engine)
    assert (done.status, done.attempts, done.last_status) == (DELIVERED, 1, 250)
    (message,) = box.messages
    assert message["To"] == "wang@example.org" and message["Subject"] == "【逾期】第1号公开承诺书未按时公开"
    assert message["Message-ID"] == f"<{done.delivery_id}@pledgeflow>"
