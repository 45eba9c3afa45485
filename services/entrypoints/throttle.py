"""Failed sign-ins and bearer tokens throttled per client address (429 with Retry-After).

A moving window from the `limits` library, kept in this process's memory: each replica counts the
failures it sees, so N replicas allow N times the rate. Only failures count: a person who signs in
right is never slowed. The address is the connection's peer, or behind one of PLEDGEFLOW_TRUSTED_PROXIES
the client it names in `X-Forwarded-For` (an untrusted peer's header changes nothing).
"""

from __future__ import annotations

import math
import time

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request


class FailureThrottle:
    def __init__(self, per_minute: int):
        self.limit = limits.RateLimitItemPerMinute(per_minute)
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, request: Request) -> int | None:
        """Seconds until this address may try again, or None when it may now."""
        address = _address(request)
        if self.window.test(self.limit, address):
            return None
        reset = self.window.get_window_stats(self.limit, address).reset_time
        return max(1, math.ceil(reset - time.time()))

    def failed(self, request: Request) -> None:
        self.window.hit(self.limit, _address(request))


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def detail(seconds: int) -> str:
    return f"失败次数过多，请 {seconds} 秒后再试"
