"""Security headers on every answer: no sniffing, no framing, no referrer to other sites, a strict
Content-Security-Policy (pages: only the app's own scripts and styles, no inline script), and `Secure`
cookies when the browser talks HTTPS.

Against whom: a site that frames the pages to trick a click (clickjacking), a stored text that slips into a
page as script (the CSP refuses inline and foreign scripts even then), a browser guessing an upload or an
export to be HTML, and a network eavesdropper reading the session cookie of an HTTPS site over plain HTTP.
HTTPS is known from `PLEDGEFLOW_HTTPS=1` or from the request's scheme: TLS at the server, or
`X-Forwarded-Proto: https` from one of `PLEDGEFLOW_TRUSTED_PROXIES`, which uvicorn's proxy-headers
middleware, outside this one, has turned into the scheme (anyone else's header is ignored).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
"""For HTML: everything from the app itself, no inline script or style, nothing may frame it."""
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
"""For JSON, files and images (an SVG opened on its own is a document too): nothing to run or load."""
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, https: bool = False):
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = self.https or scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(list(message.get("headers", [])), secure)
            await send(message)

        await self.app(scope, receive, with_headers)


def _secured(headers: list[tuple[bytes, bytes]], secure: bool) -> list[tuple[bytes, bytes]]:
    names = {name.lower() for name, _ in headers}
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    csp = PAGE_CSP if content_type.lower().startswith(b"text/html") else OTHER_CSP
    added = [(name, value) for name, value in ALWAYS if name not in names]
    if b"content-security-policy" not in names:
        added.append((b"content-security-policy", csp.encode()))
    if secure:
        headers = [(name, _secure_cookie(value) if name.lower() == b"set-cookie" else value) for name, value in headers]
    return headers + added


def _secure_cookie(cookie: bytes) -> bytes:
    attributes = {part.strip().lower() for part in cookie.split(b";")[1:]}
    return cookie if b"secure" in attributes else cookie + b"; Secure"
