"""`Idempotency-Key` on state-changing POSTs: the first 2xx answer is kept 24 h and replayed.

Scoped to the caller (a hash of their token) and the route. A pending row is claimed before the
work starts, so a concurrent duplicate gets 409 instead of doing the work twice; rows live in the
database, so this holds across replicas and restarts. Only a caller whose token is valid gets a row:
anyone else's request goes straight on to its 401, having written nothing (otherwise anyone, without
an account, could make the server write, and on SQLite take the one write lock, at will).
"""

from __future__ import annotations

import hashlib
import json

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.access import hash_token
from services.container import Container
from services.entrypoints.deps import caller
from services.persistence import idempotency
from services.persistence.tables import IdempotencyKey

KEPT_HEADERS = ("content-type", "etag", "location")
PROBLEM = "application/problem+json"
ROUTE_MAX = 300  # IdempotencyKey.route


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, container: Container):
        self.app, self.c = app, container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        key = headers.get(b"idempotency-key", b"").decode("latin-1").strip()
        token = headers.get(b"authorization", b"")
        if scope["type"] != "http" or scope["method"] != "POST" or not key or not token or _no_route(scope["path"]):
            await self.app(scope, receive, send)
            return
        if len(key) > 200 or "\x00" in key:
            await _problem(send, 422, "Idempotency-Key 过长（最多200个字符）")
            return
        if not await self._known_caller(token):
            await self.app(scope, receive, send)  # the route answers 401 itself
            return
        body = await _read_body(receive)
        claim = (hashlib.sha256(token).hexdigest(), scope["path"], key, hashlib.sha256(body).hexdigest())
        outcome, row = await anyio.to_thread.run_sync(idempotency.claim, self.c.db, self.c.clock(), *claim)
        if outcome == "replay":
            await _replay(send, row)
        elif outcome == "mismatch":
            await _problem(send, 422, "同一个 Idempotency-Key 已用于内容不同的请求")
        elif outcome == "pending":
            await _problem(send, 409, "相同 Idempotency-Key 的请求正在处理，请稍后重试")
        else:
            await self._first(scope, body, send, row)

    async def _known_caller(self, authorization: bytes) -> bool:
        """Whether the bearer token names a caller (a short read in a thread)."""
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        key = hash_token(token)
        return await anyio.to_thread.run_sync(caller, self.c, key) is not None

    async def _first(self, scope: Scope, body: bytes, send: Send, row_id: int) -> None:
        """Run the request, keep its answer, and only then send it: a retry that arrives as soon
        as the client has read the answer must find it stored."""
        messages: list[Message] = []

        async def replay_receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            started = next((m for m in messages if m["type"] == "http.response.start"), {})
            raw = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
            headers = [(k.decode().lower(), v.decode()) for k, v in started.get("headers", [])]
            kept = {k: v for k, v in headers if k in KEPT_HEADERS}
            # Only 2xx answers are kept (a refused request may be corrected and retried), and never one
            # marked no-store: it carries a secret (a new user's token).
            status = started.get("status", 500)
            keep = 200 <= status < 300 and not any(k == "cache-control" and "no-store" in v for k, v in headers)
            await anyio.to_thread.run_sync(idempotency.finish, self.c.db, row_id, status, raw, kept, keep)
        for message in messages:
            await send(message)


def _no_route(path: str) -> bool:
    """A path no route has (too long for the `route` column, or holding a NUL, which PostgreSQL
    cannot store): nothing to keep, the app answers 404."""
    return len(path) > ROUTE_MAX or "\x00" in path


async def _read_body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _replay(send: Send, row: IdempotencyKey) -> None:
    headers = [(k.encode(), v.encode()) for k, v in row.headers.items()] + [(b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": row.status, "headers": headers})
    await send({"type": "http.response.body", "body": (row.response or "").encode()})


async def _problem(send: Send, status: int, detail: str) -> None:
    slug = "idempotency-conflict" if status == 409 else "idempotency-key-reused"
    body = {"type": f"/problems/{slug}", "title": "重复请求", "status": status, "detail": detail}
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
