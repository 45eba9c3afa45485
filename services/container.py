"""The container: everything built once at start-up (settings, database, definitions, engines, clock)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from definitions import Catalog, Scorecard, load_catalog
from services.access import ActorCache
from services.config import Settings
from services.lifecycle import registry
from services.lifecycle.registry import Lifecycles
from services.persistence.db import make_engine, migrate
from services.queries import reports
from services.usecases.event_data import EVENT_DATA
from services.usecases.kinds import KINDS
from workflow import Engines


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Container:
    settings: Settings
    db: Engine
    catalog: Catalog
    engines: Engines
    lifecycles: Lifecycles
    clock: Callable[[], dt.datetime]
    actors: ActorCache = field(default_factory=ActorCache)
    _turns: dict[asyncio.AbstractEventLoop, asyncio.Lock] = field(default_factory=dict, repr=False)

    def writing_turn(self) -> AbstractAsyncContextManager[Any]:
        """Where the API's writing requests take turns: one at a time on SQLite (one lock per event
        loop: an asyncio lock belongs to the loop it first waited in); elsewhere all go in at once."""
        if self.db.dialect.name != "sqlite":
            return contextlib.nullcontext()
        return self._turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())

    @property
    def scorecard(self) -> Scorecard:
        return self.catalog.scorecards["default"]

    def report_sources(self) -> reports.Sources:
        """What the progress report reads besides the database."""
        return reports.Sources(
            self.engines, self.scorecard, self.catalog.rating_scale, self.settings.basic_counts_as_satisfied
        )


def ensure_secrets(db: Engine) -> None:
    """Make the keys the service keeps (the voter-hash key) before any request can race for them."""
    from services.persistence.uow import UnitOfWork
    from services.usecases.appraisals import ballot_key

    with UnitOfWork(db) as uow:
        ballot_key(uow.session)
        uow.commit()


def build_lifecycles(catalog: Catalog) -> Lifecycles:
    """Every lifecycle's engine and hooks; refuses to start when they disagree with the definitions."""
    registry.check(catalog, KINDS, EVENT_DATA)
    return Lifecycles(catalog, Engines(catalog), KINDS)


def build_container(settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> Container:
    catalog = load_catalog()
    lifecycles = build_lifecycles(catalog)
    db = make_engine(settings.database_url, echo=settings.sql_echo)
    migrate(db)
    ensure_secrets(db)
    return Container(settings, db, catalog, lifecycles.engines, lifecycles, clock)
