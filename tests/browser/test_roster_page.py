"""名册导入 in Chromium: the office reaches it from its page, uploads a filled template, reads the counts
and the login cards (axe-core at 1280 and 390 px), then a bad file's cells beside the form; then 党组织和人员."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, expect

from services.usecases import roster_book
from tests.browser.test_pages import DESKTOP, browser, csp_violations, sign_in
from tests.browser.test_people import audit
from tests.conftest import Served

__all__ = ["browser"]  # the module's browser fixture
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _roster(path: Path, bad: bool = False) -> Path:
    book = openpyxl.load_workbook(io.BytesIO(roster_book.template()))
    book["党组织"].append(["B1", "县一中党支部", "党支部", "JY"])
    book["人员"].append(["B1-01", "李书记", "B1" if not bad else "B9", "正式", "书记", None, "支部书记、党员"])
    book.save(path)
    return path


def test_the_office_imports_its_roster_in_the_browser(served: Served, browser: Browser, tmp_path: Path) -> None:
    with served.client() as admin:
        token = admin.post("/api/v1/users", json={"name": "办公室主任", "roles": [{"role": "office"}]}).json()["token"]
    found: list[str] = []
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    refused = csp_violations(page)
    sign_in(page, served.url, token)
    page.get_by_role("link", name="名册导入（从 Excel 导入党组织和人员）").click()
    expect(page.get_by_role("heading", name="名册导入", exact=True)).to_be_visible()
    audit(page, found)  # at 1280 and 390 px
    upload = page.get_by_label("名册文件（.xlsx）")
    upload.set_input_files(_roster(tmp_path / "bad.xlsx", bad=True))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("heading", name="导入失败：bad.xlsx 中有 1 处错误，未写入任何数据")).to_be_visible()
    expect(page.get_by_role("cell", name="所在党组织编码：找不到编码为 B9 的党组织")).to_be_visible()
    audit(page, found)
    upload.set_input_files(_roster(tmp_path / "名册.xlsx"))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("heading", name="导入完成：名册.xlsx")).to_be_visible()
    expect(page.get_by_role("heading", name="新用户登录卡（2 张）")).to_be_visible()
    audit(page, found)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载登录卡（Excel）").click()
    cards = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["登录卡"]
    assert [row[0] for row in cards.iter_rows(min_row=2, values_only=True)] == ["王明", "李书记"]
    upload.set_input_files(_roster(tmp_path / "名册.xlsx"))
    page.get_by_role("button", name="上传并导入").click()  # the same file again: nothing new, no cards
    expect(page.get_by_role("heading", name="导入完成：名册.xlsx")).to_be_visible()
    expect(page.get_by_role("heading", name="新用户登录卡", exact=False)).to_have_count(0)
    page.goto(f"{served.url}/office")
    page.get_by_role("link", name="党组织和人员", exact=True).click()  # what was imported, org by org
    page.get_by_text("县一中党支部（党支部，编码 B1）· 1 人").click()
    expect(page.get_by_text("李书记（正式党员，书记，编码 B1-01）")).to_be_visible()
    audit(page, found)
    context.close()
    assert refused == [], refused
    assert found == [], "\n".join(found)
