"""The org's own records on the pages: the office orders a rectification and the branch sees its problems and
due date, acknowledges and reports, the office verifies; a demo site from nomination to 推荐至县; an appraisal
round's results once closed. Each event's form is drawn from its payload model and refuses as the API does."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from tests.conftest import Served
from tests.county import YEAR, County
from tests.web import form_on, signed_in

DUE = f"{YEAR}-12-15"


def _fire(client: httpx.Client, path: str, event: str, fields: dict[str, Any] | None = None) -> httpx.Response:
    """Send the form of `event` on the record page at `path`."""
    page = client.get(path).text
    forms = re.findall(r'<form method="post" action="([^"]+/events)"[^>]*>(.*?)</form>', page, re.S)
    n = [i for i, (_, body) in enumerate(forms) if f'name="event" value="{event}"' in body]
    assert n, f"no form for {event} on {path}"
    action = forms[n[0]][0]
    return client.post(action, data=form_on(page, action, n[0]) | {"event": event} | (fields or {}))


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_a_rectification_from_order_to_verification(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["office"]) as office:
        refused = office.post(
            "/records/rectification",
            data=form_on(office.get("/office").text, "/records/rectification")
            | {"org_id": str(county.orgs["a"]), "problems": "", "due_date": DUE},
        )
        assert refused.status_code == 303 and refused.headers["location"] == "/office"
        shown = office.get("/office").text
        assert "须整改的问题：" in _text(shown) and f'value="{DUE}"' in shown, "the message beside it, the date kept"
        made = office.post(
            "/records/rectification",
            data=form_on(office.get("/office").text, "/records/rectification")
            | {"org_id": str(county.orgs["a"]), "problems": "党员学习记录不全，须补齐", "due_date": DUE},
        )
        assert made.status_code == 303
        path = made.headers["location"]
        assert re.fullmatch(r"/records/rectification/\d+", path)
    with signed_in(served, county.tokens["sec_a"]) as sec:
        branch = _text(sec.get("/branch").text)
        assert "限期整改" in branch and "党员学习记录不全" in branch and DUE in branch
        page = _text(sec.get(path).text)
        assert "党员学习记录不全，须补齐" in page and DUE in page and "已下达" in page
        assert _fire(sec, path, "acknowledge").status_code == 303
        assert "整改中" in _text(sec.get(path).text)
        assert _fire(sec, path, "report", {"report": ""}).status_code == 303
        assert "已报告" not in _text(sec.get(path).text).split("当前阶段：")[1][:10]
        assert _fire(sec, path, "report", {"report": "已补齐全部学习记录并建立检查制度"}).status_code == 303
        page = _text(sec.get(path).text)
        assert "已报告" in page and "整改情况报告" in page and "已补齐全部学习记录并建立检查制度" in page
    with signed_in(served, county.tokens["office"]) as office:
        assert f'<a href="{path}">延庆一中党支部 · 限期整改（已报告）</a>' in office.get("/tasks").text, "linked"
        assert 'data-confirm="「验收」后不能撤销。确定吗？"' in office.get(path).text
        assert _fire(office, path, "verify").status_code == 303
        page = _text(office.get(path).text)
        assert "已验收" in page and "办理记录" in page and "签收" in page


def test_a_demo_site_from_nomination_to_the_county(served: Served, county: County) -> None:
    typicals = {"typical_formulation": "三心育人", "typical_person": "王老师", "typical_event": "送教下乡"}
    with signed_in(served, county.tokens["sec_a"]) as sec:
        made = sec.post("/records/demo_site", data=form_on(sec.get("/branch").text, "/records/demo_site") | typicals)
        assert made.status_code == 303, made.text
        path = made.headers["location"]
        page = _text(sec.get(path).text)
        assert "三心育人" in page and "典型人物" in page and "已申报" in page
    with signed_in(served, county.tokens["office"]) as office:
        assert "三心育人" in _text(office.get("/office").text)
        _fire(office, path, "evaluate", {"methods": ["report", "survey"]})
        page = _text(office.get(path).text)
        assert "评估中" in page and "评估方式" in page and "听取汇报、调查走访" in page
        _fire(office, path, "select_for_focus")
        _fire(office, path, "recommend")
        assert "推荐至县" in _text(office.get(path).text)
    api = county.as_("office").get(path.replace("/records/demo_site", "/api/v1/demo-sites")).json()
    assert api["state"] == "recommended" and api["data"]["evaluate"]["methods"] == ["report", "survey"]


def test_a_rounds_results_once_closed(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["sec_a"]) as sec:
        form = form_on(sec.get("/branch").text, "/branch/records", 1)
        assert form.get("form") == "rounds"
        sec.post("/branch/records", data=form | {"what": "appraisal_round", "org_id": str(county.orgs["a"])})
        rid = county.as_("sec_a").get("/api/v1/appraisal-rounds").json()["items"][0]["id"]
        path = f"/records/appraisal_round/{rid}"
        _fire(sec, path, "open")
        for who, rating in (("m1", "satisfied"), ("m2", "dissatisfied"), ("appraiser", "satisfied")):
            vote = {"subject": {"type": "org", "id": county.orgs["a"]}, "rating": rating}
            assert county.as_(who).post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=vote).status_code == 201
        assert "评议结果" not in _text(sec.get(path).text), "no results while it is open"
        _fire(sec, path, "close")
        page = _text(sec.get(path).text)
    assert "评议结果" in page and "已结束" in page


def test_the_office_sets_up_a_campaign_with_a_calendar_policy(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["office"]) as office:
        page = office.get("/office").text
        assert '<option value="next_workday">顺延到下一个工作日</option>' in page
        refused = office.post(
            "/office/campaigns", data=form_on(page, "/office/campaigns") | {"year": "2031", "policy": "next_workday"}
        )
        assert refused.status_code == 303
        shown = office.get("/office").text
        assert "尚未收录2031年的法定节假日和调休安排" in _text(shown), "the message beside the field"
        assert '<option value="next_workday" selected>' in shown, "the choice kept"
        made = office.post(
            "/office/campaigns", data=form_on(shown, "/office/campaigns") | {"year": "2010", "policy": "next_workday"}
        )
        assert made.status_code == 303 and "活动年度已建立" in _text(office.get("/office").text)
    campaign = county.as_("office").get("/api/v1/campaigns/2010").json()
    assert campaign["calendar_policy"] == "next_workday"
    assert campaign["deadlines"]["pledge_published"].startswith("2010-11-01")
    assert campaign["deadlines_as_set"]["pledge_published"].startswith("2010-10-31")


def test_the_self_evaluation_report_is_kept_when_refused_and_shown_once_submitted(
    served: Served, county: County
) -> None:
    sec_api = county.as_("sec_a")
    eid = sec_api.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": county.orgs["a"]}).json()["id"]
    areas = county.as_("office").get(f"/api/v1/campaigns/{YEAR}/scorecard").json()["areas"]
    codes = [it["code"] for a in areas for it in a["items"]]
    assert sec_api.post(f"/api/v1/self-evaluations/{eid}/events", json={"event": "start"}).status_code == 200
    scores = {"kind": "self", "items": [{"code": c, "points": 2} for c in codes]}
    assert sec_api.put(f"/api/v1/self-evaluations/{eid}/scores", json=scores).status_code == 200
    path = f"/self-evaluations/{eid}"
    short = "本支部认真开展活动。"
    with signed_in(served, county.tokens["sec_a"]) as sec:
        refused = _fire(
            sec, path, "submit", {"report": short, "meeting_held_on": f"{YEAR}-11-05", "questionnaires": "20"}
        )
        assert refused.status_code == 303
        page = sec.get(path).text
        assert f">{short}</textarea>" in page and f'value="{YEAR}-11-05"' in page and 'value="20"' in page
        report = "本支部认真开展创先争优活动，组织党员公开承诺、践行承诺。" * 10
        fields = {"report": report, "meeting_held_on": f"{YEAR}-11-05", "questionnaires": "20"}
        assert _fire(sec, path, "submit", fields).status_code == 303
        page = _text(sec.get(path).text)
        assert "上报的自查总结报告" in page and report in page and f"{YEAR}-11-05" in page and "问卷测评份数 20" in page
    with signed_in(served, county.tokens["office"]) as office:
        tasks = office.get("/tasks").text
        assert f'href="/self-evaluations/{eid}"' in tasks and "受理" in tasks, "waiting for the office's 受理"
        assert _fire(office, path, "accept").status_code == 303
    with signed_in(served, county.tokens["supervisor"]) as sup:
        assessed = {"kind": "assessed", "items": [{"code": c, "points": 2, "method": "documents"} for c in codes]}
        assert county.as_("supervisor").put(f"/api/v1/self-evaluations/{eid}/scores", json=assessed).status_code == 200
        assert 'data-confirm="评定后考核得分和等次将通知支部。确定评定吗？"' in sup.get(path).text


def test_the_ballot_menu_appears_while_a_round_is_open_to_the_member(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as m1:
        assert 'href="/ballot"' not in m1.get("/me").text
        rid = county.as_("sec_a").post("/api/v1/appraisal-rounds", json={"year": YEAR, "org_id": county.orgs["a"]})
        round_id = rid.json()["id"]
        assert 'href="/ballot"' not in m1.get("/me").text, "not while the round is being prepared"
        opened = county.as_("sec_a").post(f"/api/v1/appraisal-rounds/{round_id}/events", json={"event": "open"})
        assert opened.status_code == 200
        assert 'href="/ballot"' in m1.get("/me").text
        assert "评议投票" in m1.get("/ballot").text
        tasks = _text(m1.get("/tasks").text)
        assert "延庆一中党支部 · 党员群众评议（评议中） ：评议投票：还有 3 个对象未评" in tasks, "the branch, m2, sec_a"
    with signed_in(served, county.tokens["mb"]) as mb:
        assert 'href="/ballot"' not in mb.get("/me").text, "another branch's round is not open to her"


def test_a_returned_self_evaluation_shows_why_and_keeps_its_report(served: Served, county: County) -> None:
    sec_api = county.as_("sec_a")
    eid = sec_api.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": county.orgs["a"]}).json()["id"]
    areas = county.as_("office").get(f"/api/v1/campaigns/{YEAR}/scorecard").json()["areas"]
    assert sec_api.post(f"/api/v1/self-evaluations/{eid}/events", json={"event": "start"}).status_code == 200
    scores = {"kind": "self", "items": [{"code": it["code"], "points": 2} for a in areas for it in a["items"]]}
    assert sec_api.put(f"/api/v1/self-evaluations/{eid}/scores", json=scores).status_code == 200
    path, held = f"/self-evaluations/{eid}", f"{YEAR}-10-08"
    report = "本支部认真开展创先争优活动，组织党员公开承诺、践行承诺。" * 10
    with signed_in(served, county.tokens["sec_a"]) as sec:
        fields = {"report": report, "meeting_held_on": held, "questionnaires": "20"}
        assert _fire(sec, path, "submit", fields).status_code == 303
    with signed_in(served, county.tokens["office"]) as office:
        assert _fire(office, path, "return", {"reason": "问卷份数与党员人数不符，请核实"}).status_code == 303
    with signed_in(served, county.tokens["sec_a"]) as sec:
        page = sec.get(path).text
        told = re.search(r'<div class="returned" role="note">(.*?)</div>', page, re.S)
        assert told and "问卷份数与党员人数不符，请核实" in _text(told[1]) and "已被退回修改" in told[1]
        assert f">{report}</textarea>" in page and f'value="{held}"' in page and 'value="20"' in page, "not retyped"
        assert "办理记录" in page and "退回（问卷份数与党员人数不符，请核实）" in _text(page)


def test_refused_scores_keep_what_was_typed(served: Served, county: County) -> None:
    sec_api = county.as_("sec_a")
    eid = sec_api.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": county.orgs["a"]}).json()["id"]
    assert sec_api.post(f"/api/v1/self-evaluations/{eid}/events", json={"event": "start"}).status_code == 200
    areas = county.as_("office").get(f"/api/v1/campaigns/{YEAR}/scorecard").json()["areas"]
    first, second = areas[0]["items"][0], areas[0]["items"][1]
    path = f"/self-evaluations/{eid}"
    with signed_in(served, county.tokens["sec_a"]) as sec:
        fields = {f"pts_{first['code']}": "1.5", f"pts_{second['code']}": str(second["max_points"] + 50)}
        answer = sec.post(f"{path}/scores", data=form_on(sec.get(path).text, f"{path}/scores") | fields)
        assert answer.status_code == 303
        page = sec.get(path).text
        assert 'value="1.5"' in page and f'value="{second["max_points"] + 50}"' in page, "both kept"
    saved = sec_api.get(f"/api/v1/self-evaluations/{eid}").json()["scores"]
    assert saved == [], "nothing written"
