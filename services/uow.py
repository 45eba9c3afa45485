"""The unit of work: one session, one transaction; commit explicitly or nothing is kept."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session


class UnitOfWork:
    def __init__(self, engine: Engine, write: bool = True):
        self._factory = sessionmaker(engine, class_=Session, expire_on_commit=False)
        self._write = write
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        if self._write:
            self.session.connection(execution_options={"pledgeflow_write": True})
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()
