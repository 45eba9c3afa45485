"""A page refused to the signed-in person answers with the status the API would give (403, 404), not 400."""

from __future__ import annotations

from tests.conftest import Served
from tests.county import County
from tests.web import signed_in


def test_a_forbidden_page_is_403_and_a_missing_one_404(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as member:
        refused = member.get("/office")
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
        assert "县级看板只对创先争优活动办公室和教育工委领导开放" in refused.text
        assert member.get("/pledges/999999").status_code == 404
        workbench = member.get("/branch")
        assert workbench.status_code == 403 and "支部工作台只对支部书记开放" in workbench.text, "no empty workbench"
    with signed_in(served, county.tokens["office"]) as office:
        assert office.get("/office").status_code == 200


def test_a_browser_gets_pages_for_errors_never_json(served: Served, county: County) -> None:
    """A mistyped address, an id that is no number, a body too large: the error page, with its status."""
    with signed_in(served, county.tokens["m1"]) as member:
        for path, status, said in (
            ("/no-such-page", 404, "页面不存在"),
            ("/pledges/abc", 422, "填写有误"),
            ("/pledges/999999", 404, "页面不存在"),
        ):
            r = member.get(path)
            assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
            assert said in r.text and 'href="/"' in r.text, path
        assert "<nav" in member.get("/pledges/999999").text, "a page's own refusal keeps the person's menu"
        big = member.post("/pledges/new", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "text/plain"})
        assert big.status_code == 413 and big.headers["content-type"].startswith("text/html")
        assert "提交的内容过大" in big.text
        api = member.get("/api/v1/nothing-here")
        assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
