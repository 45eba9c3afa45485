"""`Idempotency-Key`: a retried POST replays its first answer and does the work once."""

from __future__ import annotations

from tests.county import GOOD_ITEMS, YEAR, County


def test_a_retried_create_makes_one_pledge(county: County) -> None:
    m1 = county.as_("m1")
    body = {"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}
    first = m1.post("/api/v1/pledges", json=body, headers={"Idempotency-Key": "create-1"})
    again = m1.post("/api/v1/pledges", json=body, headers={"Idempotency-Key": "create-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert county.as_("office").get("/api/v1/pledges").json()["total"] == 1
    changed = m1.post(
        "/api/v1/pledges", json={**body, "items": GOOD_ITEMS[:1]}, headers={"Idempotency-Key": "create-1"}
    )
    assert changed.status_code == 422 and changed.headers["content-type"].startswith("application/problem+json")


def test_a_retried_event_fires_once_and_keys_are_per_caller(county: County) -> None:
    m1, sec = county.as_("m1"), county.as_("sec_a")
    pid = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}).json()[
        "id"
    ]
    for _ in range(3):
        r = m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}, headers={"Idempotency-Key": "k"})
        assert r.status_code == 200 and r.json()["state"] == "reviewing"
    history = m1.get(f"/api/v1/pledges/{pid}/history").json()
    assert [h["event"] for h in history] == ["create", "submit"]
    other = sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "approve"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 200 and other.json()["state"] == "publicizing"


def test_a_refused_answer_is_not_kept(county: County) -> None:
    m1 = county.as_("m1")
    pid = m1.post(
        "/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": [{"content": "短"}]}
    ).json()["id"]
    refused = m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}, headers={"Idempotency-Key": "s"})
    assert refused.status_code == 422
    assert m1.patch(f"/api/v1/pledges/{pid}", json={"items": GOOD_ITEMS}).status_code == 200
    retried = m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}, headers={"Idempotency-Key": "s"})
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
