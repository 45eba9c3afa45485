"""A member's whole first step on the web: write a pledge with two items, submit it, read the return
and its reason (on the pledge and in 消息), amend and resubmit; what was typed survives a refusal,
and a form sent twice saves once."""

from __future__ import annotations

import re

from tests.conftest import Served
from tests.county import YEAR, County
from tests.web import form_on, post_form, signed_in

TWO_ITEMS = {
    "item_id": ["", "", ""],
    "content": ["每周听课两节，课后与授课教师交流", "每月到学困生家中家访一次并记录", ""],
    "measure": ["记录听课笔记", "填写家访记录表", ""],
    "due_date": [f"{YEAR}-12-20", "", ""],
}


def test_a_member_writes_submits_reads_the_return_amends_and_resubmits(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as m1, signed_in(served, county.tokens["sec_a"]) as sec:
        assert f"填写{YEAR}年度承诺书" in m1.get("/me").text
        written = post_form(m1, f"/pledges/new?year={YEAR}", "/pledges/new", {**TWO_ITEMS, "subject": ""})
        assert written.status_code == 303
        subject = re.search(r'<option value="(person:\d+)"', m1.get(f"/pledges/new?year={YEAR}").text)
        assert subject is not None
        written = post_form(m1, f"/pledges/new?year={YEAR}", "/pledges/new", {**TWO_ITEMS, "subject": subject.group(1)})
        assert written.status_code == 303, written.text
        pid = int(written.headers["location"].rsplit("/", 1)[1])
        api = county.as_("m1").get(f"/api/v1/pledges/{pid}").json()
        assert [i["content"] for i in api["items"]] == TWO_ITEMS["content"][:2]
        assert api["items"][0]["due_date"] == f"{YEAR}-12-20" and api["items"][1]["measure"] == "填写家访记录表"

        page = m1.get(f"/pledges/{pid}").text
        assert "承诺书已保存" in page and "修改承诺事项" in page
        assert post_form(m1, f"/pledges/{pid}", f"/pledges/{pid}/events", {"event": "submit"}).status_code == 303
        assert county.as_("m1").get(f"/api/v1/pledges/{pid}").json()["state"] == "reviewing"

        review = sec.get("/branch").text
        n = [form_on(review, f"/pledges/{pid}/events", k).get("event") for k in range(2)].index("return")
        returned = post_form(sec, "/branch", f"/pledges/{pid}/events", {"reason": "第二项请写明家访对象"}, n)
        assert returned.status_code == 303

        page = m1.get(f"/pledges/{pid}").text
        assert re.search(r'class="returned".*已被退回修改.*第二项请写明家访对象', page, re.S)
        inbox = m1.get("/notifications").text
        assert "退回修改" in inbox and "第二项请写明家访对象" in inbox
        assert re.search(r'class="unread"[^>]*>1<', m1.get("/me").text), "the top bar counts the unread notice"

        items = api["items"]
        amended = {
            "item_id": [str(items[0]["id"]), str(items[1]["id"]), ""],
            "content": [items[0]["content"], "每月家访学困生王某某、李某某各一次", "每学期上一节校级公开示范课"],
            "measure": ["记录听课笔记", "填写家访记录表", "提前两周备课并请教研组听课"],
            "due_date": [f"{YEAR}-12-20", "", ""],
        }
        assert post_form(m1, f"/pledges/{pid}/edit", f"/pledges/{pid}/edit", amended).status_code == 303
        now = county.as_("m1").get(f"/api/v1/pledges/{pid}").json()
        assert [i["content"] for i in now["items"]] == amended["content"]
        assert [i["id"] for i in now["items"][:2]] == [items[0]["id"], items[1]["id"]], "kept rows keep their ids"
        assert post_form(m1, f"/pledges/{pid}", f"/pledges/{pid}/events", {"event": "submit"}).status_code == 303
        resubmitted = county.as_("m1").get(f"/api/v1/pledges/{pid}").json()["state"]
        assert resubmitted == "reviewing", re.findall(r'role="alert".*?</div>', m1.get(f"/pledges/{pid}").text, re.S)


def test_a_refused_form_keeps_what_was_typed_beside_its_message(served: Served, county: County) -> None:
    long_note = "本周走访学困生家庭，" * 600  # 6,000 characters: more than a cookie could hold
    with signed_in(served, county.tokens["m1"]) as m1:
        subject = f"person:{county.people['m1']}"
        bad = {**TWO_ITEMS, "content": ["", "每月到学困生家中家访一次并记录", ""], "measure": [long_note[:400], "", ""]}
        refused = post_form(m1, f"/pledges/new?year={YEAR}", "/pledges/new", {**bad, "subject": subject})
        assert refused.status_code == 303
        page = m1.get(refused.headers["location"]).text
        assert "承诺事项第1项的承诺内容：不能为空" in page and "items" not in re.sub(r"<[^>]+>", "", page)
        assert long_note[:400] in page and "每月到学困生家中家访一次并记录" in page, "every row typed is shown again"
        assert county.as_("m1").get("/api/v1/pledges").json()["total"] == 0, "nothing was written"


def test_a_form_sent_twice_saves_once(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as m1:
        fields = form_on(m1.get(f"/pledges/new?year={YEAR}").text, "/pledges/new")
        data = {**fields, **TWO_ITEMS, "subject": f"person:{county.people['m1']}"}
        first, second = m1.post("/pledges/new", data=data), m1.post("/pledges/new", data=data)
        assert first.status_code == second.status_code == 303
        assert second.headers["location"] == first.headers["location"], "the repeat goes where the first went"
        assert county.as_("m1").get("/api/v1/pledges").json()["total"] == 1


def test_tasks_list_what_each_person_must_do_and_what_waits_on_the_committee(served: Served, county: County) -> None:
    """待办: the member's draft to submit, the secretary's review; a pledge the secretary submitted on
    a member's behalf stays in the secretary's list as waiting for 教育工委, and is the supervisor's task."""
    items = [{"content": "每周听课两节，课后与授课教师交流", "measure": "记录听课笔记"}]
    mine = county.as_("m1").post(
        "/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": items}
    )
    assert mine.status_code == 201
    sec = county.as_("sec_a")
    body = {"year": YEAR, "person_id": county.people["m2"], "items": items}
    behalf = sec.post("/api/v1/pledges", json=body).json()["id"]
    assert sec.post(f"/api/v1/pledges/{behalf}/events", json={"event": "submit"}).status_code == 200
    with signed_in(served, county.tokens["m1"]) as m1, signed_in(served, county.tokens["sec_a"]) as secretary:
        member_tasks = m1.get("/tasks").text
        assert "m1老师 · 承诺书（提出承诺）" in member_tasks and "提交审查" in member_tasks
        secretary_tasks = secretary.get("/tasks").text
        assert "已代为提交，等待教育工委审查" in secretary_tasks and "m2老师" in secretary_tasks
        branch = secretary.get("/branch").text  # left to write: her own, the branch's (m1's and m2's exist)
        assert f"还有 2 份{YEAR}年度承诺书未建立" in branch and f'href="/pledges/new?year={YEAR}"' in branch
    with signed_in(served, county.tokens["supervisor"]) as supervisor:
        assert f'href="/pledges/{behalf}"' in supervisor.get("/tasks").text
