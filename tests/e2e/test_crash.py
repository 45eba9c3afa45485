"""SIGKILL a `pledgeflow serve` in the middle of a burst and a sweep; after a restart nothing acknowledged
is lost, nothing is half-written, and every due notice reaches its webhook once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN, free_port
from tests.county import GOOD_ITEMS, YEAR, build_county
from tests.e2e.test_deadlines import SECRET, ahead, wait_for
from tests.receiver import receiver

PLEDGEFLOW = Path(sys.executable).parent / "pledgeflow"


def start(db_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PLEDGEFLOW_DATABASE_URL": db_url,
        "PLEDGEFLOW_ADMIN_TOKEN": ADMIN,
        "PLEDGEFLOW_SWEEP_INTERVAL": "0.5",
        "PLEDGEFLOW_DISPATCH_INTERVAL": "0.2",
        "PLEDGEFLOW_DISPATCH_CLAIM_SECONDS": "2",
        "PLEDGEFLOW_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver listens on 127.0.0.1
    }
    with log.open("a") as out:
        proc = subprocess.Popen([str(PLEDGEFLOW), "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return proc.poll() is not None

    wait_for(up, timeout=30)
    assert proc.poll() is None, log.read_text()
    return proc


@pytest.mark.slow
def test_sigkill_mid_burst_loses_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    with receiver(secret=SECRET) as hook:
        proc = start(db_url, port, log)
        url = f"http://127.0.0.1:{port}"
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        deadline = time.monotonic() + 20
        c = build_county(admin, url, deadlines={"pledge_published": ahead(20)})
        c.as_("office").post(
            "/api/v1/webhooks", json={"url": hook.url, "secret": SECRET, "kinds": ["reminder", "overdue", "escalation"]}
        )
        people = [
            c.post("/api/v1/people", {"name": f"教师{i}", "org_id": c.orgs["a"], "status": "full"})["id"]
            for i in range(400)
        ]
        acknowledged: list[tuple[str, int]] = []
        stop = threading.Event()

        def burst(chunk: list[int]) -> None:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {c.tokens['sec_a']}"}, timeout=5) as sec:
                for person in chunk:
                    # paced, so the burst outlasts the kill however fast the server is: ≤ 4 × 20 pledges/s
                    if stop.wait(0.05):
                        return
                    try:
                        r = sec.post("/api/v1/pledges", json={"year": YEAR, "person_id": person, "items": GOOD_ITEMS})
                        if r.status_code == 201:
                            acknowledged.append(("create", r.json()["id"]))
                            s = sec.post(f"/api/v1/pledges/{r.json()['id']}/events", json={"event": "submit"})
                            if s.status_code == 200:
                                acknowledged.append(("submit", r.json()["id"]))
                    except httpx.TransportError:
                        return

        threads = [threading.Thread(target=burst, args=(people[i::4],)) for i in range(4)]
        time.sleep(max(0.0, deadline - 1.5 - time.monotonic()))
        for t in threads:
            t.start()
        time.sleep(max(0.0, deadline + 1.5 - time.monotonic()))  # the sweep runs in the middle of the burst
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        c.close()
        admin.close()

        proc = start(db_url, port, log)
        try:
            engine = sa.create_engine(db_url)
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT subject_id, event FROM history WHERE subject_type = 'pledge'")
                ).all()
                states = dict(conn.execute(sa.text("SELECT id, state FROM pledge")).all())
            history = {(event, sid) for sid, event in rows}
            assert len(rows) == len(history), "a transition was recorded twice"
            assert set(acknowledged) <= history, "an acknowledged transition was lost"
            for pid, state in states.items():
                expected = "reviewing" if ("submit", pid) in history else "proposing"
                assert state == expected, f"pledge {pid} half-written: {state} vs its history"
            with engine.connect() as conn:
                # pledges created before the deadline entered the notice track (stage 4 = none left)
                due = set(
                    conn.execute(
                        sa.text("SELECT subject_id FROM deadline WHERE name = 'pledge_published' AND notice_stage < 4")
                    ).scalars()
                )
            assert due, "no pledge was created before the deadline"
            wait_for(lambda: {r.body["subject"]["id"] for r in hook.received} >= due, timeout=30)
            time.sleep(1.5)
            delivered = [r.headers["x-pledgeflow-delivery"] for r in hook.received]
            by_subject = {r.body["subject"]["id"] for r in hook.received}
            assert by_subject == due
            with engine.connect() as conn:
                notices = conn.execute(sa.text("SELECT count(*) FROM notice WHERE kind = 'overdue'")).scalar_one()
            assert notices == len(due), "a notice was created twice"
            assert len(set(delivered)) == len(due), "a notice reached the webhook under two delivery ids"
            engine.dispose()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    assert 5 < len(acknowledged) < 2 * len(people), f"the kill did not land mid-burst: {len(acknowledged)}"
