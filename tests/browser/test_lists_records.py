"""The list of pledges and an org record's page in Chromium: filtered from the dashboard's overdue count,
a rectification ordered by the office and acknowledged by its branch; axe-core at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_pages import DESKTOP, PHONE, browser, csp_violations, sign_in, sign_out
from tests.browser.test_people import audit
from tests.conftest import Served
from tests.county import TODAY, YEAR, County, build_county
from tests.e2e.test_public_page import published_county

__all__ = ["browser"]  # the module's browser fixture
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


MIN_TEXT_PX = 9.5
"""The lifecycle diagram's smallest text (an event's label) as rendered, in CSS pixels: readable on a phone."""


def diagram_text_px(page: Page) -> float:
    """The smallest font size of the diagram's text once the SVG is scaled to its box."""
    return float(
        page.evaluate(
            """() => { const svg = document.querySelector('.diagram svg');
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize));
            return Math.min(...sizes) * scale; }"""
        )
    )


def test_lists_and_records_in_the_browser(served: Served, browser: Browser) -> None:
    served.clock.set(TODAY)
    c: County = build_county(served.client(), served.url, deadlines={"pledge_published": "2020-10-31"}, backfill=True)
    published_county(c)
    found: list[str] = []
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    refused = csp_violations(page)
    sign_in(page, served.url, c.tokens["office"])
    page.goto(f"{served.url}/office?year={YEAR}")
    page.get_by_role("link", name=re.compile(r"1\s*份，查看逾期承诺书")).click()
    expect(page.get_by_role("heading", name=f"承诺书列表 · {YEAR}年度（共 1 份）")).to_be_visible()
    expect(page.get_by_role("cell", name="m2老师")).to_be_visible()
    audit(page, found)
    page.get_by_label("只看逾期").uncheck()
    page.get_by_label("阶段").select_option(label="践行承诺")
    page.get_by_role("button", name="筛选").click()
    # still within branch a: its own pledge is the one practising
    expect(page.get_by_role("heading", name=f"承诺书列表 · {YEAR}年度（共 1 份）")).to_be_visible()

    page.goto(f"{served.url}/office?year={YEAR}")
    page.get_by_text("下达整改通知").click()
    page.get_by_label("须整改的问题").fill("党员学习记录不全，须补齐")
    page.get_by_label("整改期限").fill((dt.date(YEAR, 12, 15)).isoformat())
    page.get_by_role("button", name="下达").click()
    expect(page.get_by_role("heading", name=f"延庆一中党支部 · {YEAR}年度限期整改")).to_be_visible()
    audit(page, found)
    sign_out(page)
    sign_in(page, served.url, c.tokens["sec_a"])
    page.goto(f"{served.url}/branch?year={YEAR}")
    page.get_by_role("link", name=re.compile(r"查看\s*限期整改第1号")).click()
    expect(page.get_by_text("党员学习记录不全，须补齐")).to_be_visible()
    page.get_by_role("button", name="签收").click()
    expect(page.get_by_text("当前阶段：整改中")).to_be_visible()
    audit(page, found)
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        assert diagram_text_px(page) >= MIN_TEXT_PX, f"the diagram's smallest text at {viewport['width']} px"
    context.close()
    c.close()
    assert refused == [], refused
    assert found == [], "\n".join(found)
