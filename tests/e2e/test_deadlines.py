"""Deadlines that enforce themselves: the real scheduler in the served app, a real webhook receiver, real time.

One test on the wall clock: the start-up sweep and the wake at a due time. What a sweep and a dispatch do
is tested on a controlled clock in tests/integration/test_deadlines.py.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.config import Settings
from services.enforcement.sweep import SweepResult
from services.entrypoints.scheduler import Enforcer
from tests.conftest import ADMIN, Clock, Served, serve
from tests.county import GOOD_ITEMS, YEAR, build_county
from tests.receiver import receiver
from workflow.deadlines import ESCALATION, OVERDUE, REMINDER

SECRET = "webhook-secret-1"
DEADLINE_KINDS = [REMINDER, OVERDUE, ESCALATION]


def fast(db_url: str, **extra: Any) -> Settings:
    """Settings for a served app whose scheduler sweeps and dispatches within a test's patience."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "admin_token": ADMIN,
        "sweep_interval": 1.0,
        "dispatch_interval": 0.3,
        "webhook_backoff_seconds": 0.3,
        "webhook_max_attempts": 3,
        "webhook_allow_private": True,  # the receivers listen on 127.0.0.1
    }
    return Settings(**(values | extra))


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {check}")


def ahead(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


Sweeps = list[tuple[dt.datetime, SweepResult | None]]


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> Sweeps:
    """Every sweep any Enforcer finishes (its dispatch included), with the wall-clock time it finished."""
    done: Sweeps = []
    real = Enforcer.sweep_once

    def counted(self: Enforcer) -> SweepResult | None:
        result = real(self)
        done.append((dt.datetime.now(dt.UTC), result))
        return result

    monkeypatch.setattr(Enforcer, "sweep_once", counted)
    return done


def finished(sweeps: Sweeps, n: int, timeout: float) -> tuple[dt.datetime, SweepResult | None]:
    """The n-th sweep (counting from 0) once it has finished."""
    wait_for(lambda: len(sweeps) > n, timeout)
    return sweeps[n]


def two_pledges(served: Served, hook_url: str) -> tuple[dt.datetime, dt.datetime, list[int], str]:
    """m1's pledges of two years, due a moment apart; a webhook for every notice. The first due time, the
    second, the pledges and m1's token."""
    first = dt.datetime.fromisoformat(ahead(1.5))
    c = build_county(served.client(), served.url, deadlines={"pledge_published": first.isoformat()})
    second = dt.datetime.fromisoformat(ahead(4.5))
    c.post("/api/v1/campaigns", {"year": YEAR + 1, "calendar": {"deadlines": {"pledge_published": second.isoformat()}}})
    c.post("/api/v1/webhooks", {"url": hook_url, "secret": SECRET, "kinds": DEADLINE_KINDS})
    body = {"person_id": c.people["m1"], "items": GOOD_ITEMS}
    pids = [int(c.post("/api/v1/pledges", {"year": year, **body})["id"]) for year in (YEAR, YEAR + 1)]
    c.close()
    return first, second, pids, c.tokens["m1"]


def overdue(member: httpx.Client) -> list[int]:
    entries = member.get("/api/v1/notifications").json()["items"]
    assert {e["kind"] for e in entries} <= {"overdue"}
    return [e["subject"]["id"] for e in entries]


def test_the_scheduler_enforces_at_start_up_once_and_wakes_at_the_due_time(
    db_url: str, clock: Clock, sweeps: Sweeps
) -> None:
    down = fast(db_url, scheduler=False)
    up = fast(db_url, sweep_interval=60.0)  # no interval sweep within the test: only the start-up one and the wake
    with receiver(secret=SECRET) as hook:
        with serve(down, clock) as served:
            missed_while_down, woken, pids, token = two_pledges(served, hook.url)
        time.sleep(max(0.0, (missed_while_down - dt.datetime.now(dt.UTC)).total_seconds()))

        with serve(up, clock) as served, served.client(token) as member:
            _, at_start = finished(sweeps, 0, timeout=10)  # the start-up sweep (and its dispatch)
            assert at_start is not None and (at_start.missed, at_start.notices) == (1, 1)
            assert overdue(member) == [pids[0]]
            woke_at, woke = finished(sweeps, 1, timeout=15)  # the wake: the 60 s interval is far off
            assert woken <= woke_at < woken + dt.timedelta(seconds=10)
            assert woke is not None and (woke.missed, woke.notices) == (1, 1)
            assert overdue(member) == [pids[1], pids[0]]

        with serve(up, clock) as served, served.client(token) as member:
            _, again = finished(sweeps, 2, timeout=10)
            assert again == SweepResult(), "a restart sends nothing again"
            assert overdue(member) == [pids[1], pids[0]]
    assert sorted(r.body["subject"]["id"] for r in hook.received) == pids and hook.refused == []
    assert len(set(hook.deliveries())) == 2
