"""A browser never reads JSON: an error answered as problem+json to a page navigation (a mistyped
address, a body too large, an id that is not a number, an overload) is drawn as the error page."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.entrypoints.web.render import error_page

NOT_PAGES = ("/api/", "/openapi.json", "/docs", "/static/", "/healthz", "/readyz")


class PageErrors:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _navigation(scope):
            await self.app(scope, receive, send)
            return
        started: Message | None = None
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                problem = message["status"] >= 400 and _is_problem(message)
                if not problem:
                    await send(message)
                    return
                started = message
            elif started is None:
                await send(message)
            else:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    await _draw(scope, started, b"".join(body), receive, send)

        await self.app(scope, receive, capture)


def _navigation(scope: Scope) -> bool:
    path: str = scope["path"]
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept and not path.startswith(NOT_PAGES)


def _is_problem(message: Message) -> bool:
    headers = dict(message.get("headers") or [])
    return bytes(headers.get(b"content-type", b"")).startswith((b"application/problem+json", b"application/json"))


async def _draw(scope: Scope, started: Message, raw: bytes, receive: Receive, send: Send) -> None:
    try:
        detail = str(json.loads(raw).get("detail") or "")
    except (ValueError, AttributeError):
        detail = ""
    status = int(started["status"])
    answer = error_page(Request(scope), status, detail or "请求未能完成")
    for name, value in started.get("headers") or []:
        if name.lower() in (b"retry-after", b"www-authenticate"):
            answer.headers[name.decode()] = value.decode()
    await answer(scope, receive, send)
