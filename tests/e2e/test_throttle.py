"""Wrong tokens and failed sign-ins are throttled per client address: 429 with Retry-After (issue 14 item 8)."""

from __future__ import annotations

import asyncio
import re

import httpx

from services.config import Settings
from services.entrypoints.api.app import create_app
from tests.conftest import ADMIN, Clock, serve
from tests.county import build_county

FAILURES = 5


def test_wrong_bearer_tokens_are_throttled(db_url: str, clock: Clock) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, auth_failures_per_minute=FAILURES)
    with serve(settings, clock) as s, s.client("wrong-token") as guesser:
        county = build_county(s.client(), s.url)  # a right token: not counted
        county.close()
        statuses = [guesser.get("/api/v1/me").status_code for _ in range(FAILURES)]
        throttled = guesser.get("/api/v1/me")
        with s.client(None) as anonymous:  # no token at all is not a guess
            missing = anonymous.get("/api/v1/me").status_code
    assert statuses == [401] * FAILURES
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert throttled.json()["type"] == "/problems/too-many-requests"
    assert throttled.json()["detail"].startswith("失败次数过多")
    assert missing == 429  # the address is held back, whatever it sends


def test_failed_sign_ins_are_throttled(db_url: str, clock: Clock) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, auth_failures_per_minute=FAILURES)
    with serve(settings, clock) as s, httpx.Client(base_url=s.url, timeout=30) as browser:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert csrf is not None
        tries = [browser.post("/login", data={"csrf_token": csrf.group(1), "token": f"猜{n}"}) for n in range(6)]
    assert [t.status_code for t in tries] == [401] * FAILURES + [429]
    assert "失败次数过多" in tries[-1].text and tries[-1].headers["retry-after"].isdigit()


def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(db_url: str) -> None:
    settings = Settings(
        database_url=db_url,
        admin_token=ADMIN,
        scheduler=False,
        auth_failures_per_minute=FAILURES,
        trusted_proxies="10.0.0.0/8",
    )
    app = create_app(settings)

    async def guesses(peer: str, forwarded: list[str]) -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 5000))
        wrong = {"Authorization": "Bearer wrong-token"}
        async with httpx.AsyncClient(transport=transport, base_url="http://pledgeflow.test", headers=wrong) as http:
            return [(await http.get("/api/v1/me", headers={"x-forwarded-for": f})).status_code for f in forwarded]

    try:
        one = asyncio.run(guesses("10.1.2.3", ["198.51.100.7"] * (FAILURES + 1)))
        other = asyncio.run(guesses("10.1.2.3", ["198.51.100.8"]))
        spoofed = asyncio.run(guesses("192.0.2.7", [f"203.0.113.{n}" for n in range(FAILURES + 1)]))
    finally:
        app.state.container.db.dispose()
    assert one == [401] * FAILURES + [429]
    assert other == [401], "another client behind the same proxy is not held back"
    assert spoofed == [401] * FAILURES + [429], "anyone else's X-Forwarded-For changes nothing"
