"""The SQLite writers' turn: a lock handed over in the order it was asked for."""

from __future__ import annotations

import threading
from collections import deque


class Turns:
    """A lock handed over in the order it was asked for (threading.Lock favours whichever thread
    the scheduler runs next, which leaves some writers waiting far longer than others). Any thread
    may release it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # still held: now by the next in line
            else:
                self._held = False
