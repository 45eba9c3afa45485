"""People are told what happens to their records (`kind: event` notices), in the transaction of the
cause: a return with its reason, an approval, a comment, a round opened, a rectification ordered."""

from __future__ import annotations

from typing import Any

from tests.county import GOOD_ITEMS, YEAR, County


def events_in_inbox(county: County, who: str) -> list[dict[str, Any]]:
    items = county.as_(who).get("/api/v1/notifications").json()["items"]
    return [n for n in items if n["kind"] == "event"]


def test_a_member_is_told_of_a_return_with_its_reason_and_of_a_comment(county: County) -> None:
    m1, sec = county.as_("m1"), county.as_("sec_a")
    pid = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}).json()[
        "id"
    ]
    assert m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}).status_code == 200
    assert events_in_inbox(county, "m1") == [], "submitting tells the submitter nothing"
    returned = sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "return", "reason": "第二项请写明家访对象"})
    assert returned.status_code == 200
    [told] = events_in_inbox(county, "m1")
    assert told["subject"] == {"type": "pledge", "id": pid}
    assert "退回修改" in told["title"] and "m1老师" in told["title"]
    assert "第二项请写明家访对象" in told["body"] and told["read_at"] is None
    assert events_in_inbox(county, "m2") == [] and events_in_inbox(county, "sec_b") == []

    assert m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}).status_code == 200
    assert sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "approve"}).status_code == 200
    comment = {"achievements": "备课认真", "problems": "家访记录不全", "direction": "坚持家访"}
    assert sec.post(f"/api/v1/pledges/{pid}/comments", json=comment).status_code == 201
    titles = [n["title"] for n in events_in_inbox(county, "m1")]
    assert len(titles) == 3 and "审查通过" in titles[1] and "领导点评" in titles[0]


def test_a_member_without_an_account_is_told_through_her_secretary(county: County) -> None:
    person = county.post("/api/v1/people", {"name": "钱老师", "org_id": county.orgs["a"], "status": "full"})["id"]
    sec = county.as_("sec_a")
    pid = sec.post("/api/v1/pledges", json={"year": YEAR, "person_id": person, "items": GOOD_ITEMS}).json()["id"]
    assert sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}).status_code == 200
    back = {"event": "return", "reason": "请补充家访计划"}  # her pledge, submitted for her: the supervisor reviews it
    assert county.as_("supervisor").post(f"/api/v1/pledges/{pid}/events", json=back).status_code == 200
    [told] = events_in_inbox(county, "sec_a")
    assert "退回修改" in told["title"] and "钱老师" in told["title"] and "请补充家访计划" in told["body"]
    assert events_in_inbox(county, "m1") == [] and events_in_inbox(county, "sec_b") == []


def test_a_refused_event_tells_nobody(county: County) -> None:
    m1, sec = county.as_("m1"), county.as_("sec_a")
    pid = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}).json()[
        "id"
    ]
    m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"})
    assert sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "return"}).status_code == 422
    assert events_in_inbox(county, "m1") == []


def test_voters_are_told_a_round_opened_and_a_branch_of_a_rectification_order(county: County) -> None:
    sec, office = county.as_("sec_a"), county.as_("office")
    rid = sec.post("/api/v1/appraisal-rounds", json={"year": YEAR, "org_id": county.orgs["a"]}).json()["id"]
    assert sec.post(f"/api/v1/appraisal-rounds/{rid}/events", json={"event": "open"}).status_code == 200
    for voter in ("m1", "m2", "sec_a", "appraiser"):
        assert [n["title"] for n in events_in_inbox(county, voter)] == ["【开始评议】延庆一中党支部的党员群众评议"], (
            voter
        )
    assert events_in_inbox(county, "mb") == []

    order = {"year": YEAR, "org_id": county.orgs["b"], "problems": "组织生活不经常", "due_date": f"{YEAR}-12-01"}
    assert office.post("/api/v1/rectifications", json=order).status_code == 201
    [told] = events_in_inbox(county, "sec_b")
    assert "限期整改" in told["title"] and "组织生活不经常" in told["body"]
