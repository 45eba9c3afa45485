"""承诺书列表: filtered by branch, stage, overdue and name, sorted, with a branch column, scoped to what each
person may read; the office dashboard's overdue count leads to the named records."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import Served
from tests.county import YEAR, County, build_county
from tests.e2e.test_public_page import published_county
from tests.web import signed_in


@pytest.fixture
def late_county(served: Served) -> Iterator[tuple[County, dict[str, int]]]:
    """The public page's county, its 完成公开 deadline already past (补录): m2's pledge, still in review, is late."""
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
