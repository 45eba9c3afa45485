"""Persisted transitions: the whole service-layer transition per second, beside SpiffWorkflow persisting its JSON.

Run as `.venv/bin/python bench/persisted.py [--quick] [--pg-url URL] [--profile]`; under
`bash scripts/with-postgres.sh` (which exports PLEDGEFLOW_TEST_PG_URL) PostgreSQL runs too, in a fresh schema dropped
afterwards. In one run it

  1. builds a real container per database (`build_container`, scheduler off) on a SQLite file in a temp folder and,
     when a URL is given, on PostgreSQL; seeds the demo county (`demo.seed`, accounts for everyone, no pledges) and
     adds members through `usecases.directory` until there are enough pledgers;
  2. parses bench/bpmn/pledge.bpmn (the same five stages as definitions/pledge.yaml, with the reviewer's return to
     proposing) with SpiffWorkflow's `BpmnParser`, and keeps each workflow's `BpmnWorkflowSerializer` JSON in a row of
     its own SQLite file, opened with Pledgeflow's own SQLite settings (`persistence.db`);
  3. per round, on each side in turn (the order rotates): a new campaign year, one pledge (or workflow) per member,
     then walks every pledge through submit → approve → publish → request_appraisal → appraise, one event for every
     pledge before the next event. Ours: `usecases.pledges.fire_event` in its own unit of work, as the API calls it
     (load, roles, guards, update, deadline rows, history, commit). Spiff: BEGIN IMMEDIATE, read the row, deserialize,
     complete the ready user task, run engine steps, serialize, UPDATE the row, INSERT a history row, COMMIT. Only the
     events are timed: creating pledges, comments and progress records (which guards ask for) is set-up;
  4. compares ours on SQLite with Spiff per round (the target is ≥ 5×) and, when the target is missed or `--profile`
     is given, profiles our transitions on SQLite with pyinstrument: self time by frame and by package.

Prints a table, writes bench/results/persisted.json, and rewrites the "persisted" section of BENCHMARKS.md between its
markers, leaving the other sections alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pyinstrument import Profiler
from report import BENCHMARKS, command, machine_info, pg_schema_url, write_section
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState
from sqlmodel import col, func, select

from notifications.tables import Notice
from services.access import Actor, admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.persistence.db import _sqlite_pragmas
from services.persistence.tables import History, Pledge, PledgeItem
from services.persistence.uow import UnitOfWork
from services.rehearsal import demo
from services.rehearsal.demo import do
from services.usecases import campaigns, directory, pledges

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "persisted.json"
BPMN = ROOT / "bench" / "bpmn" / "pledge.bpmn"

TARGET_RATIO = 5.0
PEER_SPIFF_PER_S = 1264
"""A peer's figure for SpiffWorkflow 3.1.2 keeping its JSON in SQLite (NOTES.md, "Persisted transitions")."""

SIZES = {
    "quick": {"rounds": 3, "pledges": 28, "warmup": 8, "profile_pledges": 28},
    "full": {"rounds": 5, "pledges": 200, "warmup": 20, "profile_pledges": 60},
}
TZ = ZoneInfo("Asia/Shanghai")
FIRST_YEAR = 2030
SEED_AT = dt.datetime(FIRST_YEAR, 9, 1, 9, tzinfo=TZ)


@dataclass(frozen=True)
class Step:
    """One event of the walk: who fires it, how many days into the campaign, and the BPMN task it completes."""

    event: str
    actor: str
    day: int
    task: str


STEPS = [
    Step("submit", "owner", 9, "proposing"),
    Step("approve", "reviewer", 11, "reviewing"),
    Step("publish", "secretary", 14, "publicizing"),
    Step("request_appraisal", "owner", 80, "practising"),
    Step("appraise", "reviewer", 90, "appraising"),
]
PROGRESS_DAY = 40
COMMENT = {"achievements": "承诺事项落实较好", "problems": "记录还不够细", "direction": "继续发挥带头作用"}


def at(year: int, day: int) -> dt.datetime:
    return dt.datetime(year, 9, 1, 9, tzinfo=TZ) + dt.timedelta(days=day)


def event_data(step: Step, year: int, items: list[int]) -> dict[str, Any]:
    """The event's `data` as a client sends it (services/simulate.py: a member's pledge needs no meeting)."""
    if step.event == "publish":
        return {"channel": "notice_board", "published_on": f"{year}-09-15"}
    if step.event == "appraise":
        return {"grade": "excellent", "outcomes": [{"item": i, "outcome": "done"} for i in items]}
    return {}


# --- Pledgeflow: the real service layer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    person_id: int
    owner: Actor
    secretary: Actor
    """The secretary of the member's branch: reviewer, publisher and commenter of a member's pledge."""


@dataclass
class County:
    name: str
    c: Container
    members: list[Member] = field(default_factory=list)
    years: set[int] = field(default_factory=set)


def build_county(name: str, url: str, members: int) -> County:
    c = build_container(Settings(database_url=url, scheduler=False), lambda: SEED_AT)
    seeded = demo.seed(c, SEED_AT, accounts_for_all=True, with_pledges=False)
    county = County(name, c, years={FIRST_YEAR})
    branches = seeded.branches
    for person in demo.pledgers(seeded):
        county.members.append(
            Member(person.id, seeded.actors[f"person:{person.id}"], seeded.actors[f"secretary:{person.org_id}"])
        )
    admin = admin_actor()
    while len(county.members) < members:
        n = len(county.members)
        branch = branches[n % len(branches)]
        body = {"name": f"党员{n:03d}", "org_id": branch.id, "status": "full", "position": "教师"}
        person = do(c, directory.create_person, admin, body)
        user, _token = do(c, directory.create_user, admin, person.name, person.id, [{"role": "member"}], SEED_AT)
        with UnitOfWork(c.db, write=False) as uow:
            owner = directory.user_actor(uow.session, user.id)
        county.members.append(Member(person.id or 0, owner, seeded.actors[f"secretary:{branch.id}"]))
    return county


def prepare_pledges(county: County, year: int, n: int) -> list[tuple[int, Member, list[int]]]:
    """Set-up, not timed: the year's campaign, one pledge per member with three items, and a leader comment."""
    c, engine, start = county.c, county.c.engines["pledge"], at(year, 0)
    if year not in county.years:
        do(c, campaigns.create_campaign, c.catalog, admin_actor(), year, None, start)
        county.years.add(year)
    made = []
    for m in county.members[:n]:
        pid = do(
            c, pledges.create, engine, m.owner, {"year": year, "person_id": m.person_id, "items": demo.ITEMS}, start
        )
        do(c, pledges.add_comment, m.secretary, pid, COMMENT, start)
        made.append((pid, m))
    with UnitOfWork(c.db, write=False) as uow:
        rows = uow.session.exec(
            select(PledgeItem.pledge_id, PledgeItem.id).where(col(PledgeItem.pledge_id).in_([p for p, _ in made]))
        ).all()
    items: dict[int, list[int]] = {}
    for pledge_id, item_id in rows:
        items.setdefault(pledge_id, []).append(item_id or 0)
    return [(pid, m, sorted(items[pid])) for pid, m in made]


def add_progress(county: County, year: int, walk: list[tuple[int, Member, list[int]]]) -> None:
    """Set-up between publish and request_appraisal: one progress record per pledge (the has_progress guard)."""
    now = at(year, PROGRESS_DAY)
    for pid, m, items in walk:
        body = {"item": items[0], "note": "按计划推进", "happened_on": now.date()}
        do(county.c, pledges.add_progress, m.owner, pid, body, now)


def walk_ours(
    county: County, year: int, n: int, around: Callable[[str], AbstractContextManager[Any]] = nullcontext
) -> dict[str, Any]:
    """Walk n new pledges of `year` through the lifecycle; seconds per event kind, only the events timed.
    `around(event)` wraps each event's timed loop (the profile uses it)."""
    c, engine, criteria = county.c, county.c.engines["pledge"], county.c.catalog.criteria
    walk = prepare_pledges(county, year, n)
    notices_before = count(c, Notice)
    seconds: dict[str, float] = {}
    for step in STEPS:
        if step.event == "request_appraisal":
            add_progress(county, year, walk)
        now = at(year, step.day)
        jobs = [
            (
                m.owner if step.actor == "owner" else m.secretary,
                pid,
                {"event": step.event, "data": event_data(step, year, items)},
            )
            for pid, m, items in walk
        ]
        gc.collect()
        with around(step.event):
            t0 = time.perf_counter()
            for actor, pid, body in jobs:
                do(c, pledges.fire_event, engine, actor, pid, body, None, now, criteria=criteria)
            seconds[step.event] = time.perf_counter() - t0
    check_walked(c, year, [pid for pid, _, _ in walk])
    return {"seconds": seconds, "notices_written": count(c, Notice) - notices_before}


def count(c: Container, table: Any) -> int:
    with UnitOfWork(c.db, write=False) as uow:
        return uow.session.exec(select(func.count()).select_from(table)).one()


def check_walked(c: Container, year: int, ids: list[int]) -> None:
    """Every pledge closed, with its create row and one history row per event."""
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session
        states = Counter(s.exec(select(Pledge.state).where(col(Pledge.id).in_(ids))).all())
        rows = s.exec(
            select(func.count())
            .select_from(History)
            .where(History.subject_type == "pledge", col(History.subject_id).in_(ids))
        ).one()
    assert states == Counter({"closed": len(ids)}), f"{year}: {dict(states)}"
    assert rows == len(ids) * (len(STEPS) + 1), f"{year}: {rows} history rows for {len(ids)} pledges"


# --- SpiffWorkflow: the same process as BPMN, its JSON kept in SQLite ----------------------------------------------

SPIFF_SCHEMA = [
    "CREATE TABLE spiff_workflow (id INTEGER PRIMARY KEY, year INTEGER NOT NULL, state TEXT NOT NULL,"
    " version INTEGER NOT NULL, serialization TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE spiff_history (id INTEGER PRIMARY KEY, workflow_id INTEGER NOT NULL REFERENCES spiff_workflow(id),"
    " seq INTEGER NOT NULL, event TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, actor TEXT NOT NULL,"
    " at TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (workflow_id, seq))",
]


class SpiffStore:
    """Spiff workflows persisted the way a service would: one row of serializer JSON per workflow."""

    def __init__(self, path: Path):
        parser = BpmnParser(validator=BpmnValidator())
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec("pledge")
        self.serializer = BpmnWorkflowSerializer()
        self.conn = sqlite3.connect(path, isolation_level=None)
        _sqlite_pragmas(self.conn, None)  # Pledgeflow's own settings: WAL, synchronous=NORMAL, …
        for ddl in SPIFF_SCHEMA:
            self.conn.execute(ddl)
        self.json_bytes: dict[str, int] = {}

    def create(self, year: int, n: int) -> list[int]:
        ids = []
        for _ in range(n):
            wf = BpmnWorkflow(self.spec)
            wf.do_engine_steps()
            state, body = ready_task(wf), self.serializer.serialize_json(wf)
            self.json_bytes.setdefault(state, len(body))
            cur = self.conn.execute(
                "INSERT INTO spiff_workflow (year, state, version, serialization, updated_at) VALUES (?, ?, 1, ?, ?)",
                (year, state, body, at(year, 0).isoformat()),
            )
            ids.append(cur.lastrowid or 0)
        return ids

    def step(self, wid: int, step: Step, actor: str, data: dict[str, Any], now: dt.datetime) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            state, version, body = conn.execute(
                "SELECT state, version, serialization FROM spiff_workflow WHERE id = ?", (wid,)
            ).fetchone()
            wf = self.serializer.deserialize_json(body)
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            if task is None or task.task_spec.bpmn_id != step.task:
                raise AssertionError(f"workflow {wid}: {step.event} fired in {state}")
            task.data.update({"event": step.event, "actor": actor, **data})
            task.run()
            wf.do_engine_steps()
            dest = ready_task(wf)
            body = self.serializer.serialize_json(wf)
            conn.execute(
                "UPDATE spiff_workflow SET state = ?, version = ?, serialization = ?, updated_at = ? WHERE id = ?",
                (dest, version + 1, body, now.isoformat(), wid),
            )
            conn.execute(
                "INSERT INTO spiff_history (workflow_id, seq, event, from_state, to_state, actor, at, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (wid, version, step.event, state, dest, actor, now.isoformat(), json.dumps(data, ensure_ascii=False)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.json_bytes.setdefault(dest, len(body))

    def check_walked(self, ids: list[int]) -> None:
        marks = ",".join("?" * len(ids))
        states = Counter(
            r[0] for r in self.conn.execute(f"SELECT state FROM spiff_workflow WHERE id IN ({marks})", ids)
        )
        rows = self.conn.execute(f"SELECT count(*) FROM spiff_history WHERE workflow_id IN ({marks})", ids).fetchone()
        assert states == Counter({"closed": len(ids)}), dict(states)
        assert rows[0] == len(ids) * len(STEPS), rows

    def check_return(self) -> None:
        """The reviewer's return leads back to proposing (not timed)."""
        wid = self.create(FIRST_YEAR, 1)[0]
        self.step(wid, STEPS[0], "owner", {}, SEED_AT)
        self.step(wid, STEPS[1], "reviewer", {"decision": "return", "reason": "请补充措施"}, SEED_AT)
        state = self.conn.execute("SELECT state FROM spiff_workflow WHERE id = ?", (wid,)).fetchone()[0]
        assert state == "proposing", state
        self.conn.execute("DELETE FROM spiff_history WHERE workflow_id = ?", (wid,))
        self.conn.execute("DELETE FROM spiff_workflow WHERE id = ?", (wid,))


def ready_task(wf: BpmnWorkflow) -> str:
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    if task is not None:
        return str(task.task_spec.bpmn_id)
    assert wf.is_completed()
    return "closed"


def walk_spiff(store: SpiffStore, year: int, n: int) -> dict[str, Any]:
    ids = store.create(year, n)
    items = [1, 2, 3]
    seconds: dict[str, float] = {}
    for step in STEPS:
        data = event_data(step, year, items)
        if step.event == "approve":
            data = {"decision": "approve"}
        now = at(year, step.day)
        gc.collect()
        t0 = time.perf_counter()
        for wid in ids:
            store.step(wid, step, step.actor, data, now)
        seconds[step.event] = time.perf_counter() - t0
    store.check_walked(ids)
    return {"seconds": seconds}


# --- databases -----------------------------------------------------------------------------------------------------


def sqlite_settings(conn: Any) -> dict[str, Any]:
    names = ["journal_mode", "synchronous", "foreign_keys", "busy_timeout", "wal_autocheckpoint"]
    found = {n: conn.execute(f"PRAGMA {n}").fetchone()[0] for n in names}
    found["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
        found["synchronous"], found["synchronous"]
    )
    return found


def our_sqlite_settings(c: Container) -> dict[str, Any]:
    with c.db.connect() as conn:
        return sqlite_settings(conn.connection.dbapi_connection)


def pg_settings(c: Container) -> dict[str, Any]:
    with c.db.connect() as conn:
        return {
            "version": conn.execute(sa.text("SHOW server_version")).scalar(),
            "fsync": conn.execute(sa.text("SHOW fsync")).scalar(),
            "synchronous_commit": conn.execute(sa.text("SHOW synchronous_commit")).scalar(),
        }


# --- the run -------------------------------------------------------------------------------------------------------

_T0 = time.perf_counter()


def progress(message: str) -> None:
    print(f"  [{time.perf_counter() - _T0:5.1f} s] {message}", file=sys.stderr, flush=True)


def summarize(seconds: dict[str, float], n: int) -> dict[str, Any]:
    total = sum(seconds.values())
    return {
        "seconds": seconds,
        "total_s": total,
        "transitions": n * len(STEPS),
        "per_s": n * len(STEPS) / total,
        "us_per_event": {e: s / n * 1e6 for e, s in seconds.items()},
    }


def run_round(sides: dict[str, Callable[[int, int], dict[str, Any]]], order: list[str], year: int, n: int) -> dict:
    out: dict[str, Any] = {"year": year, "order": order}
    for name in order:
        walked = sides[name](year, n)
        out[name] = summarize(walked["seconds"], n) | {k: v for k, v in walked.items() if k != "seconds"}
    out["ratio"] = out["sqlite"]["per_s"] / out["spiff"]["per_s"]
    if "postgresql" in out:
        out["ratio_postgresql"] = out["postgresql"]["per_s"] / out["spiff"]["per_s"]
    return out


def medians(rounds: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    med: dict[str, Any] = {}
    for name in names:
        per_s = statistics.median(r[name]["per_s"] for r in rounds)
        us = {s.event: statistics.median(r[name]["us_per_event"][s.event] for r in rounds) for s in STEPS}
        med[name] = {"per_s": per_s, "ms_per_transition": 1000 / per_s, "us_per_event": us}
    med["ratio"] = statistics.median(r["ratio"] for r in rounds)
    if "postgresql" in names:
        med["ratio_postgresql"] = statistics.median(r["ratio_postgresql"] for r in rounds)
    return med


def measure(mode: str, pg_url: str | None, force_profile: bool) -> dict[str, Any]:
    size = SIZES[mode]
    n, rounds_wanted = size["pledges"], size["rounds"]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pledgeflow-persisted-")))
        t0 = time.perf_counter()
        counties = {"sqlite": build_county("sqlite", f"sqlite:///{tmp}/pledgeflow.db", n)}
        if pg_url:
            counties["postgresql"] = build_county("postgresql", stack.enter_context(pg_schema_url(pg_url)), n)
        for county in counties.values():
            stack.callback(county.c.db.dispose)
        store = SpiffStore(tmp / "spiff.db")
        stack.callback(store.conn.close)
        store.check_return()
        setup_s = time.perf_counter() - t0
        progress(f"set-up: {', '.join(counties)} counties of {n} pledgers and the Spiff store in {setup_s:.1f} s")

        sides: dict[str, Callable[[int, int], dict[str, Any]]] = {
            name: (lambda year, k, county=county: walk_ours(county, year, k)) for name, county in counties.items()
        }
        sides["spiff"] = lambda year, k: walk_spiff(store, year, k)
        names = list(sides)
        run_round(sides, names, FIRST_YEAR, size["warmup"])  # warm-up, not kept
        rounds = []
        for r in range(rounds_wanted):
            order = names[r % len(names) :] + names[: r % len(names)]
            rounds.append(run_round(sides, order, FIRST_YEAR + 1 + r, n))
            line = ", ".join(f"{k} {rounds[-1][k]['per_s']:,.0f}/s" for k in names)
            progress(f"round {r + 1}/{rounds_wanted}: {line}; ours/Spiff {rounds[-1]['ratio']:.2f}×")
        med = medians(rounds, names)
        met = med["ratio"] >= TARGET_RATIO
        profile = None
        if force_profile or not met:
            profile = profile_ours(counties["sqlite"], FIRST_YEAR + 1 + rounds_wanted, size["profile_pledges"])
            progress(f"profiled {profile['transitions']} transitions ({profile['samples']} samples)")
        results = {
            "benchmark": "persisted",
            "mode": mode,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command(),
            "machine": machine_info(
                sqlite=sqlite3.sqlite_version,
                sqlalchemy=sa.__version__,
                spiffworkflow=importlib.metadata.version("SpiffWorkflow"),
            ),
            "sizes": size,
            "setup_s": round(setup_s, 1),
            "sqlite_settings": {"pledgeflow": our_sqlite_settings(counties["sqlite"].c), "spiff": None},
            "postgresql": pg_settings(counties["postgresql"].c) if "postgresql" in counties else None,
            "spiff_json_bytes": store.json_bytes,
            "rounds": rounds,
            "medians": med,
            "profile": profile,
        }
        results["sqlite_settings"]["spiff"] = sqlite_settings(store.conn)
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    results["targets"] = [
        {
            "target": f"SQLite transitions/s ≥ {TARGET_RATIO:g}× SpiffWorkflow's persisted steps/s (same SQLite)",
            "measured": f"{med['ratio']:.2f}× ({med['sqlite']['per_s']:,.0f}/s vs {med['spiff']['per_s']:,.0f}/s; "
            f"{TARGET_RATIO:g}× would be {TARGET_RATIO * med['spiff']['per_s']:,.0f}/s, "
            f"{1000 / (TARGET_RATIO * med['spiff']['per_s']):.2f} ms per transition)",
            "met": met,
        }
    ]
    return results


# --- profile -------------------------------------------------------------------------------------------------------


def profile_ours(county: County, year: int, n: int) -> dict[str, Any]:
    """pyinstrument over the events only (the set-up between them is not sampled), and the SQL statements each
    event sends, counted in a second walk so that counting does not show in the profile."""
    profiler = Profiler(interval=0.0002)

    @contextmanager
    def sampled(_event: str) -> Iterator[None]:
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()

    walk_ours(county, year, n, sampled)
    session = profiler.last_session
    assert session is not None
    total = sum(t for _, t in session.frame_records)
    by_frame: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, t in session.frame_records:
        leaf = stack[-1].split("\x01")[0].split("\x00")
        by_frame[frame_name(leaf)] += t
        by_package[package_of(leaf[0], leaf[1] if len(leaf) > 1 else "")] += t
        for ident in {f.split("\x01")[0] for f in stack}:
            parts = ident.split("\x00")
            if len(parts) > 1 and package_of(parts[0], parts[1]).split(".")[0] in OURS:
                inclusive[frame_name(parts)] += t

    def shares(counter: Counter[str], k: int) -> list[list[Any]]:
        return [[name, round(t / total, 4)] for name, t in counter.most_common(k)]

    return {
        "transitions": n * len(STEPS),
        "statements_per_event": count_statements(county, year + 1, n),
        "samples": len(session.frame_records),
        "sampled_s": round(total, 3),
        "self_time_by_frame": shares(by_frame, 12),
        "self_time_by_layer": shares(layers(by_package), 8),
        "self_time_by_package": shares(by_package, 10),
        "inclusive_ours": shares(inclusive, 16),
    }


def count_statements(county: County, year: int, n: int) -> dict[str, dict[str, float]]:
    """SQL statements per event by kind (BEGIN, SELECT, INSERT, UPDATE, …), as the driver receives them."""
    seen: Counter[tuple[str, str]] = Counter()
    current: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if current:
            seen[(current[-1], statement.split(None, 1)[0].upper())] += 1

    @contextmanager
    def counted(event: str) -> Iterator[None]:
        current.append(event)
        try:
            yield
        finally:
            current.pop()

    sa.event.listen(county.c.db, "before_cursor_execute", on_execute)
    try:
        walk_ours(county, year, n, counted)
    finally:
        sa.event.remove(county.c.db, "before_cursor_execute", on_execute)
    out: dict[str, dict[str, float]] = {step.event: {} for step in STEPS}
    for (event, verb), k in sorted(seen.items()):
        out[event][verb] = k / n
    return out


OURS = {"services", "workflow", "definitions", "notifications"}


def layers(by_package: Counter[str]) -> Counter[str]:
    """Packages folded into the layers a transition passes through."""
    out: Counter[str] = Counter()
    for package, t in by_package.items():
        top = package.split(".")[0]
        if top in ("sqlalchemy", "sqlmodel"):
            layer = "SQLAlchemy + SQLModel"
        elif top in OURS:
            layer = "Pledgeflow (services, workflow, …)"
        elif top in ("sqlite3 driver (C)", "transitions", "pydantic", "pydantic_core"):
            layer = top.replace("pydantic_core", "pydantic")
        else:
            layer = "other (stdlib, C built-ins)"
        out[layer] += t
    return out


def frame_name(parts: list[str]) -> str:
    path, line = (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else "")
    where = package_of(parts[0], path)
    return f"{parts[0]} ({where}:{line})" if path and line != "0" else f"{parts[0]} ({where})"


def package_of(function: str, path: str) -> str:
    """`sqlalchemy.orm`, `usecases.pledges`, `stdlib json`, …: two levels are enough to tell where time goes."""
    if path == "<built-in>":
        # pyinstrument names C functions by their class: the sqlite3 driver's Cursor and Connection
        return "sqlite3 driver (C)" if function.startswith(("Cursor.", "Connection.")) else "C built-ins"
    p = Path(path)
    if "site-packages" in p.parts:
        rest = p.parts[p.parts.index("site-packages") + 1 :]
        return ".".join(x.removesuffix(".py") for x in rest[:2])
    with suppress(ValueError):
        rest = p.relative_to(ROOT).parts
        return ".".join(x.removesuffix(".py") for x in rest[:2])
    if p.suffix == ".py":
        return f"stdlib {p.stem}"
    return path or "?"


# --- reporting -----------------------------------------------------------------------------------------------------


def _met(met: bool) -> str:
    return "met" if met else "**missed**"


def table_rows(r: dict[str, Any]) -> list[list[str]]:
    med, runs = r["medians"], r["rounds"]
    labels = {
        "sqlite": "Pledgeflow `fire_event`, SQLite",
        "postgresql": "Pledgeflow `fire_event`, PostgreSQL",
        "spiff": f"SpiffWorkflow {r['machine']['spiffworkflow']} + JSON row, SQLite",
    }
    rows = []
    for name, label in labels.items():
        if name not in med:
            continue
        m = med[name]
        each = " / ".join(f"{x[name]['per_s']:,.0f}" for x in runs)
        ratio = "–" if name == "spiff" else f"{m['per_s'] / med['spiff']['per_s']:.2f}×"
        events = " · ".join(f"{e} {us / 1000:.2f}" for e, us in m["us_per_event"].items())
        rows.append([label, f"{m['per_s']:,.0f}", f"{m['ms_per_transition']:.2f}", ratio, each, events])
    return rows


HEADINGS = ["side", "transitions/s", "ms per transition", "× Spiff", "per round (/s)", "ms per event"]


def print_table(r: dict[str, Any]) -> None:
    rows = [[c.replace("`", "") for c in row] for row in [HEADINGS, *table_rows(r)]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADINGS) - 1)]
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))]
        print("  ".join(cells) + "  " + row[-1])
        if n == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * len(HEADINGS[-1]))
    print()
    for t in r["targets"]:
        print(f"target: {t['target']}: {t['measured']} {'met' if t['met'] else 'MISSED'}")
    if r["profile"]:
        p = r["profile"]
        print(f"\nprofile of {p['transitions']} transitions, self time by layer:")
        for name, share in p["self_time_by_layer"]:
            print(f"  {share:6.1%}  {name}")
        print("self time by package:")
        for name, share in p["self_time_by_package"]:
            print(f"  {share:6.1%}  {name}")
        print("self time by frame:")
        for name, share in p["self_time_by_frame"]:
            print(f"  {share:6.1%}  {name}")
        print("SQL statements per event:")
        for event, verbs in p["statements_per_event"].items():
            print(f"  {event}: {statements(verbs)}")
        print("inclusive, our code:")
        for name, share in p["inclusive_ours"]:
            print(f"  {share:6.1%}  {name}")


def statements(verbs: dict[str, float]) -> str:
    listed = ", ".join(f"{k:g} {verb}" for verb, k in sorted(verbs.items(), key=lambda kv: -kv[1]))
    return f"{sum(verbs.values()):g} ({listed})"


def profile_lines(p: dict[str, Any]) -> list[str]:
    def listing(pairs: list[list[Any]], k: int) -> str:
        return "; ".join(f"`{name}` {share:.0%}" for name, share in pairs[:k])

    return [
        "",
        f"Where our transition's time goes (pyinstrument, 0.2 ms sampling, {p['transitions']} transitions on SQLite, "
        f"{p['samples']:,} samples, the events only):",
        "",
        f"- self time by layer: {listing(p['self_time_by_layer'], 6)}.",
        f"- self time by package: {listing(p['self_time_by_package'], 8)}.",
        f"- self time by frame: {listing(p['self_time_by_frame'], 8)}.",
        f"- inclusive, in our code: {listing(p['inclusive_ours'], 12)}.",
        "- SQL statements per event (counted in a separate walk): "
        + "; ".join(f"{e} {statements(v)}" for e, v in p["statements_per_event"].items())
        + ".",
        "",
        "Why it misses, and what would fix it: the event path holds no ORM objects any more (commit f4d0a05: the "
        "pledge with its org, person and campaign year read in one Core statement, one `UPDATE … WHERE version = :v` "
        "out; the full run before it gave 1,027/s on SQLite). What is left is SQLAlchemy Core's machinery around each "
        "of the 7–12 statements (compiled-cache lookup, parameter and result processing: `sqlalchemy.engine` is the "
        "largest package above) and the sqlite3 driver's own execute and commit. 5× needs about 0.13 ms a transition, "
        "near what raw `sqlite3` does for a bare read, update and insert (NOTES.md: 10,860/s). Closer to it would "
        "take fewer statements per event (the last history row read with the pledge; items and deadlines only when "
        "a guard or the answer needs them), the DB-API cursor for the hot statements, or set-based batches that "
        "load, guard and write many records' events in one transaction (as the sweep does for deadlines); none of "
        "these is built. The profile → fix section below has the before/after of the whole event path.",
    ]


def section(r: dict[str, Any]) -> str:
    mi, med, t, size = r["machine"], r["medians"], r["targets"][0], r["sizes"]
    cpu = mi["cpu_model"] or mi["processor"] or mi["machine"]
    pg = r["postgresql"]
    pg_note = (
        f"PostgreSQL {pg['version']} on loopback in a fresh schema (fsync={pg['fsync']}, "
        f"synchronous_commit={pg['synchronous_commit']}: the throwaway server of `scripts/with-postgres.sh`)."
        if pg
        else "**PostgreSQL was not run** (no `--pg-url` / PLEDGEFLOW_TEST_PG_URL: run under "
        "`bash scripts/with-postgres.sh`)."
    )
    settings = r["sqlite_settings"]["pledgeflow"]
    n = size["pledges"]
    per_round = " / ".join(f"{x['ratio']:.2f}×" for x in r["rounds"])
    lines = [
        f"Machine: {cpu}, {mi['cpu_count']} CPUs, {mi['platform']}; Python {mi['python']}, SQLite {mi['sqlite']}, "
        f"SQLAlchemy {mi['sqlalchemy']}, SpiffWorkflow {mi['spiffworkflow']}; load average "
        f"{mi['loadavg_at_start'][0]:.2f} at start, {mi['loadavg_at_end'][0]:.2f} at end (shared machine).  ",
        f"Command: `{r['command']}` · mode: {r['mode']} · date: {r['date']} · medians of {len(r['rounds'])} rounds, "
        f"each {n} pledges × {len(STEPS)} events = {n * len(STEPS):,} transitions per side.",
        "",
        "| " + " | ".join(HEADINGS) + " |",
        "|---|" + "---:|" * (len(HEADINGS) - 2) + "---|",
        *("| " + " | ".join(row) + " |" for row in table_rows(r)),
        "",
        f"Target: {t['target']}: {t['measured']}, {_met(t['met'])} (per round: {per_round}). "
        "A peer measured SpiffWorkflow 3.1.2 this way at "
        f"about {PEER_SPIFF_PER_S:,}/s; here {med['spiff']['per_s']:,.0f}/s.",
        "",
        "How: a real container per database (`build_container`, scheduler off), the demo county (`demo.seed`, "
        f"accounts for everyone) plus members added through `usecases.directory` up to {n} pledgers. Each round "
        "opens a new campaign year, creates one pledge per member (three items) with a leader comment, and walks "
        "every pledge through submit → approve → publish → request_appraisal → appraise, one event for all pledges "
        "before the next, each event by `usecases.pledges.fire_event` in its own unit of work (one transaction: load, "
        "roles, guards, update, deadline rows, history row with its hash chain, commit) with the actor the lifecycle "
        "names (the member, the branch secretary). Progress records (asked for by `request_appraisal`) are added "
        f"between events, untimed; the events wrote {sum(x['sqlite']['notices_written'] for x in r['rounds'])} outbox "
        f"notices. SQLite is a file in a temp folder ({', '.join(f'{k}={v}' for k, v in settings.items())}). "
        f"{pg_note} SpiffWorkflow runs bench/bpmn/pledge.bpmn (five user tasks, an exclusive gateway back to "
        "proposing, checked once per run) parsed by `BpmnParser`; per step it takes the write lock (BEGIN IMMEDIATE), "
        "reads the workflow's `BpmnWorkflowSerializer` JSON "
        f"({min(r['spiff_json_bytes'].values()):,}–{max(r['spiff_json_bytes'].values()):,} bytes, spec included as "
        "the serializer writes it), completes the ready user task with the event's data, runs engine steps, writes "
        "the JSON back, inserts a history row and commits, on a raw `sqlite3` connection with Pledgeflow's own "
        "pragmas (`persistence.db`). Spiff has no guards, deadlines or ORM to run, and its data carries no items. The "
        "sides alternate within each round (the order rotates), after an untimed warm-up round of "
        f"{size['warmup']} pledges; only the events are timed, with the garbage collector on. "
        "Raw runs: `bench/results/persisted.json`.",
    ]
    if r["profile"]:
        lines += profile_lines(r["profile"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer pledges and rounds: a smoke run (< 60 s)")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: $PLEDGEFLOW_TEST_PG_URL); a fresh schema is used")
    parser.add_argument("--profile", action="store_true", help="profile our transitions even when the target is met")
    args = parser.parse_args(argv)
    pg_url = args.pg_url or os.environ.get("PLEDGEFLOW_TEST_PG_URL") or None
    if not pg_url:
        progress("no PostgreSQL URL (--pg-url or PLEDGEFLOW_TEST_PG_URL): PostgreSQL is skipped")
    started = time.perf_counter()
    results = measure("quick" if args.quick else "full", pg_url, args.profile)
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    write_section("persisted", "Persisted transitions", section(results))
    print(f"\nwrote {RESULTS.relative_to(ROOT)} and {BENCHMARKS.relative_to(ROOT)} in {results['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
