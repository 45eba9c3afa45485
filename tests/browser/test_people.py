"""The people's side in a real browser: a member writes a pledge with two items, submits it, reads
its return in 消息 and on the pledge, amends and resubmits — all on the web; and every page each
role reaches is checked by axe-core at desktop and phone width (0 serious or critical violations)
and is never wider than the phone."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_pages import DESKTOP, PHONE, browser, sign_in, sign_out
from tests.conftest import Served
from tests.county import YEAR, County, build_county

__all__ = ["browser"]  # the module's browser fixture
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
AXE = Axe()


def audit(page: Page, found: list[str]) -> None:
    """axe-core on the page as it is, at desktop and phone width; what is serious or critical, and a
    page wider than the phone, is added to `found`."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        result: Any = AXE.run(page)
        for v in result.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in v["nodes"]][:3]
                found.append(f"{page.url} @{size['width']}: {v['id']} ({v['impact']}) {targets}")
        if size is PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                found.append(f"{page.url} @390: the page is {width} px wide")
    page.set_viewport_size(DESKTOP)


def test_a_member_writes_a_pledge_has_it_returned_and_resubmits_it(served: Served, browser: Browser) -> None:
    c: County = build_county(served.client(), served.url)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    found: list[str] = []
    page.goto(f"{served.url}/login")
    audit(page, found)

    sign_in(page, served.url, c.tokens["m1"])
    expect(page).to_have_url(f"{served.url}/me")
    audit(page, found)
    page.get_by_role("link", name=f"填写{YEAR}年度承诺书").click()
    expect(page.get_by_role("heading", name=f"填写{YEAR}年度公开承诺书")).to_be_visible()
    page.get_by_role("button", name="添加一项").click()
    expect(page.locator("#rows > li")).to_have_count(3)
    page.get_by_label("第1项 承诺内容").fill("每周听课两节，课后与授课教师交流")
    page.get_by_label("践诺措施").first.fill("记录听课笔记")
    page.get_by_label("第2项 承诺内容").fill("每月到学困生家中家访一次并记录")
    page.get_by_label("完成时限").nth(1).fill(f"{YEAR}-12-20")
    audit(page, found)
    page.get_by_role("button", name="保存承诺书").click()
    expect(page.get_by_role("status")).to_contain_text("承诺书已保存")
    expect(page.locator("table.items tbody tr")).to_have_count(2)
    page.get_by_role("button", name="提交审查").click()
    expect(page.locator(".stage").first).to_have_text("审查承诺")
    pledge_url = page.url
    audit(page, found)
    sign_out(page)

    sign_in(page, served.url, c.tokens["sec_a"])
    expect(page).to_have_url(f"{served.url}/branch")
    audit(page, found)
    page.get_by_label("退回理由").first.fill("第二项请写明家访对象")
    page.locator("form:has(input[value=return]) button").first.click()
    expect(page.get_by_role("heading", name="待审查的承诺（0）")).to_be_visible()
    sign_out(page)

    sign_in(page, served.url, c.tokens["m1"])
    expect(page.locator(".top .unread")).to_have_text("1")
    page.get_by_role("link", name="消息").click()
    expect(page.locator(".inbox")).to_contain_text("第二项请写明家访对象")
    audit(page, found)
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator(".top .unread")).to_have_count(0)
    page.goto(pledge_url)
    expect(page.locator(".returned")).to_contain_text("第二项请写明家访对象")
    page.get_by_role("link", name="修改承诺事项").click()
    page.get_by_label("第2项 承诺内容").fill("每月到学困生王某某、李某某家中家访一次")
    audit(page, found)
    page.get_by_role("button", name="保存承诺事项").click()
    expect(page.get_by_role("status")).to_contain_text("承诺事项已保存")
    page.get_by_role("button", name="提交审查").click()
    expect(page.locator(".stage").first).to_have_text("审查承诺")
    expect(page.locator("table.items")).to_contain_text("王某某、李某某")
    page.goto(f"{served.url}/no-such-page")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    audit(page, found)
    page.goto(f"{served.url}/me")
    sign_out(page)

    for who, home in (
        ("m1", "/me"),
        ("sec_a", "/branch"),
        ("office", "/office"),
        ("supervisor", "/supervisor"),
        ("appraiser", "/ballot"),
    ):
        sign_in(page, served.url, c.tokens[who])
        expect(page).to_have_url(f"{served.url}{home}")
        audit(page, found)
        for path in ("/tasks", "/notifications"):
            page.goto(f"{served.url}{path}")
            audit(page, found)
        sign_out(page)
    context.close()
    c.close()
    assert found == [], "\n".join(found)
