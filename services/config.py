"""Settings from PLEDGEFLOW_* environment variables, in one pydantic-settings object."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGEFLOW_", extra="ignore")

    database_url: str = "sqlite:///var/pledgeflow.db"
    admin_token: SecretStr | None = None
    timezone: str = "Asia/Shanghai"
    sweep_interval: float = 60.0
    dispatch_interval: float = 2.0
    smtp_url: str | None = None
    scheduler: bool = True
    """Run the deadline scheduler inside `serve` (the CLI's --no-scheduler turns it off)."""
    basic_counts_as_satisfied: bool = False
    """Whether 基本满意 counts towards the satisfaction rate of mass appraisal."""
    dispatch_claim_seconds: float = 60.0
    """How long a dispatcher owns a delivery it is sending; a crashed dispatcher's claim lapses after it."""
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 2.0
    webhook_allow_private: bool = False
    """Let webhooks reach loopback, private, link-local and metadata addresses (receivers on the intranet)."""
    sql_echo: bool = False
    max_body_bytes: int = 1024 * 1024
    """Request bodies larger than this are refused with 413 before anything reads them."""
    max_upload_bytes: int = 16 * 1024 * 1024
    """The same for an uploaded roster workbook (a district's is about 1 MB)."""
    threads: int = 16
    """Worker threads per process for the routes (and for serialising their answers)."""
    max_in_flight: int = 32
    """Requests in the app at once, per process; past it a request waits for a slot (`max_waiting`) or is
    answered 503 with Retry-After.
    The connection pool holds one connection for each, and 4 more: on PostgreSQL, workers × (this + 4)
    must stay under the server's `max_connections`."""
    max_waiting: int = 256
    """Requests past `max_in_flight` that may wait (up to 2 s) for a slot; past them, 503 at once."""
    auth_failures_per_minute: int = 20
    """Failed sign-ins and bearer tokens allowed per client address and minute; past it, 429."""
    request_timeout_s: float = 15.0
    """How long a client may take to send a request's headers, and then its body (slow senders are cut off)."""
    secret_key: SecretStr | None = None
    """The one secret every signing and keyed-hash key is derived from; kept outside the database."""
    secret_key_file: str = "var/secret.key"
    """Where the secret key is made (mode 0600) on first start when `PLEDGEFLOW_SECRET_KEY` is unset."""
    https: bool = False
    """Served over HTTPS (TLS ends at a proxy in front): cookies are marked `Secure`."""
    trusted_proxies: Annotated[list[str], NoDecode] = []
    """Addresses or networks (comma-separated) of the proxies in front whose `X-Forwarded-For` and
    `X-Forwarded-Proto` are believed (the client's address for throttling, HTTPS for `Secure` cookies);
    none by default."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(part, strict=False)) for part in value]
