"""The `pledgeflow` command line: serve, demo, users, import roster, definitions check."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import os
import signal
import sys
import threading
from typing import Any

import click

from services.config import Settings


@click.group()
def main() -> None:
    """Pledgeflow 公开承诺工作流。"""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed the demo county when the database is empty.")
@click.option("--no-scheduler", is_flag=True, help="Serve the API only, without the deadline scheduler.")
def serve(host: str, port: int, workers: int, demo: bool, no_scheduler: bool) -> None:
    """Serve the API (and the scheduler unless --no-scheduler)."""
    import uvicorn

    if no_scheduler:
        os.environ["PLEDGEFLOW_SCHEDULER"] = "false"  # read by every worker's Settings()
    settings = Settings()
    if demo:
        _seed_if_empty(settings, f"http://{host}:{port}")
    click.echo(f"Pledgeflow: http://{host}:{port}/docs  (database {shown_url(settings.database_url)})")
    uvicorn.run(
        "services.entrypoints.api.app:create_app",
        factory=True,
        http="services.entrypoints.api.server:HttpProtocol",  # a deadline on each request's head
        proxy_headers=False,  # the app believes forwarded headers from PLEDGEFLOW_TRUSTED_PROXIES only
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=_log_config(),
    )


def shown_url(url: str) -> str:
    """A database URL as it may be printed or logged: the password masked."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus our own `pledgeflow.*` loggers on the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["pledgeflow"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _seed_if_empty(settings: Settings, url: str = "http://127.0.0.1:8000") -> None:
    from services.rehearsal import demo, live_demo

    result = live_demo.seed_live(settings, dt.datetime.now(dt.UTC))
    if result is not None:
        click.echo(demo.describe(result, url))


@main.command("migrate")
@click.option("--revision", default="head", show_default=True)
def migrate_command(revision: str) -> None:
    """Create or migrate the database schema (Alembic); `serve` also does this at start-up."""
    from services.persistence.db import make_engine, migrate
    from services.secret_key import load_secret_key

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        migrate(engine, revision, history_key=load_secret_key(settings).derive("history"))
    finally:
        engine.dispose()
    click.echo(f"schema at {revision}: {shown_url(settings.database_url)}")


@main.command()
def scheduler() -> None:
    """Run the deadline scheduler alone (sweeps, reminders, overdue notices, dispatch)."""
    from services.container import build_container
    from services.entrypoints.scheduler import Enforcer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    container = build_container(Settings())
    enforcer = Enforcer(container)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    enforcer.start()
    stop.wait()
    enforcer.stop()
    container.db.dispose()


@main.command()
@click.option("--year", default=2010, show_default=True, type=int)
@click.option("--county", type=click.Choice(["district"]), help="A generated county the size of a 2010 district.")
@click.option("--orgs", type=click.IntRange(min=3), help="Generate a county with this many orgs (with --members).")
@click.option("--members", type=click.IntRange(min=1), help="…and this many members, each with a pledge.")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, help="Multiply the county's size.")
@click.option("--seed", type=int, default=2010, show_default=True, help="Seed of the generated county.")
@click.option("--database-url", help="An empty database to rehearse in (default: a temporary SQLite file).")
@click.option("--timeline/--summary", default=None, help="Print every notice, or a summary (default for a county).")
def simulate(
    year: int,
    county: str | None,
    orgs: int | None,
    members: int | None,
    scale: float,
    seed: int,
    database_url: str | None,
    timeline: bool | None,
) -> None:
    """Rehearse a campaign year on a simulated clock and print its timeline, or its summary at scale.

    Without --county/--orgs the demo county's year is played; with them a generated county's."""
    from services.errors import ServiceError
    from services.rehearsal.county import DISTRICT, Shape
    from services.rehearsal.simulate import simulate as run

    if (orgs is None) != (members is None):
        raise click.UsageError("--orgs and --members go together")
    shape = None
    if county == "district" or orgs:
        base = DISTRICT if county == "district" else Shape(orgs or 0, members or 0)
        shape = Shape(base.orgs, base.members, seed).scaled(scale)
        try:
            shape.check()
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    elif scale != 1:
        raise click.UsageError("--scale needs --county or --orgs/--members")
    try:
        run(year, sys.stdout, shape, database_url, timeline)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc


@main.command("demo")
def demo_command() -> None:
    """Seed a demo county (once) and print its sign-in tokens."""
    _seed_if_empty(Settings())


@main.group()
def users() -> None:
    """Manage users: list, add, disable or enable, change roles, replace a token (SPEC §7.2)."""


def _as_office(work: Any) -> Any:
    """`work(uow, actor)` in one unit of work as the command line's office, a refusal as its message."""
    from services.access import admin_actor
    from services.container import build_container
    from services.errors import ServiceError
    from services.persistence.uow import UnitOfWork

    container = build_container(Settings())
    try:
        with UnitOfWork(container.db) as uow:
            return work(uow, admin_actor())
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        container.db.dispose()


def _grants(specs: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"role": role, "org_id": org or None} for role, _, org in (spec.partition(":") for spec in specs)]


ROLE_HELP = "role or role:org_id, e.g. office, supervisor, secretary:3, member, appraiser:3"


@users.command("list")
def users_list() -> None:
    """Every user: id, name, standing and roles."""
    from definitions.vocabulary import Role
    from services.usecases import directory

    for u in _as_office(lambda uow, actor: directory.list_users(uow.session, actor)):
        roles = "、".join(
            Role.of(r["role"]).label_zh + (f"（{r['org_id']}）" if r["org_id"] else "") for r in u["roles"]
        )
        click.echo(f"{u['id']:>6}  {'启用' if u['active'] else '停用'}  {u['name']}  {roles}")


@users.command("revoke")
@click.option("--id", "user_id", type=int, required=True)
def users_revoke(user_id: int) -> None:
    """Disable a user: their token and page sessions stop working at once."""
    _set_active(user_id, False)


@users.command("enable")
@click.option("--id", "user_id", type=int, required=True)
def users_enable(user_id: int) -> None:
    """Enable a disabled user again (with the token they had)."""
    _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> None:
    from services.usecases import directory
    from services.usecases.commands import UpdateUser

    user = _as_office(lambda uow, actor: directory.update_user(uow, actor, user_id, UpdateUser(active=active)))
    click.echo(f"用户 {user['id']}（{user['name']}）已{'启用' if active else '停用'}")


@users.command("roles")
@click.option("--id", "user_id", type=int, required=True)
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
def users_roles(user_id: int, roles: tuple[str, ...]) -> None:
    """Replace a user's roles; their sessions end at once."""
    from services.usecases import directory
    from services.usecases.commands import UpdateUser
    from services.usecases.fields import parse

    def change(uow: Any, actor: Any) -> Any:
        return directory.update_user(uow, actor, user_id, parse(UpdateUser, {"roles": _grants(roles)}))

    user = _as_office(change)
    click.echo(f"用户 {user['id']}（{user['name']}）的角色已更换")


@users.command("token")
@click.option("--id", "user_id", type=int, required=True)
def users_token(user_id: int) -> None:
    """Replace a user's token and print the new one (shown once); the old one stops working at once."""
    from services.usecases import directory

    token = _as_office(lambda uow, actor: directory.replace_token(uow, actor, user_id))
    click.echo(f"user {user_id}: new token {token}")


@users.command("add")
@click.option("--name", required=True)
@click.option("--person-id", type=int, default=None)
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
def users_add(name: str, person_id: int | None, roles: tuple[str, ...]) -> None:
    """Create a user and print its token (shown once)."""
    from services.usecases import directory
    from services.usecases.commands import CreateUser
    from services.usecases.fields import parse

    def add(uow: Any, actor: Any) -> Any:
        cmd = parse(CreateUser, {"name": name, "person_id": person_id, "roles": _grants(roles)})
        return directory.create_user(uow, actor, cmd, dt.datetime.now(dt.UTC))

    user, token = _as_office(add)
    click.echo(f"user {user.id} {name}: token {token}")


@main.group("import")
def import_group() -> None:
    """Import the office's rosters."""


@import_group.command("roster")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and count what would change; write nothing.")
@click.option("--cards", "cards_path", type=click.Path(dir_okay=False), default=None, help="Login cards .xlsx")
def import_roster(path: str, dry_run: bool, cards_path: str | None) -> None:
    """Import orgs and people from the roster workbook (the template of GET /api/v1/imports/roster/template.xlsx).
    New users' tokens go to a login-card workbook (default: beside the file), shown nowhere else."""
    from pathlib import Path

    from services.access import admin_actor
    from services.container import build_container
    from services.errors import ServiceError
    from services.persistence.uow import UnitOfWork
    from services.usecases import roster, roster_book

    container = build_container(Settings())
    bar: Any = None

    def progress(n: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="导入名册", file=sys.stderr)
            bar.__enter__()
        bar.update(n)

    try:
        with UnitOfWork(container.db) as uow:
            data = Path(path).read_bytes()
            outcome = roster.import_roster(uow, admin_actor(), data, container.clock(), dry_run, progress)
    except roster.RosterRefused as exc:
        for e in exc.errors:
            click.echo(f"「{e['sheet']}」第{e['row']}行{e['column'] or ''}列：{e['message']}", err=True)
        raise click.ClickException(f"导入失败，共 {len(exc.errors)} 处错误，未写入任何数据") from exc
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        container.db.dispose()
    verb = "检查通过，将" if dry_run else "已"
    for label, counts in (("党组织", outcome.orgs), ("人员", outcome.people), ("用户", outcome.users)):
        click.echo(f"{label}：{verb}新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}")
    if outcome.cards:
        target = Path(cards_path) if cards_path else Path(path).with_name(f"{Path(path).stem}-登录卡.xlsx")
        target.write_bytes(roster_book.login_cards(outcome.cards))
        target.chmod(0o600)
        click.echo(f"新用户的登录令牌已写入 {target}（只此一份，请妥善保管后分发）")


@main.group()
def audit() -> None:
    """Check the tamper-evident history."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every history chain; exit 1 naming the first bad row of each broken chain."""
    from services.container import build_container
    from services.lifecycle import audit as chains
    from services.persistence.uow import UnitOfWork

    container = build_container(Settings())
    broken, rows = 0, 0
    try:
        with UnitOfWork(container.db, write=False) as uow:
            for problem in chains.verify(uow.session, container.lifecycles.history_key):
                broken += 1
                click.echo(f"BROKEN {problem}", err=True)
            rows = chains.count(uow.session)
    finally:
        container.db.dispose()
    if broken:
        click.echo(f"{broken} broken chain(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {rows} history rows, every chain intact")


@main.group()
def definitions() -> None:
    """Work with the definition files."""


@definitions.command("check")
@click.option("--root", type=click.Path(exists=True, file_okay=False), default=None)
def definitions_check(root: str | None) -> None:
    """Validate every lifecycle, scorecard and calendar; exit 1 naming each problem."""
    from pathlib import Path

    from definitions import DefinitionError, load_catalog
    from definitions.loader import ROOT
    from workflow import known_guards

    try:
        catalog = load_catalog(Path(root) if root else ROOT, known_guards=known_guards())
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    click.echo(
        f"ok: {len(catalog.lifecycles)} lifecycles ({', '.join(catalog.lifecycles)}), "
        f"{len(catalog.scorecards)} scorecards, {len(catalog.calendars)} calendars"
    )
