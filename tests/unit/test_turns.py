"""The SQLite writers' turn lock: first come, first served; released from any thread; a wait can run out."""

from __future__ import annotations

import threading
import time

from services.persistence.turns import Turns


def test_writers_get_their_turn_in_the_order_they_asked() -> None:
    turns, order = Turns(), []
    assert turns.acquire(timeout=1)
    threads = []
    for n in range(5):

        def writer(n: int = n) -> None:
            assert turns.acquire(timeout=5)
            order.append(n)
            turns.release()

        t = threading.Thread(target=writer)
        t.start()
        threads.append(t)
        time.sleep(0.05)  # each has asked before the next one starts
    turns.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_wait_runs_out_and_leaves_the_line() -> None:
    turns = Turns()
    assert turns.acquire(timeout=1)
    assert not turns.acquire(timeout=0.05)
    turns.release()
    assert turns.acquire(timeout=0.05)  # the one that gave up is not handed the turn


def test_another_thread_may_release() -> None:
    turns = Turns()
    assert turns.acquire(timeout=1)
    t = threading.Thread(target=turns.release)
    t.start()
    t.join(5)
    assert turns.acquire(timeout=0.5)
