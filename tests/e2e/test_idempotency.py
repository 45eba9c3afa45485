"""`Idempotency-Key`: a retried POST replays its first answer and does the work once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from services.persistence.tables import IdempotencyKey
from services.persistence.uow import UnitOfWork
from tests.conftest import Served
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


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic b2ZmaWNlOg==", "Bearer"])
def test_a_caller_without_a_valid_token_writes_nothing_before_its_401(
    served: Served, county: County, authorization: str | None
) -> None:
    """Authentication comes first: no Idempotency-Key row is claimed (nor its write lock taken) for a stranger."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    headers = {"Idempotency-Key": "stranger-1"} | ({"Authorization": authorization} if authorization else {})
    sa.event.listen(served.container.db, "before_cursor_execute", seen)
    try:
        r = httpx.post(f"{served.url}/api/v1/orgs", json={"name": "某支部", "kind": "branch"}, headers=headers)
    finally:
        sa.event.remove(served.container.db, "before_cursor_execute", seen)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    written = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert written == [], written
    with UnitOfWork(served.container.db, write=False) as uow:
        assert uow.session.exec(select(sa.func.count()).select_from(IdempotencyKey)).one() == 0
