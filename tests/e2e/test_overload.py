"""A burst is answered, not stalled: every request gets 200 or 503 with Retry-After, never 500 or
silence, and the probes answer throughout (issue 14 item 1)."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from services.config import Settings
from tests.conftest import ADMIN, Clock, Served, serve
from tests.county import County, build_county


async def _burst(url: str, token: str, n: int) -> tuple[list[httpx.Response], list[float]]:
    """`n` concurrent GET /api/v1/me, and /healthz asked every 20 ms meanwhile (its latencies)."""
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        headers = {"Authorization": f"Bearer {token}"}
        burst = asyncio.gather(*(client.get("/api/v1/me", headers=headers) for _ in range(n)))
        task = asyncio.ensure_future(burst)
        health: list[float] = []
        while not task.done():
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            health.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        return await task, health


@pytest.mark.parametrize("n", [100, 500])
def test_a_burst_is_answered_200_or_503_and_healthz_answers(served: Served, county: County, n: int) -> None:
    answers, health = asyncio.run(_burst(served.url, county.tokens["m1"], n))
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses
    for busy in (a for a in answers if a.status_code == 503):
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.headers["retry-after"].isdigit()
        assert busy.json()["type"] == "/problems/service-unavailable"
    assert health  # /healthz answered 200 while the burst was in flight (its latency: bench/burst.py)


def test_past_the_bound_the_answer_is_503_at_once(db_url: str, clock: Clock) -> None:
    """With room for one request and none waiting, a burst of 50 is mostly refused: with Retry-After."""
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, max_in_flight=1, max_waiting=0)
    with serve(settings, clock) as s:
        county = build_county(s.client(), s.url)
        answers, _ = asyncio.run(_burst(s.url, county.tokens["m1"], 50))
        county.close()
    statuses = [a.status_code for a in answers]
    assert set(statuses) == {200, 503}, statuses
    detail = next(a for a in answers if a.status_code == 503).json()["detail"]
    assert "服务繁忙" in detail


def test_readyz_answers_ready(served: Served) -> None:
    with served.client(None) as anonymous:
        answer = anonymous.get("/readyz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_a_database_gone_is_503_and_readyz_says_so(tmp_path, clock: Clock) -> None:
    """SQLite's file made unreadable stands for a database gone: problem+json 503, not a plain 500."""
    url = f"sqlite:///{tmp_path}/gone.db"
    with serve(Settings(database_url=url, admin_token=ADMIN, scheduler=False), clock) as s:
        county = build_county(s.client(), s.url)
        s.container.db.dispose()
        (tmp_path / "gone.db").rename(tmp_path / "moved.db")
        (tmp_path / "gone.db").mkdir()  # a directory where the database was: every connect fails
        county.close()
        with s.client(county.tokens["office"]) as office:
            answer = office.get("/api/v1/pledges")
        with s.client(None) as anonymous:
            ready = anonymous.get("/readyz")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["detail"] == "数据库暂时不可用，请稍后重试"
    assert ready.status_code == 503 and ready.json()["type"] == "/problems/service-unavailable"


def test_a_client_slow_with_its_headers_is_cut_off(db_url: str, clock: Clock) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, request_timeout_s=0.5)
    with serve(settings, clock) as s:
        host, port = s.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            started = time.monotonic()
            assert sock.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 3


def test_a_body_not_sent_in_time_is_408(db_url: str, clock: Clock) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, request_timeout_s=0.5)
    with serve(settings, clock) as s:
        host, port = s.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
            sock.sendall(b'Content-Length: 100\r\n\r\n{"name": ')
            answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408"), answer
    assert "/problems/request-timeout" in answer
