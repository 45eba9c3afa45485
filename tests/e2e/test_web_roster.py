"""名册导入 on the office's page: the template downloaded, a dry run, the import with its login cards
shown once (and downloadable from the same answer), a bad file's cells listed with nothing written."""

from __future__ import annotations

import base64
import html
import io
import re

import openpyxl
import sqlalchemy as sa

from tests.conftest import Served
from tests.web import form_on, signed_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client: object, content: bytes, dry_run: bool = False) -> object:
    page = client.get("/office/roster").text  # type: ignore[attr-defined]
    data = form_on(page, "/office/roster") | ({"dry_run": "1"} if dry_run else {})
    return client.post("/office/roster", data=data, files={"file": ("名册.xlsx", content, XLSX)})  # type: ignore[attr-defined]


def _people(served: Served) -> int:
    with served.container.db.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one())


def _token(served: Served, roles: list[dict[str, object]]) -> str:
    with served.client() as admin:
        return str(admin.post("/api/v1/users", json={"name": "办公室", "roles": roles}).json()["token"])


def test_the_office_imports_a_roster_on_its_page(served: Served) -> None:
    with signed_in(served, _token(served, [{"role": "office"}])) as office:
        template = office.get("/office/roster/template.xlsx")
        assert template.status_code == 200 and template.headers["content-type"] == XLSX
        book = openpyxl.load_workbook(io.BytesIO(template.content))
        book["党组织"].append(["B1", "县一中党支部", "党支部", "JY"])
        book["人员"].append(["B1-01", "李书记", "B1", "正式", "书记", None, "支部书记、党员"])
        out = io.BytesIO()
        book.save(out)

        checked = _upload(office, out.getvalue(), dry_run=True)
        assert checked.status_code == 200, checked.text  # type: ignore[attr-defined]
        assert "检查通过（未写入）" in checked.text and "登录令牌" not in checked.text  # type: ignore[attr-defined]
        assert _people(served) == 0

        done = _upload(office, out.getvalue())
        text = done.text  # type: ignore[attr-defined]
        assert done.status_code == 200 and done.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
        assert "导入完成" in text and "新用户登录卡（2 张）" in text and _people(served) == 2
        tokens = re.findall(r'<code class="token">([^<]+)</code>', text)
        assert len(tokens) == 2
        link = re.search(r'download="登录卡.xlsx" href="data:[^;]+;base64,([^"]+)"', text)
        assert link is not None
        cards = openpyxl.load_workbook(io.BytesIO(base64.b64decode(html.unescape(link.group(1)))))["登录卡"]
        assert sorted(str(r[4]) for r in cards.iter_rows(min_row=2, values_only=True)) == sorted(tokens)
        with signed_in(served, tokens[0]):
            pass  # a card's token signs in

        again = _upload(office, out.getvalue())
        assert "新用户登录卡" not in again.text  # type: ignore[attr-defined]

        book["人员"].append(["B1-02", "张老师", "B9", "党员", None, None, None])
        bad = io.BytesIO()
        book.save(bad)
        refused = _upload(office, bad.getvalue())
        assert refused.status_code == 422  # type: ignore[attr-defined]
        rows = re.findall(r"<tr><td>人员</td><td>4</td><td>([A-G])</td><td>([^<]+)</td></tr>", refused.text)  # type: ignore[attr-defined]
        assert dict(rows) == {
            "C": "所在党组织编码：找不到编码为 B9 的党组织",
            "D": "身份：应为正式党员、预备党员、入党积极分子、群众之一",
        }
        assert _people(served) == 2


def test_only_the_office_reaches_the_page(served: Served) -> None:
    with served.client() as admin:
        org = admin.post("/api/v1/orgs", json={"name": "一支部", "kind": "branch"}).json()["id"]
    with signed_in(served, _token(served, [{"role": "secretary", "org_id": org}])) as secretary:
        assert secretary.get("/office/roster").status_code == 403
        assert secretary.get("/office/roster/template.xlsx").status_code == 403
