"""Security headers on every answer of the real app, a CSP the pages keep to, /docs without a CDN, and
`Secure` cookies over HTTPS (set by the setting, or by a trusted proxy's X-Forwarded-Proto only)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from services.config import Settings
from services.entrypoints.api.app import create_app
from tests.conftest import ADMIN, Clock, Served, serve

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "entrypoints" / "web" / "templates"
PATHS = ["/healthz", "/api/v1/orgs", "/api/v1/me", "/login", "/static/app.js", "/static/style.css", "/docs"]
PATHS += ["/openapi.json", "/nowhere", "/api/v1/pledges/0"]


class Links(HTMLParser):
    """Every URL a page makes the browser load or go to, and every inline script, style or handler."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href", "action") and v]
        if tag == "script" and "src" not in found:
            self.inline.append("<script> without src")
        if tag == "style" or "style" in found:
            self.inline.append(f"style on <{tag}>")
        self.inline += [f"{k} on <{tag}>" for k, _ in attrs if k.startswith("on")]
        self.inline += [
            f"javascript: in <{tag}>" for _, v in attrs if v and v.strip().lower().startswith("javascript:")
        ]


def _links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_security_headers(served: Served, path: str) -> None:
    with served.client() as client:
        r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if r.headers["content-type"].startswith("text/html"):
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "form-action 'self'" in csp
    else:
        assert csp.startswith("default-src 'none'")


def test_the_refused_answers_carry_them_too(served: Served) -> None:
    with served.client() as client:
        too_big = client.post("/api/v1/orgs", content=b"x" * (2 * 1024 * 1024))
        anonymous = httpx.post(f"{served.url}/api/v1/orgs", json={}, headers={"Idempotency-Key": "k"})
    for r in (too_big, anonymous):
        assert r.status_code in (401, 413) and r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_has_inline_script_style_or_handler(template: Path) -> None:
    """What the CSP would refuse in a browser: script only from files, style only from style.css."""
    assert _links(template.read_text(encoding="utf-8")).inline == []


def test_the_docs_load_only_from_the_app(served: Served) -> None:
    with served.client(token=None) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        links = _links(page.text)
        assert links.inline == [] and len(links.urls) >= 4
        assert all(url.startswith("/") and not url.startswith("//") for url in links.urls), links.urls
        assert not re.search(r"https?://|//cdn", page.text)
        for url in links.urls:
            assert client.get(url).status_code == 200, url
        start = client.get("/docs/start.js").text
    assert "validatorUrl: null" in start and "/openapi.json" not in start, "the document's URL comes from the page"


def _login_cookie(app_settings: Settings, client: tuple[str, int], headers: dict[str, str]) -> str:
    """GET /login from `client` through the ASGI app itself (the client's address is part of the test)."""

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://pledgeflow.test") as http:
            return await http.get("/login", headers=headers)

    app = create_app(app_settings)
    try:
        return asyncio.run(get()).headers["set-cookie"]
    finally:
        app.state.container.db.dispose()


@pytest.fixture
def plain(db_url: str) -> Iterator[Settings]:
    yield Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, trusted_proxies="10.0.0.0/8")


def _secure(cookie: str) -> bool:
    return "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


def test_the_session_cookie_is_secure_only_over_https(plain: Settings) -> None:
    https = {"x-forwarded-proto": "https"}
    assert not _secure(_login_cookie(plain, ("192.0.2.7", 5000), {}))
    assert not _secure(_login_cookie(plain, ("192.0.2.7", 5000), https)), "anyone may send the header"
    assert _secure(_login_cookie(plain, ("10.1.2.3", 5000), https)), "the trusted proxy says the browser uses https"
    assert not _secure(_login_cookie(plain, ("10.1.2.3", 5000), {"x-forwarded-proto": "https, http"}))
    forced = plain.model_copy(update={"https": True})
    cookie = _login_cookie(forced, ("192.0.2.7", 5000), {})
    assert _secure(cookie) and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_https_from_the_setting_through_the_real_server(db_url: str, clock: Clock) -> None:
    settings = Settings(database_url=db_url, admin_token=ADMIN, scheduler=False, https=True)
    with serve(settings, clock) as served, served.client(token=None) as client:
        assert _secure(client.get("/login").headers["set-cookie"])
