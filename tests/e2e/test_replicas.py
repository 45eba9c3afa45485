"""Two `pledgeflow serve` processes on one PostgreSQL database behave as one service."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, free_port, stop
from tests.county import GOOD_ITEMS, YEAR, build_county
from tests.e2e.test_deadlines import SECRET, ahead, wait_for
from tests.receiver import receiver

pytestmark = pytest.mark.postgres
PLEDGEFLOW = Path(sys.executable).parent / "pledgeflow"


@contextmanager
def serve_process(db_url: str, log: Path, *args: str) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "PLEDGEFLOW_DATABASE_URL": db_url,
        "PLEDGEFLOW_ADMIN_TOKEN": ADMIN,
        "PLEDGEFLOW_SWEEP_INTERVAL": "1",
        "PLEDGEFLOW_DISPATCH_INTERVAL": "0.3",
        "PLEDGEFLOW_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver listens on 127.0.0.1
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(PLEDGEFLOW), "serve", "--port", str(port), *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url) or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, log.read_text()
        yield url
    finally:
        stop(proc, 15)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_two_replicas_send_each_notice_once(pg_url: str, tmp_path: Path) -> None:
    db_url = pg_url
    with (
        receiver(secret=SECRET) as hook,
        serve_process(db_url, tmp_path / "a.log") as a,
        serve_process(db_url, tmp_path / "b.log", "--workers", "2") as b,
    ):
        admin = httpx.Client(base_url=a, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        c = build_county(admin, a, deadlines={"pledge_published": ahead(6)})
        assert (
            c.as_("office")
            .post(
                "/api/v1/webhooks",
                json={"url": hook.url, "secret": SECRET, "kinds": ["reminder", "overdue", "escalation"]},
            )
            .status_code
            == 201
        )
        for who in ("m1", "m2"):
            body = {"year": YEAR, "person_id": c.people[who], "items": GOOD_ITEMS}
            assert c.as_(who).post("/api/v1/pledges", json=body).status_code == 201

        wait_for(lambda: len(hook.received) >= 2, timeout=30)
        time.sleep(3)  # several more sweeps and dispatches in both processes
        assert len(hook.received) == 2 and hook.refused == [], hook.deliveries()
        assert len(set(hook.deliveries())) == 2
        assert sorted(r.body["subject"]["id"] for r in hook.received) == sorted(
            p["id"] for p in c.as_("office").get("/api/v1/pledges").json()["items"]
        )
        with httpx.Client(base_url=b, headers={"Authorization": f"Bearer {c.tokens['sec_a']}"}) as sec_on_b:
            kinds = [e["kind"] for e in sec_on_b.get("/api/v1/notifications").json()["items"]]
        assert kinds == ["overdue", "overdue"]
        assert [e["kind"] for e in c.as_("m1").get("/api/v1/notifications").json()["items"]] == ["overdue"]
        c.close()
    logs = [(tmp_path / name).read_text() for name in ("a.log", "b.log")]
    assert [log.count("scheduler started") for log in logs] == [1, 2], logs  # three schedulers in all
    assert sum(log.count("enforcer lease taken") for log in logs) == 1, logs  # one enforcer
