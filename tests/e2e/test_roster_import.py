"""The roster import over HTTP (SPEC §7.2): the template downloaded and filled in with openpyxl, a dry
run, the import with its login cards, the same file again (nothing changes), a changed row (it
updates), and a bad file refused whole with each cell's sheet, row and column."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import Served

ROSTER = "/api/v1/imports/roster"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _template(admin: httpx.Client) -> openpyxl.Workbook:
    answer = admin.get(f"{ROSTER}/template.xlsx")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(answer.content))


def _filled(admin: httpx.Client) -> openpyxl.Workbook:
    book = _template(admin)
    orgs, people = book["党组织"], book["人员"]
    orgs.append(["JY001", "县一中党支部", "党支部", "JY"])
    orgs.append([1002, "县二小党支部", "党支部", "JY"])  # a code typed as a number
    people.append(["JY001-01", "李书记", "JY001", "正式", "支部书记", "li@example.cn", "支部书记、党员"])
    people.append(["JY001-02", "张老师", "JY001", "预备党员", None, None, "党员"])
    people.append(["JY001-03", "赵老师", "JY001", "积极分子", None, None, None])
    people.append(["1002-01", "钱老师", 1002, "群众", None, None, "评议人"])
    return book


def _bytes(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(admin: httpx.Client, content: bytes, dry_run: bool = False) -> httpx.Response:
    files = {"file": ("名册.xlsx", content, XLSX)}
    return admin.post(ROSTER, files=files, params={"dry_run": "true"} if dry_run else {})


def _counts(answer: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {
        k: (answer[k]["created"], answer[k]["updated"], answer[k]["unchanged"]) for k in ("orgs", "people", "users")
    }


def _rows(served: Served) -> tuple[int, int, int]:
    with served.container.db.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("org", "person", '"user"')
        )  # type: ignore[return-value]


@pytest.fixture
def admin(served: Served) -> Iterator[httpx.Client]:
    with served.client() as client:
        yield client


def _me(served: Served, token: str) -> httpx.Response:
    with served.client(token) as client:
        return client.get("/api/v1/me")


def test_a_roster_round_trip(served: Served, admin: httpx.Client) -> None:
    book = _template(admin)
    assert [c.value for c in book["党组织"][1]] == ["编码", "名称", "类型", "上级编码"]
    assert [c.value for c in book["人员"][1]] == ["编码", "姓名", "所在党组织编码", "身份", "职务", "邮箱", "角色"]
    assert book["党组织"].max_row == 2 and book["人员"].max_row == 2  # one example row each
    content = _bytes(_filled(admin))
    before = _rows(served)

    checked = _import(admin, content, dry_run=True)
    assert checked.status_code == 200, checked.text
    assert _counts(checked.json()) == {"orgs": (3, 0, 0), "people": (5, 0, 0), "users": (4, 0, 0)}
    assert checked.json()["dry_run"] is True and checked.json()["login_cards"] == []
    assert _rows(served) == before, "a dry run writes nothing"

    done = _import(admin, content)
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    assert _counts(done.json()) == {"orgs": (3, 0, 0), "people": (5, 0, 0), "users": (4, 0, 0)}
    cards = {c["name"]: c for c in done.json()["login_cards"]}
    assert set(cards) == {"王明", "李书记", "张老师", "钱老师"}  # the template's example, and every row with roles
    assert cards["李书记"]["roles"] == "支部书记、党员" and cards["李书记"]["org_name"] == "县一中党支部"
    me = _me(served, cards["李书记"]["token"]).json()
    orgs = {o["name"]: o for o in admin.get("/api/v1/orgs").json()}
    assert orgs["县一中党支部"]["parent_id"] == orgs["县教育工委"]["id"]
    assert orgs["县一中党支部"]["kind"] == "branch" and orgs["县教育工委"]["kind"] == "committee"
    assert me["person"]["name"] == "李书记" and me["person"]["status"] == "full"
    assert sorted((r["role"], r["org_id"]) for r in me["roles"]) == [
        ("member", None),
        ("secretary", orgs["县一中党支部"]["id"]),
    ]
    after = _rows(served)

    again = _import(admin, content)
    assert again.status_code == 200, again.text
    assert _counts(again.json()) == {"orgs": (0, 0, 3), "people": (0, 0, 5), "users": (0, 0, 4)}
    assert again.json()["login_cards"] == [] and _rows(served) == after

    changed = _filled(admin)
    changed["党组织"]["B3"] = "县第一中学党支部"
    changed["人员"]["D4"] = "正式"  # 张老师 is now a full member
    changed["人员"]["G3"] = "支部书记、党员、评议人"
    updated = _import(admin, _bytes(changed))
    assert updated.status_code == 200, updated.text
    assert _counts(updated.json()) == {"orgs": (0, 1, 2), "people": (0, 1, 4), "users": (0, 1, 3)}
    assert "县第一中学党支部" in {o["name"] for o in admin.get("/api/v1/orgs").json()}
    assert _me(served, cards["李书记"]["token"]).status_code == 200  # the same token


def test_a_bad_row_refuses_the_whole_file_naming_its_sheet_row_and_column(served: Served, admin: httpx.Client) -> None:
    book = _filled(admin)
    book["人员"].append(["JY001-09", "孙老师", "JY999", "党员", None, "not-an-address", None])
    book["党组织"].append(["JY001", "重复的支部", "党支部", "JY"])
    book["党组织"].append(["JY003", "三小党支部", "支部", "JY"])
    before = _rows(served)
    refused = _import(admin, _bytes(book))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors = {(e["sheet"], e["row"], e["column"]): e["message"] for e in refused.json()["errors"]}
    assert errors[("党组织", 5, "A")] == "编码 JY001 与第3行重复"
    assert errors[("党组织", 6, "C")] == "类型：应为教育工委、党总支/机关党委、党支部之一"
    assert errors[("人员", 7, "C")] == "所在党组织编码：找不到编码为 JY999 的党组织"
    assert errors[("人员", 7, "D")] == "身份：应为正式党员、预备党员、入党积极分子、群众之一"
    assert errors[("人员", 7, "F")].startswith("邮箱：")
    assert len(errors) == 5 and {e["field"] for e in refused.json()["errors"]} >= {"people.7.status", "orgs.6.kind"}
    assert _rows(served) == before, "nothing written"
    not_xlsx = _import(admin, b"name,org\n")
    assert not_xlsx.status_code == 422 and "xlsx" in not_xlsx.json()["detail"]


def test_only_the_office_imports(served: Served, admin: httpx.Client) -> None:
    content = _bytes(_filled(admin))
    assert _import(admin, content).status_code == 200
    with served.client(_secretary_token(admin)) as secretary:
        assert _import(secretary, content).status_code == 403
        assert secretary.get(f"{ROSTER}/template.xlsx").status_code == 403


def _secretary_token(admin: httpx.Client) -> str:
    orgs = {o["name"]: o["id"] for o in admin.get("/api/v1/orgs").json()}
    body = {"name": "书记甲", "roles": [{"role": "secretary", "org_id": orgs["县一中党支部"]}]}
    return str(admin.post("/api/v1/users", json=body).json()["token"])
