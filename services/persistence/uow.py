"""The unit of work: one session, one transaction; commit explicitly or nothing is kept."""

from __future__ import annotations

import functools
import threading
from collections import deque
from types import TracebackType

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from services.errors import Conflict


@functools.cache
def _factory(engine: Engine) -> sessionmaker[Session]:
    """One session factory per engine, not one per request."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


WRITER_WAIT_S = 30  # as SQLite's busy_timeout


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


@functools.cache
def _writer(engine: Engine) -> Turns | None:
    """On SQLite, this process's writing transactions queue here for the one write lock, in turn,
    instead of polling for it in SQLite's busy handler (which sleeps up to 100 ms between tries, so
    a request could wait long after the lock was free). Other processes still meet the busy timeout.
    Held from the session's opening to its first commit or its close, whichever thread that is."""
    return Turns() if engine.dialect.name == "sqlite" else None


class UnitOfWork:
    """`with UnitOfWork(db) as uow: … uow.commit()`. A lost race, wherever the ORM notices it
    (a flush before a query, or the commit), leaves as a Conflict (409) with nothing written.

    The session (and, for a write, SQLite's write lock) is taken at the first use of `session`,
    not on entering: the API enters on the event loop and works in a worker thread, so the
    blocking part happens in that thread, and a request that fails before any work never waits
    for the lock."""

    def __init__(self, engine: Engine, write: bool = True):
        self._factory = _factory(engine)
        self._write = write
        self._writer = _writer(engine) if write else None
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            if self._writer is not None and not self._writer.acquire(timeout=WRITER_WAIT_S):
                self._writer = None
                raise TimeoutError(f"no turn to write to SQLite in {WRITER_WAIT_S} s")
            try:
                self._session = self._factory()
                if self._write:
                    self._session.connection(execution_options={"pledgeflow_write": True})
            except BaseException:
                self._release()
                raise
        return self._session

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed, and leaves loaded objects readable.
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._release()
        if isinstance(exc, StaleDataError):
            raise Conflict("记录已被他人同时修改，请刷新后重试") from exc
        if isinstance(exc, IntegrityError):
            raise Conflict("记录已被他人同时修改或已存在，请刷新后重试") from exc

    def commit(self) -> None:
        try:
            self.session.commit()
        finally:
            self._release()

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
