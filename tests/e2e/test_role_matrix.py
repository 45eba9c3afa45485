"""Every route × every role → the exact status. A route without a rule here fails the suite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from notifications.outbox import NoticeDraft, publish
from notifications.tables import InboxEntry, Notice
from services.persistence.uow import UnitOfWork
from tests.conftest import Served
from tests.county import GOOD_ITEMS, TODAY, YEAR, County, build_county

ROLES = ("office", "supervisor", "sec_a", "sec_b", "m1", "m2", "appraiser", "anon")
PLEDGE_READERS = {"office", "supervisor", "sec_a", "m1"}
BRANCH_READERS = {"office", "supervisor", "sec_a"}
VOTERS = {"sec_a", "m1", "m2", "appraiser"}


@dataclass
class World:
    county: County
    ids: dict[str, Any]


def statuses(default: int, **groups: set[str]) -> dict[str, int]:
    """`statuses(404, **{"200": {...}})`: a status per role; anonymous callers get 401."""
    out = {role: default for role in ROLES} | {"anon": 401}
    for status, roles in groups.items():
        out |= {role: int(status) for role in roles}
    return out


def everyone(status: int) -> dict[str, int]:
    return statuses(status)


Rule = tuple[Callable[[World], tuple[str, str, dict[str, Any] | None]], dict[str, int]]


def rules() -> dict[tuple[str, str], Rule]:
    future = (TODAY.date() + dt.timedelta(days=30)).isoformat()
    return {
        ("GET", "/healthz"): (lambda w: ("GET", "/healthz", None), {r: 200 for r in ROLES}),
        ("GET", "/readyz"): (lambda w: ("GET", "/readyz", None), {r: 200 for r in ROLES}),
        ("POST", "/api/v1/orgs"): (
            lambda w: ("POST", "/api/v1/orgs", {"name": "新支部", "kind": "branch", "parent_id": w.ids["committee"]}),
            statuses(403, **{"201": {"office"}}),
        ),
        ("GET", "/api/v1/orgs"): (lambda w: ("GET", "/api/v1/orgs", None), everyone(200)),
        ("POST", "/api/v1/people"): (
            lambda w: ("POST", "/api/v1/people", {"name": "新老师", "org_id": w.ids["a"], "status": "full"}),
            statuses(403, **{"201": {"office", "sec_a"}}),
        ),
        ("POST", "/api/v1/users"): (
            lambda w: ("POST", "/api/v1/users", {"name": "新用户", "roles": [{"role": "office"}]}),
            statuses(403, **{"201": {"office"}}),
        ),
        ("GET", "/api/v1/users"): (lambda w: ("GET", "/api/v1/users", None), statuses(403, **{"200": {"office"}})),
        ("PATCH", "/api/v1/users/{user_id}"): (
            lambda w: ("PATCH", f"/api/v1/users/{w.county.user_ids['mb']}", {"active": True}),
            statuses(403, **{"200": {"office"}}),
        ),
        ("POST", "/api/v1/users/{user_id}/token"): (
            lambda w: ("POST", f"/api/v1/users/{w.county.user_ids['mb']}/token", None),
            statuses(403, **{"201": {"office"}}),
        ),
        ("GET", "/api/v1/me"): (lambda w: ("GET", "/api/v1/me", None), everyone(200)),
        ("PATCH", "/api/v1/orgs/{org_id}"): (
            lambda w: ("PATCH", f"/api/v1/orgs/{w.ids['a']}", {"public_page": True}),
            statuses(403, **{"200": {"office"}}),
        ),
        ("GET", "/api/v1/imports/roster/template.xlsx"): (
            lambda w: ("GET", "/api/v1/imports/roster/template.xlsx", None),
            statuses(403, **{"200": {"office"}}),
        ),
        ("POST", "/api/v1/imports/roster"): (  # no file sent: the office is told what is missing, others refused first
            lambda w: ("POST", "/api/v1/imports/roster", None),
            statuses(403, **{"422": {"office"}}),
        ),
        ("POST", "/api/v1/campaigns"): (
            lambda w: ("POST", "/api/v1/campaigns", {"year": YEAR}),
            statuses(403, **{"409": {"office"}}),
        ),
        ("GET", "/api/v1/campaigns/{year}"): (lambda w: ("GET", f"/api/v1/campaigns/{YEAR}", None), everyone(200)),
        ("GET", "/api/v1/campaigns/{year}/scorecard"): (
            lambda w: ("GET", f"/api/v1/campaigns/{YEAR}/scorecard", None),
            everyone(200),
        ),
        ("POST", "/api/v1/pledges"): (
            lambda w: ("POST", "/api/v1/pledges", {"year": YEAR, "person_id": w.ids["m1_person"], "items": GOOD_ITEMS}),
            statuses(403, **{"409": {"office", "sec_a", "m1"}}),
        ),
        ("GET", "/api/v1/pledges"): (lambda w: ("GET", "/api/v1/pledges", None), everyone(200)),
        ("GET", "/api/v1/pledges/{pledge_id}"): (
            lambda w: ("GET", f"/api/v1/pledges/{w.ids['pledge']}", None),
            statuses(404, **{"200": PLEDGE_READERS}),
        ),
        ("PATCH", "/api/v1/pledges/{pledge_id}"): (
            lambda w: ("PATCH", f"/api/v1/pledges/{w.ids['pledge']}", {"items": w.ids["pledge_items"]}),
            statuses(404, **{"200": {"sec_a", "m1"}, "403": {"office", "supervisor"}}),
        ),
        ("POST", "/api/v1/pledges/{pledge_id}/events"): (
            lambda w: ("POST", f"/api/v1/pledges/{w.ids['vague']}/events", {"event": "submit"}),
            statuses(404, **{"422": {"sec_a", "m1"}, "403": {"office", "supervisor"}}),
        ),
        ("GET", "/api/v1/pledges/{pledge_id}/history"): (
            lambda w: ("GET", f"/api/v1/pledges/{w.ids['pledge']}/history", None),
            statuses(404, **{"200": PLEDGE_READERS}),
        ),
        ("POST", "/api/v1/pledges/{pledge_id}/comments"): (
            lambda w: (
                "POST",
                f"/api/v1/pledges/{w.ids['pledge']}/comments",
                {"achievements": "好", "problems": "无", "direction": "继续"},
            ),
            statuses(404, **{"201": {"sec_a"}, "403": {"office", "supervisor", "m1"}}),
        ),
        ("GET", "/api/v1/pledges/{pledge_id}/comments"): (
            lambda w: ("GET", f"/api/v1/pledges/{w.ids['pledge']}/comments", None),
            statuses(404, **{"200": PLEDGE_READERS}),
        ),
        ("POST", "/api/v1/pledges/{pledge_id}/progress"): (
            lambda w: (
                "POST",
                f"/api/v1/pledges/{w.ids['pledge']}/progress",
                {"item": w.ids["pledge_items"][0]["id"], "note": "完成", "happened_on": "2030-10-01"},
            ),
            statuses(404, **{"409": {"sec_a", "m1"}, "403": {"office", "supervisor"}}),
        ),
        ("POST", "/api/v1/self-evaluations"): (
            lambda w: ("POST", "/api/v1/self-evaluations", {"year": YEAR, "org_id": w.ids["a"]}),
            statuses(403, **{"409": {"office", "sec_a"}}),
        ),
        ("GET", "/api/v1/self-evaluations"): (lambda w: ("GET", "/api/v1/self-evaluations", None), everyone(200)),
        ("GET", "/api/v1/self-evaluations/{evaluation_id}"): (
            lambda w: ("GET", f"/api/v1/self-evaluations/{w.ids['evaluation']}", None),
            statuses(404, **{"200": BRANCH_READERS}),
        ),
        ("POST", "/api/v1/self-evaluations/{evaluation_id}/events"): (
            lambda w: ("POST", f"/api/v1/self-evaluations/{w.ids['evaluation']}/events", {"event": "submit"}),
            statuses(404, **{"422": {"sec_a"}, "403": {"office", "supervisor"}}),
        ),
        ("PUT", "/api/v1/self-evaluations/{evaluation_id}/scores"): (
            lambda w: (
                "PUT",
                f"/api/v1/self-evaluations/{w.ids['evaluation']}/scores",
                {"kind": "self", "items": [{"code": w.ids["score_code"], "points": 1}]},
            ),
            statuses(404, **{"200": {"sec_a"}, "403": {"office", "supervisor"}}),
        ),
        ("GET", "/api/v1/self-evaluations/{evaluation_id}/history"): (
            lambda w: ("GET", f"/api/v1/self-evaluations/{w.ids['evaluation']}/history", None),
            statuses(404, **{"200": BRANCH_READERS}),
        ),
        ("GET", "/api/v1/notifications"): (lambda w: ("GET", "/api/v1/notifications", None), everyone(200)),
        ("POST", "/api/v1/notifications/{entry_id}/read"): (
            lambda w: ("POST", f"/api/v1/notifications/{w.ids['entry']}/read", None),
            statuses(404, **{"200": {"m1"}}),
        ),
        ("POST", "/api/v1/webhooks"): (
            lambda w: ("POST", "/api/v1/webhooks", {"url": "https://hooks.example.org/hook", "secret": "secret-123"}),
            statuses(403, **{"201": {"office"}}),
        ),
        ("GET", "/api/v1/webhooks"): (
            lambda w: ("GET", "/api/v1/webhooks", None),
            statuses(403, **{"200": {"office"}}),
        ),
        ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): (
            lambda w: ("GET", f"/api/v1/webhooks/{w.ids['webhook']}/deliveries", None),
            statuses(403, **{"200": {"office"}}),
        ),
        ("PATCH", "/api/v1/webhooks/{webhook_id}"): (
            lambda w: ("PATCH", f"/api/v1/webhooks/{w.ids['webhook']}", {"active": True}),
            statuses(403, **{"200": {"office"}}),
        ),
        ("DELETE", "/api/v1/webhooks/{webhook_id}"): (
            lambda w: ("DELETE", f"/api/v1/webhooks/{w.ids['doomed_webhook']}", None),
            statuses(403, **{"204": {"office"}}),
        ),
        ("GET", "/api/v1/contact-points"): (
            lambda w: ("GET", "/api/v1/contact-points", None),
            statuses(403, **{"200": {"supervisor"}}),
        ),
        ("GET", "/api/v1/definitions"): (lambda w: ("GET", "/api/v1/definitions", None), {r: 200 for r in ROLES}),
        ("GET", "/api/v1/definitions/{name}"): (
            lambda w: ("GET", "/api/v1/definitions/pledge", None),
            {r: 200 for r in ROLES},
        ),
        ("GET", "/api/v1/definitions/{name}/diagram"): (
            lambda w: ("GET", "/api/v1/definitions/pledge/diagram", None),
            {r: 200 for r in ROLES},
        ),
        ("POST", "/api/v1/appraisal-rounds"): (
            lambda w: ("POST", "/api/v1/appraisal-rounds", {"year": YEAR, "org_id": w.ids["a"]}),
            statuses(403, **{"409": {"office", "sec_a"}}),
        ),
        ("GET", "/api/v1/appraisal-rounds"): (lambda w: ("GET", "/api/v1/appraisal-rounds", None), everyone(200)),
        ("GET", "/api/v1/appraisal-rounds/{record_id}"): (
            lambda w: ("GET", f"/api/v1/appraisal-rounds/{w.ids['round']}", None),
            statuses(404, **{"200": BRANCH_READERS | VOTERS}),
        ),
        ("POST", "/api/v1/appraisal-rounds/{record_id}/events"): (
            lambda w: ("POST", f"/api/v1/appraisal-rounds/{w.ids['open_round']}/events", {"event": "open"}),
            statuses(404, **{"409": BRANCH_READERS | VOTERS}),
        ),
        ("GET", "/api/v1/appraisal-rounds/{record_id}/history"): (
            lambda w: ("GET", f"/api/v1/appraisal-rounds/{w.ids['round']}/history", None),
            statuses(404, **{"200": BRANCH_READERS | VOTERS}),
        ),
        ("POST", "/api/v1/appraisal-rounds/{record_id}/ballots"): (
            lambda w: (
                "POST",
                f"/api/v1/appraisal-rounds/{w.ids['round']}/ballots",
                {"subject": {"type": "org", "id": w.ids["a"]}, "rating": "satisfied"},
            ),
            statuses(404, **{"409": VOTERS, "403": {"office", "supervisor"}}),
        ),
        ("GET", "/api/v1/appraisal-rounds/{record_id}/results"): (
            lambda w: ("GET", f"/api/v1/appraisal-rounds/{w.ids['round']}/results", None),
            statuses(404, **{"200": BRANCH_READERS, "403": VOTERS - {"sec_a"}}),
        ),
        ("POST", "/api/v1/demo-sites"): (
            lambda w: (
                "POST",
                "/api/v1/demo-sites",
                {
                    "year": YEAR,
                    "org_id": w.ids["a"],
                    "typical_formulation": "党建带团建",
                    "typical_person": "王老师",
                    "typical_event": "绿色出行周",
                },
            ),
            statuses(403, **{"201": {"office", "sec_a"}}),
        ),
        ("GET", "/api/v1/demo-sites"): (lambda w: ("GET", "/api/v1/demo-sites", None), everyone(200)),
        ("GET", "/api/v1/demo-sites/{record_id}"): (
            lambda w: ("GET", f"/api/v1/demo-sites/{w.ids['site']}", None),
            statuses(404, **{"200": BRANCH_READERS}),
        ),
        ("POST", "/api/v1/demo-sites/{record_id}/events"): (
            lambda w: (
                "POST",
                f"/api/v1/demo-sites/{w.ids['site']}/events",
                {"event": "evaluate", "data": {"methods": ["gossip"]}},
            ),
            statuses(404, **{"422": {"office", "supervisor"}, "403": {"sec_a"}}),
        ),
        ("GET", "/api/v1/demo-sites/{record_id}/history"): (
            lambda w: ("GET", f"/api/v1/demo-sites/{w.ids['site']}/history", None),
            statuses(404, **{"200": BRANCH_READERS}),
        ),
        ("POST", "/api/v1/rectifications"): (
            lambda w: (
                "POST",
                "/api/v1/rectifications",
                {"year": YEAR, "org_id": w.ids["a"], "problems": "组织生活不经常", "due_date": future},
            ),
            statuses(403, **{"201": {"office", "supervisor"}}),
        ),
        ("GET", "/api/v1/rectifications"): (lambda w: ("GET", "/api/v1/rectifications", None), everyone(200)),
        ("GET", "/api/v1/rectifications/{record_id}"): (
            lambda w: ("GET", f"/api/v1/rectifications/{w.ids['order']}", None),
            statuses(404, **{"200": BRANCH_READERS}),
        ),
        ("POST", "/api/v1/rectifications/{record_id}/events"): (
            lambda w: ("POST", f"/api/v1/rectifications/{w.ids['order']}/events", {"event": "report"}),
            statuses(404, **{"422": {"sec_a"}, "403": {"office", "supervisor"}}),
        ),
        ("GET", "/api/v1/rectifications/{record_id}/history"): (
            lambda w: ("GET", f"/api/v1/rectifications/{w.ids['order']}/history", None),
            statuses(404, **{"200": BRANCH_READERS}),
        ),
        **{
            ("GET", f"/api/v1/reports/{{year}}/progress{suffix}"): (
                (lambda s: lambda w: ("GET", f"/api/v1/reports/{YEAR}/progress{s}", None))(suffix),
                statuses(403, **{"200": {"office", "supervisor", "sec_a", "sec_b"}}),
            )
            for suffix in ("", ".xlsx", ".csv")
        },
    }


@pytest.fixture
def world(served: Served) -> Iterator[World]:
    served.clock.set(TODAY)
    c = build_county(served.client(), served.url)
    ids: dict[str, Any] = {"committee": c.orgs["committee"], "a": c.orgs["a"], "m1_person": c.people["m1"]}
    office, m1, sec = c.as_("office"), c.as_("m1"), c.as_("sec_a")
    pledge = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": c.people["m1"], "items": GOOD_ITEMS}).json()
    ids["pledge"] = pledge["id"]
    ids["pledge_items"] = [{k: i[k] for k in ("id", "content", "measure", "due_date")} for i in pledge["items"]]
    c.post("/api/v1/campaigns", {"year": YEAR + 1})
    vague = m1.post(
        "/api/v1/pledges", json={"year": YEAR + 1, "person_id": c.people["m1"], "items": [{"content": "干"}]}
    )
    ids["vague"] = vague.json()["id"]
    evaluation = sec.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": c.orgs["a"]}).json()["id"]
    sec.post(f"/api/v1/self-evaluations/{evaluation}/events", json={"event": "start"})
    ids["evaluation"] = evaluation
    ids["score_code"] = office.get(f"/api/v1/campaigns/{YEAR}/scorecard").json()["areas"][0]["items"][0]["code"]
    ids["round"] = sec.post("/api/v1/appraisal-rounds", json={"year": YEAR, "org_id": c.orgs["a"]}).json()["id"]
    open_round = sec.post("/api/v1/appraisal-rounds", json={"year": YEAR + 1, "org_id": c.orgs["a"]}).json()["id"]
    sec.post(f"/api/v1/appraisal-rounds/{open_round}/events", json={"event": "open"})
    ids["open_round"] = open_round
    site = {
        "year": YEAR,
        "org_id": c.orgs["a"],
        "typical_formulation": "提法",
        "typical_person": "人物",
        "typical_event": "事件",
    }
    ids["site"] = sec.post("/api/v1/demo-sites", json=site).json()["id"]
    due = (TODAY.date() + dt.timedelta(days=30)).isoformat()
    order = office.post(
        "/api/v1/rectifications", json={"year": YEAR, "org_id": c.orgs["a"], "problems": "问题", "due_date": due}
    )
    ids["order"] = order.json()["id"]
    sec.post(f"/api/v1/rectifications/{ids['order']}/events", json={"event": "acknowledge"})
    for name in ("webhook", "doomed_webhook"):
        hook = {"url": "https://hooks.example.org/h", "secret": "secret-123"}
        ids[name] = office.post("/api/v1/webhooks", json=hook).json()["id"]
    ids["entry"] = _inbox_entry_for(served, c.user_ids["m1"])
    yield World(c, ids)
    c.close()


def _inbox_entry_for(served: Served, user_id: int) -> int:
    """An inbox entry for one user, written through the outbox as the sweep would."""
    now = dt.datetime.now(dt.UTC)
    draft = NoticeDraft(
        "matrix:1", "reminder", "pledge", 1, "pledge_published", now, -1, "【提醒】测试", "测试", (user_id,)
    )
    with UnitOfWork(served.container.db) as uow:
        publish(uow.session, [draft], [], {}, now)
        uow.commit()
    with UnitOfWork(served.container.db, write=False) as uow:
        q = select(InboxEntry.id).join(Notice, col(Notice.id) == InboxEntry.notice_id).where(Notice.key == "matrix:1")
        return int(uow.session.exec(q).one())


def test_every_route_has_a_rule(served: Served) -> None:
    paths = httpx.get(f"{served.url}/openapi.json", timeout=60).json()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert routes == set(rules()), f"without a rule: {routes - set(rules())}; stale: {set(rules()) - routes}"


def test_every_route_answers_each_role_exactly(world: World) -> None:
    seen, expected = {}, {}
    for key, (request, by_role) in rules().items():
        for role in ROLES:
            method, path, body = request(world)
            client = world.county.as_(role) if role != "anon" else httpx.Client(base_url=world.county.url)
            r = client.request(method, path, json=body)
            if role == "anon":
                client.close()
            seen[(key, role)] = r.status_code
            expected[(key, role)] = by_role[role]
    wrong = {k: (seen[k], expected[k]) for k in seen if seen[k] != expected[k]}
    assert wrong == {}, wrong
