"""The public 公示 page of an org's year and its QR code: read without signing in, only the published
pledges of the org and its members, nothing private (no unpublished pledge, comment, grade, outcome,
progress note, score or ballot); switched off by the office → 404; and the printable 承诺书."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import segno

from services.entrypoints.web import public_pages
from tests.conftest import Served
from tests.county import MEETING, PUBLISH, TODAY, YEAR, County
from tests.web import post_form, signed_in

ORG_ITEMS = [
    {"content": "支部每月开展一次主题党日活动并记录", "measure": "支委会提前一周拟定主题", "due_date": "2030-12-25"}
]
M1_ITEMS = [
    {"content": "每周听课两节，课后与授课教师交流心得", "measure": "记录听课笔记"},
    {"content": "每月到学困生家中家访一次并记录情况", "due_date": "2030-12-20"},
]
UNPUBLISHED = [{"content": "预备党员尚未公开的承诺内容不应出现", "measure": "尚在审查之中"}]
OTHER_BRANCH = [{"content": "二中党员已公开的承诺不属于一中页面", "measure": "另一个支部"}]
COMMENT = {"achievements": "备课认真细致值得肯定", "problems": "家访记录不够完整", "direction": "坚持家访形成常态"}
PROGRESS_NOTE = "本周参加集体备课并听课两节"
EXPLANATION = "学生转学无法继续家访"
PRIVATE = [*COMMENT.values(), PROGRESS_NOTE, EXPLANATION, *UNPUBLISHED[0].values(), OTHER_BRANCH[0]["content"]]
PRIVATE_LABELS = ["优秀", "已兑现", "因客观原因未兑现", "满意", "点评", "评议", "得分", "m2老师", "mb老师"]


def fire(client: httpx.Client, pid: int, event: str, **body: Any) -> dict[str, Any]:
    r = client.post(f"/api/v1/pledges/{pid}/events", json={"event": event, **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def pledge(client: httpx.Client, items: list[dict[str, Any]], **subject: int) -> int:
    r = client.post("/api/v1/pledges", json={"year": YEAR, "items": items, **subject})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def published_county(county: County) -> dict[str, int]:
    """Branch a: its own pledge published; m1's published, then appraised (grade, outcomes, a comment,
    a progress note); m2's only submitted. Branch b: mb's published. A ballot on branch a."""
    sec, sup, m1 = county.as_("sec_a"), county.as_("supervisor"), county.as_("m1")
    org = pledge(sec, ORG_ITEMS, org_id=county.orgs["a"])
    fire(sec, org, "submit", data=MEETING)
    fire(sup, org, "approve")
    fire(sec, org, "publish", data=PUBLISH)

    mine = pledge(m1, M1_ITEMS, person_id=county.people["m1"])
    fire(m1, mine, "submit")
    fire(sec, mine, "approve")
    fire(sec, mine, "publish", data=PUBLISH)
    items = m1.get(f"/api/v1/pledges/{mine}").json()["items"]
    note = {"item": items[0]["id"], "note": PROGRESS_NOTE, "happened_on": TODAY.date().isoformat()}
    assert m1.post(f"/api/v1/pledges/{mine}/progress", json=note).status_code == 201
    fire(m1, mine, "request_appraisal")
    assert sec.post(f"/api/v1/pledges/{mine}/comments", json=COMMENT).status_code == 201
    outcomes = [
        {"item": items[0]["id"], "outcome": "done"},
        {"item": items[1]["id"], "outcome": "objective", "explanation": EXPLANATION},
    ]
    assert fire(sec, mine, "appraise", data={"grade": "excellent", "outcomes": outcomes})["state"] == "closed"

    waiting = pledge(county.as_("m2"), UNPUBLISHED, person_id=county.people["m2"])
    fire(county.as_("m2"), waiting, "submit")

    other = pledge(county.as_("mb"), OTHER_BRANCH, person_id=county.people["mb"])
    fire(county.as_("mb"), other, "submit")
    fire(county.as_("sec_b"), other, "approve")
    fire(county.as_("sec_b"), other, "publish", data=PUBLISH)

    r = sec.post("/api/v1/appraisal-rounds", json={"year": YEAR, "org_id": county.orgs["a"]})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert sec.post(f"/api/v1/appraisal-rounds/{rid}/events", json={"event": "open"}).status_code == 200
    ballot = {"subject": {"type": "org", "id": county.orgs["a"]}, "rating": "satisfied"}
    assert county.as_("m2").post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=ballot).status_code == 201
    return {"org": org, "m1": mine, "m2": waiting, "mb": other}


def words(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page)


def test_the_public_page_shows_only_published_pledges_and_nothing_private(served: Served, county: County) -> None:
    published_county(county)
    path = f"/public/{YEAR}/orgs/{county.orgs['a']}"
    with httpx.Client(base_url=served.url, timeout=30, headers={"Accept": "text/html"}) as anyone:
        r = anyone.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
        assert "set-cookie" not in r.headers, "no page session is begun for a passer-by"
        assert not anyone.cookies
        text = words(r.text)
        for shown in ("延庆一中党支部", "m1老师", ORG_ITEMS[0]["content"], ORG_ITEMS[0]["measure"], "2030-12-25"):
            assert shown in text, shown
        for item in M1_ITEMS:
            assert item["content"] in text
        assert "记录听课笔记" in text and "2030-12-20" in text and PUBLISH["published_on"] in text
        assert text.count("公开日期") == 2, "two published pledges, each with its publication date"
        leaked = [s for s in PRIVATE + PRIVATE_LABELS if s in r.text]
        assert leaked == [], leaked
        assert re.search(r"<(form|nav)\b", r.text) is None and "csrf_token" not in r.text, "no menu, no forms"

        other = anyone.get(f"/public/{YEAR}/orgs/{county.orgs['b']}")
        assert other.status_code == 200 and OTHER_BRANCH[0]["content"] in other.text
        assert M1_ITEMS[0]["content"] not in other.text

        unknown_year = anyone.get(f"/public/2099/orgs/{county.orgs['a']}")
        assert unknown_year.status_code == 404 and "2099年度活动不存在" in unknown_year.text
        unknown_org = anyone.get(f"/public/{YEAR}/orgs/999999")
        assert unknown_org.status_code == 404 and "党组织 999999 不存在" in unknown_org.text
        assert "页面不存在" in unknown_org.text


def test_the_qr_code_is_an_svg_of_the_page_address(served: Served, county: County) -> None:
    path = f"/public/{YEAR}/orgs/{county.orgs['a']}"
    with httpx.Client(base_url=served.url, timeout=30) as anyone:
        r = anyone.get(f"{path}/qr.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "set-cookie" not in r.headers
    root = ET.fromstring(r.content)
    assert root.tag.endswith("svg")
    expected = io.BytesIO()
    segno.make(f"{served.url}{path}", error="m").save(
        expected, kind="svg", scale=public_pages.QR_SCALE, title="公示页面二维码"
    )
    assert r.content == expected.getvalue(), "segno's code of the page's absolute address"
    assert r.content != public_pages.qr_svg(f"{served.url}/public/{YEAR}/orgs/{county.orgs['b']}")


def test_the_office_switches_a_public_page_off_and_on(served: Served, county: County) -> None:
    published_county(county)
    org_a, path = county.orgs["a"], f"/public/{YEAR}/orgs/{county.orgs['a']}"
    refused = county.as_("sec_a").patch(f"/api/v1/orgs/{org_a}", json={"public_page": False})
    assert refused.status_code == 403
    assert county.as_("office").patch("/api/v1/orgs/999999", json={"public_page": False}).status_code == 404
    assert county.as_("office").patch(f"/api/v1/orgs/{org_a}", json={"public_page": "maybe"}).status_code == 422
    off = county.as_("office").patch(f"/api/v1/orgs/{org_a}", json={"public_page": False})
    assert off.status_code == 200 and off.json() == {
        "id": org_a,
        "name": "延庆一中党支部",
        "kind": "branch",
        "kind_label": "党支部",
        "parent_id": county.orgs["committee"],
        "public_page": False,
    }
    with httpx.Client(base_url=served.url, timeout=30, headers={"Accept": "text/html"}) as anyone:
        closed = anyone.get(path)
        assert closed.status_code == 404 and "该组织的公示页面已关闭" in closed.text
        assert M1_ITEMS[0]["content"] not in closed.text
        assert anyone.get(f"{path}/qr.svg").status_code == 404
        assert anyone.get(f"/public/{YEAR}/orgs/{county.orgs['b']}").status_code == 200, "only that org's page"

        with signed_in(served, county.tokens["office"]) as office:
            board = office.get(f"/office?year={YEAR}").text
            assert "/office/users" in board and f'action="/office/orgs/{org_a}/public-page"' in board
            assert f'href="/public/{YEAR}/orgs/{county.orgs["b"]}/qr.svg"' in board
            switched = post_form(office, f"/office?year={YEAR}", f"/office/orgs/{org_a}/public-page", {})
            assert switched.status_code == 303
            assert "延庆一中党支部的公示页面已开启" in office.get(switched.headers["location"]).text
        assert anyone.get(path).status_code == 200
        with signed_in(served, county.tokens["supervisor"]) as sup:
            assert "/public-page" not in sup.get(f"/office?year={YEAR}").text, "the switch is the office's"


def test_the_printable_pledge_and_the_branch_printout(served: Served, county: County) -> None:
    ids = published_county(county)
    with signed_in(served, county.tokens["m1"]) as m1:
        assert f'href="/pledges/{ids["m1"]}/print"' in m1.get(f"/pledges/{ids['m1']}").text
        sheet = m1.get(f"/pledges/{ids['m1']}/print")
        assert sheet.status_code == 200
        text = words(sheet.text)
        for shown in ("党员公开承诺书", f"（{YEAR}年度）", "m1老师", "所在党支部", "延庆一中党支部", "承诺人（签字）"):
            assert shown in text, shown
        assert "党支部（盖章）" in text and "____年__月__日" in text and "2030-10-08通过公示栏公开" in text
        assert [i["content"] in text for i in M1_ITEMS] == [True, True] and "记录听课笔记" in text
        assert re.search(r"<(form|nav|button|script)\b", sheet.text) is None, "nothing interactive on paper"
        assert 'href="/static/print.css"' in sheet.text
        assert f'src="/public/{YEAR}/orgs/{county.orgs["a"]}/qr.svg"' in sheet.text
        assert m1.get(f"/pledges/{ids['mb']}/print").status_code == 404, "the pledge page's access rule"
        assert m1.get(f"/branch/print?year={YEAR}").status_code == 403

    with signed_in(served, county.tokens["sec_a"]) as sec:
        org_sheet = words(sec.get(f"/pledges/{ids['org']}/print").text)
        assert "基层党组织公开承诺书" in org_sheet and "党组织名称" in org_sheet
        assert "2030-09-20召开，参会 12 人" in org_sheet and "党支部书记（签字）" in org_sheet
        unpublished = words(sec.get(f"/pledges/{ids['m2']}/print").text)
        assert "尚未公开（当前阶段：审查承诺）" in unpublished
        assert f'href="/branch/print?year={YEAR}"' in sec.get(f"/branch?year={YEAR}").text
        branch = sec.get(f"/branch/print?year={YEAR}").text
        sheets = re.findall(r'<article class="sheet[^"]*" id="sheet-(\d+)"', branch)
        assert sheets == [str(ids["org"]), str(ids["m1"]), str(ids["m2"])], "the org's pledge first, then by name"
        assert OTHER_BRANCH[0]["content"] not in branch
        assert re.search(r"<(form|nav|button|script)\b", branch) is None
