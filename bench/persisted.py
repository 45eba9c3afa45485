"""Persisted transitions: whole service-layer transitions per second, beside SpiffWorkflow persisting its JSON."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import importlib.metadata
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import ours
import report
import sqlalchemy as sa
from pyinstrument import Profiler
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

BPMN = report.ROOT / "bench" / "bpmn" / "pledge.bpmn"
TARGET_RATIO, TARGET_LIFECYCLE_RATIO, TARGET_FLOOR_RATIO = 5.0, 1.5, 2.0
SIZES = {"quick": {"rounds": 3, "pledges": 28, "warmup": 8, "profile_pledges": 28, "cycles": 100}}
SIZES["full"] = {"rounds": 5, "pledges": 200, "warmup": 20, "profile_pledges": 60, "cycles": 500}
TZ, FIRST_YEAR, PROGRESS_DAY = ZoneInfo("Asia/Shanghai"), 2030, 40
SEED_AT = dt.datetime(FIRST_YEAR, 9, 1, 9, tzinfo=TZ)
OURS = {"services", "workflow", "definitions", "notifications"}
PG_SHOWN = ("server_version", "fsync", "synchronous_commit")
COMMENT = {"achievements": "承诺事项落实较好", "problems": "记录还不够细", "direction": "继续发挥带头作用"}


class Step(NamedTuple):  # one event of the walk: who fires it, on which day, the BPMN task it completes
    event: str
    actor: str
    day: int
    task: str


STEPS = [Step("submit", "owner", 9, "proposing"), Step("approve", "reviewer", 11, "reviewing")]
STEPS += [Step("publish", "secretary", 14, "publicizing"), Step("request_appraisal", "owner", 80, "practising")]
STEPS += [Step("appraise", "reviewer", 90, "appraising")]


def at(year: int, day: int) -> dt.datetime:
    return dt.datetime(year, 9, 1, 9, tzinfo=TZ) + dt.timedelta(days=day)


def event_data(step: Step, year: int, items: list[int]) -> dict[str, Any]:
    """The event's `data` as a client sends it (a member's pledge needs no meeting)."""
    if step.event == "publish":
        return {"channel": "notice_board", "published_on": f"{year}-09-15"}
    if step.event == "appraise":
        return {"grade": "excellent", "outcomes": [{"item": i, "outcome": "done"} for i in items]}
    return {}


class Member(NamedTuple):
    person_id: int
    owner: Any
    secretary: Any  # of the member's branch: reviewer, publisher and commenter of the member's pledge


@dataclass
class County:
    c: Any
    members: list[Member] = field(default_factory=list)
    years: set[int] = field(default_factory=lambda: {FIRST_YEAR})


def build_county(url: str, members: int) -> County:
    c = ours.Pledgeflow(url, lambda: SEED_AT)
    seeded, county = c.seed(SEED_AT, accounts_for_all=True), County(c)
    for person in ours.pledgers(seeded):
        actors = seeded.actors[f"person:{person.id}"], seeded.actors[f"secretary:{person.org_id}"]
        county.members.append(Member(person.id, *actors))
    while (n := len(county.members)) < members:
        branch = seeded.branches[n % len(seeded.branches)]
        person_id, owner, _ = c.member(f"党员{n:03d}", branch.id, SEED_AT)
        county.members.append(Member(person_id, owner, seeded.actors[f"secretary:{branch.id}"]))
    return county


def walk_ours(county: County, year: int, n: int, around: Callable[[str], Any] = nullcontext) -> dict:
    c, start = county.c, at(year, 0)
    if year not in county.years:
        c.open_campaign(year, start)
        county.years.add(year)
    made = [(c.create_pledge(m.owner, year, m.person_id, start), m) for m in county.members[:n]]
    for pid, m in made:
        c.comment(m.secretary, pid, COMMENT, start)
    items: dict[int, list[int]] = {}
    sql = "SELECT pledge_id, id FROM pledge_item WHERE pledge_id IN :ids"
    for pledge_id, item_id in ours.query(c.db, sql, ids=[p for p, _ in made]):
        items.setdefault(pledge_id, []).append(item_id)
    notices_before, seconds = ours.scalar(c.db, "SELECT count(*) FROM notice"), {}
    for step in STEPS:
        if step.event == "request_appraisal":  # one progress record per pledge (the has_progress guard)
            now = at(year, PROGRESS_DAY)
            note = {"note": "按计划推进", "happened_on": now.date()}
            for pid, m in made:
                c.progress(m.owner, pid, {"item": min(items[pid]), **note}, now)
        now, owner = at(year, step.day), step.actor == "owner"
        jobs = [(m.owner if owner else m.secretary, pid, event_data(step, year, sorted(items[pid]))) for pid, m in made]
        gc.collect()
        with around(step.event):
            t0 = time.perf_counter()
            for actor, pid, data in jobs:
                c.fire(actor, pid, step.event, now, data)
            seconds[step.event] = time.perf_counter() - t0
    ids = [pid for pid, _ in made]  # every pledge closed, with its create row and one history row per event
    states = dict(ours.query(c.db, "SELECT state, count(*) FROM pledge WHERE id IN :ids GROUP BY state", ids=ids))
    history = "SELECT count(*) FROM history WHERE subject_type = 'pledge' AND subject_id IN :ids"
    rows = ours.scalar(c.db, history, ids=ids)
    assert states == {"closed": len(ids)} and rows == len(ids) * (len(STEPS) + 1), (year, states, rows)
    return {"seconds": seconds, "notices_written": ours.scalar(c.db, "SELECT count(*) FROM notice") - notices_before}


SPIFF_SCHEMA = """
CREATE TABLE spiff_workflow (id INTEGER PRIMARY KEY, year INTEGER NOT NULL, state TEXT NOT NULL,
  version INTEGER NOT NULL, serialization TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE spiff_history (id INTEGER PRIMARY KEY, workflow_id INTEGER NOT NULL REFERENCES spiff_workflow(id),
  seq INTEGER NOT NULL, event TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, actor TEXT NOT NULL,
  at TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (workflow_id, seq));
"""
UPDATE = "UPDATE spiff_workflow SET state = ?, version = ?, serialization = ?, updated_at = ? WHERE id = ?"
HISTORY = "INSERT INTO spiff_history (workflow_id, seq, event, from_state, to_state, actor, at, data)"
HISTORY += " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def ready_task(wf: BpmnWorkflow) -> str:
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    if task is not None:
        return str(task.task_spec.bpmn_id)
    assert wf.is_completed()
    return "closed"


class SpiffStore:
    def __init__(self, path: Path):
        parser = BpmnParser(validator=BpmnValidator())
        parser.add_bpmn_file(str(BPMN))
        self.spec, self.serializer = parser.get_spec("pledge"), BpmnWorkflowSerializer()
        self.conn = sqlite3.connect(path, isolation_level=None)
        ours.sqlite_pragmas(self.conn)
        self.conn.executescript(SPIFF_SCHEMA)
        self.json_bytes: dict[str, int] = {}

    def create(self, year: int, n: int) -> list[int]:
        ids = []
        for _ in range(n):
            wf = BpmnWorkflow(self.spec)
            wf.do_engine_steps()
            state, body = ready_task(wf), self.serializer.serialize_json(wf)
            self.json_bytes.setdefault(state, len(body))
            sql = "INSERT INTO spiff_workflow (year, state, version, serialization, updated_at) VALUES (?, ?, 1, ?, ?)"
            ids.append(self.conn.execute(sql, (year, state, body, at(year, 0).isoformat())).lastrowid or 0)
        return ids

    def step(self, wid: int, step: Step, actor: str, data: dict[str, Any], now: dt.datetime) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT state, version, serialization FROM spiff_workflow WHERE id = ?", (wid,))
            state, version, body = row.fetchone()
            wf = self.serializer.deserialize_json(body)
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            if task is None or task.task_spec.bpmn_id != step.task:
                raise AssertionError(f"workflow {wid}: {step.event} fired in {state}")
            task.data.update({"event": step.event, "actor": actor, **data})
            task.run()
            wf.do_engine_steps()
            dest, body, at_ = ready_task(wf), self.serializer.serialize_json(wf), now.isoformat()
            conn.execute(UPDATE, (dest, version + 1, body, at_, wid))
            recorded = json.dumps(data, ensure_ascii=False)
            conn.execute(HISTORY, (wid, version, step.event, state, dest, actor, at_, recorded))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.json_bytes.setdefault(dest, len(body))

    def walk(self, year: int, n: int) -> dict[str, Any]:
        ids, seconds = self.create(year, n), {}
        for step in STEPS:
            data = {"decision": "approve"} if step.event == "approve" else event_data(step, year, [1, 2, 3])
            now = at(year, step.day)
            gc.collect()
            t0 = time.perf_counter()
            for wid in ids:
                self.step(wid, step, step.actor, data, now)
            seconds[step.event] = time.perf_counter() - t0
        marks, q = ",".join("?" * len(ids)), self.conn.execute
        states = Counter(r for (r,) in q(f"SELECT state FROM spiff_workflow WHERE id IN ({marks})", ids))
        rows = q(f"SELECT count(*) FROM spiff_history WHERE workflow_id IN ({marks})", ids).fetchone()
        assert states == Counter({"closed": len(ids)}) and rows[0] == len(ids) * len(STEPS), (states, rows)
        return {"seconds": seconds}

    def check_return(self) -> None:
        wid = self.create(FIRST_YEAR, 1)[0]
        self.step(wid, STEPS[0], "owner", {}, SEED_AT)
        self.step(wid, STEPS[1], "reviewer", {"decision": "return", "reason": "请补充措施"}, SEED_AT)
        assert self.conn.execute("SELECT state FROM spiff_workflow WHERE id = ?", (wid,)).fetchone()[0] == "proposing"
        self.conn.execute("DELETE FROM spiff_history WHERE workflow_id = ?", (wid,))
        self.conn.execute("DELETE FROM spiff_workflow WHERE id = ?", (wid,))


def sqlite_settings(conn: Any) -> dict[str, Any]:
    names = ["journal_mode", "synchronous", "foreign_keys", "busy_timeout", "wal_autocheckpoint"]
    found = {n: conn.execute(f"PRAGMA {n}").fetchone()[0] for n in names}
    return found | {"synchronous": ["OFF", "NORMAL", "FULL", "EXTRA"][found["synchronous"]]}


def run_round(sides: dict[str, Callable[[int, int], dict[str, Any]]], order: list[str], year: int, n: int) -> dict:
    out: dict[str, Any] = {"year": year, "order": order}
    for name in order:
        walked = sides[name](year, n)
        seconds = walked.pop("seconds")
        total = sum(seconds.values())
        per_s, us = n * len(STEPS) / total, {e: s / n * 1e6 for e, s in seconds.items()}
        out[name] = {"seconds": seconds, "total_s": total, "transitions": n * len(STEPS), "per_s": per_s}
        out[name] |= {"us_per_event": us} | walked
    for name in ("sqlite", "postgresql"):
        if name in out:
            out["ratio" if name == "sqlite" else "ratio_postgresql"] = out[name]["per_s"] / out["spiff"]["per_s"]
    return out


def measure(args: Any) -> report.Results:
    size = SIZES["quick" if args.quick else "full"]
    n = size["pledges"]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pledgeflow-persisted-")))
        t0, counties = time.perf_counter(), {}
        for name, fresh in report.databases(args, "pledgeflow").items():
            counties[name] = build_county(stack.enter_context(fresh()), n)
            stack.callback(counties[name].c.db.dispose)
        store = SpiffStore(tmp / "spiff.db")
        stack.callback(store.conn.close)
        store.check_return()
        setup_s = time.perf_counter() - t0
        sides: dict[str, Callable[[int, int], dict[str, Any]]] = {
            name: lambda year, k, county=county: walk_ours(county, year, k) for name, county in counties.items()
        }
        names = [*sides, "spiff"]
        sides["spiff"] = store.walk
        run_round(sides, names, FIRST_YEAR, size["warmup"])  # warm-up, not kept
        rounds = []
        for r in range(size["rounds"]):
            rounds.append(run_round(sides, names[r % len(names) :] + names[: r % len(names)], FIRST_YEAR + 1 + r, n))
            report.progress(f"round {r + 1}/{size['rounds']}: ours/Spiff {rounds[-1]['ratio']:.2f}×")
        med: dict[str, Any] = {}
        for name in names:
            per_s = statistics.median(r[name]["per_s"] for r in rounds)
            us = {s.event: statistics.median(r[name]["us_per_event"][s.event] for r in rounds) for s in STEPS}
            med[name] = {"per_s": per_s, "ms_per_transition": 1000 / per_s, "us_per_event": us}
        med |= {k: statistics.median(r[k] for r in rounds) for k in ("ratio", "ratio_postgresql") if k in rounds[0]}
        met, profile, pg = med["ratio"] >= TARGET_RATIO, None, None
        if args.profile or not met:
            profile = profile_ours(counties["sqlite"], FIRST_YEAR + 1 + size["rounds"], size["profile_pledges"])
        if "postgresql" in counties:
            with counties["postgresql"].c.db.connect() as conn:
                pg = {k: conn.exec_driver_sql(f"SHOW {k}").scalar() for k in PG_SHOWN}
            pg = {"version": pg.pop("server_version"), **pg}
        with counties["sqlite"].c.db.connect() as conn:
            ours_settings = sqlite_settings(conn.connection.dbapi_connection)
        settings = {"pledgeflow": ours_settings, "spiff": sqlite_settings(store.conn)}
        results = {"sizes": size, "setup_s": round(setup_s, 1), "sqlite_settings": settings, "postgresql": pg}
        results |= {"spiff_json_bytes": store.json_bytes, "rounds": rounds, "medians": med, "profile": profile}
        cycles = size["cycles"]
        results["lifecycles_us"] = walk_lifecycles(counties["sqlite"], FIRST_YEAR + 20 + size["rounds"], cycles)
        results["floor_us"] = raw_floor(tmp / "floor.db", cycles)
    spiff = med["spiff"]["per_s"]
    five = TARGET_RATIO * spiff
    measured = f"{med['ratio']:.2f}× ({med['sqlite']['per_s']:,.0f}/s vs {spiff:,.0f}/s; "
    measured += f"{TARGET_RATIO:g}× would be {five:,.0f}/s, {1000 / five:.2f} ms per transition)"
    target = f"SQLite transitions/s ≥ {TARGET_RATIO:g}× SpiffWorkflow's persisted steps/s (same SQLite)"
    us, floor = results["lifecycles_us"], results["floor_us"]
    worst = max(us, key=lambda k: us[k] / us["pledge"])
    each = ", ".join(f"{k} {v:,.0f} µs" for k, v in us.items())
    slowest = f"{each} CPU per event; the slowest, {worst}, {us[worst] / us['pledge']:.2f}× the pledge"
    lifecycles = f"no lifecycle slower than the pledge path by more than {TARGET_LIFECYCLE_RATIO:g}× per event"
    floored = f"a pledge event within {TARGET_FLOOR_RATIO:g}× of a raw `sqlite3` floor doing its read, guard, update, "
    against = f"{us['pledge']:,.0f} µs against {floor:,.0f} µs: {us['pledge'] / floor:.1f}×"
    targets = [report.target(target, measured, met)]
    targets.append(report.target(lifecycles, slowest, us[worst] / us["pledge"] <= TARGET_LIFECYCLE_RATIO))
    targets.append(report.target(floored + "history and commit", against, us["pledge"] / floor <= TARGET_FLOOR_RATIO))
    return results | {"targets": targets}


REPORT = {"report": "本支部认真开展创先争优活动。" * 20, "meeting_held_on": "2030-11-05", "questionnaires": 30}
CYCLES: dict[str, list[tuple[str, dict[str, Any]]]] = {  # lifecycle → one cycle of events back to where it began
    "pledge": [("secretary", {"event": "return", "reason": "再完善"}), ("owner", {"event": "submit"})],
    "self_evaluation": [
        ("office", {"event": "return", "reason": "补充"}),
        ("secretary", {"event": "submit", "data": REPORT}),
    ],
    "rectification": [
        ("office", {"event": "reject_report", "reason": "不实"}),
        ("secretary", {"event": "report", "data": {"report": "已整改"}}),
    ],
}


def walk_lifecycles(county: County, year: int, n: int) -> dict[str, float]:
    c, now, m = county.c, at(year, 60), county.members[0]
    c.open_campaign(year, at(year, 0))
    office = ours.admin_actor()
    branch = ours.scalar(c.db, "SELECT org_id FROM person WHERE id = :p", p=m.person_id)
    pledge = c.create_pledge(m.owner, year, m.person_id, now)
    c.fire(m.owner, pledge, "submit", now)
    evaluation = c.start("self_evaluation", m.secretary, {"year": year, "org_id": branch}, now)
    c.event(m.secretary, "self_evaluation", evaluation, {"event": "start"}, now)
    c.scores(m.secretary, evaluation, "self", now)
    c.event(m.secretary, "self_evaluation", evaluation, {"event": "submit", "data": REPORT}, now)
    rectify = {"year": year, "org_id": branch, "problems": "组织生活不经常", "due_date": f"{year}-12-20"}
    order = c.start("rectification", office, rectify, now)
    c.event(m.secretary, "rectification", order, {"event": "acknowledge"}, now)
    c.event(m.secretary, "rectification", order, {"event": "report", "data": {"report": "已整改"}}, now)
    records = {"pledge": pledge, "self_evaluation": evaluation, "rectification": order}
    who = {"owner": m.owner, "secretary": m.secretary, "office": office}
    out = {}
    for lifecycle, cycle in CYCLES.items():
        gc.collect()
        t0 = time.process_time()
        for _ in range(n):
            for actor, body in cycle:
                c.event(who[actor], lifecycle, records[lifecycle], body, now)
        out[lifecycle] = (time.process_time() - t0) / (n * len(cycle)) * 1e6
    return out


FLOOR_SCHEMA = """
CREATE TABLE record (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, record_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  event TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL,
  prev_hash TEXT, hash TEXT NOT NULL, UNIQUE (record_id, seq));
"""
FLOOR_HISTORY = "INSERT INTO history (record_id, seq, event, from_state, to_state, actor, at, prev_hash, hash)"
FLOOR_HISTORY += " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


def raw_floor(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    ours.sqlite_pragmas(conn)
    conn.executescript(FLOOR_SCHEMA)
    conn.execute("INSERT INTO record VALUES (1, 'reviewing', 1, '{}')")
    moves = {"reviewing": ("return", "proposing"), "proposing": ("submit", "reviewing")}
    t0 = time.process_time()
    for _ in range(2 * n):
        conn.execute("BEGIN IMMEDIATE")
        state, version = conn.execute("SELECT state, version FROM record WHERE id = 1").fetchone()
        last = conn.execute("SELECT seq, hash FROM history WHERE record_id = 1 ORDER BY seq DESC LIMIT 1").fetchone()
        event, dest = moves[state]
        updated = conn.execute(
            "UPDATE record SET state = ?, version = ? WHERE id = 1 AND version = ?", (dest, version + 1, version)
        )
        assert updated.rowcount == 1
        seq, prev = last if last else (0, None)
        digest = hashlib.sha256(f"{prev}{seq + 1}{event}{state}{dest}".encode()).hexdigest()
        row = (1, seq + 1, event, state, dest, "书记", dt.datetime.now(dt.UTC).isoformat(), prev, digest)
        conn.execute(FLOOR_HISTORY, row)
        conn.execute("COMMIT")
    spent = (time.process_time() - t0) / (2 * n) * 1e6
    conn.close()
    return spent


def profile_ours(county: County, year: int, n: int) -> dict[str, Any]:
    profiler, seen, current = Profiler(interval=0.0002), Counter[tuple[str, str]](), []

    @contextmanager
    def counted(event: str) -> Iterator[None]:
        current.append(event)
        yield
        current.pop()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if current:
            seen[(current[-1], statement.split(None, 1)[0].upper())] += 1

    walk_ours(county, year, n, lambda _event: profiler)  # started and stopped around each event
    sa.event.listen(county.c.db, "before_cursor_execute", on_execute)
    try:
        walk_ours(county, year + 1, n, counted)
    finally:
        sa.event.remove(county.c.db, "before_cursor_execute", on_execute)
    statements: dict[str, dict[str, float]] = {step.event: {} for step in STEPS}
    for (event, verb), k in sorted(seen.items()):
        statements[event][verb] = k / n
    session = profiler.last_session
    by_frame, by_package, inclusive, total = report.profile_counters(session, OURS)
    layers: Counter[str] = Counter()  # packages folded into the layers a transition passes through
    for package, t in by_package.items():
        top = package.split(".")[0]
        if top in ("sqlalchemy", "sqlmodel"):
            layers["SQLAlchemy + SQLModel"] += t
        elif top in OURS:
            layers["Pledgeflow (services, workflow, …)"] += t
        else:
            known = top in ("sqlite3 driver (C)", "transitions", "pydantic", "pydantic_core")
            layers[top.replace("pydantic_core", "pydantic") if known else "other (stdlib, C built-ins)"] += t
    out = {"transitions": n * len(STEPS), "statements_per_event": statements, "samples": len(session.frame_records)}
    out |= {"sampled_s": round(total, 3), "self_time_by_frame": report.shares(by_frame, 12, total)}
    out |= {
        "self_time_by_layer": report.shares(layers, 8, total),
        "self_time_by_package": report.shares(by_package, 10, total),
    }
    return out | {"inclusive_ours": report.shares(inclusive, 16, total)}


def statements(verbs: dict[str, float]) -> str:
    listed = ", ".join(f"{k:g} {verb}" for verb, k in sorted(verbs.items(), key=lambda kv: -kv[1]))
    return f"{sum(verbs.values()):g} ({listed})"


def render(r: report.Results) -> str:
    med, runs, size, pg, n = r["medians"], r["rounds"], r["sizes"], r["postgresql"], r["sizes"]["pledges"]
    labels = {"sqlite": "Pledgeflow `fire_event`, SQLite", "postgresql": "Pledgeflow `fire_event`, PostgreSQL"}
    labels["spiff"], rows = f"SpiffWorkflow {r['machine']['spiffworkflow']} + JSON row, SQLite", []
    for name, label in ((k, v) for k, v in labels.items() if k in med):
        m, each = med[name], " / ".join(f"{x[name]['per_s']:,.0f}" for x in runs)
        ratio = "–" if name == "spiff" else f"{m['per_s'] / med['spiff']['per_s']:.2f}×"
        events = " · ".join(f"{e} {us / 1000:.2f}" for e, us in m["us_per_event"].items())
        rows.append([label, f"{m['per_s']:,.0f}", f"{m['ms_per_transition']:.2f}", ratio, each, events])
    heads = ["side", "transitions/s", "ms per transition", "× Spiff", "per round (/s)", "ms per event"]
    notices = sum(x["sqlite"]["notices_written"] for x in runs)
    per_round = " / ".join(f"{x['ratio']:.2f}×" for x in runs)
    sqlite = ", ".join(f"{k}={v}" for k, v in r["sqlite_settings"]["pledgeflow"].items())
    pg_line = (
        pg and f" PostgreSQL {pg['version']} (fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']})."
    )
    json_bytes = f"{min(r['spiff_json_bytes'].values()):,}–{max(r['spiff_json_bytes'].values()):,}"
    runs_line = f"medians of {len(runs)} rounds, each {n} pledges × {len(STEPS)} events = {n * len(STEPS):,} per side"
    lines = [
        "",
        f"Ours ÷ Spiff per round: {per_round}. This run: {n} pledgers after a warm-up round of {size['warmup']}; the "
        f"events wrote {notices} outbox notices; SQLite {sqlite}.{pg_line or ''} Spiff's JSON {json_bytes} bytes. "
        "Raw runs: `bench/results/persisted.json`.",
    ]
    if p := r["profile"]:
        sql = "; ".join(f"{e} {statements(v)}" for e, v in p["statements_per_event"].items())
        lines += [
            "",
            "Where our transition's time goes (pyinstrument, 0.2 ms sampling, "
            f"{p['transitions']} transitions on SQLite, {p['samples']:,} samples, the events only):",
            "",
            f"- self time by layer: {report.listing(p['self_time_by_layer'], 6)}.",
            f"- self time by package: {report.listing(p['self_time_by_package'], 8)}.",
            f"- self time by frame: {report.listing(p['self_time_by_frame'], 8)}.",
            f"- inclusive, in our code: {report.listing(p['inclusive_ours'], 12)}.",
            f"- SQL statements per event (counted in a separate walk): {sql}.",
        ]
    return report.section(r, runs_line, heads, rows, *lines, pg=bool(pg), notes=True)


if __name__ == "__main__":
    parser = report.parser(__doc__, pg=True)
    parser.add_argument("--profile", action="store_true", help="profile our transitions even when the target is met")
    versions = {"sqlite": sqlite3.sqlite_version, "sqlalchemy": sa.__version__}
    versions["spiffworkflow"] = importlib.metadata.version("SpiffWorkflow")
    sys.exit(report.run(parser.parse_args(), "persisted", "Persisted transitions", measure, render, **versions))
