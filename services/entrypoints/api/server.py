"""The HTTP protocol `pledgeflow serve` runs: uvicorn's httptools protocol with a deadline on the head.

uvicorn times out idle keep-alive connections only: a client that connects and sends its headers a
byte at a time (or never) keeps a socket and a parser for as long as it likes, and 500 of them were
kept for 45 s. Here a request's head must be complete within the app's `request_timeout_s` of the
connection (or of the request's first byte on a kept-alive connection), else the connection is closed.
The app hands its setting over in the lifespan state (`HEAD_TIMEOUT`). The body's own deadline is the
body limit's (`limits.BodyLimitMiddleware`), which can answer 408.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from services.config import Settings

HEAD_TIMEOUT = "pledgeflow.head_timeout_s"
DEFAULT_HEAD_TIMEOUT_S: float = Settings.model_fields["request_timeout_s"].default


class HttpProtocol(HttpToolsProtocol):
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(
                self.app_state.get(HEAD_TIMEOUT, DEFAULT_HEAD_TIMEOUT_S), self._too_slow
            )

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
