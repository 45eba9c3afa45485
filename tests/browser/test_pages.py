"""The pages in a real browser (Debian's chromium driven by Playwright): a secretary reviews,
publishes and comments, a member records progress, the office sees the counts, an appraiser votes
on a phone; every page is photographed at desktop and phone size, and nothing leaves the server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import Served
from tests.county import GOOD_ITEMS, YEAR, County, build_county

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
# The committed screenshots are refreshed only when asked (`PLEDGEFLOW_SCREENSHOTS=1 make test`):
# they show countdowns from the real clock, so every run would otherwise change them.
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = (
    DOCS_SHOTS if os.environ.get("PLEDGEFLOW_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "pledgeflow-shots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `make browser` (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        yield b
        b.close()


def shoot(page: Page, name: str) -> None:
    """The page as it is now, at desktop and at phone width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def csp_violations(page: Page) -> list[str]:
    """What the browser refuses under the page's Content-Security-Policy, as it reports it on the console."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return refused


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("登录令牌").fill(token)
    page.get_by_role("button", name="登录").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def submitted_pledge(c: County, who: str) -> int:
    body = {"year": YEAR, "person_id": c.people[who], "items": GOOD_ITEMS}
    r = c.as_(who).post("/api/v1/pledges", json=body)
    assert r.status_code == 201, r.text
    pledge_id = int(r.json()["id"])
    assert c.as_(who).post(f"/api/v1/pledges/{pledge_id}/events", json={"event": "submit"}).status_code == 200
    return pledge_id


def test_a_year_through_the_pages(served: Served, browser: Browser) -> None:
    c = build_county(served.client(), served.url)
    p1, p2 = submitted_pledge(c, "m1"), submitted_pledge(c, "m2")
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    refused = csp_violations(page)

    page.goto(served.url)
    expect(page).to_have_url(f"{served.url}/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    shoot(page, "login")
    sign_in(page, served.url, "not-a-token")
    expect(page.get_by_role("alert")).to_contain_text("令牌无效")

    # The secretary: a refused return shows the guard's message, then return with a reason,
    # approve the other in a batch, publish it, comment on it, open the appraisal round.
    sign_in(page, served.url, c.tokens["sec_a"])
    expect(page).to_have_url(f"{served.url}/branch")
    expect(page.get_by_role("heading", name="待审查的承诺（2）")).to_be_visible()
    shoot(page, "branch")
    page.get_by_label("退回理由").nth(1).fill("")
    page.locator(f"form[action='/pledges/{p2}/events']:has(input[value=return]) button").click()
    expect(page.get_by_role("alert")).to_contain_text("理由")
    page.locator(f"#why-{p2}").fill("承诺内容不够具体，请补充措施")
    page.locator(f"form[action='/pledges/{p2}/events']:has(input[value=return]) button").click()
    expect(page.get_by_role("heading", name="待审查的承诺（1）")).to_be_visible()
    page.get_by_label("选择m1老师的承诺书").check()
    page.get_by_role("button", name="批量批准所选").click()
    expect(page.get_by_role("status")).to_contain_text("已批准 1 份承诺书")
    page.get_by_label("公开方式").select_option("website")
    page.locator("form.publish").get_by_role("button", name="公开").click()
    expect(page.get_by_role("heading", name="待公开的承诺（0）")).to_be_visible()
    page.get_by_role("button", name="建立延庆一中党支部评议").click()
    page.get_by_role("button", name="开始评议").click()
    expect(page.get_by_role("button", name="结束评议")).to_be_visible()
    page.get_by_role("button", name="建立延庆一中党支部自查总结评估报告").click()
    page.get_by_role("link", name="延庆一中党支部").click()
    expect(page.get_by_role("heading", name="延庆一中党支部 · 2030年度自查总结评估报告")).to_be_visible()
    shoot(page, "self-evaluation")

    page.goto(f"{served.url}/pledges/{p1}")
    expect(page.locator(".stage").first).to_have_text("践行承诺")
    expect(page.locator("svg g.state[data-state=practising] rect")).to_have_attribute("fill", "#c0392b")
    page.get_by_label("肯定成绩").fill("备课认真，按时完成家访")
    page.get_by_label("指出问题").fill("家访记录还不够详细")
    page.get_by_label("努力方向").fill("进一步总结经验，带动其他教师")
    page.get_by_role("button", name="发表点评").click()
    expect(page.get_by_role("status")).to_contain_text("领导点评已保存")
    sign_out(page)

    # The member records progress and sees the comment.
    sign_in(page, served.url, c.tokens["m1"])
    expect(page).to_have_url(f"{served.url}/me")
    page.get_by_label("践诺情况").fill("本周完成三名学困生的家访")
    page.get_by_role("button", name="保存践诺记录").click()
    expect(page.get_by_role("status")).to_contain_text("践诺记录已保存")
    expect(page.locator(".records")).to_contain_text("本周完成三名学困生的家访")
    expect(page.locator(".comment")).to_contain_text("家访记录还不够详细")
    shoot(page, "member")
    page.goto(f"{served.url}/pledges/{p1}")
    shoot(page, "pledge")
    sign_out(page)

    # The office: the dashboard counts what happened.
    sign_in(page, served.url, c.tokens["office"])
    expect(page).to_have_url(f"{served.url}/office")
    row = page.locator(f"tr[data-org='{c.orgs['a']}']")
    expect(row.locator(".n-practising")).to_have_text("1")
    expect(row.locator(".n-proposing")).to_have_text("1")
    expect(row.locator(".n-pledges")).to_have_text("2")
    expect(page.locator(".chart svg rect.seg[data-state=practising]")).to_have_count(1)
    shoot(page, "office")
    sign_out(page)

    sign_in(page, served.url, c.tokens["supervisor"])
    expect(page).to_have_url(f"{served.url}/supervisor")
    shoot(page, "supervisor")
    sign_out(page)

    # The appraiser votes on a phone.
    page.set_viewport_size(PHONE)
    sign_in(page, served.url, c.tokens["appraiser"])
    expect(page).to_have_url(f"{served.url}/ballot")
    page.set_viewport_size(DESKTOP)
    shoot(page, "ballot")
    page.set_viewport_size(PHONE)
    first = page.locator("form.ballot").first
    first.get_by_label("满意", exact=True).check()
    first.get_by_role("button", name="投票").click()
    expect(page.get_by_role("status")).to_contain_text("已投票")

    context.close()
    assert requested and all(u.startswith(served.url + "/") for u in requested), sorted(set(requested))
    assert refused == [], "every page works under its Content-Security-Policy"
    forged = httpx.post(f"{served.url}/login", data={"token": c.tokens["office"]})  # no session, no CSRF token
    assert forged.status_code == 403 and "pledgeflow_session" not in forged.cookies
    c.close()


def test_the_api_docs_work_from_the_app_alone(served: Served, browser: Browser) -> None:
    """Swagger UI from the app's own files, started by a script file: it lists the API under the CSP."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    refused = csp_violations(page)
    page.goto(f"{served.url}/docs")
    expect(page.locator(".opblock-tag").first).to_be_visible(timeout=60_000)  # the document is built on first ask
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/webhooks/{webhook_id}").first).to_be_visible()
    context.close()
    assert requested and all(u.startswith(served.url + "/") for u in requested), sorted(set(requested))
    assert refused == [], refused
