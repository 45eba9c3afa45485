"""Every call the benchmarks make into the service layer; what profile.py's baseline calls works on a flat services/."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO
from unittest import mock

import sqlalchemy as sa
from sqlmodel import Session, select

import services
from notifications.types import UTCDateTime
from services.access import Actor, admin_actor
from services.config import Settings
from services.container import build_container

LAYERED = (Path(services.__file__).parent / "usecases").is_dir()
if LAYERED:
    from notifications.dispatcher import dispatch_due
    from notifications.tables import Webhook
    from services.access import user_actor
    from services.enforcement import sweep as sweeping
    from services.enforcement.recipients import load_directory
    from services.lifecycle.deadlines import campaign_stages
    from services.persistence.db import _sqlite_pragmas
    from services.persistence.tables import Campaign
    from services.persistence.uow import UnitOfWork
    from services.rehearsal import county, demo
    from services.rehearsal import simulate as rehearsal
    from services.usecases import (
        appraisals,
        campaigns,
        demo_sites,
        directory,
        events,
        pledges,
        rectifications,
        self_evaluations,
    )
    from services.usecases import commands as cmds

    STARTS: dict[str, tuple[Any, Any]] = {
        "self_evaluation": (self_evaluations.create, cmds.CreateSelfEvaluation),
        "appraisal_round": (appraisals.open_round, cmds.CreateRound),
        "demo_site": (demo_sites.nominate, cmds.NominateSite),
        "rectification": (rectifications.issue, cmds.IssueRectification),
    }
else:  # the flat layout of bench/profile.py's baseline
    from services.uow import UnitOfWork  # type: ignore[no-redef]

    from services import campaigns, demo, directory, pledges  # type: ignore[no-redef,attr-defined]

ITEMS = demo.ITEMS
SWEEP_PARTS = ("mark_missed", "_due_rows", "_emit", "publish")


class Pledgeflow:
    """The service on one database (scheduler off); each use case in a unit of work of its own, as the API runs it."""

    def __init__(self, url: str, clock: Callable[[], dt.datetime] | None = None) -> None:
        settings = Settings(database_url=url, scheduler=False)
        self.c = build_container(settings, clock) if clock else build_container(settings)
        self.db = self.c.db

    def do(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with UnitOfWork(self.db) as uow:
            return fn(uow, *args, **kwargs)

    def seed(
        self, now: dt.datetime, accounts_for_all: bool = False, with_pledges: bool = False, year: int | None = None
    ) -> Any:
        """The demo county and the campaign of `year` (else `now.year`): `.year`, `.branches`, `.people`, `.actors`."""
        more = {"year": year} if year else {}  # a baseline tree's seed may take no year
        return demo.seed(self.c, now, accounts_for_all=accounts_for_all, with_pledges=with_pledges, **more)

    def user(self, name: str, person_id: int | None, grants: list[dict[str, Any]], now: dt.datetime) -> Any:
        """A new user with these role grants: (its actor, its token)."""
        if not LAYERED:
            made, token = self.do(directory.create_user, admin_actor(), name, person_id, grants, now)
            with UnitOfWork(self.db, write=False) as uow:
                return directory.user_actor(uow.session, made.id), token
        cmd = cmds.CreateUser.model_validate({"name": name, "person_id": person_id, "roles": grants})
        made, token = self.do(directory.create_user, admin_actor(), cmd, now)
        with UnitOfWork(self.db, write=False) as uow:
            return user_actor(uow.session, made.id), token

    def member(self, name: str, org_id: int, now: dt.datetime) -> tuple[int, Actor, str]:
        """A new full member of the branch `org_id` with an account: (person id, actor, token)."""
        body = {"name": name, "org_id": org_id, "status": "full", "position": "教师"}
        cmd = cmds.CreatePerson.model_validate(body) if LAYERED else body
        person = self.do(directory.create_person, admin_actor(), cmd)
        return int(person.id), *self.user(name, person.id, [{"role": "member"}], now)

    def open_campaign(self, year: int, now: dt.datetime) -> None:
        cmd = cmds.CreateCampaign(year=year)
        self.do(campaigns.create_campaign, self.c.catalog, admin_actor(), cmd, now, self.c.settings.timezone)

    def create_pledge(self, owner: Actor, year: int, person_id: int, now: dt.datetime) -> int:
        """A member's pledge of the demo's three items, created by `owner`."""
        body = {"year": year, "person_id": person_id, "items": ITEMS}
        if not LAYERED:
            return int(self.do(pledges.create, self.c.engines["pledge"], owner, body, now))
        return int(self.do(pledges.create, self.c.lifecycles, owner, cmds.CreatePledge.model_validate(body), now))

    def fire(self, actor: Actor, pid: int, event: str, now: dt.datetime, data: Any = None, **more: Any) -> Any:
        """An event on a pledge as `POST /api/v1/pledges/{id}/events` runs it; `reason=…` goes into the body."""
        body = {"event": event, "data": data or {}, **more}
        if not LAYERED:
            engine, criteria = self.c.engines["pledge"], self.c.catalog.criteria
            return self.do(pledges.fire_event, engine, actor, pid, body, None, now, criteria=criteria)
        return self.event(actor, "pledge", pid, body, now)

    def event(self, actor: Actor, lifecycle: str, record_id: int, body: dict[str, Any], now: dt.datetime) -> Any:
        """An event on a record of any lifecycle, through the one event path, as the API's `/events` runs it."""
        cmd = cmds.FireEvent.model_validate(body)
        return self.do(events.fire_event, self.c.lifecycles, actor, lifecycle, record_id, cmd, None, now)

    def start(self, lifecycle: str, actor: Actor, body: dict[str, Any], now: dt.datetime) -> int:
        """A new record of an org's lifecycle (self-evaluation, appraisal round, demo site, rectification)."""
        use, command = STARTS[lifecycle]
        return int(self.do(use, self.c.lifecycles, actor, command.model_validate(body), now))

    def scores(self, actor: Actor, evaluation_id: int, kind: str, now: dt.datetime) -> None:
        """Every item of the sheet scored one point (as the guards of submit and assess need)."""
        items = [{"code": it.code, "points": 1, "method": "report"} for it in self.c.scorecard.items]
        cmd = cmds.PutScores.model_validate({"kind": kind, "items": items})
        self.do(self_evaluations.put_scores, self.c.lifecycles, actor, evaluation_id, cmd, now)

    def comment(self, actor: Actor, pledge_id: int, body: dict[str, str], now: dt.datetime) -> None:
        self.do(pledges.add_comment, actor, pledge_id, cmds.AddComment.model_validate(body), now)

    def progress(self, actor: Actor, pledge_id: int, body: dict[str, Any], now: dt.datetime) -> None:
        self.do(pledges.add_progress, actor, pledge_id, cmds.AddProgress.model_validate(body), now)

    def campaign(self, year: int) -> tuple[Any, list[Any]]:
        """The campaign of `year` and its notice stages."""
        with UnitOfWork(self.db, write=False) as uow:
            row = uow.session.exec(select(Campaign).where(Campaign.year == year)).one()
        return row, campaign_stages(row)

    def add_webhook(self, url: str, secret: str, now: dt.datetime) -> None:
        with UnitOfWork(self.db) as uow:
            uow.session.add(Webhook(url=url, secret=secret, kinds=[], active=True, created_at=now))
            uow.commit()

    def sweep(self, now: dt.datetime) -> Any:
        """The deadline sweep as the scheduler runs it: `.missed`, `.notices`, `.deadlines`."""
        return sweeping.sweep(self.db, self.c.catalog, now)


def pledgers(seeded: Any) -> list[Any]:
    """The demo county's people who must pledge (full and probationary members, not the secretaries)."""
    return list(demo.pledgers(seeded))


def serve_command() -> list[str]:
    """`pledgeflow serve` of the tree `services` comes from (the console script may belong to another tree)."""
    cli = "services.entrypoints.cli" if LAYERED else "services.cli"
    return [sys.executable, "-c", f"from {cli} import main; main()"]


def query(db: sa.Engine, sql: str, **params: Any) -> list[Any]:
    """Rows of a read-only statement; a list parameter is expanded (`id IN :ids`), a datetime bound as stored."""
    binds = [sa.bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, list)]
    binds += [sa.bindparam(k, type_=UTCDateTime()) for k, v in params.items() if isinstance(v, dt.datetime)]
    with db.connect() as conn:
        return list(conn.execute(sa.text(sql).bindparams(*binds), params).all())


def scalar(db: sa.Engine, sql: str, **params: Any) -> Any:
    return query(db, sql, **params)[0][0]


def sweep_chunk() -> int:
    return int(sweeping.CHUNK)


@contextmanager
def sweep_parts() -> Iterator[dict[str, float]]:
    """Seconds spent in the sweep's steps (SWEEP_PARTS), by wrapping the module's functions (a few dozen calls)."""
    spent = dict.fromkeys(SWEEP_PARTS, 0.0)

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return timed

    with ExitStack() as stack:
        for name in SWEEP_PARTS:
            stack.enter_context(mock.patch.object(sweeping, name, wrap(name, getattr(sweeping, name))))
        yield spent


def dispatch(db: sa.Engine, now: dt.datetime, channel: Any, **batch: int) -> Any:
    """One run of the outbox dispatcher as the scheduler calls it (webhooks only): its `Stats`."""
    return dispatch_due(db, now, channel, None, **batch)


def recipient_directory(db: sa.Engine) -> Any:
    """What a sweep loads once (`enforcement.recipients.load_directory`): orgs and staff."""
    with Session(db) as session:
        return load_directory(session)


def sqlite_pragmas(conn: Any) -> None:
    """Pledgeflow's own SQLite settings (WAL, synchronous=NORMAL, …) on a raw `sqlite3` connection."""
    _sqlite_pragmas(conn, None)


def simulate(year: int, factor: float, url: str | None, out: TextIO) -> tuple[Any, Any]:
    """`pledgeflow simulate` on a generated county of `factor` × the 2010 district: (its outcome, the shape)."""
    shape = county.DISTRICT.scaled(factor)
    return rehearsal.simulate(year, out, shape, url), shape
