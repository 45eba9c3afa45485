"""Each role through the tasks the other browser files do not walk, in Chromium, by clicks and typing: the
secretary writes the branch's pledge (its meeting recorded) and a member's on her behalf, the supervisor
returns one and approves the others in a batch, the item editor adds, removes and moves rows, and 充实完善
keeps an item's progress record; a self-evaluation from its scores to the verified rectification; a demo
site to 推荐至县 and a closed round's results; the office's orgs, people and users; 消息 and 待办. One app
and one browser context a role for each walk; axe-core on each page reached that the other files do not
check, at 1280 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.test_pages import DESKTOP, browser, csp_violations, shoot, sign_in
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
        shoot(sup, "tasks")
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
        shoot(sec, "notifications")
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
        shoot(sec, "pledge-editor")
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


REPORT = "本支部认真开展创先争优活动，组织党员公开承诺、践行承诺，按月检查践诺情况。" * 6
PROBLEMS = "党员学习记录不全，须补齐并建立检查制度"
DUE = f"{YEAR}-12-15"


def accept_next_dialog(page: Page, asked: list[str]) -> None:
    """The page's data-confirm question: kept in `asked`, answered 确定."""

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)


def test_a_self_evaluation_from_its_scores_to_the_verified_rectification(served: Served, browser: Browser) -> None:
    found: list[str] = []
    asked: list[str] = []
    with walk(served, browser) as (_, w):
        # 4. The secretary starts the report, fills every self-score and submits it with its meeting and questionnaires.
        sec = w("sec_a")
        sec.get_by_role("button", name=f"建立{ORG_A}自查总结评估报告").click()
        sec.locator("#h-self + ul, section[aria-labelledby=h-self]").get_by_role("link", name=ORG_A).click()
        expect(sec.get_by_role("heading", name=f"{ORG_A} · {YEAR}年度自查总结评估报告")).to_be_visible()
        sec.get_by_role("button", name="开始自查").click()
        expect(sec.locator(".stage")).to_have_text("自查中")
        scores = sec.locator("input[name^=pts_]")
        expect(scores.first).to_be_visible()
        for box in scores.all():
            box.fill(box.get_attribute("max") or "0")
        audit(sec, found)  # the 100-point sheet with its inputs, and the report's fields
        sec.get_by_role("button", name="保存得分").click()
        expect(sec.get_by_role("status")).to_contain_text("得分已保存")
        expect(sec.get_by_text("自评总分：100")).to_be_visible()
        sec.get_by_label("自查总结报告（不少于200字）").fill(REPORT)
        sec.get_by_label("民主生活会召开日期").fill(f"{YEAR}-10-08")
        sec.get_by_label("问卷测评份数").fill("20")
        sec.get_by_role("button", name="上报").click()
        expect(sec.locator(".stage")).to_have_text("已上报")
        expect(sec.get_by_role("heading", name="上报的自查总结报告")).to_be_visible()
        expect(sec.locator("dl.facts")).to_contain_text(f"{YEAR}-10-08")
        evaluation_url = sec.url

        # The office finds it in 待办 and returns it with a reason; the branch reads the reason and submits again.
        office = w("office")
        office.get_by_role("link", name="待办").click()
        task = office.locator("ol.tasks > li", has_text=f"{ORG_A} · 自查总结评估报告（已上报）")
        expect(task).to_contain_text("受理")
        task.get_by_role("link").click()
        office.get_by_label("理由").fill("问卷测评份数与附件不符，请核实")
        office.get_by_role("button", name="退回").click()
        expect(office.locator(".stage")).to_have_text("自查中")
        sec.get_by_role("link", name=re.compile("^消息")).click()
        expect(sec.locator(".inbox")).to_contain_text("问卷测评份数与附件不符，请核实")
        sec.goto(evaluation_url)
        sec.get_by_label("自查总结报告（不少于200字）").fill(REPORT)
        sec.get_by_label("民主生活会召开日期").fill(f"{YEAR}-10-08")
        sec.get_by_label("问卷测评份数").fill("18")
        sec.get_by_role("button", name="上报").click()
        expect(sec.locator(".stage")).to_have_text("已上报")
        expect(sec.locator("dl.facts")).to_contain_text("18")

        # ... 受理, fills the assessed scores, 评定 (confirmed), and orders a rectification.
        office.reload()
        office.get_by_role("button", name="受理").click()
        expect(office.locator(".stage")).to_have_text("考核中")
        for box in office.locator("input[name^=pts_]").all():
            box.fill("1")
        audit(office, found)  # the sheet as the assessor fills it, with each item's 考核方式
        office.get_by_role("button", name="保存得分").click()
        expect(office.get_by_role("status")).to_contain_text("得分已保存")
        accept_next_dialog(office, asked)
        office.get_by_role("button", name="评定").click()
        expect(office.locator(".stage")).to_have_text("已评定")
        assert asked == ["评定后考核得分和等次将通知支部。确定评定吗？"]
        expect(office.get_by_text(re.compile(r"考核总分：\d+"))).to_be_visible()
        office.get_by_label("理由").fill(PROBLEMS)
        office.get_by_label("整改期限").fill(DUE)
        office.get_by_role("button", name="限期整改").click()
        expect(office.locator(".stage")).to_have_text("限期整改")

        # The branch sees the order's problems and due date, 签收, 报告整改情况.
        sec.get_by_role("link", name="支部工作台").click()
        expect(sec.locator("table.records")).to_contain_text(f"（整改期限 {DUE}）")
        sec.get_by_role("link", name=re.compile(r"查看\s*限期整改第\d+号")).click()
        expect(sec.get_by_role("heading", name=f"{ORG_A} · {YEAR}年度限期整改")).to_be_visible()
        expect(sec.locator("dl.facts")).to_contain_text(PROBLEMS)
        expect(sec.locator("dl.facts")).to_contain_text(DUE)
        sec.get_by_role("button", name="签收").click()
        expect(sec.get_by_text("当前阶段：整改中")).to_be_visible()
        sec.get_by_label("整改情况报告").fill("已补齐全部学习记录，支委会每月检查一次")
        sec.get_by_role("button", name="报告整改情况").click()
        expect(sec.get_by_text("当前阶段：已报告")).to_be_visible()
        shoot(sec, "rectification")
        expect(sec.locator("dl.facts")).to_contain_text("已补齐全部学习记录，支委会每月检查一次")
        rectification_url = sec.url

        # The office 验收 (confirmed), then 整改验收 on the report: back to 已评定.
        office.get_by_role("link", name="待办").click()
        expect(office.locator("ol.tasks")).to_contain_text(f"{ORG_A} · 限期整改（已报告）：验收、退回整改报告")
        office.get_by_role("link", name="创先争优办公室").click()
        office.get_by_role("link", name=re.compile(r"查看\s*限期整改第\d+号")).click()
        expect(office).to_have_url(rectification_url)
        accept_next_dialog(office, asked)
        office.get_by_role("button", name="验收").click()
        expect(office.get_by_text("当前阶段：已验收")).to_be_visible()
        assert asked[-1] == "「验收」后不能撤销。确定吗？"
        office.goto(evaluation_url)
        office.get_by_role("button", name="整改验收").click()
        expect(office.locator(".stage")).to_have_text("已评定")
    assert found == [], "\n".join(found)


def test_a_demo_site_a_rounds_results_and_the_offices_directory(served: Served, browser: Browser) -> None:
    found: list[str] = []
    asked: list[str] = []
    with walk(served, browser) as (c, w):
        # 5. The branch nominates a demo site; the office evaluates it, selects it and recommends it to the county.
        sec = w("sec_a")
        sec.get_by_text(f"申报{ORG_A}为创先争优示范点").click()
        sec.get_by_label("典型提法").fill("三心育人")
        sec.get_by_label("典型人物").fill("王老师")
        sec.get_by_label("典型事件").fill("送教下乡")
        sec.get_by_role("button", name="申报").click()
        expect(sec.get_by_role("heading", name=f"{ORG_A} · {YEAR}年度创先争优示范点")).to_be_visible()
        expect(sec.get_by_text("当前阶段：已申报")).to_be_visible()
        expect(sec.locator("dl.facts")).to_contain_text("三心育人")
        office = w("office")
        expect(office.locator("table.records")).to_contain_text("三心育人")
        office.get_by_role("link", name=re.compile(r"查看\s*创先争优示范点第\d+号")).click()
        office.get_by_label("听取汇报").check()
        office.get_by_label("调查走访").check()
        audit(office, found)  # a demo site's page: 评估 with its choices, 不予推荐 with its reason
        shoot(office, "demo-site")
        office.get_by_role("button", name="评估").click()
        expect(office.get_by_text("当前阶段：评估中")).to_be_visible()
        expect(office.locator("dl.facts")).to_contain_text("听取汇报、调查走访")
        office.get_by_role("button", name="确定为重点培养对象").click()
        expect(office.get_by_text("当前阶段：重点培养")).to_be_visible()
        accept_next_dialog(office, asked)
        office.get_by_role("button", name="推荐至县创先争优办公室").click()
        expect(office.get_by_text("当前阶段：推荐至县")).to_be_visible()
        assert asked == ["「推荐至县创先争优办公室」后不能撤销。确定吗？"]
        expect(office.get_by_text("当前阶段您没有可进行的操作。")).to_be_visible()

        # A round opened and closed on the branch page (set-up: three ballots); its results once closed.
        sec.get_by_role("link", name="支部工作台").click()
        sec.get_by_role("button", name=f"建立{ORG_A}评议").click()
        sec.get_by_role("button", name="开始评议").click()
        expect(sec.get_by_role("button", name="结束评议")).to_be_visible()
        rid = c.as_("sec_a").get("/api/v1/appraisal-rounds").json()["items"][0]["id"]
        for who, rating in (("m1", "satisfied"), ("m2", "dissatisfied"), ("appraiser", "satisfied")):
            vote = {"subject": {"type": "org", "id": c.orgs["a"]}, "rating": rating}
            assert c.as_(who).post(f"/api/v1/appraisal-rounds/{rid}/ballots", json=vote).status_code == 201
        sec.get_by_role("link", name=re.compile(r"评议详情")).click()
        expect(sec.get_by_text("当前阶段：评议中")).to_be_visible()
        expect(sec.get_by_role("heading", name=re.compile("评议结果"))).to_have_count(0)
        accept_next_dialog(sec, asked)
        sec.get_by_role("button", name="结束评议").click()
        expect(sec.get_by_text("当前阶段：已结束")).to_be_visible()
        assert asked[-1] == "「结束评议」后不能撤销。确定吗？"
        expect(sec.get_by_role("heading", name=re.compile("评议结果"))).to_be_visible()
        result = sec.locator("section[aria-labelledby=h-results] tbody tr", has_text=ORG_A)
        expect(result.locator("td").nth(1)).to_have_text("3")
        audit(sec, found)  # a closed round's results table
        shoot(sec, "round-results")

        # 6. The office adds an org under the committee and registers a person in it.
        office.get_by_role("link", name="创先争优办公室").click()
        office.get_by_role("link", name="党组织和人员", exact=True).click()
        office.get_by_label("名称").fill("第三中学党支部")
        office.get_by_label("类型").select_option(label="党支部")
        office.get_by_label("上级党组织").select_option(label="县委教育工委")
        office.get_by_role("button", name="建立").click()
        expect(office.get_by_role("status")).to_contain_text("已建立党组织：第三中学党支部")
        third = office.locator("details.org", has_text="第三中学党支部（党支部）· 0 人")
        third.locator("summary").click()
        third.get_by_label("姓名").fill("周老师")
        third.get_by_label("身份").select_option(label="预备党员")
        third.get_by_label("职务").fill("班主任")
        third.get_by_role("button", name=re.compile(r"登记\s*到第三中学党支部")).click()
        expect(office.get_by_role("status")).to_contain_text("已登记人员：周老师")
        office.get_by_text("第三中学党支部（党支部）· 1 人").click()
        expect(office.get_by_text("周老师（预备党员，班主任）")).to_be_visible()
        shoot(office, "orgs")

        # ... and on 用户管理: moves the appraiser to branch b, disables m2 (a new user: test_print_public.py).
        office.get_by_role("link", name="用户管理").click()
        office.get_by_role("link", name=re.compile(r"修改角色\s*（appraiser）")).click()
        office.get_by_label("第1行所属党组织").select_option(label=ORG_B)
        office.get_by_role("button", name="保存角色").click()
        expect(office.get_by_role("status")).to_contain_text("appraiser：角色已更新")
        office.get_by_role("link", name="← 返回用户管理").click()
        expect(office.locator(f"#user-{c.user_ids['appraiser']}")).to_contain_text(f"评议人（{ORG_B}）")
        shoot(office, "users")
        accept_next_dialog(office, asked)
        office.get_by_role("button", name=re.compile(r"停用\s*m2$")).click()
        expect(office.get_by_role("status")).to_contain_text("m2：已停用")
        expect(office.locator(f"#user-{c.user_ids['m2']}")).to_contain_text("已停用")
        assert asked[-1] == "停用后m2立即无法登录和使用令牌。确定停用吗？"
        office.get_by_role("button", name=re.compile(r"启用\s*m2$")).click()
        expect(office.locator(f"#user-{c.user_ids['m2']}")).to_contain_text("启用")
    assert found == [], "\n".join(found)
