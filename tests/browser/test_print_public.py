"""The printable 承诺书 in Chromium and the PDF it makes of it — one A4 page a pledge, the branch's
printout a page a pledge — and axe-core on the public 公示 page and the office's users page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_pages import DESKTOP, browser, csp_violations, sign_in, sign_out
from tests.browser.test_people import audit
from tests.conftest import Served
from tests.county import TODAY, YEAR, County, build_county
from tests.e2e.test_public_page import M1_ITEMS, published_county

__all__ = ["browser"]  # the module's browser fixture
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
A4_POINTS = (595.28, 841.89)


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size of every page object of a PDF, in points (a page is `/Type /Page`, not `/Pages`)."""
    assert pdf.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", pdf)
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    sizes = [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]
    assert len(sizes) == len(pages), (len(sizes), len(pages))
    return sizes


def is_a4(size: tuple[float, float]) -> bool:
    return abs(size[0] - A4_POINTS[0]) < 2 and abs(size[1] - A4_POINTS[1]) < 2


def qr_shown(page: Page) -> bool:
    return bool(page.locator(".qr img").evaluate("img => img.complete && img.naturalWidth > 0"))


def test_the_printed_pledge_is_one_a4_page_and_the_branch_a_page_a_pledge(served: Served, browser: Browser) -> None:
    served.clock.set(TODAY)
    c: County = build_county(served.client(), served.url)
    ids = published_county(c)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    refused = csp_violations(page)
    found: list[str] = []

    sign_in(page, served.url, c.tokens["m1"])
    page.goto(f"{served.url}/pledges/{ids['m1']}")
    page.get_by_role("link", name="打印承诺书").click()
    expect(page).to_have_url(f"{served.url}/pledges/{ids['m1']}/print")
    expect(page.get_by_role("heading", name="党员公开承诺书")).to_be_visible()
    expect(page.locator("table.items tbody tr")).to_have_count(len(M1_ITEMS))
    expect(page.locator("button, form, nav, input")).to_have_count(0)
    assert qr_shown(page), "the QR code of the branch's public page is drawn"
    audit(page, found)
    sizes = pdf_pages(page.pdf(format="A4", print_background=True))
    assert len(sizes) == 1 and is_a4(sizes[0]), sizes
    page.goto(f"{served.url}/me")
    sign_out(page)

    sign_in(page, served.url, c.tokens["sec_a"])
    page.get_by_role("link", name="打印本支部承诺书").click()
    expect(page.locator("article.sheet")).to_have_count(3)
    expect(page.get_by_role("heading", name="基层党组织公开承诺书")).to_have_count(1)
    sizes = pdf_pages(page.pdf(format="A4"))
    assert len(sizes) == 3 and all(is_a4(s) for s in sizes), sizes
    page.goto(f"{served.url}/pledges/{ids['org']}/print")
    assert len(pdf_pages(page.pdf(format="A4"))) == 1, "an org's pledge with its meeting record: one page"
    page.goto(f"{served.url}/branch")
    sign_out(page)
    context.close()
    c.close()
    assert refused == [], refused
    assert found == [], "\n".join(found)


def test_the_public_page_and_the_users_page_pass_axe(served: Served, browser: Browser) -> None:
    served.clock.set(TODAY)
    c: County = build_county(served.client(), served.url)
    published_county(c)
    found: list[str] = []
    anyone = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = anyone.new_page()
    refused = csp_violations(page)
    page.goto(f"{served.url}/public/{YEAR}/orgs/{c.orgs['a']}")
    expect(page.get_by_role("heading", name=f"延庆一中党支部 · {YEAR}年度公开承诺公示")).to_be_visible()
    expect(page.locator("section.public-pledge")).to_have_count(2)
    assert page.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert anyone.cookies() == [], "a passer-by gets no cookie"
    audit(page, found)
    page.goto(f"{served.url}/public/{YEAR}/orgs/999999")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    audit(page, found)
    anyone.close()

    office = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = office.new_page()
    refused += csp_violations(page)
    sign_in(page, served.url, c.tokens["office"])
    audit(page, found)
    page.get_by_role("link", name="用户管理（停用、更换角色、更换令牌）").click()
    expect(page.get_by_role("heading", name="用户管理")).to_be_visible()
    audit(page, found)
    page.get_by_role("link", name=re.compile(r"修改角色\s*（m1）")).click()
    expect(page.get_by_role("heading", name="修改角色 · m1")).to_be_visible()
    audit(page, found)
    page.goto(f"{served.url}/office/users")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name=re.compile(r"更换令牌\s*（m2）")).click()
    expect(page.get_by_role("textbox", name="新令牌")).to_have_value(re.compile(r".{20,}"))
    audit(page, found)
    page.goto(f"{served.url}/office/orgs")  # a user for a person: named and linked, its token shown once
    page.get_by_text("延庆二中党支部（党支部）").click()
    page.get_by_role("link", name=re.compile(r"建立用户\s*（mb老师）")).click()
    expect(page.get_by_role("heading", name="新建用户")).to_be_visible()
    audit(page, found)
    page.get_by_label("邮箱（选填，用于接收通知）").fill("mb@example.cn")
    page.get_by_role("button", name="建立用户").click()
    expect(page.get_by_text("已建立用户：mb老师")).to_be_visible()
    expect(page.get_by_role("textbox", name="新令牌")).to_have_value(re.compile(r".{20,}"))
    office.close()
    c.close()
    assert refused == [], refused
    assert found == [], "\n".join(found)
