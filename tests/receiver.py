"""A real local HTTP receiver for webhooks: records every POST and answers as told; given the secret, it
checks signatures as a receiver should (HMAC of `<timestamp>.<raw body>`, timestamp at most 5 minutes
away) and refuses the others with 401."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300.0
"""Seconds a signed timestamp may be away from the receiver's clock before the request counts as a replay."""


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))

    def signed_by(self, secret: str, now: float | None = None, tolerance: float = TOLERANCE) -> bool:
        """The signature is the HMAC-SHA256 of `<X-Pledgeflow-Timestamp>.<raw body>` and the time is recent."""
        stamp = self.headers.get("x-pledgeflow-timestamp", "")
        if not stamp.isdigit() or abs((time.time() if now is None else now) - int(stamp)) > tolerance:
            return False
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + self.raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("x-pledgeflow-signature", ""), f"sha256={digest}")


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)
    """Status codes to answer, in order; 200 once they run out."""
    received: list[Received] = field(default_factory=list)
    secret: str | None = None
    """When set, requests not signed with it (or signed too long ago) are answered 401 and kept in `refused`."""
    refused: list[Received] = field(default_factory=list)

    def deliveries(self) -> list[str]:
        return [r.headers["x-pledgeflow-delivery"] for r in self.received]


@contextmanager
def receiver(answers: list[int] | None = None, secret: str | None = None) -> Iterator[Receiver]:
    state = Receiver(url="", answers=list(answers or []), secret=secret)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got = Received({k.lower(): v for k, v in self.headers.items()}, raw)
            with lock:
                if state.secret is not None and not got.signed_by(state.secret):
                    state.refused.append(got)
                    status = 401
                else:
                    state.received.append(got)
                    status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
