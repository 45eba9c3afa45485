"""The unit of work: one session, one transaction; commit explicitly or nothing is kept."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.errors import Conflict


class UnitOfWork:
    """`with UnitOfWork(db) as uow: … uow.commit()`. A unique key that a concurrent writer took first
    leaves as a Conflict (409) with nothing written.

    The session is opened at the first use of `session`, not on entering: the API enters on the
    event loop and works in a worker thread, so anything that may block (on SQLite, waiting for the
    writers' turn: see persistence/db.py) happens in that thread, and a request that fails before
    any work never waits."""

    def __init__(self, engine: Engine, write: bool = True):
        self._engine, self._write = engine, write
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(self._engine, expire_on_commit=False)
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
        if isinstance(exc, IntegrityError):
            raise Conflict("记录已被他人同时修改或已存在，请刷新后重试") from exc

    def commit(self) -> None:
        self.session.commit()
