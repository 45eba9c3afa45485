"""Sweep benchmark: the deadline sweep over a million stored pledges, a tenth of them overdue at once."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import hmac
import json
import multiprocessing
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import httpx
import ours
import proc
import report
import sqlalchemy as sa
from sqlmodel import Session, select

from notifications.channels import WebhookChannel
from notifications.dispatcher import Stats
from notifications.outbox import encode, payload, sign
from notifications.tables import Notice
from notifications.types import UTCDateTime
from workflow import deadlines as dl

YEAR, TARGET_S, RSS_GROWTH = 2030, 5.0, 0.10
BASELINE_S = {"sqlite": 0.95, "postgresql": 0.61}  # NOTES.md, Deadline sweeps: the set-based UPDATE alone
NOOP_REPEATS, DISPATCH_SLICES = 5, 10
VARIANTS = 480  # pledge n takes variant n % 480 (+ 480 when overdue): branch and due day vary with n // 10
OVERDUE = {"scattered": "s.n % 10 = 0", "clustered": "s.n <= :overdue", "per_step": "(s.n - :lo) % :every = 0"}
SECRET = "bench-secret"
SWEPT = re.compile(r"sweep at \S+: (\d+) missed, (\d+) notices")
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
NAMES = report.NAMES
SIZES = {  # floor_posts: bare signed POSTs timed as the dispatch's floor; scheduler_due: due at each scheduler start
    "quick": {"pledges": 100_000, "due": 10_000, "steps": [10_000, 30_000, 100_000], "floor_posts": 1_000},
    "full": {"pledges": 1_000_000, "due": 100_000, "steps": [100_000, 300_000, 1_000_000], "floor_posts": 5_000},
}
SIZES["quick"]["scheduler_due"], SIZES["full"]["scheduler_due"] = 1_000, 10_000
Sizes = dict[str, Any]


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock: ClassVar[threading.Lock] = threading.Lock()
    deliveries: ClassVar[Counter[str]] = Counter()
    notices: ClassVar[set[int]] = set()
    bad: ClassVar[list[int]] = [0]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        stamp = int(self.headers.get("X-Pledgeflow-Timestamp") or 0)
        good = hmac.compare_digest(self.headers.get("X-Pledgeflow-Signature", ""), sign(body, SECRET, stamp))
        with self.lock:
            self.deliveries[self.headers.get("X-Pledgeflow-Delivery", "")] += 1
            self.notices.add(json.loads(body)["id"])
            self.bad[0] += not good
        self._answer(200, b"")

    def do_GET(self) -> None:
        with self.lock:
            d = self.deliveries
            counts = {"received": sum(d.values()), "deliveries": len(d), "notices": len(self.notices)}
            counts |= {"received_twice": sum(1 for n in d.values() if n > 1), "bad_signatures": self.bad[0]}
        self._answer(200, json.dumps(counts).encode())

    def do_DELETE(self) -> None:
        with self.lock:
            self.deliveries.clear(), self.notices.clear()
            self.bad[0] = 0
        self._answer(204, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver(NamedTuple):
    url: str
    pid: int

    def counts(self) -> dict[str, int]:
        return dict(httpx.get(self.url, timeout=30).json())

    def reset(self) -> None:
        httpx.delete(self.url, timeout=30).raise_for_status()


def _serve(port: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    port.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def receiver() -> Iterator[Receiver]:
    """In a process of its own (not sharing our GIL), forked before any database or thread is opened."""
    ctx = multiprocessing.get_context("fork")
    port = ctx.Queue()
    child = ctx.Process(target=_serve, args=(port,), daemon=True, name="webhook-receiver")
    child.start()
    try:
        yield Receiver(f"http://127.0.0.1:{port.get(timeout=30)}/hook", child.pid or 0)
    finally:
        child.terminate()
        child.join(timeout=10)


class Plan(NamedTuple):
    campaign: Any
    stages: list[dl.Stage]
    names: tuple[str, str]
    due: dict[str, dt.datetime]
    created: dt.datetime
    now: dt.datetime
    quiet: dt.datetime
    branches: list[int]


def make_plan(c: Any, branches: list[int], real_clock: bool = False) -> Plan:
    campaign, stages = c.campaign(YEAR)
    names = tuple(r.name for r in c.c.catalog.lifecycles["pledge"].deadlines if r.name in campaign.deadlines)
    assert names == ("pledge_published", "pledge_appraised"), names
    due = {name: dt.datetime.fromisoformat(campaign.deadlines[name]) for name in names}
    if real_clock:
        moved = dt.datetime.now(dt.UTC).replace(microsecond=0) - (due["pledge_published"] + dt.timedelta(hours=1))
        due = {name: at + moved for name, at in due.items()}
    pub, hour = due["pledge_published"], dt.timedelta(hours=1)
    return Plan(campaign, stages, (names[0], names[1]), due, pub - 12 * hour, pub + hour, pub - 2 * hour, branches)


VARIANT = sa.Table(
    "bench_variant",
    sa.MetaData(),
    sa.Column("v", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("org_id", sa.Integer, nullable=False),
    *(sa.Column(f"{d}_due", UTCDateTime(), nullable=False) for d in ("pub", "appr")),
    *(sa.Column(f"{d}_stage", sa.Integer, nullable=False) for d in ("pub", "appr")),
    *(sa.Column(f"{d}_next", UTCDateTime(), nullable=True) for d in ("pub", "appr")),
)


def variants(p: Plan) -> list[dict[str, Any]]:
    rows, notify_past, appr_due = [], p.campaign.notify_past_deadlines, p.due["pledge_appraised"]
    appr_stage, appr_next = dl.first_stage(p.stages, appr_due, p.created, notify_past)
    assert appr_next is not None and appr_next > p.now
    for v in range(2 * VARIANTS):
        is_due, k = divmod(v, VARIANTS)
        pub_due = p.due["pledge_published"] + dt.timedelta(days=0 if is_due else 8 + 4 * ((k // 40) % 12))
        stage, at = dl.first_stage(p.stages, pub_due, p.created, notify_past)
        assert at is not None and (at > p.now if not is_due else p.stages[stage].kind == dl.OVERDUE)
        assert not is_due or at <= p.now < p.stages[stage + 1].at(pub_due)
        org = p.branches[(k // 10) % len(p.branches)]
        rows.append({"v": v, "org_id": org, "pub_due": pub_due, "pub_stage": stage, "pub_next": at})
        rows[-1] |= {"appr_due": appr_due, "appr_stage": appr_stage, "appr_next": appr_next}
    return rows


def grow_statements(dialect: str, layout: str, accounts: bool) -> list[sa.TextClause]:
    series = "(WITH RECURSIVE s(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM s WHERE n < :hi) SELECT n FROM s) AS s"
    if dialect == "postgresql":
        series = "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS s(n)"
    variant = f"CASE WHEN {OVERDUE[layout]} THEN {VARIANTS} ELSE 0 END + s.n % {VARIANTS}"
    rows = f"{series} JOIN bench_variant v ON v.v = {variant}"
    created = sa.bindparam("created", type_=UTCDateTime())
    person = sa.text(
        "INSERT INTO person (id, name, org_id, status, position) "
        f"SELECT :person_base + s.n, '承诺人' || s.n, v.org_id, 'full', '教师' FROM {rows}"
    )
    pledge = sa.text(
        "INSERT INTO pledge (id, year, subject_type, subject_key, org_id, person_id, state, version, "
        "submitted_by, submitted_on_behalf, data, created_at, updated_at) "
        "SELECT :pledge_base + s.n, :year, 'person', 'person:' || (:person_base + s.n), v.org_id, "
        f":person_base + s.n, 'proposing', 1, NULL, :no, :data, :created, :created FROM {rows}"
    ).bindparams(sa.bindparam("no", type_=sa.Boolean()), sa.bindparam("data", type_=sa.JSON()), created)
    # create_deadlines adds the two rows of a pledge one after the other: ids and insertion order follow that.
    deadline = sa.text(
        "INSERT INTO deadline (id, year, subject_type, subject_id, name, due_at, status, fired_at, settled_at, "
        "notice_stage, next_notice_at) "
        "SELECT :deadline_base + 2 * s.n - 1 + t.r, :year, 'pledge', :pledge_base + s.n, "
        "CASE t.r WHEN 0 THEN :name0 ELSE :name1 END, CASE t.r WHEN 0 THEN v.pub_due ELSE v.appr_due END, "
        "'pending', NULL, NULL, CASE t.r WHEN 0 THEN v.pub_stage ELSE v.appr_stage END, "
        "CASE t.r WHEN 0 THEN v.pub_next ELSE v.appr_next END "
        f"FROM {rows} CROSS JOIN (SELECT 0 AS r UNION ALL SELECT 1 AS r) AS t ORDER BY s.n, t.r"
    )
    user = sa.text(
        'INSERT INTO "user" (id, name, person_id, token_hash, email, created_at) '
        f"SELECT :user_base + s.n, '承诺人' || s.n, :person_base + s.n, 'bench-' || s.n, NULL, :created FROM {series}"
    ).bindparams(created)
    return [person, pledge, deadline, *([user] if accounts else [])]


@dataclass
class Store:
    """The demo county, its campaign and one webhook, grown by `grow`; `bases`: the largest ids before ours."""

    c: Any
    plan: Plan
    bases: dict[str, int]
    layout: str
    overdue: int
    accounts: bool
    size: int = 0

    def grow(self, to: int) -> float:
        p, db, started = self.plan, self.c.db, time.perf_counter()
        params = self.bases | {"lo": self.size + 1, "hi": to, "year": YEAR, "no": False, "data": {}}
        params |= {"created": p.created, "name0": p.names[0], "name1": p.names[1], "overdue": self.overdue}
        params["every"] = max(1, (to - self.size) // self.overdue)
        with db.begin() as conn:
            for stmt in grow_statements(db.dialect.name, self.layout, self.accounts):
                names = set(stmt.compile().params)
                conn.execute(stmt, {k: v for k, v in params.items() if k in names})
        self.size = to
        return time.perf_counter() - started

    def settle(self) -> float:
        db, started = self.c.db, time.perf_counter()
        if db.dialect.name == "sqlite":
            with db.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for t in ("person", "pledge", "deadline"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), max(id)) FROM {t}")
                conn.exec_driver_sql("VACUUM ANALYZE person, pledge, deadline")
        return time.perf_counter() - started

    def checked(self, sizes: Sizes) -> dict[str, int]:
        db, now = self.c.db, self.plan.now
        with db.begin() as conn:
            VARIANT.drop(conn)
        pledges, rows = count(db, "pledge", "state = 'proposing'"), count(db, "deadline")
        due_missing = count(db, "deadline", "status = :s AND due_at <= :now", s=dl.PENDING, now=now)
        due_notices = count(db, "deadline", "next_notice_at <= :now", now=now)
        assert pledges == sizes["pledges"] and rows == 2 * sizes["pledges"], (pledges, rows)
        assert due_missing == due_notices == sizes["due"], (due_missing, due_notices)
        return {"pledges": pledges, "people": count(db, "person"), "deadline_rows": rows, "due": due_notices}


def count(db: sa.Engine, table: str, where: str = "1 = 1", **params: Any) -> int:
    return int(ours.scalar(db, f"SELECT count(*) FROM {table} WHERE {where}", **params))


def db_bytes(db: sa.Engine, url: str) -> int:
    if db.dialect.name == "sqlite":
        path = Path(sa.engine.make_url(url).database or "")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    where = "c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')"
    return int(ours.scalar(db, f"SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE {where}") or 0)


@contextmanager
def store(url: str, hook: str, layout: str, sizes: Sizes, real_clock: bool = False, accounts: bool = False) -> Any:
    c = ours.Pledgeflow(url)
    try:
        seeded = c.seed(dt.datetime(YEAR, 9, 1, 2, 0, tzinfo=dt.UTC))
        plan = make_plan(c, [b.id for b in seeded.branches], real_clock)
        c.add_webhook(hook, SECRET, plan.created)
        VARIANT.create(c.db)
        with c.db.begin() as conn:
            conn.execute(VARIANT.insert(), variants(plan))
        tables = {"person": "person", "pledge": "pledge", "deadline": "deadline", "user": '"user"'}
        bases = {f"{k}_base": ours.scalar(c.db, f"SELECT coalesce(max(id), 0) FROM {t}") for k, t in tables.items()}
        yield Store(c, plan, bases, layout, sizes["scheduler_due" if layout == "per_step" else "due"], accounts)
    finally:
        c.db.dispose()


def timed_sweep(c: Any, now: dt.datetime) -> tuple[float, Any, dict[str, float]]:
    with ours.sweep_parts() as spent:
        total, result = report.timed(c.sweep, now)
    parts = {"mark_missed": spent["mark_missed"], "read_due_rows": spent["_due_rows"]}
    parts |= {"drafts_and_deadline_updates": spent["_emit"] - spent["publish"], "publish": spent["publish"]}
    parts["commits_and_rest"] = total - spent["mark_missed"] - spent["_due_rows"] - spent["_emit"]
    return total, result, parts


def noop_sweeps(c: Any, now: dt.datetime) -> dict[str, Any]:
    times = []
    for _ in range(NOOP_REPEATS):
        seconds, result = report.timed(c.sweep, now)
        times.append(seconds)
        assert (result.missed, result.notices, result.deadlines) == (0, 0, 0), result
    return {"times_s": times, "median_s": statistics.median(times)}


def outbox_counts(db: sa.Engine) -> dict[str, int]:
    tables = {"notices": "notice", "inbox_entries": "inbox_entry", "deliveries": "delivery"}
    return {"missed": count(db, "deadline", "status = :s", s=dl.MISSED)} | {k: count(db, t) for k, t in tables.items()}


def trimmed_rss() -> int | None:
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return proc.status_kb("VmRSS")


def first_and_second(c: Any, plan: Plan, sizes: Sizes, label: str) -> dict[str, Any]:
    rss_before, peak_reset = trimmed_rss(), True
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    except OSError:
        peak_reset = False
    first_s, first, parts = timed_sweep(c, plan.now)
    peak, rss_after, counts = proc.status_kb("VmHWM") if peak_reset else None, trimmed_rss(), outbox_counts(c.db)
    report.progress(f"{label}: first sweep {first_s:.2f} s: {first.missed:,} missed, {counts}")
    assert first.missed == first.notices == first.deadlines == sizes["due"], first
    assert counts["missed"] == counts["notices"] == counts["deliveries"] == sizes["due"] <= counts["inbox_entries"]
    second_s, second, _ = timed_sweep(c, plan.now)
    assert (second.missed, second.notices, second.deadlines) == (0, 0, 0) and outbox_counts(c.db) == counts, second
    memory = {"rss_before": rss_before, "peak_during": peak, "rss_after": rss_after}
    memory["peak_growth"] = (peak - rss_before) if peak and rss_before else None
    memory["peak_measured_by"] = "VmHWM reset via /proc/self/clear_refs" if peak_reset else "unavailable"
    first_out = {"seconds": first_s, "counts": counts, "parts_s": parts}
    first_out["result"] = {"missed": first.missed, "notices": first.notices, "deadlines": first.deadlines}
    return {"first": first_out, "second": {"seconds": second_s, "notices": second.notices}, "memory_kb": memory}


def dispatch_all(db: sa.Engine, now: dt.datetime, hook: Receiver, deliveries: int, sizes: Sizes) -> dict[str, Any]:
    with Session(db) as session:
        body = encode(payload(session.exec(select(Notice).limit(1)).one()))
    stamp = int(time.time())
    headers = {"Content-Type": "application/json", "X-Pledgeflow-Timestamp": str(stamp)}
    headers["X-Pledgeflow-Signature"] = sign(body, SECRET, stamp)
    hook.reset()
    with httpx.Client() as client:
        started, n = time.perf_counter(), sizes["floor_posts"]
        for i in range(n):
            delivery = {"X-Pledgeflow-Delivery": f"floor-{i}"}
            client.post(hook.url, content=body, headers=headers | delivery).raise_for_status()
        floor = {"posts": n, "seconds": time.perf_counter() - started}
    assert hook.counts()["deliveries"] == n
    hook.reset()
    step, slices, sent = -(-deliveries // DISPATCH_SLICES), [], 0
    with httpx.Client() as client, proc.cpu_spent({"receiver": hook.pid, "database": proc.postmaster_pid(db)}) as cpu:
        channel, started = WebhookChannel(client), time.perf_counter()
        while sent < deliveries:
            n, t = min(step, deliveries - sent), time.perf_counter()
            assert (stats := ours.dispatch(db, now, channel, batch=n)) == Stats(sent=n), stats
            slices.append({"deliveries": n, "seconds": time.perf_counter() - t})
            sent += n
        seconds = time.perf_counter() - started
        assert ours.dispatch(db, now, channel) == Stats(), "deliveries left after all were sent"
    got, want = hook.counts(), dict.fromkeys(("received", "deliveries", "notices"), deliveries)
    assert got == want | {"received_twice": 0, "bad_signatures": 0}, got
    assert count(db, "delivery", "status = 'delivered'") == deliveries
    report.progress(f"{db.dialect.name}: dispatched {deliveries:,} in {seconds:.1f} s")
    cpu = {"dispatcher": cpu["self"]} | {k: v for k, v in cpu.items() if k in ("receiver", "database")}
    out = {"deliveries": deliveries, "seconds": seconds, "per_s": deliveries / seconds, "slices": slices}
    out |= {"received": got, "cpu_ms_per_delivery": {k: v * 1000 / deliveries for k, v in cpu.items()}}
    return out | {"floor": floor | {"per_s": floor["posts"] / floor["seconds"]}}


def logged(text: str, needle: str) -> dt.datetime | None:
    """When the scheduler logged the first line holding `needle`."""
    m = LOG_TIME.match(next((line for line in text.splitlines() if needle in line), ""))
    return dt.datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f") if m else None


def run_scheduler(url: str, log: Path, due: int) -> dict[str, Any]:
    env = {"PLEDGEFLOW_DATABASE_URL": url, "PLEDGEFLOW_SWEEP_INTERVAL": "3600", "PLEDGEFLOW_DISPATCH_INTERVAL": "3600"}

    def ready() -> bool:
        text = log.read_text(errors="replace")
        return SWEPT.search(text) is not None and "dispatch:" in text if due else "scheduler started" in text

    started = time.perf_counter()
    with proc.running([proc.PLEDGEFLOW, "scheduler"], log, ready, 300 if due else 120, **env) as child:
        if not due:  # nothing to sweep: until it has been idle for a second
            proc.wait_idle(child.pid, 1.0, timeout=120)
        ready_s, cpu = time.perf_counter() - started, proc.read_stat(child.pid)
        rss, peak = proc.status_kb("VmRSS", child.pid), proc.status_kb("VmHWM", child.pid)
    text = log.read_text(errors="replace")
    assert child.returncode == 0 and "lease released" in text, f"the scheduler did not stop cleanly:\n{text[-3000:]}"
    missed, notices = map(int, m.groups()) if (m := SWEPT.search(text)) else (0, 0)
    assert missed == notices == due, (missed, notices, due)
    start, end = (logged(text, needle) for needle in ("scheduler started", "sweep at"))
    sweep_s = (end - start).total_seconds() if start and end else None
    out = {"rss_kb": rss, "peak_kb": peak, "cpu_s": cpu[1] / proc.TICKS if cpu else None, "ready_s": ready_s}
    return out | {"sweep_s": sweep_s, "missed": missed, "notices": notices}


def directory_profile(db: sa.Engine) -> dict[str, Any]:
    gc.collect()
    tracemalloc.start(1)
    try:
        seconds, d = report.timed(ours.recipient_directory, db)
        kept, peak = tracemalloc.get_traced_memory()
        top = tracemalloc.take_snapshot().statistics("lineno")[:4]
    finally:
        tracemalloc.stop()
    anchors, lines = (Path(sa.__file__).parent.parent, report.ROOT), []
    for t in top:
        path = Path(t.traceback[0].filename)
        where = next((str(path.relative_to(a)) for a in anchors if path.is_relative_to(a)), path.name)
        lines.append({"line": f"{where}:{t.traceback[0].lineno}", "bytes": t.size})
    users = len(set().union(*d.secretaries.values(), *d.supervisors.values(), d.office))
    return {"users": users, "seconds": seconds, "peak_bytes": peak, "kept_bytes": kept, "top": lines}


def scheduler_memory(url: str, sizes: Sizes, hook: Receiver, workdir: Path, accounts: bool) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with store(url, hook.url, "per_step", sizes, real_clock=True, accounts=accounts) as st:
        label = f"{st.c.db.dialect.name} scheduler{', accounts' if accounts else ''}"
        for size in (0, *sizes["steps"]):
            if size:
                st.grow(size)
                st.settle()
            due, log = sizes["scheduler_due"] if size else 0, workdir / f"{label.replace(' ', '-')}-{size}.log"
            runs.append({"pledges": size, "due": due} | run_scheduler(url, log, due))
            report.progress(f"{label}: {size:,} pledges: RSS {runs[-1]['rss_kb']:,} kB")
        with st.c.db.begin() as conn:
            VARIANT.drop(conn)
        profile = directory_profile(st.c.db)
    small, large = runs[1], runs[-1]
    growth = {f"{k}_growth": large[f"{k}_kb"] / small[f"{k}_kb"] - 1 for k in ("peak", "rss")}
    per_pledge = (large["peak_kb"] - small["peak_kb"]) * 1024 / (large["pledges"] - small["pledges"])
    return {"runs": runs, "directory": profile, **growth, "bytes_per_stored_pledge": per_pledge}


def run_backend(url: str, sizes: Sizes, hook: Receiver) -> dict[str, Any]:
    started = time.perf_counter()
    with store(url, hook.url, "scattered", sizes) as st:
        c, plan = st.c, st.plan
        out: dict[str, Any] = {"layout": "scattered", "setup_s": time.perf_counter() - started, "build": [], "noop": []}
        for size in sizes["steps"]:
            added, insert_s = size - st.size, st.grow(size)
            settle_s = st.settle()
            out["build"].append({"pledges": size, "added": added, "insert_s": insert_s, "settle_s": settle_s})
            out["noop"].append({"pledges": size, "deadline_rows": 2 * size} | noop_sweeps(c, plan.quiet))
            report.progress(f"{c.db.dialect.name}: {size:,} pledges; no-op sweep {out['noop'][-1]['median_s']:.4f} s")
        out["build_s"] = sum(b["insert_s"] + b["settle_s"] for b in out["build"])
        out |= {"stored": st.checked(sizes), "db_bytes_before": db_bytes(c.db, url)}
        out |= first_and_second(c, plan, sizes, c.db.dialect.name)
        out["noop_after"] = {"pledges": sizes["pledges"]} | noop_sweeps(c, plan.now)
        out["dispatch"] = dispatch_all(c.db, plan.now, hook, out["first"]["counts"]["deliveries"], sizes)
        out |= {"db_bytes_after": db_bytes(c.db, url), "version": report.server_version(c.db)}
    return out


def run_clustered(url: str, sizes: Sizes, hook: Receiver) -> dict[str, Any]:
    with store(url, hook.url, "clustered", sizes) as st:
        out = {"layout": "clustered", "build_s": st.grow(sizes["pledges"]) + st.settle(), "stored": st.checked(sizes)}
        return out | first_and_second(st.c, st.plan, sizes, f"{st.c.db.dialect.name} (clustered)")


def measure(args: Any) -> report.Results:
    sizes = SIZES["quick" if args.quick else "full"]
    results: report.Results = {"sizes": sizes, "chunk": ours.sweep_chunk(), "backends": {}, "baseline_s": BASELINE_S}
    with receiver() as hook, tempfile.TemporaryDirectory(prefix="pledgeflow-sweep-") as tmp:
        for name, fresh in report.databases(args, "sweep").items():
            with fresh() as url:
                b = results["backends"][name] = run_backend(url, sizes, hook)
            with fresh() as url:
                b["clustered"] = run_clustered(url, sizes, hook)
            for key, accounts in (("scheduler", False), ("scheduler_accounts", True)):
                with fresh() as url:
                    b[key] = scheduler_memory(url, sizes, hook, Path(tmp), accounts)
    return results | {"targets": targets(results | {"mode": "quick" if args.quick else "full"})}


def _growth(ratio: float) -> str:
    return "±0%" if round(ratio * 100) == 0 else f"{ratio:+.0%}"


def targets(r: report.Results) -> list[dict[str, Any]]:
    b, s, full = r["backends"], r["sizes"], r["mode"] == "full"
    first, clustered = b["sqlite"]["first"]["seconds"], b["sqlite"]["clustered"]["first"]["seconds"]
    swept = f"{first:.2f} s (overdue rows scattered), {clustered:.2f} s (one block)"
    swept += "" if full else f" over {s['pledges']:,} pledges with {s['due']:,} due (quick run: not judged)"
    stores = "/".join(f"{n // 1000:,}k" if n < 1_000_000 else f"{n / 1e6:g}M" for n in s["steps"])

    def peaks(v: str) -> str:
        mb = {k: "/".join(f"{x['peak_kb'] / 1024:,.0f}" for x in b[k][v]["runs"] if x["pledges"]) for k in b}
        return "; ".join(f"{NAMES[k]} {mb[k]} MB ({_growth(x[v]['peak_growth'])})" for k, x in b.items())

    grew = [x[v]["peak_growth"] for x in b.values() for v in ("scheduler", "scheduler_accounts")]
    memory = f"peak RSS over {stores} stored pledges, {s['scheduler_due']:,} due before each start — pledgers without "
    memory += f"accounts: {peaks('scheduler')}; every pledger with an account: {peaks('scheduler_accounts')}"
    n = b["sqlite"]["dispatch"]["deliveries"]
    rates = [f"{NAMES[k]} {x['dispatch']['per_s']:,.0f}/s" for k, x in b.items()]
    sweep = f"sweep ≤ {TARGET_S:g} s over 1,000,000 pledges with 100,000 due, writing their notices (SQLite)"
    rss = "scheduler process RSS independent of the number of stored pledges "
    rss += f"(10× the pledges: < {RSS_GROWTH:.0%} more peak RSS)"
    sent = f"{n:,} of {n:,} received once with a valid signature (asserted); {'; '.join(rates)}"
    return [
        report.target(sweep, swept, (first <= TARGET_S and clustered <= TARGET_S) if full else None),
        report.target(rss, memory, all(g < RSS_GROWTH for g in grew)),
        report.target("every notice the sweep wrote dispatched to a local webhook receiver, once, signed", sent, True),
    ]


PARTS = {
    "mark_missed": "… marking missed the passed deadlines not due a notice (`mark_missed`)",
    "read_due_rows": "… reading due rows with their pledges, orgs, people (`_due_rows`)",
    "drafts_and_deadline_updates": "… updating deadline stages and missed, drafting notices (`_emit` rest)",
    "publish": "… inserting notices, inbox entries, deliveries (`publish`)",
    "commits_and_rest": "… commits, directory and the rest",
}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _mb(kb: int | None, unit: str = " MB") -> str:
    return "–" if kb is None else f"{kb / 1024:,.0f}{unit}"


def _cell(x: dict[str, Any], key: str) -> str:
    if key == "rss":
        return f"{_mb(x['rss_kb'], '')} ({_mb(x['peak_kb'], ')')} MB"
    d, per = x["dispatch"], x["dispatch"]["cpu_ms_per_delivery"]
    if key == "tenths":
        rates = [y["deliveries"] / y["seconds"] for y in d["slices"]]
        return f"{min(rates):,.0f}–{max(rates):,.0f}/s"
    if key == "cpu":
        return " / ".join(f"{per[k]:.2f}" if k in per else "–" for k in ("dispatcher", "receiver", "database")) + " ms"
    if key == "directory":
        dd = x["scheduler_accounts"]["directory"]
        top, kept = f"`{dd['top'][0]['line']}` ({dd['top'][0]['bytes'] / 2**20:,.0f} MB)", dd["kept_bytes"] / 2**20
        return f"{dd['users']:,} users with a person in {dd['seconds']:.2f} s, {kept:,.0f} MB kept, most by {top}"
    per_pledge = [x[v]["bytes_per_stored_pledge"] for v in ("scheduler", "scheduler_accounts")]
    return " / ".join("±0" if round(n) == 0 else f"{n:+,.0f}" for n in per_pledge) + " B"


def rows(r: report.Results) -> list[list[str]]:
    b, s = r["backends"], r["sizes"]
    order, out = [k for k in ("sqlite", "postgresql") if k in b], []

    def row(label: str, cell: Callable[[dict[str, Any]], str], note: str = "") -> None:
        out.append([label, *(cell(b[k]) for k in order), note])

    def each(fn: Callable[[dict[str, Any]], str], sep: str = ", ") -> str:
        return sep.join(f"{NAMES[k]} {fn(b[k])}" for k in order)

    def both(fn: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
        return lambda x: f"{fn(x['scheduler'])} / {fn(x['scheduler_accounts'])}"

    head, first = f"{s['pledges']:,} pledges, {s['due']:,} overdue", b[order[0]]
    note = "marks them missed, writes their notices, inbox entries and webhook deliveries; overdue = every 10th pledge"
    row(f"**first sweep: {head} (scattered)**", lambda x: f"**{x['first']['seconds']:.2f} s**", note)
    for key, label in PARTS.items():
        row(label, lambda x, k=key: f"{x['first']['parts_s'][k]:.2f} s")
    parts = each(lambda x: ", ".join(f"{v:.2f}" for v in x["clustered"]["first"]["parts_s"].values()), "; ")
    note = f"a second database, the overdue tenth one contiguous block of rows; parts: {parts} s (in the order above)"
    row(f"**first sweep: {head} (clustered)**", lambda x: f"**{x['clustered']['first']['seconds']:.2f} s**", note)
    written = "{notices:,} / {inbox_entries:,} / {deliveries:,}".format
    note = "notices / inbox entries / deliveries; asserted: notices = overdue deadlines"
    row("rows written by the first sweep", lambda x: written(**x["first"]["counts"]), note)
    row("second sweep, same `now`", lambda x: _ms(x["second"]["seconds"]), "idempotent: 0 notices (asserted)")
    for i, step in enumerate(first["noop"]):
        label = f"no-op sweep, {step['pledges']:,} pledges ({step['deadline_rows']:,} deadline rows)"
        row(label, lambda x, i=i: _ms(x["noop"][i]["median_s"]), f"median of {NOOP_REPEATS}, nothing due")
    note = f"median of {NOOP_REPEATS}, same `now` as the first sweep"
    row(f"no-op sweep after the first, {s['pledges']:,} pledges", lambda x: _ms(x["noop_after"]["median_s"]), note)
    note = "`dispatch_due` to a local receiver in another process; each received once with a valid signature "
    took = each(lambda x: f"{x['dispatch']['seconds']:.1f} s")
    note += f"(asserted); {took}; slowest–fastest tenth "
    label = f"**dispatch all {first['dispatch']['deliveries']:,} webhook deliveries**"
    row(label, lambda x: f"**{x['dispatch']['per_s']:,.0f} /s**", note + each(lambda x: _cell(x, "tenths")))
    reach = each(lambda x: f"{x['dispatch']['per_s'] / x['dispatch']['floor']['per_s']:.0%}")
    label = "… floor: the same signed POST of a notice, same client and receiver, no database"
    note = f"{s['floor_posts']:,} POSTs; dispatch reaches {reach} of it"
    row(label, lambda x: f"{x['dispatch']['floor']['per_s']:,.0f} /s", note)
    note = "utime + stime from /proc over the whole drain (PostgreSQL: every backend)"
    row("… CPU per delivery: dispatcher / receiver / PostgreSQL", lambda x: _cell(x, "cpu"), note)
    label, note = "RSS before the first sweep → peak during it", "peak = VmHWM, reset just before the sweep"
    row(label, lambda x: f"{_mb(x['memory_kb']['rss_before'])} → {_mb(x['memory_kb']['peak_during'])}", note)
    row("peak RSS growth during the first sweep", lambda x: _mb(x["memory_kb"]["peak_growth"]))
    for i, run in enumerate(first["scheduler"]["runs"]):
        stored = f"{run['pledges']:,} pledges stored, {run['due']:,} due" if run["pledges"] else "the county alone"
        label = f"`pledgeflow scheduler` after its start-up sweep, {stored}: RSS (peak), pledgers without / with "
        took = each(both(lambda x, i=i: "–" if x["runs"][i]["sweep_s"] is None else f"{x['runs'][i]['sweep_s']:.2f} s"))
        note = f"start-up sweep {took}" if run["pledges"] else "imports, settings, engine; nothing to sweep"
        row(label + "accounts", both(lambda x, i=i: _cell(x["runs"][i], "rss")), note)
    note = f"{s['steps'][-1] // s['steps'][0]}× the stored pledges; per stored pledge "
    note += each(lambda x: _cell(x, "bytes"))
    label = "scheduler peak RSS, largest store against smallest: without / with accounts"
    row(label, both(lambda x: _growth(x["peak_growth"])), note)
    label = "… the sweep's recipient directory over the largest store with accounts (`load_directory`)"
    note = f"tracemalloc peak while loading it, in this process; {each(lambda x: _cell(x, 'directory'), '; ')}"
    row(label, lambda x: f"{x['scheduler_accounts']['directory']['peak_bytes'] / 2**20:,.0f} MB", note)
    note = "`INSERT … SELECT` over a generated series; settle = WAL checkpoint / VACUUM ANALYZE"
    row("build (not measured): insert + settle", lambda x: f"{x['build_s']:.1f} s", note)
    size = lambda x: f"{x['db_bytes_before'] / 2**20:,.0f} → {x['db_bytes_after'] / 2**20:,.0f} MB"  # noqa: E731
    row("database size before → after", size)
    return out


def render(r: report.Results) -> str:
    s, b, base = r["sizes"], r["backends"], BASELINE_S
    heads = ["measurement", *(NAMES[k] for k in ("sqlite", "postgresql") if k in b), "notes"]
    first, clustered = (x["first"]["seconds"] / base["sqlite"] for x in (b["sqlite"], b["sqlite"]["clustered"]))
    tail = (
        f"NOTES.md baseline, the set-based `UPDATE` alone (1 M pledges, 111 k due): {base['sqlite']:g} s SQLite, "
        f"{base['postgresql']:g} s PostgreSQL — the whole sweep takes {first:.1f}× ({clustered:.1f}× clustered) that "
        "on SQLite. "
    ) * (r["mode"] == "full")
    tail += f"Sizes: {s['pledges']:,} pledges, {s['due']:,} overdue; grown in {len(s['steps'])} steps "
    tail += f"({', '.join(f'{n:,}' for n in s['steps'])}); sweep chunk {r['chunk']:,} rows; {s['floor_posts']:,} bare "
    tail += f"POSTs for the floor; {s['scheduler_due']:,} pledges fall due before each start of the scheduler. "
    tail += "Raw figures: `bench/results/sweep.json`."
    versions, runs = "; " + ", ".join(x["version"] for x in b.values()), "one run (the first sweep can run once per "
    return report.section(
        r, runs + "database)", heads, rows(r), "", tail, also=versions, pg="postgresql" in b, notes=True
    )


if __name__ == "__main__":
    args = report.parser(__doc__, pg=True).parse_args()
    sys.exit(report.run(args, "sweep", "Deadline sweep", measure, render, sqlalchemy=sa.__version__))
