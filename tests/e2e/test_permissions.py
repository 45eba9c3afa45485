"""Permission matrix: every pledge and self-evaluation event × every role → allowed, 403 or 404 (SPEC §2, §4)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Served
from tests.county import GOOD_ITEMS, MEETING, PUBLISH, REPORT, TODAY, YEAR, County, build_county

ROLES = ["office", "supervisor", "sec_a", "sec_b", "m1", "m2", "appraiser"]
COMMENT = {"achievements": "成绩突出", "problems": "记录不全", "direction": "坚持不懈"}

# Per pledge kind: who owns it, who reviews it, who may leave a leader comment, and who may read it.
KINDS = {
    "member": {
        "owner": "m1",
        "reviewer": "sec_a",
        "commenter": "sec_a",
        "readers": {"office", "supervisor", "sec_a", "m1"},
    },
    "org": {
        "owner": "sec_a",
        "reviewer": "supervisor",
        "commenter": "supervisor",
        "readers": {"office", "supervisor", "sec_a"},
    },
    "secretary": {
        "owner": "sec_a",
        "reviewer": "supervisor",
        "commenter": "supervisor",
        "readers": {"office", "supervisor", "sec_a"},
    },
}
# SPEC §2.1 "who may fire", resolved for the county of tests/county.py.
ALLOWED = {
    "member": {
        "submit": {"m1", "sec_a"},
        "return": {"sec_a"},
        "approve": {"sec_a"},
        "publish": {"sec_a", "office"},
        "amend": {"m1", "sec_a"},
        "request_appraisal": {"m1", "sec_a"},
        "appraise": {"sec_a"},
        "withdraw": {"sec_a", "office"},
    },
    "org": {
        "submit": {"sec_a"},
        "return": {"supervisor"},
        "approve": {"supervisor"},
        "publish": {"sec_a", "office"},
        "amend": {"sec_a"},
        "request_appraisal": {"sec_a"},
        "appraise": {"supervisor"},
        "withdraw": {"sec_a", "office"},
    },
}
ALLOWED["secretary"] = ALLOWED["org"]
SOURCE = {
    "submit": "proposing",
    "withdraw": "proposing",
    "return": "reviewing",
    "approve": "reviewing",
    "publish": "publicizing",
    "amend": "practising",
    "request_appraisal": "practising",
    "appraise": "appraising",
}
PATH = ["proposing", "reviewing", "publicizing", "practising", "appraising"]


class Pledges:
    """Makes fresh pledges of one kind in any state, each in its own campaign year."""

    def __init__(self, county: County, kind: str):
        self.c, self.kind, self.role = county, kind, KINDS[kind]
        self.years = itertools.count(YEAR + 1)

    def subject(self) -> dict[str, Any]:
        if self.kind == "org":
            return {"org_id": self.c.orgs["a"]}
        return {"person_id": self.c.people["m1" if self.kind == "member" else "sec_a"]}

    def fire(self, who: str, pid: int, event: str, **body: Any) -> None:
        r = self.c.as_(who).post(f"/api/v1/pledges/{pid}/events", json={"event": event, **body})
        assert r.status_code == 200, r.text

    def make(self, state: str) -> tuple[int, list[dict[str, Any]]]:
        owner, reviewer = self.role["owner"], self.role["reviewer"]
        body = {"year": next(self.years), "items": GOOD_ITEMS, **self.subject()}
        r = self.c.as_("office").post("/api/v1/pledges", json=body)
        assert r.status_code == 201, r.text
        pid, items = r.json()["id"], r.json()["items"]
        steps = PATH[: PATH.index(state)]
        for step in steps:
            if step == "proposing":
                self.fire(owner, pid, "submit", data=MEETING if self.kind == "org" else {})
            elif step == "reviewing":
                self.fire(reviewer, pid, "approve")
            elif step == "publicizing":
                self.fire("office", pid, "publish", data=PUBLISH)
            elif step == "practising":
                self.fire(owner, pid, "request_appraisal")
            if step == "publicizing":
                progress = {"item": items[0]["id"], "note": "已完成", "happened_on": TODAY.date().isoformat()}
                assert self.c.as_(owner).post(f"/api/v1/pledges/{pid}/progress", json=progress).status_code == 201
        if state == "appraising":
            r = self.c.as_(self.role["commenter"]).post(f"/api/v1/pledges/{pid}/comments", json=COMMENT)
            assert r.status_code == 201, r.text
        return pid, items


def event_body(event: str, kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"event": event, "reason": "按要求办理"}
    if event == "submit" and kind == "org":
        body["data"] = MEETING
    elif event == "publish":
        body["data"] = PUBLISH
    elif event == "amend":
        kept = [{k: i[k] for k in ("id", "content", "measure", "due_date")} for i in items]
        body["data"] = {"items": [*kept, {"content": "新增：每学期上一节生态文明公开课", "measure": "学期末"}]}
    elif event == "appraise":
        body["data"] = {"grade": "good", "outcomes": [{"item": i["id"], "outcome": "done"} for i in items]}
    return body


@pytest.fixture
def county(served: Served) -> Iterator[County]:
    served.clock.set(TODAY)
    c = build_county(served.client(), served.url)
    for year in range(YEAR + 1, YEAR + 31):
        c.post("/api/v1/campaigns", {"year": year})
    yield c
    c.close()


@pytest.mark.parametrize("kind", ["member", "org", "secretary"])
def test_pledge_event_matrix(county: County, kind: str) -> None:
    maker = Pledges(county, kind)
    seen: dict[tuple[str, str], int] = {}
    for event, allowed in ALLOWED[kind].items():
        shared, items = maker.make(SOURCE[event])
        for who in ROLES:
            pid = shared
            if who in allowed:
                pid, items = maker.make(SOURCE[event])
            r = county.as_(who).post(f"/api/v1/pledges/{pid}/events", json=event_body(event, kind, items))
            seen[(event, who)] = r.status_code
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/problem+json")
    expected = {
        (event, who): 200 if who in allowed else 403 if who in KINDS[kind]["readers"] else 404
        for event, allowed in ALLOWED[kind].items()
        for who in ROLES
    }
    assert seen == expected


EVALUATION_ALLOWED = {
    "start": {"sec_a"},
    "submit": {"sec_a"},
    "return": {"office"},
    "accept": {"office"},
    "assess": {"office", "supervisor"},
    "order_rectification": {"office", "supervisor"},
    "verify_rectification": {"office", "supervisor"},
}
EVALUATION_PATH = [
    ("not_started", "sec_a", "start", {}),
    (
        "self_checking",
        "sec_a",
        "submit",
        {"data": {"report": REPORT, "meeting_held_on": "2030-11-05", "questionnaires": 30}},
    ),
    ("submitted", "office", "accept", {}),
    ("under_assessment", "supervisor", "assess", {}),
    ("assessed", "office", "order_rectification", {"reason": "整改", "data": {"due_date": "2030-12-20"}}),
]
EVALUATION_SOURCE = {
    "start": "not_started",
    "submit": "self_checking",
    "return": "submitted",
    "accept": "submitted",
    "assess": "under_assessment",
    "order_rectification": "assessed",
    "verify_rectification": "rectifying",
}


def test_self_evaluation_event_matrix(county: County) -> None:
    office = county.as_("office")
    sheet = office.get(f"/api/v1/campaigns/{YEAR}/scorecard").json()
    codes = [it["code"] for a in sheet["areas"] for it in a["items"]]
    years = itertools.count(YEAR + 1)

    def make(state: str) -> int:
        r = office.post("/api/v1/self-evaluations", json={"year": next(years), "org_id": county.orgs["a"]})
        eid = r.json()["id"]
        for source, who, event, body in EVALUATION_PATH:
            if source == state:
                break
            kind = {"submit": "self", "assess": "assessed"}.get(event)
            if kind:
                scores = [{"code": code, "points": 1, "method": "report"} for code in codes]
                put = county.as_(who).put(
                    f"/api/v1/self-evaluations/{eid}/scores", json={"kind": kind, "items": scores}
                )
                assert put.status_code == 200, put.text
            fired = county.as_(who).post(f"/api/v1/self-evaluations/{eid}/events", json={"event": event, **body})
            assert fired.status_code == 200, fired.text
        return int(eid)

    seen, expected = {}, {}
    for event, allowed in EVALUATION_ALLOWED.items():
        body = {"event": event, "reason": "请补充材料"}
        body.update(next((b for s, _, e, b in EVALUATION_PATH if e == event), {}))
        if event == "assess":
            body = {"event": "assess"}
        shared = make(EVALUATION_SOURCE[event])
        for who in ROLES:
            eid = make(EVALUATION_SOURCE[event]) if who in allowed else shared
            scorer = {"submit": ("self", "sec_a"), "assess": ("assessed", "office")}.get(event)
            if scorer and who in allowed:
                items = [{"code": code, "points": 1, "method": "report"} for code in codes]
                put = county.as_(scorer[1]).put(
                    f"/api/v1/self-evaluations/{eid}/scores", json={"kind": scorer[0], "items": items}
                )
                assert put.status_code == 200, put.text
            r = county.as_(who).post(f"/api/v1/self-evaluations/{eid}/events", json=body)
            seen[(event, who)] = r.status_code
            expected[(event, who)] = 200 if who in allowed else 403 if who in {"office", "supervisor", "sec_a"} else 404
    assert seen == expected
