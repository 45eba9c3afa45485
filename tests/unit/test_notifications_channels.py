"""The channels alone: webhook POSTs through httpx.MockTransport, e-mail to a real local SMTP server."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from notifications.channels import FOOTER, EmailChannel, SmtpServer, WebhookChannel
from notifications.tables import EMAIL, WEBHOOK, Delivery, Notice
from tests.conftest import Mailbox, free_port
from workflow.deadlines import OVERDUE

SECRET = "s3cret-密钥"
SENT_AT = 1_288_540_800  # the Unix time the channel's clock says the POST is made
DUE = dt.datetime(2010, 10, 31, 15, 59, 59, tzinfo=dt.UTC)


def _notice() -> Notice:
    return Notice(
        id=7,
        key="pledge:3:pledge_published:overdue:0",
        kind=OVERDUE,
        subject_type="pledge",
        subject_id=3,
        deadline="pledge_published",
        due_at=DUE,
        offset_days=0,
        title="【逾期】公开承诺书未按时公开",
        body="您支部的公开承诺书应于10月31日前公开，现已逾期，请尽快办理。",
        recipients=[11, 12],
        occurred_at=DUE + dt.timedelta(seconds=1),
    )


def _delivery(channel: str, address: str) -> Delivery:
    return Delivery(id=1, delivery_id="0f" * 16, notice_id=7, channel=channel, target_id=5, address=address)


def _post(handler: Any) -> Any:
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel(client, clock=lambda: SENT_AT + 0.75)
        return channel.send(_delivery(WEBHOOK, "https://hooks.example.org/in"), _notice(), SECRET)


def test_a_webhook_post_is_signed_over_its_timestamp_and_the_exact_raw_body() -> None:
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    result = _post(receive)
    assert (result.ok, result.status, result.error) == (True, 204, None)
    (request,) = seen
    assert request.headers["X-Pledgeflow-Timestamp"] == str(SENT_AT)
    signed = f"{SENT_AT}.".encode() + request.content
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert request.headers["X-Pledgeflow-Signature"] == f"sha256={expected}"
    unstamped = hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Pledgeflow-Signature"] != f"sha256={unstamped}", "the time is part of what is signed"
    assert request.headers["X-Pledgeflow-Delivery"] == "0f" * 16
    assert request.headers["X-Pledgeflow-Event"] == "overdue"
    assert request.headers["Content-Type"] == "application/json"
    assert str(request.url) == "https://hooks.example.org/in"
    body = json.loads(request.content.decode("utf-8"))
    assert body["id"] == 7 and body["subject"] == {"type": "pledge", "id": 3}
    assert body["recipients"] == [11, 12] and body["title"] == "【逾期】公开承诺书未按时公开"
    assert "公开承诺书".encode() in request.content


def test_a_server_error_keeps_its_status_and_nothing_of_its_answer() -> None:
    result = _post(lambda request: httpx.Response(500, text="Traceback: db password is hunter2"))
    assert (result.ok, result.status, result.error) == (False, 500, "http_error")


def test_a_redirect_is_not_followed_and_not_ok() -> None:
    result = _post(lambda request: httpx.Response(302, headers={"Location": "https://elsewhere.example.org/"}))
    assert (result.ok, result.status, result.error) == (False, 302, "http_error")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: internal-ca"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_every_failure_without_an_http_answer_is_recorded_alike(failure: httpx.HTTPError) -> None:
    """Refused, filtered, TLS or protocol: one class, so the deliveries list cannot tell a port scan which."""

    def fail(request: httpx.Request) -> httpx.Response:
        failure.request = request
        raise failure

    result = _post(fail)
    assert (result.ok, result.status, result.error) == (False, None, "unreachable")


def test_an_endless_answer_is_not_read_to_its_end() -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 65536

    result = _post(lambda request: httpx.Response(200, content=endless()))
    assert (result.ok, result.status) == (True, 200)


def test_an_email_carries_chinese_text_and_a_message_id_from_the_delivery(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    channel = EmailChannel(f"smtp://127.0.0.1:{port}?from=office@edu.example.org")
    delivery = _delivery(EMAIL, "wang@school.example.org")
    assert channel.send(delivery, _notice()).ok
    assert channel.send(delivery, _notice()).ok  # a retry
    assert box.envelopes[0] == ("office@edu.example.org", ["wang@school.example.org"])
    first, again = box.messages
    assert first["Subject"] == "【逾期】公开承诺书未按时公开"
    assert first["Message-ID"] == again["Message-ID"] == f"<{'0f' * 16}@pledgeflow>"
    text = first.get_content()
    assert "您支部的公开承诺书应于10月31日前公开" in text and FOOTER in text


def test_an_unreachable_mail_server_is_not_ok() -> None:
    channel = EmailChannel(f"smtp://127.0.0.1:{free_port()}")
    result = channel.send(_delivery(EMAIL, "wang@school.example.org"), _notice())
    assert not result.ok and result.error and result.error.startswith("ConnectionRefusedError")


def test_the_smtp_url_names_server_sender_login_and_starttls() -> None:
    server = SmtpServer.from_url("smtp://bot%40edu:p%40ss@mail.example.org:587?from=noreply@edu.example.org&starttls=1")
    assert (server.host, server.port, server.sender, server.starttls) == (
        "mail.example.org",
        587,
        "noreply@edu.example.org",
        True,
    )
    assert (server.username, server.password) == ("bot@edu", "p@ss")
    plain = SmtpServer.from_url("smtp://localhost:2525")
    assert (plain.starttls, plain.username, plain.sender) == (False, None, "pledgeflow@localhost")
    with pytest.raises(ValueError, match="smtp://"):
        SmtpServer.from_url("http://mail.example.org")
