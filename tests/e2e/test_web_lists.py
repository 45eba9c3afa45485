"""承诺书列表: filtered by branch, stage, overdue and name, sorted, with a branch column, scoped to what each
person may read; the office dashboard's overdue count leads to the named records."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import Served
from tests.county import MEETING, TODAY, YEAR, County, build_county
from tests.e2e.test_public_page import M1_ITEMS, ORG_ITEMS, fire, pledge, published_county
from tests.web import form_on, signed_in


@pytest.fixture
def late_county(served: Served) -> Iterator[tuple[County, dict[str, int]]]:
    """The public page's county, its 完成公开 deadline already past (补录): m2's pledge, still in review, is late."""
    served.clock.set(TODAY)
    c = build_county(served.client(), served.url, deadlines={"pledge_published": "2020-10-31"}, backfill=True)
    ids = published_county(c)
    yield c, ids
    c.close()


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(承诺人, 所在党组织, 阶段) of each row of the list."""
    found = re.findall(r"<tr[^>]*><td>([^<]*)</td><td>([^<]*)</td><td><span class=\"stage\"[^>]*>([^<]*)</span>", page)
    return [tuple(r) for r in found]


def test_the_list_filters_sorts_and_scopes(served: Served, late_county: tuple[County, dict[str, int]]) -> None:
    c, _ = late_county
    a = c.orgs["a"]
    with signed_in(served, c.tokens["office"]) as office:
        every = office.get(f"/pledges?year={YEAR}&order=name")
        assert every.status_code == 200 and "共 4 份" in every.text
        assert ("m2老师", "延庆一中党支部", "审查承诺") in _rows(every.text), "the branch column"
        assert len(_rows(office.get(f"/pledges?year={YEAR}&org_id={a}").text)) == 3
        late = _rows(office.get(f"/pledges?year={YEAR}&overdue=true").text)
        assert late == [("m2老师", "延庆一中党支部", "审查承诺")]
        practising = _rows(office.get(f"/pledges?year={YEAR}&state=practising&order=name").text)
        assert {r[0] for r in practising} == {"延庆一中党支部", "mb老师"}
        assert [r[0] for r in _rows(office.get(f"/pledges?year={YEAR}&name=m1").text)] == ["m1老师"]
        members = [r[0] for r in _rows(every.text) if r[0].endswith("老师")]
        assert members == ["m1老师", "m2老师", "mb老师"], "sorted by name"
        assert "下一页" not in every.text
        dashboard = office.get(f"/office?year={YEAR}").text
        assert f'href="/pledges?year={YEAR}&amp;org_id={a}&amp;overdue=true"' in dashboard, "overdue drills down"
        bad = office.get(f"/pledges?year={YEAR}&state=DROP")
        assert bad.status_code == 422 and "<html" in bad.text
    with signed_in(served, c.tokens["sec_b"]) as sec_b:
        assert _rows(sec_b.get(f"/pledges?year={YEAR}").text) == [("mb老师", "延庆二中党支部", "践行承诺")]
        assert _rows(sec_b.get(f"/pledges?year={YEAR}&org_id={a}").text) == [], "another branch stays hidden"
    with signed_in(served, c.tokens["m1"]) as m1:
        assert [r[0] for r in _rows(m1.get(f"/pledges?year={YEAR}").text)] == ["m1老师"]


def test_the_supervisor_approves_and_the_secretary_publishes_in_batches(served: Served, county: County) -> None:
    """Both branches' org pledges and sec_a's own wait for the supervisor; approved together, then made public
    together by branch a's secretary with one channel and date; a bad date refuses each, saying which."""
    sec_a, sec_b = county.as_("sec_a"), county.as_("sec_b")
    org_a = pledge(sec_a, ORG_ITEMS, org_id=county.orgs["a"])
    org_b = pledge(sec_b, ORG_ITEMS, org_id=county.orgs["b"])
    own = pledge(sec_a, M1_ITEMS, person_id=county.people["sec_a"])
    for client, pid, body in ((sec_a, org_a, MEETING), (sec_b, org_b, MEETING), (sec_a, own, {})):
        fire(client, pid, "submit", data=body)
    with signed_in(served, county.tokens["supervisor"]) as sup:
        page = sup.get(f"/supervisor?year={YEAR}").text
        assert page.count('form="batch-form" name="pledge_id"') == 3
        done = sup.post("/pledges/approve", data=form_on(page, "/pledges/approve") | {"pledge_id": [org_a, org_b, own]})
        assert done.status_code == 303
        assert "已批准 3 份承诺书" in sup.get(done.headers["location"]).text
    states = {pid: county.as_("office").get(f"/api/v1/pledges/{pid}").json()["state"] for pid in (org_a, org_b, own)}
    assert set(states.values()) == {"publicizing"}
    with signed_in(served, county.tokens["sec_a"]) as sec:
        page = sec.get(f"/branch?year={YEAR}").text
        fields = form_on(page, "/pledges/publish") | {"pledge_id": [org_a, own], "channel": "website"}
        refused = sec.post("/pledges/publish", data=fields | {"published_on": "2030-13-01"})
        shown = sec.get(refused.headers["location"]).text
        assert f"承诺书 {org_a}：" in shown and "已公开 0 份承诺书" in shown
        fields = form_on(shown, "/pledges/publish") | {"pledge_id": [org_a, own], "channel": "website"}
        assert sec.post("/pledges/publish", data=fields | {"published_on": "2030-10-08"}).status_code == 303
    for pid in (org_a, own):
        view = county.as_("office").get(f"/api/v1/pledges/{pid}").json()
        assert view["state"] == "practising" and view["data"]["publication"]["channel"] == "website"
