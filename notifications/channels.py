"""The channels a delivery goes out by: a signed webhook POST (httpx) and an e-mail (SMTP).

What a failed webhook attempt records is deliberately coarse. The office, who registers webhooks, reads the
deliveries; were every failure kept as the client library words it ("Connection refused", "timed out",
"certificate verify failed", the receiver's own reply), a webhook pointed at host after host and port
after port would map what the server can reach: a port scanner run from inside. So an attempt keeps one
failure class: `blocked` (the address rule refused it, nothing was connected), `unreachable` (no HTTP
answer: name, connection, TLS or timeout — one class, since refused-versus-filtered is what a scan looks
for) or `http_error` with the status code (the receiver answered; its owner needs the code to mend it,
and it says no more than the receiver chose to answer). Never the receiver's body or headers. The full
exception goes to the operator's log (`pledgeflow.webhooks`), which the office cannot read.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from notifications.addresses import AddressRefused
from notifications.outbox import encode, payload, sign
from notifications.tables import Delivery, Notice

SEND_TIMEOUT = 10.0
"""Seconds a receiver or mail server may take per step before the attempt counts as failed."""
ANSWER_MAX = 64 * 1024
"""Bytes of a receiver's answer read at most (to reuse the connection); the rest is never read."""

FOOTER = "—— 此邮件由 Pledgeflow 创先争优活动系统自动发送，请勿直接回复。"
DEFAULT_SENDER = "pledgeflow@localhost"
BLOCKED, UNREACHABLE, HTTP_ERROR = "blocked", "unreachable", "http_error"
"""The failure classes a webhook attempt records (see the module's docstring)."""

log = logging.getLogger("pledgeflow.webhooks")


@dataclass(frozen=True)
class Result:
    """How one attempt went: `status` is the HTTP or SMTP code when there was one."""

    ok: bool
    status: int | None = None
    error: str | None = None


def _failure(exc: BaseException, status: int | None = None) -> Result:
    return Result(ok=False, status=status, error=f"{type(exc).__name__}: {exc}"[:300])


class WebhookChannel:
    """POSTs a notice to a webhook, signed with the time of sending; the caller owns (and closes) the client,
    which for real sending is notifications.transport.webhook_client (the address rule at every connection)."""

    def __init__(self, client: httpx.Client, clock: Callable[[], float] = time.time):
        self._client, self._clock = client, clock

    def send(self, delivery: Delivery, notice: Notice, secret: str) -> Result:
        body = encode(payload(notice))
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            "X-Pledgeflow-Delivery": delivery.delivery_id,
            "X-Pledgeflow-Timestamp": str(timestamp),
            "X-Pledgeflow-Signature": sign(body, secret, timestamp),
            "X-Pledgeflow-Event": notice.kind,
        }
        try:
            request = self._client.build_request(
                "POST", delivery.address, content=body, headers=headers, timeout=SEND_TIMEOUT
            )
            r = self._client.send(request, stream=True)
            try:
                _drain(r)
            finally:
                r.close()
        except AddressRefused:
            log.warning("delivery %s (webhook %s) refused: internal address", delivery.delivery_id, delivery.target_id)
            return Result(ok=False, error=BLOCKED)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            log.warning("delivery %s (webhook %s) unreachable: %r", delivery.delivery_id, delivery.target_id, exc)
            return Result(ok=False, error=UNREACHABLE)
        if not r.is_success:
            return Result(ok=False, status=r.status_code, error=HTTP_ERROR)
        return Result(ok=True, status=r.status_code)


def _drain(response: httpx.Response) -> None:
    """Read a little of the answer, then stop: it is never used, and a hostile receiver could send without end.
    An answer read to its end lets the connection be used again."""
    read, started = 0, time.monotonic()
    for chunk in response.iter_bytes():
        read += len(chunk)
        if read > ANSWER_MAX or time.monotonic() - started > SEND_TIMEOUT:
            break


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send mail, read from `smtp://[user:pass@]host:port[?from=addr&starttls=1]`."""

    host: str
    port: int
    sender: str
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme != "smtp" or not parts.hostname:
            raise ValueError(f"not an smtp://host:port URL: {url!r}")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        return cls(
            host=parts.hostname,
            port=parts.port or 25,
            sender=query.get("from", DEFAULT_SENDER),
            starttls=query.get("starttls", "0").lower() in {"1", "true", "yes"},
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class EmailChannel:
    """Mails a notice; the Message-ID comes from the delivery id, so a retry carries the same one."""

    def __init__(self, smtp_url: str):
        self.server = SmtpServer.from_url(smtp_url)

    def send(self, delivery: Delivery, notice: Notice) -> Result:
        message = self.compose(delivery, notice)
        try:
            with smtplib.SMTP(self.server.host, self.server.port, timeout=SEND_TIMEOUT) as smtp:
                self._sign_in(smtp)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            return _failure(exc, status=exc.smtp_code)
        except (smtplib.SMTPException, OSError) as exc:
            return _failure(exc)
        return Result(ok=True, status=250)

    def compose(self, delivery: Delivery, notice: Notice) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.server.sender
        message["To"] = delivery.address
        message["Subject"] = notice.title
        message["Date"] = format_datetime(notice.occurred_at)
        message["Message-ID"] = f"<{delivery.delivery_id}@pledgeflow>"
        message.set_content(f"{notice.body}\n\n{FOOTER}\n", charset="utf-8")
        return message

    def _sign_in(self, smtp: smtplib.SMTP) -> None:
        if self.server.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.server.username:
            smtp.login(self.server.username, self.server.password or "")
