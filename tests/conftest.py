"""Shared fixtures: a database per test (SQLite file, or a fresh schema on the real PostgreSQL),
and the real app served by uvicorn on a loopback port."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import fcntl
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from aiosmtpd.controller import Controller

from services.config import Settings
from services.container import Container
from services.entrypoints.api.app import create_app
from tests.county import TODAY, County, build_county

# Every app the tests build (and every server they start) reads its secret key from a file of the test
# run's own, never from the developer's var/secret.key.
os.environ.setdefault("PLEDGEFLOW_SECRET_KEY_FILE", os.path.join(tempfile.mkdtemp(prefix="pledgeflow-"), "secret.key"))

ADMIN = "test-admin-token"
PG_URL = os.environ.get("PLEDGEFLOW_TEST_PG_URL")


class Clock:
    """A clock tests can move; by default it follows real time."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.UTC)

    def set(self, when: dt.datetime) -> None:
        self.fixed = when


@contextmanager
def _pg_turn(alone: bool) -> Iterator[None]:
    """The throwaway PostgreSQL is shared by the suite's workers (`make test` runs pytest-xdist): a
    test on it holds it shared, the fault test that stops it holds it alone (a lock file beside
    `PLEDGEFLOW_TEST_PG_CTL`)."""
    ctl = os.environ.get("PLEDGEFLOW_TEST_PG_CTL")
    if not ctl:
        yield
        return
    with open(os.path.join(os.path.dirname(ctl), "turn.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        yield


def _pg_schema_url(alone: bool = False) -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("PLEDGEFLOW_TEST_SKIP_PG") == "1":
            pytest.skip("PostgreSQL tests skipped (PLEDGEFLOW_TEST_SKIP_PG=1)")
        pytest.fail("PLEDGEFLOW_TEST_PG_URL is not set: run the suite with `make test`")
    with _pg_turn(alone):
        yield from _pg_schema(PG_URL)


def _pg_schema(pg: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # outlives a restart
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.engine.make_url(pg).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/pledgeflow.db"
    else:
        yield from _pg_schema_url()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the real PostgreSQL only (for tests about replicas and locks)."""
    yield from _pg_schema_url()


@pytest.fixture
def pg_url_alone() -> Iterator[str]:
    """As `pg_url`, with no other test on the server meanwhile: for the test that stops it."""
    yield from _pg_schema_url(alone=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


HTTP = "services.entrypoints.api.server:HttpProtocol"  # as `pledgeflow serve` runs


def stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """A server process asked to stop (SIGTERM), killed if it has not within `timeout` seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    container: Container
    clock: Clock

    def client(self, token: str | None = ADMIN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def serve(settings: Settings, clock: Clock) -> Iterator[Served]:
    """The real app in uvicorn on a free loopback port, in a thread, for the block's duration."""
    app = create_app(settings, clock=clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", http=HTTP, proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{port}", app.state.container, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(db_url: str, clock: Clock) -> Iterator[Served]:
    with serve(Settings(database_url=db_url, admin_token=ADMIN, scheduler=False), clock) as s:
        yield s


@pytest.fixture
def county(served: Served) -> Iterator[County]:
    """The small county of tests/county.py, built through the served app's API, on its clock."""
    served.clock.set(TODAY)
    c = build_county(served.client(), served.url)
    yield c
    c.close()


class Mailbox:
    """A real local SMTP server's handler (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
