"""Deadlines that enforce themselves: the real scheduler, a real webhook receiver, real time."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from services.config import Settings
from tests.conftest import ADMIN, Clock, Served, serve
from tests.county import GOOD_ITEMS, PUBLISH, YEAR, County, build_county
from tests.receiver import receiver

SECRET = "webhook-secret-1"


def fast(db_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "admin_token": ADMIN,
        "sweep_interval": 1.0,
        "dispatch_interval": 0.3,
        "webhook_backoff_seconds": 0.3,
        "webhook_max_attempts": 3,
        "webhook_allow_private": True,  # the receivers below listen on 127.0.0.1
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


@contextmanager
def county_on(served: Served, deadline: str) -> Iterator[County]:
    c = build_county(served.client(), served.url, deadlines={"pledge_published": deadline})
    try:
        yield c
    finally:
        c.close()


DEADLINE_KINDS = ["reminder", "overdue", "escalation"]


def inbox(c: County, who: str) -> list[dict[str, Any]]:
    """The deadline notices in a person's inbox (what happened to records is told besides: kind `event`)."""
    return [n for n in c.as_(who).get("/api/v1/notifications").json()["items"] if n["kind"] in DEADLINE_KINDS]


def fire(c: County, who: str, pid: int, event: str, **body: Any) -> dict[str, Any]:
    r = c.as_(who).post(f"/api/v1/pledges/{pid}/events", json={"event": event, **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def published_in_time(c: County) -> int:
    r = c.as_("m2").post("/api/v1/pledges", json={"year": YEAR, "person_id": c.people["m2"], "items": GOOD_ITEMS})
    pid = int(r.json()["id"])
    fire(c, "m2", pid, "submit")
    fire(c, "sec_a", pid, "approve")
    fire(c, "sec_a", pid, "publish", data=PUBLISH)
    return pid


def test_deadline_passes_with_the_real_scheduler(db_url: str, clock: Clock) -> None:
    with receiver() as hook, serve(fast(db_url), clock) as served, county_on(served, ahead(5)) as c:
        assert (
            c.as_("office")
            .post("/api/v1/webhooks", json={"url": hook.url, "secret": SECRET, "kinds": DEADLINE_KINDS})
            .status_code
            == 201
        )
        late = c.as_("m1").post(
            "/api/v1/pledges", json={"year": YEAR, "person_id": c.people["m1"], "items": GOOD_ITEMS}
        )
        late_id = int(late.json()["id"])
        on_time = published_in_time(c)

        wait_for(lambda: inbox(c, "m1") and hook.received)
        time.sleep(1.5)  # a few more sweeps and dispatches: nothing may be sent twice
        pledge = c.as_("m1").get(f"/api/v1/pledges/{late_id}").json()
        assert pledge["overdue"] is True
        assert {d["name"]: d["status"] for d in pledge["deadlines"]}["pledge_published"] == "missed"
        for who in ("m1", "sec_a"):
            entries = inbox(c, who)
            assert [(e["kind"], e["subject"]["id"]) for e in entries] == [("overdue", late_id)], who
        assert entries[0]["title"].startswith("【逾期】m1老师的公开承诺未在") and entries[0]["title"].endswith(
            "完成公开"
        )
        assert inbox(c, "supervisor") == [] and inbox(c, "m2") == []

        assert len(hook.received) == 1
        got = hook.received[0]
        stamp = got.headers["x-pledgeflow-timestamp"]
        assert abs(int(stamp) - time.time()) < 60, "signed with the time of sending, not the simulated clock"
        expected = "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + got.raw, hashlib.sha256).hexdigest()
        assert got.headers["x-pledgeflow-signature"] == expected and got.signed_by(SECRET)
        assert got.body["kind"] == "overdue" and got.body["subject"] == {"type": "pledge", "id": late_id}
        assert sorted(got.body["recipients"]) == sorted([c.user_ids["m1"], c.user_ids["sec_a"]])

        other = c.as_("office").get(f"/api/v1/pledges/{on_time}").json()
        assert {d["name"]: d["status"] for d in other["deadlines"]}["pledge_published"] == "met"
        assert other["overdue"] is False

        fire(c, "m1", late_id, "submit")
        fire(c, "sec_a", late_id, "approve")
        done = fire(c, "sec_a", late_id, "publish", data=PUBLISH)
        assert {d["name"]: d["status"] for d in done["deadlines"]}["pledge_published"] == "late"
        assert done["overdue"] is False
        history = c.as_("m1").get(f"/api/v1/pledges/{late_id}/history").json()
        assert [h["late"] for h in history] == [False, True, True, True]


def test_a_deadline_passed_while_down_is_enforced_once_at_start(db_url: str, clock: Clock) -> None:
    settings = fast(db_url, sweep_interval=60.0)
    with serve(settings, clock) as served, county_on(served, ahead(3)) as c:
        r = c.as_("m1").post("/api/v1/pledges", json={"year": YEAR, "person_id": c.people["m1"], "items": GOOD_ITEMS})
        pid = r.json()["id"]
        tokens = dict(c.tokens)
    time.sleep(3.5)
    for _ in range(2):
        with serve(settings, clock) as again:
            with again.client(tokens["m1"]) as member:
                entries = wait_for(lambda m=member: m.get("/api/v1/notifications").json()["items"], timeout=10)
            assert [(e["kind"], e["subject"]["id"]) for e in entries] == [("overdue", pid)]


@pytest.mark.parametrize("answers", [[500], [500, 500, 500, 500]])
def test_webhook_retries_then_delivers_or_gives_up(db_url: str, clock: Clock, answers: list[int]) -> None:
    with receiver(answers) as hook, serve(fast(db_url), clock) as served, county_on(served, ahead(3)) as c:
        created = c.as_("office").post(
            "/api/v1/webhooks", json={"url": hook.url, "secret": SECRET, "kinds": ["overdue"]}
        )
        hook_id = created.json()["id"]
        c.as_("m1").post("/api/v1/pledges", json={"year": YEAR, "person_id": c.people["m1"], "items": GOOD_ITEMS})

        def settled() -> list[dict[str, Any]]:
            rows = c.as_("office").get(f"/api/v1/webhooks/{hook_id}/deliveries").json()
            return rows if rows and rows[0]["status"] != "pending" else []

        rows = wait_for(settled)
        assert len(rows) == 1
        assert len(set(hook.deliveries())) == 1, "every retry carries the same delivery id"
        if len(answers) == 1:
            assert (rows[0]["status"], rows[0]["attempts"], len(hook.received)) == ("delivered", 2, 2)
        else:
            assert (rows[0]["status"], rows[0]["attempts"], len(hook.received)) == ("failed", 3, 3)
            assert rows[0]["last_status"] == 500
