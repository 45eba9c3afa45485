"""The guarded webhook client against a real local receiver: refused before connecting, connected only to the
checked address, signed so that the receiver can refuse a replay."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from notifications.addresses import Resolver, refuse_internal_url
from notifications.channels import Result, WebhookChannel
from notifications.tables import WEBHOOK, Delivery
from notifications.transport import webhook_client
from tests.receiver import Receiver, receiver
from tests.unit.test_notifications_channels import _notice

SECRET = "webhook-secret-1"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver(secret=SECRET) as r:
        yield r


def _send(url: str, allow_private: bool, resolve: Resolver | None = None, clock: float | None = None) -> Result:
    delivery = Delivery(id=1, delivery_id="ab" * 16, notice_id=7, channel=WEBHOOK, target_id=5, address=url)
    options = {"resolve": resolve} if resolve else {}
    with webhook_client(allow_private, timeout=5, **options) as client:
        channel = WebhookChannel(client) if clock is None else WebhookChannel(client, clock=lambda: clock)
        return channel.send(delivery, _notice(), SECRET)


def _port(r: Receiver) -> int:
    return int(r.url.rsplit(":", 1)[1].split("/")[0])


def test_a_receiver_on_loopback_gets_nothing_by_default(hook: Receiver) -> None:
    result = _send(hook.url, allow_private=False)
    assert (result.ok, result.status, result.error) == (False, None, "blocked")
    assert hook.received == [] and hook.refused == []


def test_a_name_whose_dns_answer_turned_internal_after_registration_gets_nothing(hook: Receiver) -> None:
    url = f"http://hooks.example.org:{_port(hook)}/hook"
    refuse_internal_url(url, allow_private=False, resolve=lambda host, port: ["93.184.215.14"])  # registered
    result = _send(url, allow_private=False, resolve=lambda host, port: ["127.0.0.1"])  # DNS now says loopback
    assert result.error == "blocked"
    assert hook.received == [] and hook.refused == []


def test_allowed_it_connects_to_the_checked_address_and_keeps_the_host(
    hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # an environment proxy is not used
    url = f"http://hooks.example.org:{_port(hook)}/hook"
    result = _send(url, allow_private=True, resolve=lambda host, port: ["127.0.0.1"])
    assert (result.ok, result.status) == (True, 200)
    (got,) = hook.received
    assert got.headers["host"] == f"hooks.example.org:{_port(hook)}"
    assert got.signed_by(SECRET) and got.headers["x-pledgeflow-delivery"] == "ab" * 16


def test_a_receiver_refuses_a_signature_from_too_long_ago(hook: Receiver) -> None:
    result = _send(hook.url, allow_private=True, clock=time.time() - 600)
    assert (result.ok, result.status, result.error) == (False, 401, "http_error")
    (old,) = hook.refused
    assert old.signed_by(SECRET, now=time.time() - 600), "the signature itself is right, only its time is old"
    assert hook.received == []


def test_an_unreachable_receiver_says_only_unreachable() -> None:
    with receiver() as gone:
        url = gone.url
    assert _send(url, allow_private=True).error == "unreachable"
