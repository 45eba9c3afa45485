"""Sweep benchmark: the deadline sweep over a million stored pledges, a tenth of them overdue at once.

Run as `.venv/bin/python bench/sweep.py [--quick] [--pg-url URL]`; with `bash scripts/with-postgres.sh` (which
exports PLEDGEFLOW_TEST_PG_URL) PostgreSQL runs too, in a fresh schema dropped afterwards. Per database it

  1. builds the real schema (`build_container`), seeds the demo county and its campaign (`demo.seed`, no pledges),
     registers one active webhook, then grows the pledges by set-based `INSERT … SELECT` over a generated series:
     one person per pledge, each pledge 'proposing' with the two deadline rows `records.create_deadlines` writes;
     after each growth step it times a sweep with nothing due (median of 5), showing that cost stays flat;
  2. times the first real sweep (`services.sweep.sweep` at `now`), which marks the overdue tenth missed and
     publishes their overdue notices with inbox entries and webhook deliveries; then the same sweep again, which
     must publish nothing;
  3. times `notifications.dispatcher.dispatch_due` draining a sample of the webhook deliveries to a local
     threaded HTTP receiver that answers 200;
  4. reads the process RSS before the first sweep and its peak during it (VmHWM, reset just before).

Prints a table, writes bench/results/sweep.json, and rewrites the Sweep section of BENCHMARKS.md between its
markers, leaving the other sections alone. Building the rows is not part of any figure; its time is reported.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import sqlalchemy as sa
from report import BENCHMARKS, write_section
from sqlmodel import select

import services.sweep as sweep_module
from notifications.channels import WebhookChannel
from notifications.dispatcher import dispatch_due
from notifications.tables import Delivery, InboxEntry, Notice, Webhook
from notifications.types import UTCDateTime
from services import demo
from services.config import Settings
from services.container import build_container
from services.records import campaign_stages
from services.tables import Campaign, Deadline, Person, Pledge
from services.uow import UnitOfWork
from workflow import deadlines as dl

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "sweep.json"

YEAR = 2030
TARGET_S = 5.0
"""A sweep over 1,000,000 pledges with 100,000 overdue, writing their notices, on SQLite."""
BASELINE_S = {"sqlite": 0.95, "postgresql": 0.61}
"""NOTES.md, Deadline sweeps: one set-based UPDATE over (state, due_at), 1 M pledges, 111 k due, nothing else."""
NOOP_REPEATS = 5
VARIANTS = 480
"""Pledge n takes variant n % 480 (+ 480 when it is one of the overdue): branch and due day vary with n // 10."""
LAYOUTS = {
    "scattered": "every 10th pledge is overdue, so overdue rows lie spread over the whole deadline table",
    "clustered": "the first tenth of the pledges (one contiguous block of rows) is overdue",
}
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Sizes:
    pledges: int
    steps: tuple[int, ...]
    dispatch: int

    @property
    def due(self) -> int:
        return self.pledges // 10


def sizes_for(quick: bool) -> Sizes:
    if quick:
        return Sizes(pledges=100_000, steps=(10_000, 30_000, 100_000), dispatch=500)
    return Sizes(pledges=1_000_000, steps=(100_000, 300_000, 1_000_000), dispatch=2_000)


_T0 = time.perf_counter()


def progress(message: str) -> None:
    print(f"  [{time.perf_counter() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- the webhook receiver ----------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Receiver.lock:
            _Receiver.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- memory ------------------------------------------------------------------------------------------------------


def status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: `5` into clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def trim() -> None:
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# --- databases ---------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pledgeflow-bench-") as tmp:
        yield f"sqlite:///{tmp}/sweep.db"


@contextmanager
def pg_schema_url(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@dataclass(frozen=True)
class Plan:
    """The campaign's clock: pledges created 12 h before its pledge_published deadline, swept an hour after it."""

    campaign: Campaign
    stages: list[dl.Stage]
    names: tuple[str, str]
    due: dict[str, dt.datetime]
    created: dt.datetime
    now: dt.datetime
    quiet: dt.datetime
    """Two hours before the deadline: nothing is due yet, so a sweep then finds no work."""
    branches: list[int]


def make_plan(container: Any, branches: list[int]) -> Plan:
    with UnitOfWork(container.db, write=False) as uow:
        campaign = uow.session.exec(select(Campaign).where(Campaign.year == YEAR)).one()
    lifecycle = container.catalog.lifecycles["pledge"]
    names = tuple(r.name for r in lifecycle.deadlines if r.name in campaign.deadlines)
    assert names == ("pledge_published", "pledge_appraised"), names
    due = {name: dt.datetime.fromisoformat(campaign.deadlines[name]) for name in names}
    published = due["pledge_published"]
    return Plan(
        campaign=campaign,
        stages=campaign_stages(campaign),
        names=(names[0], names[1]),
        due=due,
        created=published - dt.timedelta(hours=12),
        now=published + dt.timedelta(hours=1),
        quiet=published - dt.timedelta(hours=2),
        branches=branches,
    )


VARIANT = sa.Table(
    "bench_variant",
    sa.MetaData(),
    sa.Column("v", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("pub_due", UTCDateTime(), nullable=False),
    sa.Column("pub_stage", sa.Integer, nullable=False),
    sa.Column("pub_next", UTCDateTime(), nullable=True),
    sa.Column("appr_due", UTCDateTime(), nullable=False),
    sa.Column("appr_stage", sa.Integer, nullable=False),
    sa.Column("appr_next", UTCDateTime(), nullable=True),
)


def variants(p: Plan) -> list[dict[str, Any]]:
    """Deadline rows as `create_deadlines` computes them at `p.created`: the stage and its time by `first_stage`.

    Variants from VARIANTS on carry the campaign's pledge_published time, passed at `p.now` with the overdue notice
    due; the others fall due 8 to 52 days later, their first reminder still ahead of `p.now`. pledge_appraised is
    the campaign's."""
    rows = []
    notify_past = p.campaign.notify_past_deadlines
    appr_due = p.due["pledge_appraised"]
    appr_stage, appr_next = dl.first_stage(p.stages, appr_due, p.created, notify_past)
    assert appr_next is not None and appr_next > p.now
    for v in range(2 * VARIANTS):
        is_due, k = divmod(v, VARIANTS)
        pub_due = p.due["pledge_published"] + dt.timedelta(days=0 if is_due else 8 + 4 * ((k // 40) % 12))
        stage, at = dl.first_stage(p.stages, pub_due, p.created, notify_past)
        assert at is not None
        if is_due:
            assert at <= p.now < p.stages[stage + 1].at(pub_due) and p.stages[stage].kind == dl.OVERDUE
        else:
            assert at > p.now
        rows.append(
            {
                "v": v,
                "org_id": p.branches[(k // 10) % len(p.branches)],
                "pub_due": pub_due,
                "pub_stage": stage,
                "pub_next": at,
                "appr_due": appr_due,
                "appr_stage": appr_stage,
                "appr_next": appr_next,
            }
        )
    return rows


def series(dialect: str) -> str:
    if dialect == "postgresql":
        return "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS s(n)"
    return "(WITH RECURSIVE s(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM s WHERE n < :hi) SELECT n FROM s) AS s"


def grow_statements(dialect: str, layout: str) -> list[sa.TextClause]:
    """People, pledges and deadline rows for n in [lo, hi], by `INSERT … SELECT` (ids given: base + n)."""
    overdue = "s.n % 10 = 0" if layout == "scattered" else "s.n <= :overdue"
    variant = f"CASE WHEN {overdue} THEN {VARIANTS} ELSE 0 END + s.n % {VARIANTS}"
    rows = f"{series(dialect)} JOIN bench_variant v ON v.v = {variant}"
    person = sa.text(
        "INSERT INTO person (id, name, org_id, status, position) "
        f"SELECT :person_base + s.n, '承诺人' || s.n, v.org_id, 'full', '教师' FROM {rows}"
    )
    pledge = sa.text(
        "INSERT INTO pledge (id, year, subject_type, subject_key, org_id, person_id, state, version, "
        "submitted_by, submitted_on_behalf, data, created_at, updated_at) "
        "SELECT :pledge_base + s.n, :year, 'person', 'person:' || (:person_base + s.n), v.org_id, "
        f":person_base + s.n, 'proposing', 1, NULL, :no, :data, :created, :created FROM {rows}"
    ).bindparams(
        sa.bindparam("no", type_=sa.Boolean()),
        sa.bindparam("data", type_=sa.JSON()),
        sa.bindparam("created", type_=UTCDateTime()),
    )
    # create_deadlines adds the two rows of a pledge one after the other: ids and insertion order follow that.
    deadline = sa.text(
        "INSERT INTO deadline (id, year, subject_type, subject_id, name, due_at, status, fired_at, settled_at, "
        "notice_stage, next_notice_at) "
        "SELECT :deadline_base + 2 * s.n - 1 + t.r, :year, 'pledge', :pledge_base + s.n, "
        "CASE t.r WHEN 0 THEN :name0 ELSE :name1 END, "
        "CASE t.r WHEN 0 THEN v.pub_due ELSE v.appr_due END, 'pending', NULL, NULL, "
        "CASE t.r WHEN 0 THEN v.pub_stage ELSE v.appr_stage END, "
        "CASE t.r WHEN 0 THEN v.pub_next ELSE v.appr_next END "
        f"FROM {rows} CROSS JOIN (SELECT 0 AS r UNION ALL SELECT 1 AS r) AS t ORDER BY s.n, t.r"
    )
    return [person, pledge, deadline]


@dataclass
class Grower:
    db: sa.Engine
    plan: Plan
    person_base: int
    pledge_base: int
    deadline_base: int
    layout: str
    overdue: int
    size: int = 0

    def grow(self, to: int) -> float:
        dialect = self.db.dialect.name
        params = {
            "lo": self.size + 1,
            "hi": to,
            "person_base": self.person_base,
            "pledge_base": self.pledge_base,
            "deadline_base": self.deadline_base,
            "year": YEAR,
            "no": False,
            "data": {},
            "created": self.plan.created,
            "name0": self.plan.names[0],
            "name1": self.plan.names[1],
            "overdue": self.overdue,
        }
        started = time.perf_counter()
        with self.db.begin() as conn:
            for stmt in grow_statements(dialect, self.layout):
                names = set(stmt.compile().params)
                conn.execute(stmt, {k: v for k, v in params.items() if k in names})
        elapsed = time.perf_counter() - started
        self.size = to
        return elapsed


def settle(db: sa.Engine) -> float:
    """After bulk loading: checkpoint SQLite's WAL; on PostgreSQL, what autovacuum would soon do (VACUUM ANALYZE)."""
    started = time.perf_counter()
    if db.dialect.name == "sqlite":
        with db.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("person", "pledge", "deadline"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
            conn.exec_driver_sql("VACUUM ANALYZE person, pledge, deadline")
    return time.perf_counter() - started


def count(db: sa.Engine, model: Any, *where: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one())


def max_id(db: sa.Engine, model: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))).scalar_one())


def db_bytes(db: sa.Engine, url: str) -> int:
    if db.dialect.name == "sqlite":
        path = Path(sa.engine.make_url(url).database or "")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with db.connect() as conn:
        q = (
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')"
        )
        return int(conn.exec_driver_sql(q).scalar_one() or 0)


# --- measuring ---------------------------------------------------------------------------------------------------


PARTS = ("mark_missed", "_due_rows", "_emit", "publish")


@contextmanager
def timing_parts() -> Iterator[dict[str, float]]:
    """Time the sweep's steps by wrapping the module's functions (a few dozen calls: no measurable overhead)."""
    spent = dict.fromkeys(PARTS, 0.0)

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return timed

    with ExitStack() as stack:
        for name in PARTS:
            stack.enter_context(mock.patch.object(sweep_module, name, wrap(name, getattr(sweep_module, name))))
        yield spent


def breakdown(total: float, spent: dict[str, float]) -> dict[str, float]:
    emit = spent["_emit"]
    return {
        "mark_missed": spent["mark_missed"],
        "read_due_rows": spent["_due_rows"],
        "drafts_and_deadline_updates": emit - spent["publish"],
        "publish": spent["publish"],
        "commits_and_rest": total - spent["mark_missed"] - spent["_due_rows"] - emit,
    }


def timed_sweep(container: Any, now: dt.datetime) -> tuple[float, sweep_module.SweepResult, dict[str, float]]:
    with timing_parts() as spent:
        started = time.perf_counter()
        result = sweep_module.sweep(container.db, container.catalog, now)
        elapsed = time.perf_counter() - started
    return elapsed, result, breakdown(elapsed, spent)


def noop_sweeps(container: Any, quiet: dt.datetime) -> list[float]:
    times = []
    for _ in range(NOOP_REPEATS):
        started = time.perf_counter()
        result = sweep_module.sweep(container.db, container.catalog, quiet)
        times.append(time.perf_counter() - started)
        assert (result.missed, result.notices, result.deadlines) == (0, 0, 0), result
    return times


def outbox_counts(db: sa.Engine) -> dict[str, int]:
    return {
        "missed": count(db, Deadline, Deadline.status == dl.MISSED),
        "notices": count(db, Notice),
        "inbox_entries": count(db, InboxEntry),
        "deliveries": count(db, Delivery),
    }


@contextmanager
def database(url: str, hook_url: str, layout: str, sizes: Sizes) -> Iterator[tuple[Any, Plan, Grower]]:
    """The real schema, the demo county and its campaign, one active webhook, and a grower for the pledges."""
    container = build_container(Settings(database_url=url, scheduler=False))
    db = container.db
    try:
        seeded = demo.seed(container, dt.datetime(YEAR, 9, 1, 2, 0, tzinfo=dt.UTC), with_pledges=False)
        plan = make_plan(container, [b.id for b in seeded.branches])
        with UnitOfWork(db) as uow:
            hook = Webhook(url=hook_url, secret="bench-secret", kinds=[], active=True, created_at=plan.created)
            uow.session.add(hook)
            uow.commit()
        VARIANT.create(db)
        with db.begin() as conn:
            conn.execute(VARIANT.insert(), variants(plan))
        bases = max_id(db, Person), max_id(db, Pledge), max_id(db, Deadline)
        yield container, plan, Grower(db, plan, *bases, layout=layout, overdue=sizes.due)
    finally:
        db.dispose()


def check_stored(db: sa.Engine, plan: Plan, sizes: Sizes) -> dict[str, int]:
    with db.begin() as conn:
        VARIANT.drop(conn)
    pledges = count(db, Pledge, Pledge.state == "proposing")
    rows = count(db, Deadline)
    due_missing = count(db, Deadline, Deadline.status == dl.PENDING, Deadline.due_at <= plan.now)
    due_notices = count(db, Deadline, Deadline.next_notice_at <= plan.now)
    assert pledges == sizes.pledges and rows == 2 * sizes.pledges, (pledges, rows)
    assert due_missing == due_notices == sizes.due, (due_missing, due_notices)
    return {"pledges": pledges, "people": count(db, Person), "deadline_rows": rows, "due": due_notices}


def first_and_second(container: Any, plan: Plan, sizes: Sizes, label: str) -> dict[str, Any]:
    """The first sweep (timed, its parts, counts asserted), then the same sweep again (must publish nothing)."""
    db = container.db
    trim()
    rss_before = status_kb("VmRSS")
    peak_reset = reset_peak()
    first_s, first, parts = timed_sweep(container, plan.now)
    peak = status_kb("VmHWM") if peak_reset else None
    trim()
    rss_after = status_kb("VmRSS")
    counts = outbox_counts(db)
    progress(
        f"{label}: first sweep {first_s:.2f} s: {first.missed:,} missed, {first.notices:,} notices, "
        f"{counts['inbox_entries']:,} inbox entries, {counts['deliveries']:,} deliveries"
    )
    assert first.missed == first.notices == first.deadlines == sizes.due, first
    assert counts["missed"] == counts["notices"] == counts["deliveries"] == sizes.due, counts
    assert counts["inbox_entries"] >= sizes.due, counts
    second_s, second, _ = timed_sweep(container, plan.now)
    assert (second.missed, second.notices, second.deadlines) == (0, 0, 0), second
    assert outbox_counts(db) == counts
    progress(f"{label}: second sweep {second_s * 1000:.1f} ms, {second.notices} notices")
    return {
        "first": {
            "seconds": first_s,
            "result": {"missed": first.missed, "notices": first.notices, "deadlines": first.deadlines},
            "counts": counts,
            "parts_s": parts,
        },
        "second": {"seconds": second_s, "notices": second.notices},
        "memory_kb": {
            "rss_before": rss_before,
            "peak_during": peak,
            "rss_after": rss_after,
            "peak_growth": (peak - rss_before) if peak and rss_before else None,
            "peak_measured_by": "VmHWM reset via /proc/self/clear_refs" if peak_reset else "unavailable",
        },
    }


def run_backend(url: str, sizes: Sizes, hook_url: str) -> dict[str, Any]:
    """The main run: overdue rows scattered; growth with no-op sweeps, first and second sweep, dispatch."""
    out: dict[str, Any] = {"layout": "scattered"}
    started = time.perf_counter()
    with database(url, hook_url, "scattered", sizes) as (container, plan, grower):
        db = container.db
        dialect = db.dialect.name
        out["setup_s"] = time.perf_counter() - started
        progress(f"{dialect}: schema, county and campaign in {out['setup_s']:.1f} s; now = {plan.now.isoformat()}")
        build: list[dict[str, Any]] = []
        noop: list[dict[str, Any]] = []
        for size in sizes.steps:
            added = size - grower.size
            insert_s = grower.grow(size)
            settle_s = settle(db)
            build.append({"pledges": size, "added": added, "insert_s": insert_s, "settle_s": settle_s})
            progress(f"{dialect}: +{added:,} pledges (→ {size:,}) in {insert_s:.1f} s, settled in {settle_s:.1f} s")
            times = noop_sweeps(container, plan.quiet)
            noop.append({"pledges": size, "deadline_rows": 2 * size, "times_s": times, "median_s": median(times)})
            progress(f"{dialect}: no-op sweep at {size:,} pledges: {median(times) * 1000:.2f} ms (median of 5)")
        out["build"] = build
        out["build_s"] = sum(b["insert_s"] + b["settle_s"] for b in build)
        out["noop"] = noop
        out["stored"] = check_stored(db, plan, sizes)
        out["db_bytes_before"] = db_bytes(db, url)

        out |= first_and_second(container, plan, sizes, dialect)
        after = noop_sweeps(container, plan.now)
        out["noop_after"] = {"pledges": sizes.pledges, "times_s": after, "median_s": median(after)}

        _Receiver.received = 0
        with httpx.Client() as client:
            started = time.perf_counter()
            stats = dispatch_due(db, plan.now, WebhookChannel(client), None, batch=sizes.dispatch)
            dispatch_s = time.perf_counter() - started
        assert stats.sent == sizes.dispatch == _Receiver.received, (stats, _Receiver.received)
        delivered = count(db, Delivery, Delivery.status == "delivered")
        assert delivered == sizes.dispatch, delivered
        out["dispatch"] = {"deliveries": stats.sent, "seconds": dispatch_s, "per_s": stats.sent / dispatch_s}
        progress(f"{dialect}: dispatched {stats.sent:,} in {dispatch_s:.2f} s ({stats.sent / dispatch_s:,.0f}/s)")
        out["db_bytes_after"] = db_bytes(db, url)
        out["version"] = server_version(db)
    return out


def run_clustered(url: str, sizes: Sizes, hook_url: str) -> dict[str, Any]:
    """The same first and second sweep over a second database whose overdue rows form one contiguous block."""
    out: dict[str, Any] = {"layout": "clustered"}
    with database(url, hook_url, "clustered", sizes) as (container, plan, grower):
        db = container.db
        label = f"{db.dialect.name} (clustered)"
        insert_s = grower.grow(sizes.pledges)
        settle_s = settle(db)
        out["build_s"] = insert_s + settle_s
        progress(f"{label}: {sizes.pledges:,} pledges in {insert_s:.1f} s, settled in {settle_s:.1f} s")
        out["stored"] = check_stored(db, plan, sizes)
        out |= first_and_second(container, plan, sizes, label)
    return out


def server_version(db: sa.Engine) -> str:
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())
        return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar_one()).split()[0]


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine_info() -> dict[str, Any]:
    cpu_model = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "processor": platform.processor(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "loadavg_at_start": list(os.getloadavg()),
    }


def command() -> str:
    exe = Path(sys.executable)
    with suppress(ValueError):
        exe = exe.relative_to(Path.cwd())
    args, hide = [], False
    for arg in sys.argv:  # never print a PostgreSQL URL (it may hold a password)
        args.append("URL" if hide else "--pg-url=URL" if arg.startswith("--pg-url=") else arg)
        hide = arg == "--pg-url"
    return shlex.join([str(exe), *args])


def measure(quick: bool, pg_url: str | None) -> dict[str, Any]:
    sizes = sizes_for(quick)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": command(),
        "quick": quick,
        "sizes": {"pledges": sizes.pledges, "due": sizes.due, "steps": list(sizes.steps), "dispatch": sizes.dispatch},
        "chunk": sweep_module.CHUNK,
        "backends": {},
    }
    with receiver() as hook_url:
        with sqlite_url() as url:
            results["backends"]["sqlite"] = run_backend(url, sizes, hook_url)
        with sqlite_url() as url:
            results["backends"]["sqlite"]["clustered"] = run_clustered(url, sizes, hook_url)
        if pg_url:
            with pg_schema_url(pg_url) as url:
                results["backends"]["postgresql"] = run_backend(url, sizes, hook_url)
            with pg_schema_url(pg_url) as url:
                results["backends"]["postgresql"]["clustered"] = run_clustered(url, sizes, hook_url)
    full = not quick
    sqlite = results["backends"]["sqlite"]
    results["target"] = {
        "seconds": TARGET_S,
        "applies": full,
        "value": sqlite["first"]["seconds"],
        "met": sqlite["first"]["seconds"] <= TARGET_S,
        "clustered_value": sqlite["clustered"]["first"]["seconds"],
        "clustered_met": sqlite["clustered"]["first"]["seconds"] <= TARGET_S,
    }
    results["baseline_s"] = BASELINE_S
    return results


# --- reporting ---------------------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _mb(kb: int | None) -> str:
    return "–" if kb is None else f"{kb / 1024:,.0f} MB"


def table_rows(r: dict[str, Any]) -> list[list[str]]:
    b = r["backends"]
    order = [k for k in ("sqlite", "postgresql") if k in b]
    s = r["sizes"]

    def row(label: str, cell: Callable[[dict[str, Any]], str], note: str = "") -> list[str]:
        return [label, *(cell(b[k]) for k in order), note]

    rows = [
        row(
            f"**first sweep: {s['pledges']:,} pledges, {s['due']:,} overdue (scattered)**",
            lambda x: f"**{x['first']['seconds']:.2f} s**",
            "marks them missed, writes their notices, inbox entries and webhook deliveries; "
            "overdue = every 10th pledge",
        ),
    ]
    labels = {
        "mark_missed": "… marking missed the passed deadlines not due a notice (`mark_missed`)",
        "read_due_rows": "… reading due rows with their pledges, orgs, people (`_due_rows`)",
        "drafts_and_deadline_updates": "… updating deadline stages and missed, drafting notices (`_emit` rest)",
        "publish": "… inserting notices, inbox entries, deliveries (`publish`)",
        "commits_and_rest": "… commits, directory and the rest",
    }
    for key, label in labels.items():
        rows.append(row(label, lambda x, k=key: f"{x['first']['parts_s'][k]:.2f} s"))
    rows += [
        row(
            f"**first sweep: {s['pledges']:,} pledges, {s['due']:,} overdue (clustered)**",
            lambda x: f"**{x['clustered']['first']['seconds']:.2f} s**",
            "a second database, the overdue tenth one contiguous block of rows; parts: "
            + "; ".join(
                f"{NAMES[k]} " + ", ".join(f"{v:.2f}" for v in b[k]["clustered"]["first"]["parts_s"].values())
                for k in order
            )
            + " s (in the order above)",
        ),
        row(
            "rows written by the first sweep",
            lambda x: "{notices:,} / {inbox_entries:,} / {deliveries:,}".format(**x["first"]["counts"]),
            "notices / inbox entries / deliveries; asserted: notices = overdue deadlines",
        ),
        row("second sweep, same `now`", lambda x: _ms(x["second"]["seconds"]), "idempotent: 0 notices (asserted)"),
    ]
    for n, step in enumerate(r["backends"][order[0]]["noop"]):
        rows.append(
            row(
                f"no-op sweep, {step['pledges']:,} pledges ({step['deadline_rows']:,} deadline rows)",
                lambda x, i=n: _ms(x["noop"][i]["median_s"]),
                f"median of {NOOP_REPEATS}, nothing due",
            )
        )
    rows += [
        row(
            f"no-op sweep after the first, {s['pledges']:,} pledges",
            lambda x: _ms(x["noop_after"]["median_s"]),
            f"median of {NOOP_REPEATS}, same `now` as the first sweep",
        ),
        row(
            f"dispatch {s['dispatch']:,} webhook deliveries",
            lambda x: f"{x['dispatch']['per_s']:,.0f} /s",
            "`dispatch_due` to a local threaded HTTP receiver answering 200; "
            + ", ".join(f"{NAMES[k]} {b[k]['dispatch']['seconds']:.2f} s" for k in order),
        ),
        row(
            "RSS before the first sweep → peak during it",
            lambda x: f"{_mb(x['memory_kb']['rss_before'])} → {_mb(x['memory_kb']['peak_during'])}",
            "peak = VmHWM, reset just before the sweep",
        ),
        row("peak RSS growth during the first sweep", lambda x: _mb(x["memory_kb"]["peak_growth"])),
        row(
            "build (not measured): insert + settle",
            lambda x: f"{x['build_s']:.1f} s",
            "`INSERT … SELECT` over a generated series; settle = WAL checkpoint / VACUUM ANALYZE",
        ),
        row(
            "database size before → after",
            lambda x: f"{x['db_bytes_before'] / 2**20:,.0f} → {x['db_bytes_after'] / 2**20:,.0f} MB",
        ),
    ]
    return rows


def headings(r: dict[str, Any]) -> list[str]:
    return ["measurement", *(NAMES[k] for k in ("sqlite", "postgresql") if k in r["backends"]), "notes"]


def print_table(r: dict[str, Any]) -> None:
    heads = headings(r)
    rows = [heads, *table_rows(r)]
    rows = [[c.replace("**", "").replace("`", "") for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(heads) - 1)]
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))]
        print("  ".join(cells) + "  " + row[-1])
        if n == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * len(heads[-1]))
    print()
    print(target_line(r).replace("**", "").replace("`", ""))


def target_line(r: dict[str, Any]) -> str:
    t = r["target"]

    def verdict(met: bool) -> str:
        if not t["applies"]:
            return f"not judged (a --quick run: {r['sizes']['pledges']:,} pledges)"
        return "met" if met else "**missed**"

    baseline = BASELINE_S["sqlite"]
    return (
        f"- ≤ {TARGET_S:g} s for a sweep over 1,000,000 pledges with 100,000 overdue, writing their notices, on "
        f"SQLite: {t['value']:.2f} s with the overdue rows scattered, {verdict(t['met'])}; "
        f"{t['clustered_value']:.2f} s with them in one block, {verdict(t['clustered_met'])}. "
        f"NOTES.md baseline, the set-based `UPDATE` alone (1 M pledges, 111 k due): {baseline:g} s SQLite, "
        f"{BASELINE_S['postgresql']:g} s PostgreSQL — the whole sweep takes {t['value'] / baseline:.1f}× "
        f"({t['clustered_value'] / baseline:.1f}× clustered) that on SQLite."
    )


def load(mi: dict[str, Any], when: str) -> str:
    values = mi.get(f"loadavg_at_{when}")
    return "/".join(f"{v:.2f}" for v in values) if values else "–"


def section(r: dict[str, Any]) -> str:
    mi, s = r["machine"], r["sizes"]
    cpu = mi["cpu_model"] or mi["processor"] or mi["machine"]
    heads = headings(r)
    versions = ", ".join(b["version"] for b in r["backends"].values())
    pg_note = (
        "" if "postgresql" in r["backends"] else " PostgreSQL was not run (no `--pg-url` / PLEDGEFLOW_TEST_PG_URL)."
    )
    quick = " **Quick run: a tenth of the target size.**" if r["quick"] else ""
    lines = [
        f"Machine: {cpu} ({mi['processor'] or mi['machine']}), {mi['cpu_count']} CPUs, {mi['platform']}; "
        f"Python {mi['python']}, SQLAlchemy {mi['sqlalchemy']}; {versions}.  ",
        f"Command: `{r['command']}` · date: {r['date']} · one run (the first sweep can run once per database) · "
        f"load average at start {load(mi, 'start')}, at end {load(mi, 'end')}.{quick}",
        "",
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(heads) - 2) + ["---"]) + "|",
        *("| " + " | ".join(row) + " |" for row in table_rows(r)),
        "",
        "Target:",
        "",
        target_line(r),
        "",
        f"How: the real schema (`build_container`), the demo county and its {YEAR} campaign (`demo.seed`, no "
        f"pledges) and one active webhook; then {s['pledges']:,} person pledges in 'proposing' (one person each, "
        "spread over the four branches), each with the two deadline rows `records.create_deadlines` writes "
        "(stage and next notice by `first_stage` from the campaign's stages, as created 12 h before the "
        f"pledge_published deadline). A tenth ({s['due']:,}) carry the campaign's pledge_published time and are "
        "swept an hour after it, at the overdue stage; the rest fall due 8–52 days later with their first reminder "
        "ahead. Which tenth: in the main database every 10th pledge (overdue rows scattered over the whole deadline "
        "table, so each chunk's updates touch pages everywhere); in a second database, built only for the "
        "'clustered' row, the first tenth (one contiguous block). Rows are added by `INSERT … SELECT` over a "
        "generated series in "
        f"{len(s['steps'])} steps ({', '.join(f'{n:,}' for n in s['steps'])}); after each step a sweep two hours "
        "before the deadline, when nothing is due, is timed (the same database growing). The first sweep's parts "
        f"come from wrapping `services.sweep`'s functions. Sweep chunk: {r['chunk']:,} rows. Each overdue notice "
        "goes to the branch secretary (one inbox entry) and to the webhook (one delivery); no user has an e-mail "
        f"address. PostgreSQL runs in a fresh schema, `VACUUM ANALYZE`d after each growth step.{pg_note} "
        "Raw figures: `bench/results/sweep.json`.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100,000 pledges instead of 1,000,000: a smoke run")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: $PLEDGEFLOW_TEST_PG_URL); a fresh schema is used")
    args = parser.parse_args(argv)
    pg_url = args.pg_url or os.environ.get("PLEDGEFLOW_TEST_PG_URL") or None
    started = time.perf_counter()
    results = measure(args.quick, pg_url)
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    write_section("sweep", "Deadline sweep", section(results))
    print(f"\nwrote {RESULTS.relative_to(ROOT)} and {BENCHMARKS.relative_to(ROOT)} in {results['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
