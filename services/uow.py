"""The unit of work: one session, one transaction; commit explicitly or nothing is kept."""

from __future__ import annotations

import functools
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
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
            if self._write:
                self._session.connection(execution_options={"pledgeflow_write": True})
        return self._session

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed, and leaves loaded objects readable.
        if self._session is not None:
            self._session.close()
        if isinstance(exc, StaleDataError):
            raise Conflict("记录已被他人同时修改，请刷新后重试") from exc
        if isinstance(exc, IntegrityError):
            raise Conflict("记录已被他人同时修改或已存在，请刷新后重试") from exc

    def commit(self) -> None:
        self.session.commit()
