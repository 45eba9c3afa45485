"""Use cases on an in-memory SQLite database: a container per test, no files, no HTTP.

make_engine takes `sqlite://` as it is: SQLAlchemy's SingletonThreadPool keeps one connection, and so one
database, per thread; these tests call the use cases on the test's own thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.config import Settings
from services.container import Container, build_container
from tests import usecases as uc
from tests.county import YEAR
from tests.unit.memory import NOW


@pytest.fixture
def container() -> Iterator[Container]:
    c = build_container(Settings(database_url="sqlite://", scheduler=False), lambda: NOW)
    yield c
    c.db.dispose()


@pytest.fixture
def roster(container: Container) -> uc.Roster:
    """The small county, and the campaign year with its default calendar."""
    r = uc.roster(container, NOW)
    uc.campaign(container, YEAR, NOW)
    return r
