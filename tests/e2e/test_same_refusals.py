"""A page's form and an API call refuse the same input with the same Chinese message (one validation,
in the commands the use cases take) — for a progress note, a leader comment and a publication date."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.county import GOOD_ITEMS, TODAY, YEAR, County

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOTE = "践" * 4999 + "\x01"


def signed_in(county: County, who: str) -> httpx.Client:
    web = httpx.Client(base_url=county.url, timeout=30, follow_redirects=True)
    csrf = CSRF.search(web.get("/login").text)
    assert csrf
    assert web.post("/login", data={"csrf_token": csrf.group(1), "token": county.tokens[who]}).status_code == 200
    return web


def post_form(web: httpx.Client, path: str, action: str, form: str, fields: dict[str, str]) -> str:
    """Post a page's form as a browser does, and return the page it comes back to."""
    csrf = CSRF.search(web.get(path).text)
    assert csrf
    r = web.post(action, data={"csrf_token": csrf.group(1), "form": form, "back": path, **fields})
    assert r.status_code == 200
    return html.unescape(r.text)


def api_messages(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    return [e["message"] for e in r.json().get("errors", [])] or [g["message"] for g in r.json()["failed_guards"]]


def test_the_same_refusal_reads_the_same_on_a_page_and_from_the_api(county: County) -> None:
    m1, sec = county.as_("m1"), county.as_("sec_a")
    pid = m1.post("/api/v1/pledges", json={"year": YEAR, "person_id": county.people["m1"], "items": GOOD_ITEMS}).json()[
        "id"
    ]
    assert m1.post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}).status_code == 200
    assert sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "approve"}).status_code == 200
    page, web, member_web = f"/pledges/{pid}", signed_in(county, "sec_a"), signed_in(county, "m1")
    try:
        check(county, pid, page, web, member_web)
    finally:
        web.close()
        member_web.close()


def check(county: County, pid: int, page: str, web: httpx.Client, member_web: httpx.Client) -> None:
    m1, sec = county.as_("m1"), county.as_("sec_a")

    bad_date = {"channel": "notice_board", "published_on": f"{YEAR}-13-01"}
    said = api_messages(sec.post(f"/api/v1/pledges/{pid}/events", json={"event": "publish", "data": bad_date}))
    shown = post_form(web, page, f"{page}/events", f"events-{pid}", {"event": "publish", **bad_date})
    assert said and all(m in shown for m in said), said
    assert "公开日期" in said[0] and "published_on" not in said[0]

    comment = {"achievements": "好" * 2001, "problems": "无", "direction": "继续"}
    said = api_messages(sec.post(f"/api/v1/pledges/{pid}/comments", json=comment))
    shown = post_form(web, page, f"{page}/comments", "comment", comment)
    assert said == ["肯定成绩：过长（最多 2000 个字符）"] and said[0] in shown

    publish = {"event": "publish", "data": {"channel": "notice_board", "published_on": f"{YEAR}-10-08"}}
    assert sec.post(f"/api/v1/pledges/{pid}/events", json=publish).status_code == 200
    item = m1.get(f"/api/v1/pledges/{pid}").json()["items"][0]["id"]
    progress = {"item": str(item), "note": NOTE, "happened_on": TODAY.date().isoformat()}
    said = api_messages(m1.post(f"/api/v1/pledges/{pid}/progress", json={**progress, "item": item}))
    shown = post_form(member_web, page, f"{page}/progress", "progress", progress)
    assert said and said[0].startswith("践诺情况：") and all(m in shown for m in said), said
    assert m1.get(f"/api/v1/pledges/{pid}").json()["version"] == 4, "a refused form changed nothing"
