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
    with signed_in(served, county.tokens["office"]) as office:
        assert office.get("/office").status_code == 200
