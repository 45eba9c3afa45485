"""Hostile input (issue 5, item 6).

Schemathesis runs over the whole /openapi.json against the real app in uvicorn, once as office and
once unauthenticated: no 5xx, and every answer's status, content type and body as documented.
The limits it leans on are then stated plainly: unknown fields, over-long or control-character
text, an oversized body, secrets kept out of storage.

Schemathesis runs through its command line in a subprocess: its pytest plugin (`from_fixture`)
does not work with pytest 9, and the CLI runs all its phases (coverage: boundary and negative
values of every parameter; fuzzing: random ones) with a report that shows how to replay a failure.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from services.config import Settings
from services.persistence.tables import IdempotencyKey, Org
from services.persistence.uow import UnitOfWork
from tests.conftest import ADMIN, Clock, Served, serve
from tests.county import GOOD_ITEMS, TODAY, YEAR, County, build_county

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = {"office": 20, "anonymous": 10}
"""Per operation in the fuzzing phase; the coverage phase adds its own ~50 cases per operation."""
MIB = 1024 * 1024


def seed(served: Served) -> County:
    """A county, and one record of each kind, so that ids in paths can hit real rows."""
    served.clock.set(TODAY)
    county = build_county(served.client(), served.url)
    office, sec, m1 = county.as_("office"), county.as_("sec_a"), county.as_("m1")
    org = {"year": YEAR, "org_id": county.orgs["a"]}
    site = {**org, "typical_formulation": "做法", "typical_person": "人物", "typical_event": "事迹"}
    created = [
        m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}),
        sec.post("/api/v1/pledges", json={**org, "items": GOOD_ITEMS}),
        sec.post("/api/v1/self-evaluations", json=org),
        sec.post("/api/v1/appraisal-rounds", json=org),
        sec.post("/api/v1/demo-sites", json=site),
        office.post("/api/v1/rectifications", json={**org, "problems": "问题", "due_date": f"{YEAR}-12-01"}),
        office.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/hook", "secret": "s3cret-s3cret"}),
    ]
    for r in created:
        assert r.status_code == 201, r.text
    return county


@pytest.fixture
def county(served: Served) -> Iterator[County]:
    c = seed(served)
    yield c
    c.close()


@pytest.mark.parametrize("caller", ["office", "anonymous"])
def test_schemathesis_over_the_whole_api(served: Served, county: County, caller: str, tmp_path: Path) -> None:
    orgs_before = len(county.admin.get("/api/v1/orgs").json())
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{served.url}/openapi.json"),
        *("--checks", CHECKS),
        *("--phases", "examples,coverage,fuzzing"),
        *("--max-examples", str(MAX_EXAMPLES[caller]), "--generation-deterministic"),
        *("--workers", "1", "--request-timeout", "10", "--no-color"),
    ]
    if caller == "office":
        command += ["--header", f"Authorization: Bearer {ADMIN}"]
    # Run from tmp_path: no schemathesis.toml is picked up, and nothing is written into the repository.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-30000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested, report[-3000:]
    assert int(selected[1]) == int(selected[2]) == int(tested[1]) >= 50, "every operation is fuzzed"
    if caller == "office":  # the fuzzer got past validation: it created orgs of its own
        assert len(county.admin.get("/api/v1/orgs").json()) > orgs_before


def seeded_pledge(county: County, subject_type: str) -> int:
    page = county.admin.get("/api/v1/pledges", params={"subject_type": subject_type}).json()
    return int(page["items"][0]["id"])


def problem(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


def fields(body: dict[str, object]) -> list[str]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return [e["field"] for e in errors]


def test_unknown_fields_are_refused_by_name(county: County) -> None:
    office, sec = county.as_("office"), county.as_("sec_a")
    body = problem(office.post("/api/v1/orgs", json={"name": "某支部", "kind": "branch", "colour": "red"}), 422)
    assert fields(body) == ["colour"] and "colour" in str(body["detail"]) and "不允许的字段" in str(body["detail"])
    items = [{**GOOD_ITEMS[0], "priority": 1}]
    body = problem(sec.post("/api/v1/pledges", json={"year": YEAR, "org_id": county.orgs["b"], "items": items}), 422)
    assert fields(body) == ["items.0.priority"]
    pid = seeded_pledge(county, "org")
    meeting = {"meeting": {"held_on": f"{YEAR}-09-20", "attendees": 12, "minutes_by": "张三"}}
    body = problem(sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit", "data": meeting}), 422)
    assert fields(body) == ["data.meeting.minutes_by"] and "minutes_by" in str(body["detail"])


def test_over_long_and_control_character_text_is_refused_by_name(county: County) -> None:
    m1, sec = county.as_("m1"), county.as_("sec_a")
    long_item = [{"content": "承" * 501, "measure": "每周一次"}]
    r = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": long_item})
    body = problem(r, 422)
    assert fields(body) == ["items.0.content"] and "最多 500 个字符" in str(body["detail"])

    comment = {"achievements": "好" * 2001, "problems": "无", "direction": "继续"}
    body = problem(sec.post(f"/api/v1/pledges/{seeded_pledge(county, 'person')}/comments", json=comment), 422)
    assert fields(body) == ["achievements"] and "最多 2000 个字符" in str(body["detail"])

    body = problem(county.as_("office").post("/api/v1/orgs", json={"name": "支部\x00", "kind": "branch"}), 422)
    assert fields(body) == ["name"] and "控制字符" in str(body["detail"])

    report = {"event": "submit", "data": {"report": "报" * 10001}}
    eid = sec.get("/api/v1/self-evaluations").json()["items"][0]["id"]
    body = problem(sec.post(f"/api/v1/self-evaluations/{eid}/events", json=report), 422)
    assert fields(body) == ["data"] and "report 过长" in str(body["detail"])


def test_event_data_is_typed_and_bounded(county: County) -> None:
    """Found by hand, not by the fuzzer (it cannot walk a pledge to `appraising`): each of these was a 500."""
    m1, sec, sup = county.as_("m1"), county.as_("sec_a"), county.as_("supervisor")
    pid = seeded_pledge(county, "person")
    for who, event, extra in [
        (m1, "submit", {}),
        (sec, "approve", {}),
        (sec, "publish", {"data": {"channel": "notice_board", "published_on": f"{YEAR}-10-08"}}),
    ]:
        assert who.post(f"/api/v1/pledges/{pid}/events", json={"event": event, **extra}).status_code == 200
    items = [i["id"] for i in m1.get(f"/api/v1/pledges/{pid}").json()["items"]]
    progress = {"item": items[0], "note": "参加集体备课", "happened_on": TODAY.date().isoformat()}
    assert m1.post(f"/api/v1/pledges/{pid}/progress", json=progress).status_code == 201
    assert m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "request_appraisal"}).status_code == 200
    comment = {"achievements": "认真", "problems": "无", "direction": "继续"}
    assert sec.post(f"/api/v1/pledges/{pid}/comments", json=comment).status_code == 201
    done = [{"item": i, "outcome": "done"} for i in items]
    for outcomes, field in [
        ([*done, 5], "data.outcomes[2]"),  # was: TypeError in the use case
        ([{"item": [items[0]], "outcome": "done"}], "data.outcomes[0].item"),  # was: unhashable in the guard
        ([{**done[0], "explanation": {"why": 1}}, done[1]], "data.outcomes[0].explanation"),  # was: sqlite3 bind error
        ([{**done[0], "explanation": "因" * 2001}, done[1]], "data.outcomes[0].explanation"),  # was: varchar(2000)
    ]:
        appraise = {"event": "appraise", "data": {"grade": "good", "outcomes": outcomes}}
        assert fields(problem(sec.post(f"/api/v1/pledges/{pid}/events", json=appraise), 422)) == [field]
    nan = b'{"event": "appraise", "data": {"grade": "good", "score": NaN}}'  # was: invalid json on PostgreSQL
    r = sup.post(f"/api/v1/pledges/{pid}/events", content=nan, headers={"content-type": "application/json"})
    assert fields(problem(r, 422)) == ["data"] and "score 应为有限的数字" in str(problem(r, 422)["detail"])
    long_url = {"url": "http://example.com/" + "中" * 60, "secret": "s3cret-s3cret"}  # 559 characters once encoded
    r = county.as_("office").post("/api/v1/webhooks", json=long_url)
    assert fields(problem(r, 422)) == ["url"]
    for path in ("/api/v1/" + "x" * 400, "/api/v1/orgs%00"):  # was: the Idempotency-Key row did not fit
        r = county.as_("office").post(path, json={}, headers={"Idempotency-Key": "odd-path"})
        assert problem(r, 404)["type"] == "/problems/not-found"
    for raw in (b'{"name": "\xff"}', b"\xff\xfe{}"):  # not UTF-8; not JSON
        r = county.as_("office").post("/api/v1/orgs", content=raw, headers={"content-type": "application/json"})
        assert fields(problem(r, 422)) == ["body"]  # was: 400 in English, undeclared; and a field named "0"


def test_a_body_over_the_limit_is_refused_before_it_is_read(county: County) -> None:
    office = county.as_("office")
    big = b'{"name": "' + b"x" * MIB + b'", "kind": "branch"}'
    body = problem(office.post("/api/v1/orgs", content=big, headers={"content-type": "application/json"}), 413)
    assert str(body["type"]).endswith("/payload-too-large") and "请求体过大" in str(body["detail"])

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size shows only while reading
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * (MIB // 16)
        yield b'", "kind": "branch"}'

    headers = {"content-type": "application/json", "Idempotency-Key": "big-1"}
    body = problem(office.post("/api/v1/orgs", content=chunks(), headers=headers), 413)
    assert str(body["type"]).endswith("/payload-too-large")
    under = b'{"name": "' + b"x" * (MIB - 100) + b'", "kind": "branch"}'
    r = office.post("/api/v1/orgs", content=under, headers={"content-type": "application/json"})
    assert fields(problem(r, 422)) == ["name"], "under the limit, the body is read and judged field by field"


def test_the_limit_is_a_setting(db_url: str) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, max_body_bytes=100)
    with serve(settings, Clock()) as s, s.client() as office:
        assert office.post("/api/v1/orgs", json={"name": "x" * 100, "kind": "branch"}).status_code == 413
        assert office.post("/api/v1/orgs", json={"name": "某支部", "kind": "branch"}).status_code == 201


def test_the_spreadsheet_survives_odd_stored_text(served: Served, county: County) -> None:
    """Text stored before the input rules (or by other means) cannot break the .xlsx report or act as a formula."""
    with UnitOfWork(served.container.db) as uow:
        org = Org(name="=HYPERLINK(1)\x1f", kind="branch")
        uow.session.add(org)
        uow.session.flush()
        org.path = f"/{org.id}/"
        uow.commit()
    r = county.as_("office").get(f"/api/v1/reports/{YEAR}/progress.xlsx")
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value == "'=HYPERLINK(1)"]  # escaped, control char gone
    assert cells and all(c.data_type == "s" for c in cells)


def test_a_new_users_token_is_not_kept_for_replay(served: Served, county: County) -> None:
    r = county.as_("office").post(
        "/api/v1/users", json={"name": "新用户", "roles": [{"role": "supervisor"}]}, headers={"Idempotency-Key": "u-1"}
    )
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    with UnitOfWork(served.container.db) as uow:
        kept = [row.response or "" for row in uow.session.exec(select(IdempotencyKey)).all()]
    assert not any(r.json()["token"] in response for response in kept)
