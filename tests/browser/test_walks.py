"""Each role through the tasks the other browser files do not walk, in Chromium, by clicks and typing: the
secretary writes the branch's pledge (its meeting recorded) and a member's on her behalf, the supervisor
returns one and approves the others in a batch, the item editor adds, removes and moves rows, and
充实完善 keeps an item's progress record; 消息 and 待办 for each role. axe-core on each page reached that
the other files do not check, at 1280 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_pages import DESKTOP, browser, csp_violations, sign_in
from tests.browser.test_people import audit
from tests.conftest import Served
from tests.county import MEETING, PUBLISH, TODAY, YEAR, County, build_county
from tests.e2e.test_public_page import ORG_ITEMS, fire, pledge

__all__ = ["browser"]  # the module's browser fixture
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

ORG_A = "延庆一中党支部"
ORG_B = "延庆二中党支部"
FIRST = "支部每月开展一次主题党日活动并做好记录"
DROPPED = "这一行写错了，删除此项后不应保存"
THIRD = "每学期组织党员教师上一节校级公开示范课"
NOTE = "十月主题党日：重温入党誓词"


class Walk:
    """One browser context a role, each signed in once; what the browser refuses under the CSP is kept."""

    def __init__(self, browser: Browser, served: Served, county: County) -> None:
        self.browser, self.served, self.county = browser, served, county
        self.pages: dict[str, Page] = {}
        self.refused: list[str] = []

    def __call__(self, who: str) -> Page:
        if who not in self.pages:
            context = self.browser.new_context(viewport=DESKTOP, locale="zh-CN")
            page = context.new_page()
            self.refused += csp_violations(page)
            sign_in(page, self.served.url, self.county.tokens[who])
            expect(page.get_by_role("button", name="退出")).to_be_visible()
            self.pages[who] = page
        return self.pages[who]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@contextmanager
def walk(served: Served, browser: Browser) -> Iterator[tuple[County, Walk]]:
    served.clock.set(TODAY)  # publication and progress dates may not be after the service's today
    c = build_county(served.client(), served.url)
    w = Walk(browser, served, c)
    try:
        yield c, w
    finally:
        w.close()
        c.close()
    assert w.refused == [], w.refused


def unread(page: Page) -> int:
    badge = page.locator(".top .unread")
    return int(badge.inner_text()) if badge.count() else 0


def test_pledges_written_reviewed_and_edited(served: Served, browser: Browser) -> None:
    found: list[str] = []
    with walk(served, browser) as (c, w):
        org_b = pledge(c.as_("sec_b"), ORG_ITEMS, org_id=c.orgs["b"])  # set-up: branch b's pledge waits too
        fire(c.as_("sec_b"), org_b, "submit", data=MEETING)

        # 1. The secretary writes the branch's pledge: three rows typed, the second removed, the last moved up.
        sec = w("sec_a")
        expect(sec).to_have_url(f"{served.url}/branch")
        sec.get_by_role("link", name="我的承诺").click()
        sec.get_by_role("link", name=f"填写{YEAR}年度承诺书").click()
        sec.get_by_label("承诺主体").select_option(label=f"{ORG_A}（党组织承诺）")
        rows = sec.locator("#rows > li")
        expect(rows).to_have_count(2)
        sec.get_by_label("第1项 承诺内容").fill(FIRST)
        sec.get_by_label("践诺措施").nth(0).fill("支委会提前一周拟定主题")
        sec.get_by_label("第2项 承诺内容").fill(DROPPED)
        sec.get_by_role("button", name="添加一项").click()
        expect(rows).to_have_count(3)
        sec.get_by_label("第3项 承诺内容").fill(THIRD)
        sec.get_by_label("完成时限").nth(2).fill(f"{YEAR}-12-25")
        rows.nth(1).get_by_role("button", name="删除此项").click()
        expect(rows).to_have_count(2)
        expect(sec.get_by_label("第2项 承诺内容")).to_have_value(THIRD)
        rows.nth(1).get_by_role("button", name="上移").click()
        expect(sec.get_by_label("第1项 承诺内容")).to_have_value(THIRD)
        expect(sec.get_by_label("第2项 承诺内容")).to_have_value(FIRST)
        sec.get_by_role("button", name="保存承诺书").click()
        expect(sec.get_by_role("status")).to_contain_text("承诺书已保存")
        items = sec.locator("table.items tbody tr")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text(THIRD)
        expect(items.nth(1)).to_contain_text(FIRST)
        expect(sec.locator("table.items")).not_to_contain_text(DROPPED)
        org_a_url = sec.url
        audit(sec, found)  # an org's pledge: the meeting's date and attendees beside 提交审查

        # ... and submits it with the branch meeting that discussed it; a missing meeting is refused.
        sec.get_by_role("button", name="提交审查").click()
        expect(sec.get_by_role("alert")).to_contain_text("支部会议")
        sec.get_by_label("支部大会召开日期").fill(f"{YEAR}-09-20")
        sec.get_by_label("参会人数").fill("12")
        sec.get_by_role("button", name="提交审查").click()
        expect(sec.locator(".stage").first).to_have_text("审查承诺")
        expect(sec.locator("dl.facts")).to_contain_text(f"{YEAR}-09-20，参会 12 人")

        # ... and m2's on her behalf: it waits in the secretary's 待办 for 教育工委.
        sec.get_by_role("link", name="我的承诺").click()
        sec.get_by_role("link", name=f"填写{YEAR}年度承诺书").click()
        sec.get_by_label("承诺主体").select_option(label="m2老师")
        sec.get_by_label("第1项 承诺内容").fill("每周听课两节，课后与授课教师交流")
        sec.get_by_label("践诺措施").nth(0).fill("记录听课笔记")
        sec.get_by_role("button", name="保存承诺书").click()
        expect(sec.get_by_role("heading", name=f"m2老师 · {YEAR}年度党员公开承诺书")).to_be_visible()
        sec.get_by_role("button", name="提交审查").click()
        expect(sec.locator(".stage").first).to_have_text("审查承诺")
        behalf_url = sec.url
        sec.get_by_role("link", name="待办").click()
        expect(sec.locator("ol.tasks")).to_contain_text("m2老师 · 承诺书（审查承诺）：已代为提交，等待教育工委审查")

        # 2. The supervisor: three to review; returns m2's with a reason, approves both branches' in a batch.
        sup = w("supervisor")
        expect(sup).to_have_url(f"{served.url}/supervisor")
        expect(sup.get_by_role("heading", name="待审查、待考评的承诺（3）")).to_be_visible()
        audit(sup, found)  # the review list with its checkboxes
        sup.get_by_role("link", name="待办").click()
        expect(sup.locator(f"ol.tasks a[href='{behalf_url.removeprefix(served.url)}']")).to_be_visible()
        expect(sup.locator("ol.tasks")).to_contain_text("m2老师 · 承诺书（审查承诺）：退回修改、审查通过")
        sup.locator(f"ol.tasks a[href='{behalf_url.removeprefix(served.url)}']").click()
        sup.get_by_label("退回理由").fill("请写明每学期听课的总节数")
        audit(sup, found)  # a pledge as its reviewer sees it: 退回 with its reason, 审查通过
        sup.get_by_role("button", name="退回修改").click()
        expect(sup.locator(".stage").first).to_have_text("提出承诺")
        expect(sup.locator(".returned")).to_contain_text("请写明每学期听课的总节数")
        sup.get_by_role("link", name="教育工委").click()
        expect(sup.get_by_role("heading", name="待审查、待考评的承诺（2）")).to_be_visible()
        sup.get_by_label(f"选择{ORG_A}的承诺书").check()
        sup.get_by_label(f"选择{ORG_B}的承诺书").check()
        sup.get_by_role("button", name="批量批准所选").click()
        expect(sup.get_by_role("status")).to_contain_text("已批准 2 份承诺书")
        expect(sup.get_by_role("heading", name="待审查、待考评的承诺（0）")).to_be_visible()

        # 7. 消息: the approval of the branch's pledge is told to its secretary; read, the top bar's count goes.
        sec.reload()
        expect(sec.locator(".top .unread")).to_have_text("1")
        sec.get_by_role("link", name=re.compile("^消息")).click()
        expect(sec.get_by_role("heading", name="消息（1 条未读）")).to_be_visible()
        told = sec.locator(".inbox > li.unread-entry")
        expect(told).to_contain_text(ORG_A)
        told.get_by_role("button", name="标为已读").click()
        expect(sec.get_by_role("heading", name="消息（0 条未读）")).to_be_visible()
        expect(sec.locator(".top .unread")).to_have_count(0)

        # 3. Editing while 提出承诺: the returned pledge, reached from 待办; a row added and moved up.
        sec.get_by_role("link", name="待办").click()
        expect(sec.locator("ol.tasks")).to_contain_text("m2老师 · 承诺书（提出承诺）：提交审查")
        sec.locator(f"ol.tasks a[href='{behalf_url.removeprefix(served.url)}']").click()
        sec.get_by_role("link", name="修改承诺事项").click()
        expect(sec.get_by_role("heading", name="m2老师 · 修改承诺事项")).to_be_visible()
        sec.get_by_label("第1项 承诺内容").fill("每周听课两节、每学期不少于四十节，课后与授课教师交流")
        sec.get_by_label("第2项 承诺内容").fill("每月到学困生家中家访一次并记录")
        sec.get_by_label("完成时限").nth(1).fill(f"{YEAR}-12-20")
        sec.locator("#rows > li").nth(1).get_by_role("button", name="上移").click()
        sec.get_by_role("button", name="保存承诺事项").click()
        expect(sec.get_by_role("status")).to_contain_text("承诺事项已保存")
        items = sec.locator("table.items tbody tr")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("每月到学困生家中家访一次并记录")
        expect(items.nth(1)).to_contain_text("每学期不少于四十节")
        sec.get_by_role("button", name="提交审查").click()
        expect(sec.locator(".stage").first).to_have_text("审查承诺")

        # 充实完善 while 践行承诺 (set-up: published, one progress note on the first item): the note stays.
        org_a = int(org_a_url.rsplit("/", 1)[1])
        fire(c.as_("sec_a"), org_a, "publish", data=PUBLISH)
        first_item = c.as_("sec_a").get(f"/api/v1/pledges/{org_a}").json()["items"][0]["id"]
        note = {"item": first_item, "note": NOTE, "happened_on": TODAY.date().isoformat()}
        assert c.as_("sec_a").post(f"/api/v1/pledges/{org_a}/progress", json=note).status_code == 201
        sec.goto(org_a_url)
        expect(sec.locator(".stage").first).to_have_text("践行承诺")
        sec.get_by_role("link", name="充实完善").click()
        expect(sec.get_by_role("heading", name=f"{ORG_A} · 充实完善承诺事项")).to_be_visible()
        expect(sec.get_by_label("第1项 承诺内容")).to_have_value(THIRD)
        sec.get_by_label("第2项 承诺内容").fill(FIRST + "，并在校园网公布")
        sec.get_by_label("第3项 承诺内容").fill("每月走访一名困难党员教师并记录")
        sec.get_by_label("践诺措施").nth(2).fill("支委轮流走访")
        sec.get_by_label("充实完善的理由").fill("结合党员意见，补充走访困难党员的承诺")
        audit(sec, found)  # the editor in 充实完善 mode, with its reason
        sec.get_by_role("button", name="保存并重新提交审查").click()
        expect(sec.get_by_role("status")).to_contain_text("已充实完善，承诺书已重新提交审查")
        expect(sec.locator(".stage").first).to_have_text("审查承诺")
        expect(sec.locator("table.items tbody tr")).to_have_count(3)
        expect(sec.locator("ul.records")).to_contain_text(NOTE)
        expect(sec.locator("ul.records em")).to_have_text(THIRD)

        # 待办 for the member and the supervisor: the resubmitted pledges wait for 教育工委.
        sup.get_by_role("link", name="待办").click()
        expect(sup.locator("ol.tasks > li")).to_have_count(2)
        expect(sup.locator("ol.tasks")).to_contain_text(f"{ORG_A} · 承诺书（审查承诺）")
        # The return was told to m2 (not to the secretary who wrote it for her): she reads it in 消息.
        m2 = w("m2")
        before = unread(m2)
        assert before >= 1
        m2.get_by_role("link", name=re.compile("^消息")).click()
        returned = m2.locator(".inbox > li.unread-entry", has_text="请写明每学期听课的总节数")
        returned.get_by_role("button", name="标为已读").click()
        expect(m2.get_by_role("heading", name=f"消息（{before - 1} 条未读）")).to_be_visible()
        expect(m2.locator(".inbox > li", has_text="请写明每学期听课的总节数")).not_to_have_class("unread-entry")
        m2.get_by_role("link", name="待办").click()
        expect(m2.get_by_role("heading", name=f"待办 · {YEAR}年度（0）")).to_be_visible()
    assert found == [], "\n".join(found)
