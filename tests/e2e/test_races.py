"""Races over HTTP: many callers fire at one record at once; exactly one wins, nothing is lost."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from tests.county import GOOD_ITEMS, YEAR, County


def test_twenty_simultaneous_events_on_one_pledge(county: County) -> None:
    m1 = county.as_("m1")
    pid = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}).json()[
        "id"
    ]
    m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"})
    calls = [("sec_a", {"event": "approve"})] * 12 + [("sec_a", {"event": "return", "reason": "再改改"})] * 4
    calls += [("office", {"event": "withdraw", "reason": "重复"})] * 4
    barrier, answers = threading.Barrier(len(calls)), []

    def fire(who: str, body: dict[str, str]) -> None:
        with httpx.Client(
            base_url=county.url, headers={"Authorization": f"Bearer {county.tokens[who]}"}, timeout=60
        ) as c:
            barrier.wait()
            r = c.post(f"/api/v1/pledges/{pid}/events", json=body, headers={"If-Match": '"2"'})
            answers.append((body["event"], r.status_code))

    threads = [threading.Thread(target=fire, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [event for event, status in answers if status == 200]
    assert len(won) == 1, Counter(answers)
    assert {status for _, status in answers} <= {200, 409, 412}
    history = county.as_("office").get(f"/api/v1/pledges/{pid}/history").json()
    assert [h["event"] for h in history] == ["create", "submit", won[0]]
    assert county.as_("office").get(f"/api/v1/pledges/{pid}").json()["version"] == 3
