"""End-to-end over HTTP: a member's pledge, an org pledge and a self-evaluation through every stage."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Served
from tests.county import GOOD_ITEMS, MEETING, PUBLISH, REPORT, TODAY, YEAR, County


def fire(client: httpx.Client, pid: int, event: str, expect: int = 200, **body: Any) -> dict[str, Any]:
    r = client.post(f"/api/v1/pledges/{pid}/events", json={"event": event, **body})
    assert r.status_code == expect, r.text
    return dict(r.json())


def snapshot(c: County, pid: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    office = c.as_("office")
    return office.get(f"/api/v1/pledges/{pid}").json(), office.get(f"/api/v1/pledges/{pid}/history").json()


def test_member_pledge_through_every_stage(county: County) -> None:
    m1, sec, sup = county.as_("m1"), county.as_("sec_a"), county.as_("supervisor")
    vague = [{"content": "好好工作"}]
    r = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": vague})
    assert r.status_code == 201, r.text
    pledge = r.json()
    pid = pledge["id"]
    assert pledge["state"] == "proposing" and pledge["state_label"] == "提出承诺"
    assert pledge["allowed_events"] == ["submit"]
    assert r.headers["etag"] == '"1"'

    before = snapshot(county, pid)
    refused = fire(m1, pid, "submit", 422)
    assert refused["type"].endswith("/guard-failed")
    assert [g["name"] for g in refused["failed_guards"]] == ["items_specific"]
    assert (
        "不足10个字" in refused["failed_guards"][0]["message"] and "践诺措施" in refused["failed_guards"][0]["message"]
    )
    assert snapshot(county, pid) == before, "a refused event changed something"

    r = m1.patch(f"/api/v1/pledges/{pid}", json={"items": GOOD_ITEMS})
    assert r.status_code == 200, r.text
    assert fire(m1, pid, "submit")["state"] == "reviewing"

    not_allowed = fire(m1, pid, "approve", 403)
    assert not_allowed["type"].endswith("/forbidden")
    wrong_state = fire(sec, pid, "publish", 409)
    assert wrong_state["type"].endswith("/transition-not-allowed")
    assert set(wrong_state["allowed_events"]) == {"return", "approve", "withdraw"}
    assert fire(sec, pid, "return", 422)["failed_guards"][0]["name"] == "reason_given"
    assert fire(sec, pid, "return", reason="第二项请写明家访对象")["state"] == "proposing"
    assert fire(m1, pid, "submit")["state"] == "reviewing"
    assert fire(sec, pid, "approve")["state"] == "publicizing"
    bad = fire(sec, pid, "publish", 422, data={"channel": "wechat"})
    assert {g["name"] for g in bad["failed_guards"]} == {"channel_valid", "published_on_given"}
    assert fire(sec, pid, "publish", data=PUBLISH)["state"] == "practising"

    assert fire(m1, pid, "request_appraisal", 422)["failed_guards"][0]["name"] == "has_progress"
    items = snapshot(county, pid)[0]["items"]
    r = m1.post(
        f"/api/v1/pledges/{pid}/progress",
        json={"item": items[0]["id"], "note": "参加集体备课8次", "happened_on": TODAY.date().isoformat()},
    )
    assert r.status_code == 201, r.text
    assert fire(m1, pid, "request_appraisal")["state"] == "appraising"

    outcomes = [{"item": items[0]["id"], "outcome": "done"}, {"item": items[1]["id"], "outcome": "objective"}]
    refused = fire(sec, pid, "appraise", 422, data={"grade": "excellent", "outcomes": outcomes})
    assert {g["name"] for g in refused["failed_guards"]} == {"has_leader_comment", "outcomes_complete"}
    assert (
        sup.post(
            f"/api/v1/pledges/{pid}/comments", json={"achievements": "a", "problems": "b", "direction": "c"}
        ).status_code
        == 403
    )
    comment = {"achievements": "备课认真", "problems": "家访记录不全", "direction": "坚持家访"}
    assert sec.post(f"/api/v1/pledges/{pid}/comments", json=comment).status_code == 201
    outcomes[1]["explanation"] = "学生转学"
    closed = fire(sec, pid, "appraise", data={"grade": "excellent", "outcomes": outcomes})
    assert closed["state"] == "closed" and closed["allowed_events"] == []
    assert [i["outcome"] for i in closed["items"]] == ["done", "objective"]

    history = m1.get(f"/api/v1/pledges/{pid}/history").json()
    assert [h["event"] for h in history] == [
        "create",
        "edit",
        "submit",
        "return",
        "submit",
        "approve",
        "publish",
        "request_appraisal",
        "appraise",
    ]
    assert [h["seq"] for h in history] == list(range(1, 10))
    actors = [(h["actor"]["name"], h["actor"]["role"]) for h in history]
    assert actors[2] == ("m1", "owner") and actors[3] == ("sec_a", "reviewer") and actors[6] == ("sec_a", "secretary")
    assert history[3]["reason"] == "第二项请写明家访对象"
    assert all(not h["late"] and not h["backfilled"] for h in history)


def test_org_pledge_needs_meeting_and_supervisor(county: County) -> None:
    sec, sup, office = county.as_("sec_a"), county.as_("supervisor"), county.as_("office")
    r = sec.post("/api/v1/pledges", json={"year": YEAR, "org_id": county.orgs["a"], "items": GOOD_ITEMS})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["subject"] == {"type": "org", "id": county.orgs["a"], "name": "延庆一中党支部"}
    assert sec.post("/api/v1/pledges", json={"year": YEAR, "org_id": county.orgs["a"]}).status_code == 409
    assert fire(sec, pid, "submit", 422)["failed_guards"][0]["name"] == "meeting_recorded"
    assert fire(sec, pid, "submit", data=MEETING)["state"] == "reviewing"
    assert fire(sec, pid, "approve", 403)["type"].endswith("/forbidden")
    assert fire(office, pid, "approve", 403)["type"].endswith("/forbidden")
    stale = sup.post(f"/api/v1/pledges/{pid}/events", json={"event": "approve"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    current = sup.get(f"/api/v1/pledges/{pid}").headers["etag"]
    approved = sup.post(f"/api/v1/pledges/{pid}/events", json={"event": "approve"}, headers={"If-Match": current})
    assert approved.status_code == 200 and approved.json()["state"] == "publicizing"
    assert approved.json()["data"]["meeting"] == MEETING["meeting"]
    assert county.as_("sec_b").get(f"/api/v1/pledges/{pid}").status_code == 404
    assert county.as_("m1").get(f"/api/v1/pledges/{pid}").status_code == 404


def test_self_evaluation_to_assessed_with_a_total(county: County, served: Served) -> None:
    sec, office, sup = county.as_("sec_a"), county.as_("office"), county.as_("supervisor")
    r = sec.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": county.orgs["a"]})
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    assert r.json()["state"] == "not_started"

    def event(client: httpx.Client, name: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        r = client.post(f"/api/v1/self-evaluations/{eid}/events", json={"event": name, **body})
        assert r.status_code == expect, r.text
        return dict(r.json())

    assert event(sec, "start")["state"] == "self_checking"
    sheet = office.get(f"/api/v1/campaigns/{YEAR}/scorecard").json()
    codes = [(it["code"], it["max_points"]) for a in sheet["areas"] for it in a["items"]]
    assert sum(m for _, m in codes) == sheet["total"] == 100
    refused = event(sec, "submit", 422, data={"report": "太短"})
    assert {g["name"] for g in refused["failed_guards"]} == {
        "report_long_enough",
        "meeting_held",
        "questionnaires_given",
        "self_scores_complete",
    }
    over = sec.put(
        f"/api/v1/self-evaluations/{eid}/scores", json={"kind": "self", "items": [{"code": codes[0][0], "points": 99}]}
    )
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "items[0].points"
    self_items = [{"code": c, "points": m - 1 if i < 5 else m} for i, (c, m) in enumerate(codes)]
    r = sec.put(f"/api/v1/self-evaluations/{eid}/scores", json={"kind": "self", "items": self_items})
    assert r.status_code == 200 and r.json()["self_score"] == 95 and r.json()["self_band"]["label_zh"] == "优秀"
    data = {"report": REPORT, "meeting_held_on": "2030-11-05", "questionnaires": 40}
    assert event(sec, "submit", data=data)["state"] == "submitted"
    assert event(sec, "accept", 403)["type"].endswith("/forbidden")
    assert event(office, "accept")["state"] == "under_assessment"
    assessed = [{"code": c, "points": m - 2 if i < 6 else m, "method": "documents"} for i, (c, m) in enumerate(codes)]
    assessed[0]["method"] = None
    r = sup.put(f"/api/v1/self-evaluations/{eid}/scores", json={"kind": "assessed", "items": assessed})
    assert r.status_code == 200, r.text
    assert event(sup, "assess", 422)["failed_guards"][0]["name"] == "assessed_scores_complete"
    sup.put(
        f"/api/v1/self-evaluations/{eid}/scores",
        json={"kind": "assessed", "items": [{"code": codes[0][0], "points": codes[0][1] - 2, "method": "site_visit"}]},
    )
    done = event(sup, "assess")
    assert (
        done["state"] == "assessed"
        and done["assessed_score"] == 88
        and done["band"] == {"code": "good", "label_zh": "良好"}
    )
    assert done["self_score"] == 95
    history = office.get(f"/api/v1/self-evaluations/{eid}/history").json()
    assert [h["event"] for h in history] == ["create", "start", "submit", "accept", "assess"]
    assert [h["actor"]["role"] for h in history] == ["secretary", "secretary", "secretary", "office", "supervisor"]
