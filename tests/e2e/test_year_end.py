"""Year-end over HTTP: mass appraisal, demo sites, rectification, the 100-point assessment, 五个好."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.conftest import Served
from tests.county import GOOD_ITEMS, MEETING, PUBLISH, REPORT, TODAY, YEAR, County


def event(client: httpx.Client, path: str, name: str, expect: int = 200, **body: Any) -> dict[str, Any]:
    r = client.post(f"/api/v1/{path}/events", json={"event": name, **body})
    assert r.status_code == expect, r.text
    return dict(r.json())


def test_mass_appraisal_round(county: County) -> None:
    sec, office = county.as_("sec_a"), county.as_("office")
    r = sec.post("/api/v1/appraisal-rounds", json={"year": YEAR, "org_id": county.orgs["a"]})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert [d["name"] for d in r.json()["deadlines"]] == ["appraisal_closed"]
    org = {"type": "org", "id": county.orgs["a"]}
    ballot = {"subject": org, "rating": "satisfied"}
    assert county.as_("m1").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=ballot).status_code == 409  # draft
    event(sec, f"appraisal-rounds/{rid}", "open")

    votes = [("m1", "satisfied"), ("m2", "fairly"), ("sec_a", "basic"), ("appraiser", "dissatisfied"), ("m2", None)]
    for who, rating in votes[:4]:
        r = county.as_(who).post(f"/api/v1/appraisal-rounds/{rid}/ballots", json={"subject": org, "rating": rating})
        assert r.status_code == 201, r.text
    again = county.as_("m1").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=ballot)
    assert again.status_code == 409 and "只能投一票" in again.json()["detail"]
    assert county.as_("mb").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=ballot).status_code in (403, 404)
    assert county.as_("sec_b").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=ballot).status_code == 404
    person = {"subject": {"type": "person", "id": county.people["m1"]}, "rating": "satisfied"}
    assert county.as_("m2").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=person).status_code == 201
    stranger = {"subject": {"type": "person", "id": county.people["mb"]}, "rating": "satisfied"}
    assert county.as_("m2").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=stranger).status_code == 422
    bad = county.as_("m2").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json={"subject": org, "rating": "great"})
    assert bad.status_code in (409, 422)

    while_open = office.get(f"/api/v1/appraisal-rounds/{rid}/results").json()
    assert while_open["totals_only"] and while_open["subjects"][0] == {
        "subject": {"type": "org", "id": county.orgs["a"], "name": "延庆一中党支部"},
        "total": 4,
        "counts": None,
        "satisfaction_rate": None,
        "score": None,
        "below_threshold": None,
    }
    assert county.as_("m1").get(f"/api/v1/appraisal-rounds/{rid}/results").status_code == 403
    event(sec, f"appraisal-rounds/{rid}", "close")
    closed = county.as_("m1").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=person)
    assert closed.status_code == 409

    results = {
        (s["subject"]["type"], s["subject"]["id"]): s
        for s in office.get(f"/api/v1/appraisal-rounds/{rid}/results").json()["subjects"]
    }
    branch = results[("org", county.orgs["a"])]
    assert branch["counts"] == {"satisfied": 1, "fairly": 1, "basic": 1, "dissatisfied": 1}
    assert branch["satisfaction_rate"] == 0.5 and branch["below_threshold"] is True
    assert branch["score"] == 6.0  # (10 + 7 + 5 + 2) / 4
    member = results[("person", county.people["m1"])]
    assert (member["total"], member["satisfaction_rate"], member["score"], member["below_threshold"]) == (
        1,
        1.0,
        10.0,
        False,
    )
    text = office.get(f"/api/v1/appraisal-rounds/{rid}/results").text
    assert "voter" not in text and str(county.user_ids["m2"]) not in text.split("subjects")[0]


def test_demo_site_needs_three_typicals_and_reaches_the_county(county: County) -> None:
    sec, sup, office = county.as_("sec_a"), county.as_("supervisor"), county.as_("office")
    body = {
        "year": YEAR,
        "org_id": county.orgs["a"],
        "typical_formulation": "党建带团建，五四红旗团支部",
        "typical_person": " ",
        "typical_event": "绿色出行宣传周",
    }
    refused = sec.post("/api/v1/demo-sites", json=body)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "typical_person"
    missing = sec.post("/api/v1/demo-sites", json={k: v for k, v in body.items() if k != "typical_event"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "typical_event"
    body["typical_person"] = "王老师，十年坚持家访"
    r = sec.post("/api/v1/demo-sites", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["typical_person"] == "王老师，十年坚持家访"
    assert event(sec, f"demo-sites/{sid}", "evaluate", 403, data={"methods": ["report"]})["type"].endswith("/forbidden")
    guard = event(office, f"demo-sites/{sid}", "evaluate", 422, data={"methods": ["gossip"]})
    assert guard["failed_guards"][0]["name"] == "evaluation_methods_valid"
    evaluated = event(office, f"demo-sites/{sid}", "evaluate", data={"methods": ["report", "survey", "site_visit"]})
    assert evaluated["state"] == "evaluating" and evaluated["data"]["evaluate"]["methods"] == [
        "report",
        "survey",
        "site_visit",
    ]
    assert event(sup, f"demo-sites/{sid}", "select_for_focus")["state"] == "focus"
    done = event(sup, f"demo-sites/{sid}", "recommend")
    assert (done["state"], done["state_label"]) == ("recommended", "推荐至县")
    history = office.get(f"/api/v1/demo-sites/{sid}/history").json()
    assert [h["event"] for h in history] == ["create", "evaluate", "select_for_focus", "recommend"]


def test_rectification_order_to_verified(county: County) -> None:
    sec, sup, office = county.as_("sec_a"), county.as_("supervisor"), county.as_("office")
    due = (TODAY.date() + dt.timedelta(days=30)).isoformat()
    body = {"year": YEAR, "org_id": county.orgs["a"], "problems": "组织生活不经常，承诺公示不及时", "due_date": due}
    assert sec.post("/api/v1/rectifications", json=body).status_code == 403
    r = office.post("/api/v1/rectifications", json=body)
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert r.json()["deadlines"][0]["name"] == "rectification_reported"
    assert r.json()["deadlines"][0]["due_at"].startswith(due)
    assert event(sup, f"rectifications/{oid}", "acknowledge", 403)["type"].endswith("/forbidden")
    event(sec, f"rectifications/{oid}", "acknowledge")
    assert (
        event(sec, f"rectifications/{oid}", "report", 422)["failed_guards"][0]["name"] == "rectification_report_given"
    )
    event(sec, f"rectifications/{oid}", "report", data={"report": "已建立每月组织生活制度"})
    assert event(sup, f"rectifications/{oid}", "reject_report", 422)["failed_guards"][0]["name"] == "reason_given"
    assert event(sup, f"rectifications/{oid}", "reject_report", reason="缺少佐证材料")["state"] == "acknowledged"
    event(sec, f"rectifications/{oid}", "report", data={"report": "已补充会议记录"})
    verified = event(office, f"rectifications/{oid}", "verify")
    assert verified["state"] == "verified" and verified["deadlines"][0]["status"] == "met"
    assert county.as_("sec_b").get(f"/api/v1/rectifications/{oid}").status_code == 404


def test_assessment_below_the_pass_mark_proposes_rectification(county: County) -> None:
    sec, office, sup = county.as_("sec_a"), county.as_("office"), county.as_("supervisor")
    eid = sec.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": county.orgs["a"]}).json()["id"]
    path = f"self-evaluations/{eid}"
    codes = [it["code"] for a in office.get(f"/api/v1/campaigns/{YEAR}/scorecard").json()["areas"] for it in a["items"]]
    event(sec, path, "start")
    sec.put(f"/api/v1/{path}/scores", json={"kind": "self", "items": [{"code": c, "points": 2} for c in codes]})
    event(sec, path, "submit", data={"report": REPORT, "meeting_held_on": "2030-11-05", "questionnaires": 20})
    event(office, path, "accept")
    scores = [{"code": c, "points": 1, "method": "documents", "note": "材料不全"} for c in codes]
    assert sup.put(f"/api/v1/{path}/scores", json={"kind": "assessed", "items": scores}).status_code == 200
    assessed = event(sup, path, "assess")
    assert assessed["band"]["label_zh"] == "不合格"
    proposal = assessed["rectification_proposal"]
    assert proposal["event"] == "order_rectification" and "低于合格线60" in proposal["reason"]
    assert "order_rectification" in assessed["allowed_events"]
    due = (TODAY.date() + dt.timedelta(days=20)).isoformat()
    ordered = event(sup, path, "order_rectification", reason=proposal["reason"], data={"due_date": due})
    assert ordered["state"] == "rectifying"
    order = office.get(f"/api/v1/rectifications/{ordered['data']['rectification_id']}").json()
    assert (order["state"], order["evaluation_id"], order["problems"]) == ("issued", eid, proposal["reason"])


def test_five_goods_ratings_on_an_org_pledge(county: County) -> None:
    sec, sup = county.as_("sec_a"), county.as_("supervisor")
    pid = sec.post("/api/v1/pledges", json={"year": YEAR, "org_id": county.orgs["a"], "items": GOOD_ITEMS}).json()["id"]
    path = f"pledges/{pid}"
    event(sec, path, "submit", data=MEETING)
    event(sup, path, "approve")
    event(sec, path, "publish", data=PUBLISH)
    items = sec.get(f"/api/v1/{path}").json()["items"]
    assert (
        sec.post(
            f"/api/v1/{path}/progress",
            json={"item": items[0]["id"], "note": "完成", "happened_on": TODAY.date().isoformat()},
        ).status_code
        == 201
    )
    event(sec, path, "request_appraisal")
    sup.post(f"/api/v1/{path}/comments", json={"achievements": "好", "problems": "无", "direction": "继续"})
    outcomes = [{"item": i["id"], "outcome": "done"} for i in items]
    wrong = event(
        sup, path, "appraise", 422, data={"grade": "excellent", "outcomes": outcomes, "ratings": {"study": "excellent"}}
    )
    assert (
        wrong["failed_guards"][0]["name"] == "criteria_ratings_valid"
        and "领导班子好" in wrong["failed_guards"][0]["message"]
    )
    ratings = {
        "leadership": "excellent",
        "membership": "good",
        "mechanism": "excellent",
        "performance": "good",
        "reputation": "fair",
    }
    closed = event(sup, path, "appraise", data={"grade": "excellent", "outcomes": outcomes, "ratings": ratings})
    assert closed["data"]["ratings"] == ratings


def test_a_supervisor_sees_their_contact_points(county: County, served: Served) -> None:
    office = county.as_("office")
    user = office.post(
        "/api/v1/users", json={"name": "联系领导", "roles": [{"role": "supervisor", "org_id": county.orgs["b"]}]}
    ).json()
    county.tokens["contact"] = user["token"]
    county.as_("sec_b").post(
        "/api/v1/pledges", json={"year": YEAR, "person_id": county.people["mb"], "items": GOOD_ITEMS}
    )
    points = county.as_("contact").get("/api/v1/contact-points").json()
    assert [p["org"]["name"] for p in points] == ["延庆二中党支部"]
    assert [(p["subject_name"], p["state_label"]) for p in points[0]["pledges"]] == [("mb老师", "提出承诺")]
    assert county.as_("sec_b").get("/api/v1/contact-points").status_code == 403
