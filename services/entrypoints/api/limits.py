"""Limits met before the app does any work, as RFC 9457 problem+json: requests in flight, body size and time.

Both are pure ASGI and sit outside the other middlewares. `InFlightLimit` bounds how many requests the
process works on at once; a few more wait up to two seconds for a slot, and the rest are answered 503
with `Retry-After` at once: a burst no longer queues for worker threads and pooled connections until the
pool's timeout turns it into 500s. `/healthz` and
`/readyz` are outside the bound, so the probes answer while the app is saturated.

`BodyLimitMiddleware` guards the Idempotency-Key middleware too, which reads the body itself. A
declared `Content-Length` over the cap is refused before reading; a chunked body is read up to the cap
and refused as soon as it grows past it; a body not sent within the timeout is answered 408. The body
read here is handed on to the app unchanged.
"""

from __future__ import annotations

import asyncio

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.entrypoints.api.problems import problem

PROBES = ("/healthz", "/readyz")
WAIT_S = 2.0
"""How long a request past the bound waits for a slot before it is refused."""
RETRY_AFTER_S = 1


class InFlightLimit:
    def __init__(self, app: ASGIApp, max_in_flight: int, max_waiting: int):
        self.app, self.max_in_flight, self.max_waiting = app, max_in_flight, max_waiting
        self.slots = asyncio.Semaphore(max_in_flight)
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if not await self._slot():
            detail = f"服务繁忙：同时处理的请求已达 {self.max_in_flight} 个，请 {RETRY_AFTER_S} 秒后重试"
            busy = problem(503, "service-unavailable", detail, Request(scope))
            busy.headers["Retry-After"] = str(RETRY_AFTER_S)
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _slot(self) -> bool:
        """A slot at once, or within `WAIT_S` while no more than `max_waiting` others wait (one event loop: the
        counter needs no lock)."""
        if not self.slots.locked():
            await self.slots.acquire()
            return True
        if self.waiting >= self.max_waiting:
            return False
        self.waiting += 1
        try:
            await asyncio.wait_for(self.slots.acquire(), WAIT_S)
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1


class BodyLimitMiddleware:
    """`uploads`: the paths that take a file (the roster import), each with its own, larger cap."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float, uploads: dict[str, int] | None = None):
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s
        self.uploads = uploads or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.uploads.get(scope["path"], self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > cap:
            await self._refuse(scope, receive, send, cap)
            return
        chunks: list[bytes] = []
        outcome: str | Message = "late"
        with anyio.move_on_after(self.timeout_s):
            outcome = await self._read(receive, chunks, cap)
        if outcome == "late":
            detail = f"请求体未在 {self.timeout_s:g} 秒内发送完毕"
            await problem(408, "request-timeout", detail, Request(scope))(scope, receive, send)
        elif outcome == "too-large":
            await self._refuse(scope, receive, send, cap)
        elif isinstance(outcome, dict):  # the client went away: let the app see it
            await self.app(scope, _replay([], outcome, receive), send)
        else:
            await self.app(scope, _replay(chunks, None, receive), send)

    async def _read(self, receive: Receive, chunks: list[bytes], cap: int) -> str | Message:
        """The body into `chunks`: "read", "too-large", or the message that ended it early."""
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                return "too-large"
            chunks.append(chunk)
            more = message.get("more_body", False)
        return "read"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        detail = f"请求体过大：最多 {cap} 字节"
        await problem(413, "payload-too-large", detail, Request(scope))(scope, receive, send)


def _replay(chunks: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    """A `receive` that gives the body already read as one message, then defers to the server."""
    first: Message | None = pending or {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def replay() -> Message:
        nonlocal first
        if first is not None:
            message, first = first, None
            return message
        return await receive()

    return replay
