"""The container: everything built once at start-up (settings, database, definitions, engines, clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from definitions import Catalog, Scorecard, load_catalog
from services.access import ActorCache
from services.config import Settings
from services.lifecycle import registry
from services.lifecycle.registry import Lifecycles
from services.persistence.db import make_engine, migrate
from services.queries import reports
from services.secret_key import SecretKey, load_secret_key
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
    secret: SecretKey
    """The secret kept outside the database; derive a key per purpose from it."""
    actors: ActorCache = field(default_factory=ActorCache)

    @property
    def scorecard(self) -> Scorecard:
        return self.catalog.scorecards["default"]

    def report_sources(self) -> reports.Sources:
        """What the progress report reads besides the database."""
        return reports.Sources(
            self.engines, self.scorecard, self.catalog.rating_scale, self.settings.basic_counts_as_satisfied
        )


def build_lifecycles(catalog: Catalog, history_key: bytes) -> Lifecycles:
    """Every lifecycle's engine and hooks; refuses to start when they disagree with the definitions."""
    registry.check(catalog, KINDS, EVENT_DATA)
    return Lifecycles(catalog, Engines(catalog), KINDS, history_key)


def build_container(settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> Container:
    catalog = load_catalog()
    secret = load_secret_key(settings)  # made on first start, before any request can race for it
    lifecycles = build_lifecycles(catalog, secret.derive("history"))
    db = make_engine(settings.database_url, echo=settings.sql_echo, requests=settings.max_in_flight)
    migrate(db, history_key=lifecycles.history_key)
    return Container(settings, db, catalog, lifecycles.engines, lifecycles, clock, secret)
