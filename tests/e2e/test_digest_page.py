"""消息 shows a digest as the list of reminders it carries, each linked to its record (the served app,
the sweep called at a chosen morning)."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

from services.enforcement.sweep import sweep
from tests.conftest import Served
from tests.county import GOOD_ITEMS, YEAR, County
from tests.web import signed_in

MORNING = dt.datetime(YEAR, 10, 25, 8, tzinfo=ZoneInfo("Asia/Shanghai"))
"""A Friday: the 7-day reminders of pledge_published (Thursday 31 October) were held from the night before."""


def _pledge(county: County, who: str, subject: dict[str, int], submit: bool) -> int:
    r = county.as_(who).post("/api/v1/pledges", json={"year": YEAR, "items": GOOD_ITEMS, **subject})
    assert r.status_code == 201, r.text
    pid = int(r.json()["id"])
    if submit:
        assert county.as_(who).post(f"/api/v1/pledges/{pid}/events", json={"event": "submit"}).status_code == 200
    return pid


def test_the_inbox_page_lists_a_digests_reminders_with_links(served: Served, county: County) -> None:
    ids = [_pledge(county, who, {"person_id": county.people[who]}, True) for who in ("m1", "m2")]
    ids.append(_pledge(county, "sec_a", {"org_id": county.orgs["a"]}, False))
    _pledge(county, "mb", {"person_id": county.people["mb"]}, False)
    served.clock.set(MORNING)
    sweep(served.container.db, served.container.catalog, served.clock())

    with signed_in(served, county.tokens["sec_a"]) as sec, signed_in(served, county.tokens["mb"]) as mb:
        page = html.unescape(sec.get("/notifications").text)
        plain = html.unescape(mb.get("/notifications").text)
    digest = re.search(r'<ul class="digest">(.*?)</ul>', page, re.S)
    assert "【提醒】您有3项待办事项即将到期" in page and digest is not None
    links = re.findall(r'<a href="/pledges/(\d+)">([^<]+)</a>', digest.group(1))
    assert sorted(int(pid) for pid, _ in links) == sorted(ids)
    assert all(f"须在{YEAR}年10月31日前完成公开" in title for _, title in links)
    assert '<ul class="digest">' not in plain and "【提醒】mb老师的公开承诺须在" in plain
