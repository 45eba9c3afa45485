"""A page refused to the signed-in person answers with the status the API would give (403, 404), not 400."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import Served
from tests.county import County


@contextmanager
def signed_in(served: Served, token: str) -> Iterator[httpx.Client]:
    """A browser-like client signed in through the login form (session cookie and CSRF token)."""
    with httpx.Client(base_url=served.url, timeout=30) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert csrf is not None
        r = client.post("/login", data={"csrf_token": csrf.group(1), "token": token})
        assert r.status_code == 303, r.text
        yield client


def test_a_forbidden_page_is_403_and_a_missing_one_404(served: Served, county: County) -> None:
    with signed_in(served, county.tokens["m1"]) as member:
        refused = member.get("/office")
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
        assert "县级看板只对创先争优活动办公室和教育工委领导开放" in refused.text
        assert member.get("/pledges/999999").status_code == 404
    with signed_in(served, county.tokens["office"]) as office:
        assert office.get("/office").status_code == 200
