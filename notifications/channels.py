"""The channels a delivery goes out by: a signed webhook POST (httpx) and an e-mail (SMTP)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from notifications.outbox import encode, payload, sign
from notifications.tables import Delivery, Notice

SEND_TIMEOUT = 10.0
"""Seconds a receiver or mail server may take per step before the attempt counts as failed."""

FOOTER = "—— 此邮件由 Pledgeflow 创先争优活动系统自动发送，请勿直接回复。"
DEFAULT_SENDER = "pledgeflow@localhost"


@dataclass(frozen=True)
class Result:
    """How one attempt went: `status` is the HTTP or SMTP code when there was one."""

    ok: bool
    status: int | None = None
    error: str | None = None


def _failure(exc: BaseException, status: int | None = None) -> Result:
    return Result(ok=False, status=status, error=f"{type(exc).__name__}: {exc}"[:300])


class WebhookChannel:
    """POSTs a notice to a webhook; the caller owns (and closes) the httpx client."""

    def __init__(self, client: httpx.Client):
        self._client = client

    def send(self, delivery: Delivery, notice: Notice, secret: str) -> Result:
        body = encode(payload(notice))
        headers = {
            "Content-Type": "application/json",
            "X-Pledgeflow-Delivery": delivery.delivery_id,
            "X-Pledgeflow-Signature": sign(body, secret),
            "X-Pledgeflow-Event": notice.kind,
        }
        try:
            response = self._client.post(delivery.address, content=body, headers=headers, timeout=SEND_TIMEOUT)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return _failure(exc)
        if not response.is_success:
            return Result(ok=False, status=response.status_code, error=f"HTTP {response.status_code}")
        return Result(ok=True, status=response.status_code)


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
