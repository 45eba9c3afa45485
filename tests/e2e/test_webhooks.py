"""Webhooks under attack, through the real app: internal URLs refused at registration and at delivery,
switched off and deleted webhooks sent nothing more, and a deleted webhook's id never handed out again."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from notifications.channels import WebhookChannel
from notifications.dispatcher import Stats, dispatch_due
from notifications.outbox import NoticeDraft, publish
from notifications.tables import Delivery, Webhook
from services.config import Settings
from services.persistence.uow import UnitOfWork
from services.usecases.inbox import INTERNAL_URL
from tests.conftest import ADMIN, Clock, Served, serve
from tests.county import GOOD_ITEMS, YEAR, County, build_county
from tests.e2e.test_deadlines import SECRET, ahead, fast, wait_for
from tests.receiver import receiver

INTERNAL = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://127.0.0.1:5432/",
    "http://[::1]:8000/hook",
    "http://10.0.0.1/hook",
    "http://0x7f.0.0.1/",
    "http://2130706433:6379/",
    "http://0177.0.0.1/",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://localhost:8000/hook",
    "http://intranet/hook",
]
PUBLIC = "https://hooks.example.org/pledgeflow"  # does not resolve here: accepted, checked again at connection


def _hook(c: County, url: str, **extra: Any) -> httpx.Response:
    return c.as_("office").post("/api/v1/webhooks", json={"url": url, "secret": SECRET, **extra})


def _notice(served: Served, n: int) -> None:
    """One notice through the outbox, to the active webhooks, as a sweep publishes it."""
    now = served.clock()
    draft = NoticeDraft(f"test:{n}", "overdue", "pledge", n, "pledge_published", now, 0, "【逾期】测试", "测试", (1,))
    with UnitOfWork(served.container.db) as uow:
        hooks = list(uow.session.exec(select(Webhook).where(col(Webhook.active))).all())
        publish(uow.session, [draft], hooks, {}, now)
        uow.commit()


def _deliveries(served: Served, hook_id: int) -> list[tuple[int, str]]:
    with UnitOfWork(served.container.db, write=False) as uow:
        q = select(Delivery).where(Delivery.target_id == hook_id).order_by(col(Delivery.id))
        return [(int(d.notice_id), d.status) for d in uow.session.exec(q).all()]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_url_is_refused_by_default(county: County, url: str) -> None:
    r = _hook(county, url)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "/problems/validation-error" and problem["detail"] == INTERNAL_URL
    assert problem["errors"] == [{"field": "url", "message": INTERNAL_URL}]
    assert not any(ch.isascii() and ch.isalpha() for ch in INTERNAL_URL), "the message names no field in English"
    assert county.as_("office").get("/api/v1/webhooks").json() == []


def test_allowing_private_addresses_lets_an_intranet_receiver_in(db_url: str, clock: Clock) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, webhook_allow_private=True)
    with serve(settings, clock) as served, closing(build_county(served.client(), served.url)) as c:
        assert _hook(c, "http://10.0.0.1/hook").status_code == 201
        assert _hook(c, "http://127.0.0.1:8080/hook").status_code == 201


def test_a_webhook_that_points_inside_when_sent_reaches_nothing(db_url: str, clock: Clock) -> None:
    """A row registered before the rule (or a name whose DNS answer changed): refused at the connection."""
    with (
        receiver(secret=SECRET) as inside,
        serve(fast(db_url, webhook_allow_private=False), clock) as served,
        closing(build_county(served.client(), served.url, deadlines={"pledge_published": ahead(2)})) as c,
    ):
        with UnitOfWork(served.container.db) as uow:
            row = Webhook(url=inside.url, secret=SECRET, kinds=[], created_at=served.clock())
            uow.session.add(row)
            uow.commit()
            hook_id = row.id
        c.as_("m1").post("/api/v1/pledges", json={"year": YEAR, "person_id": c.people["m1"], "items": GOOD_ITEMS})

        def settled() -> list[dict[str, Any]]:
            rows = c.as_("office").get(f"/api/v1/webhooks/{hook_id}/deliveries").json()
            return rows if rows and rows[0]["status"] == "failed" else []

        (delivery,) = wait_for(settled)
        assert (delivery["attempts"], delivery["last_status"], delivery["last_error"]) == (3, None, "blocked")
        assert inside.received == [] and inside.refused == []


def test_a_switched_off_or_deleted_webhook_gets_nothing_more(served: Served, county: County) -> None:
    off, gone = (int(_hook(county, f"{PUBLIC}/{n}").json()["id"]) for n in ("off", "gone"))
    _notice(served, 1)
    office = county.as_("office")
    r = office.patch(f"/api/v1/webhooks/{off}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert [d["status"] for d in office.get(f"/api/v1/webhooks/{off}/deliveries").json()] == ["cancelled"]
    _notice(served, 2)
    assert _deliveries(served, off) == [(1, "cancelled")], "no new delivery while switched off"
    assert [status for _, status in _deliveries(served, gone)] == ["pending", "pending"]

    assert office.delete(f"/api/v1/webhooks/{gone}").status_code == 204
    assert [h["id"] for h in office.get("/api/v1/webhooks").json()] == [off]
    assert office.get(f"/api/v1/webhooks/{gone}/deliveries").status_code == 404
    assert [status for _, status in _deliveries(served, gone)] == ["cancelled", "cancelled"]
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        assert dispatch_due(served.container.db, served.clock(), WebhookChannel(client), None) == Stats()
    assert sent == []

    assert office.patch(f"/api/v1/webhooks/{off}", json={"active": True}).json()["active"] is True
    _notice(served, 3)
    assert _deliveries(served, off) == [(1, "cancelled"), (3, "pending")]
    assert county.as_("sec_a").patch(f"/api/v1/webhooks/{off}", json={"active": False}).status_code == 403
    assert county.as_("sec_a").delete(f"/api/v1/webhooks/{off}").status_code == 403
    assert office.patch(f"/api/v1/webhooks/{gone}", json={"active": True}).status_code == 404
    assert office.delete(f"/api/v1/webhooks/{gone}").status_code == 404
    bad = office.patch(f"/api/v1/webhooks/{off}", json={"active": "sometimes"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["active"]


def test_a_new_webhook_never_takes_the_id_of_a_deleted_one(served: Served, county: County) -> None:
    """Without it (SQLite reuses the highest id), the new webhook would list, and be sent, the old one's."""
    first = int(_hook(county, f"{PUBLIC}/old").json()["id"])
    _notice(served, 1)
    office = county.as_("office")
    assert len(office.get(f"/api/v1/webhooks/{first}/deliveries").json()) == 1
    assert office.delete(f"/api/v1/webhooks/{first}").status_code == 204
    second = int(_hook(county, f"{PUBLIC}/new").json()["id"])
    assert second > first
    assert office.get(f"/api/v1/webhooks/{second}/deliveries").json() == []


def test_deliveries_show_the_failure_class_and_nothing_else(served: Served, county: County) -> None:
    hook = int(_hook(county, f"{PUBLIC}/x").json()["id"])
    _notice(served, 1)
    later = served.clock() + dt.timedelta(seconds=1)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="invalid signature for tenant acme (db=10.1.2.3)")

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert dispatch_due(served.container.db, later, WebhookChannel(client), None) == Stats(retried=1)
    (row,) = county.as_("office").get(f"/api/v1/webhooks/{hook}/deliveries").json()
    assert (row["status"], row["last_status"], row["last_error"]) == ("pending", 401, "http_error")
