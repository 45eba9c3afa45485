"""Engine benchmark: one event through the shared machine against the least possible work, and bytes per record."""

from __future__ import annotations

import datetime as dt
import gc
import importlib.metadata
import multiprocessing
import os
import statistics
import sys
import time
import tracemalloc
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import report
import transitions
from statemachine import State, StateMachine
from transitions import Machine

import definitions
import workflow
from workflow import GuardContext
from workflow.guards import evaluate

REPEATS = 5
TARGET_FIRE_US, TARGET_FLOOR_RATIO, TARGET_BYTES_PER_RECORD = 10.0, 50.0, 1.0
KEYS = ("floor_ops", "fire_ops", "machine_time_records", "machine_memory_records", "engine_memory_records")
SIZES = {"quick": dict(zip(KEYS, (20_000, 2_000, 200, 400, 10_000), strict=True)) | {"rss_records": 5_000}}
SIZES["full"] = dict(zip(KEYS, (200_000, 20_000, 2_000, 4_000, 100_000), strict=True)) | {"rss_records": 100_000}
NOW = dt.datetime(2030, 9, 21, 10, 0, tzinfo=dt.UTC)
OURS_KEYS = ("total", "engine")
OURS = ("/workflow/", "/transitions/")
ITEM_ROWS = [
    (1, "每周为学困生开展一次课后辅导", "每周三下午第三节课后在本班教室", dt.date(2030, 12, 31)),
    (2, "每学期家访不少于十户学生家庭", "", dt.date(2031, 1, 15)),
]
Table = dict[tuple[str, str], tuple[str, frozenset[str]]]
Prepare = Callable[[int], Callable[[], object]]  # allocates n records; what it returns builds or fires for them all


def _item_view(row: tuple[int, str, str, dt.date]) -> dict[str, Any]:
    return {
        "id": row[0],
        "content": row[1],
        "measure": row[2],
        "due_date": row[3],
        "outcome": None,
        "explanation": None,
    }


def _facts() -> dict[str, Any]:
    return {"kind": "org", "items": [_item_view(r) for r in ITEM_ROWS], "progress_count": 0, "comment_count": 0}


class Case(NamedTuple):
    event: str
    state: str
    roles: frozenset[str]
    make_ctx: Callable[[], GuardContext]
    guards: int


CTX: dict[str, Callable[[], GuardContext]] = {  # built anew per event, data too, as `usecases.pledges` does
    "submit": lambda: GuardContext(
        record=_facts(), data={"meeting": {"held_on": "2030-09-20", "attendees": 12}}, today=NOW.date()
    ),
    "approve": lambda: GuardContext(record=_facts(), data={}, today=NOW.date()),
    "publish": lambda: GuardContext(
        record=_facts(), data={"channel": "notice_board", "published_on": "2030-09-21"}, today=NOW.date()
    ),
    "withdraw": lambda: GuardContext(
        record=_facts(), data={}, reason="教师调离本校，承诺书由支部撤回", today=NOW.date()
    ),
}
CASES = [
    Case("submit", "proposing", frozenset({"owner"}), CTX["submit"], 3),
    Case("approve", "reviewing", frozenset({"reviewer"}), CTX["approve"], 0),
    Case("publish", "publicizing", frozenset({"secretary"}), CTX["publish"], 2),
    Case("withdraw", "practising", frozenset({"secretary"}), CTX["withdraw"], 1),
]


@contextmanager
def collector(enabled: bool) -> Iterator[None]:
    was = gc.isenabled()
    gc.enable() if enabled else gc.disable()
    try:
        yield
    finally:
        gc.enable() if was else gc.disable()


def median_of(run: Callable[[], float]) -> dict[str, Any]:
    runs = [run() for _ in range(REPEATS)]
    return {"median": statistics.median(runs), "runs": runs}


def per_op_ns(loop: Callable[[int], int], n: int) -> float:
    gc.collect()
    with collector(False):
        return loop(n) / n


def floor_loop(table: Table, case: Case) -> Callable[[int], int]:
    state, event, roles = case.state, case.event, case.roles

    def loop(n: int) -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            dest, allowed = table[(state, event)]
            if roles.isdisjoint(allowed):
                raise AssertionError(dest)
        return time.perf_counter_ns() - t0

    return loop


def call_loop(step: Callable[..., object], case: Case) -> Callable[[int], int]:
    """`step(state, event, roles, context)` per event, the context built each time: `Engine.fire`, or `check`."""
    state, event, roles, make_ctx = case.state, case.event, case.roles, case.make_ctx

    def loop(n: int) -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            step(state, event, roles, make_ctx())
        return time.perf_counter_ns() - t0

    return loop


def ctx_loop(case: Case) -> Callable[[int], int]:
    make_ctx = case.make_ctx

    def loop(n: int) -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            make_ctx()
        return time.perf_counter_ns() - t0

    return loop


def checker(lifecycle: definitions.Lifecycle) -> Callable[..., None]:

    def check(state: str, event: str, roles: frozenset[str], ctx: GuardContext) -> None:
        ev = lifecycle.event(event)
        assert ev is not None
        if roles.isdisjoint(ev.roles) or evaluate(ev.guards, ctx):
            raise AssertionError(f"{event} refused in {state}")

    return check


class Record:
    """A stand-in for a stored row that carries its own machine (the anti-pattern)."""

    def __init__(self) -> None:
        self.state = "proposing"


class PerRecord(NamedTuple):
    label: str
    build: Callable[[Record], object]
    fire: Callable[[Record], object]


def per_record_variants(lifecycle: definitions.Lifecycle) -> dict[str, PerRecord]:
    states = [s.code for s in lifecycle.states]
    trans = [{"trigger": e.name, "source": lifecycle.sources(e), "dest": e.dest} for e in lifecycle.events]

    def machine(auto: bool) -> PerRecord:
        def build(record: Record) -> None:  # binds `trigger` onto the record, which keeps the machine alive
            Machine(model=record, states=states, transitions=trans, initial=record.state, auto_transitions=auto)

        return PerRecord(f"one `Machine` per record, auto_transitions={auto}", build, lambda r: r.trigger("submit"))  # type: ignore[attr-defined]

    sm = {s.code: State(s.label_en, initial=s.code == lifecycle.initial, final=s.final) for s in lifecycle.states}
    events: dict[str, Any] = {}
    for ev in lifecycle.events:
        for source in lifecycle.sources(ev):
            move = sm[source].to(sm[ev.dest], event=ev.name)
            events[ev.name] = events[ev.name] | move if ev.name in events else move
    attrs = {**sm, **events}
    cls = types.new_class(f"{lifecycle.name.title()}Machine", (StateMachine,), exec_body=lambda ns: ns.update(attrs))

    def build(record: Record) -> None:  # kept on the record, as python-statemachine's `MachineMixin` does
        record.machine = cls(model=record)  # type: ignore[attr-defined]

    label = "one python-statemachine `StateMachine` per record"
    statemachine = PerRecord(label, build, lambda r: r.machine.send("submit"))  # type: ignore[attr-defined]
    variants = {f"auto_transitions={auto}": machine(auto) for auto in (False, True)}
    return variants | {"python-statemachine": statemachine}


def build_and_fire(records: list[Record], variant: PerRecord) -> list[Record]:
    build, fire = variant.build, variant.fire
    for record in records:
        build(record)
        fire(record)
    return records


def per_record_us(variant: PerRecord, n: int, collect: bool, prebuilt: bool = False) -> float:
    records, build, fire = [Record() for _ in range(n)], variant.build, variant.fire
    if prebuilt:
        for record in records:
            build(record)
    gc.collect()
    with collector(collect):
        t0 = time.perf_counter_ns()
        if prebuilt:
            for record in records:
                fire(record)
        else:
            build_and_fire(records, variant)
        elapsed = time.perf_counter_ns() - t0
    assert all(r.state == "reviewing" for r in records)
    del records
    gc.collect()
    return elapsed / n / 1000


def prepared(make: Callable[[int], Any], act: Callable[[Any], object]) -> Prepare:
    def prepare(n: int) -> Callable[[], object]:
        records = make(n)
        return lambda: act(records)

    return prepare


def traced_growth(prepare: Prepare, n: int) -> float:
    run = prepare(n)
    gc.collect()
    with collector(False):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            held = run()
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    del held
    gc.collect()
    return grown / n


def _grow(prepare: Prepare, n: int, answer: Any) -> None:
    try:
        gc.disable()
        run, page = prepare(n), os.sysconf("SC_PAGE_SIZE")
        before, t0 = int(Path("/proc/self/statm").read_text().split()[1]) * page, time.perf_counter_ns()
        held = run()
        elapsed = time.perf_counter_ns() - t0
        grown = int(Path("/proc/self/statm").read_text().split()[1]) * page - before  # no collection: freed blocks stay
        del held
        answer.put({"bytes": grown / n, "us": elapsed / n / 1000, "records": n})
    except Exception as exc:
        answer.put({"error": repr(exc)})


def rss_per_record(prepare: Prepare, n: int) -> dict[str, Any]:
    gc.collect()
    ctx = multiprocessing.get_context("fork")
    answer = ctx.Queue()
    child = ctx.Process(target=_grow, args=(prepare, n, answer))
    child.start()
    result: dict[str, Any] = answer.get()
    child.join()
    if "error" in result:
        raise RuntimeError(f"child measuring resident memory failed: {result['error']}")
    return result


def stored_records(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "state": CASES[i % len(CASES)].state} for i in range(n)]


def fire_all(engine: workflow.Engine, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_state, fire = {c.state: c for c in CASES}, engine.fire
    for record in records:
        case = by_state[record["state"]]
        record["state"] = fire(record["state"], case.event, case.roles, case.make_ctx()).dest
    return records


def engine_bytes_per_record(engine: workflow.Engine, n: int) -> dict[str, float]:
    records = stored_records(n)
    start_states = [r["state"] for r in records]
    gc.collect()
    with collector(False):
        tracemalloc.start()
        try:
            before_snap, before = tracemalloc.take_snapshot(), tracemalloc.get_traced_memory()[0]
            fire_all(engine, records)
            gc.collect()
            grown, after_snap = tracemalloc.get_traced_memory()[0] - before, tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    assert all(r["state"] != s for r, s in zip(records, start_states, strict=True))
    diffs = after_snap.compare_to(before_snap, "filename")
    mine = [d for d in diffs if d.traceback and any(f in Path(d.traceback[0].filename).as_posix() for f in OURS)]
    return {"total": grown / n, "engine": sum(d.size_diff for d in mine) / n}


def measure(args: Any) -> report.Results:
    sizes = SIZES["quick" if args.quick else "full"]
    engine = workflow.Engines(definitions.load_catalog(known_guards=workflow.known_guards()))["pledge"]
    lifecycle = engine.lifecycle
    table = {(s, ev.name): (ev.dest, frozenset(ev.roles)) for ev in lifecycle.events for s in lifecycle.sources(ev)}
    for case in CASES:  # the floor and the engine agree on every case, and it passes its guards
        ev = lifecycle.event(case.event)
        assert ev is not None and len(ev.guards) == case.guards, case
        assert engine.fire(case.state, case.event, case.roles, case.make_ctx()).dest == table[(case.state, ev.name)][0]
    variants = per_record_variants(lifecycle)

    def machines(v: PerRecord) -> Prepare:
        return prepared(lambda n: [Record() for _ in range(n)], lambda records: build_and_fire(records, v))

    floor_dict = prepared(lambda n: list(range(n)), lambda ids: floor_states(table, ids))
    # First, while the heap holds little freed memory: a forked child would fill that before its RSS grows.
    n_rss = sizes["rss_records"]
    rss = {key: rss_per_record(machines(v), n_rss) for key, v in variants.items()}
    rss["floor"] = rss_per_record(floor_dict, n_rss)
    rss["engine"] = rss_per_record(prepared(stored_records, lambda records: fire_all(engine, records)), n_rss)
    report.progress("resident bytes per record: " + ", ".join(f"{k} {v['bytes']:,.0f}" for k, v in rss.items()))

    events: dict[str, Any] = {}
    check, n_fire = checker(lifecycle), sizes["fire_ops"]
    for case in CASES:
        loops = {"floor_ns": (floor_loop(table, case), sizes["floor_ops"])}
        loops |= {"fire_ns": (call_loop(engine.fire, case), n_fire), "check_ns": (call_loop(check, case), n_fire)}
        loops["ctx_ns"] = (ctx_loop(case), n_fire)
        row: dict[str, Any] = {"state": case.state, "guards": case.guards}
        for key, (loop, n) in loops.items():
            loop(max(n // 10, 100))  # warm up
            row[key] = median_of(lambda loop=loop, n=n: per_op_ns(loop, n))
        events[case.event] = row | {"ratio": row["fire_ns"]["median"] / row["floor_ns"]["median"]}
        report.progress(f"{case.event}: fire {row['fire_ns']['median'] / 1000:.2f} µs")
    kinds = ("floor_ns", "fire_ns", "check_ns", "ctx_ns")
    mean = {k: statistics.fmean(e[k]["median"] for e in events.values()) for k in kinds}
    mean["ratio"] = mean["fire_ns"] / mean["floor_ns"]

    per_record, n_time, n_mem = {}, sizes["machine_time_records"], sizes["machine_memory_records"]
    for key, v in variants.items():
        per_record_us(v, max(n_time // 10, 20), collect=False)  # warm up
        p: dict[str, Any] = {"label": v.label, "us": median_of(lambda v=v: per_record_us(v, n_time, collect=False))}
        p["us_gc_on"] = median_of(lambda v=v: per_record_us(v, n_time, collect=True))
        p["fire_us"] = median_of(lambda v=v: per_record_us(v, n_time, collect=False, prebuilt=True))
        p["bytes"] = median_of(lambda v=v: traced_growth(machines(v), n_mem))
        p["ratio"], p["fire_ratio"] = (p[k]["median"] * 1000 / mean["floor_ns"] for k in ("us", "fire_us"))
        per_record[key] = p
        report.progress(f"{v.label}: {p['us']['median']:.1f} µs, fire alone {p['fire_us']['median']:.1f} µs")

    n_engine = sizes["engine_memory_records"]
    runs = [engine_bytes_per_record(engine, n_engine) for _ in range(REPEATS)]
    held = {k: {"median": statistics.median(x[k] for x in runs), "runs": [x[k] for x in runs]} for k in OURS_KEYS}
    results: report.Results = {"repeats": REPEATS, "sizes": sizes, "events": events, "mean": mean}
    results["floor_bytes_per_record"] = median_of(lambda: traced_growth(floor_dict, n_engine))
    engine_once = prepared(lambda _: None, lambda _: workflow.Engine(lifecycle))  # kept for the life of the process
    results["engine_size_bytes"] = round(traced_growth(engine_once, 1))
    results |= {"machine_per_record": per_record, "engine_bytes_per_record": held, "rss_bytes_per_record": rss}
    return results | {"targets": targets(results)}


def floor_states(table: Table, ids: list[int]) -> dict[int, str]:
    states: dict[int, str] = {}
    for record_id in ids:
        states[record_id] = "proposing"
        states[record_id] = table[(states[record_id], "submit")][0]
    return states


def targets(r: report.Results) -> list[dict[str, Any]]:
    m, s = r["mean"], r["sizes"]
    fire_us, kept = m["fire_ns"] / 1000, max(r["engine_bytes_per_record"]["engine"]["median"], 0.0)
    grew = f"{r['rss_bytes_per_record']['engine']['bytes']:.1f} B per record over {s['rss_records']:,} records"
    fire = f"{fire_us:.2f} µs (mean of the medians for submit, approve, publish and withdraw)"
    floor = f"{m['ratio']:.0f}× ({fire_us:.2f} µs against {m['floor_ns']:.0f} ns measured in the same run)"
    held = f"{kept:.3f} B per record left in `workflow/` and `transitions/` after firing for "
    held += f"{s['engine_memory_records']:,} records (tracemalloc); the whole process's resident memory grew {grew}"
    texts = [f"≤ {TARGET_FIRE_US:g} µs per event through `workflow.fire()`", f"≤ {TARGET_FLOOR_RATIO:g}× the floor "]
    texts[1] += "(dict-lookup transition table + role check)"
    texts += [f"~0 bytes per stored record held by the engine (< {TARGET_BYTES_PER_RECORD:g} B)"]
    met = [fire_us <= TARGET_FIRE_US, m["ratio"] <= TARGET_FLOOR_RATIO, kept < TARGET_BYTES_PER_RECORD]
    return [report.target(*t) for t in zip(texts, [fire, floor, held], met, strict=True)]


def _us(ns: float) -> str:
    return f"{ns / 1000:.2f}"


def _bytes(b: float) -> str:
    return f"{b:.1f}" if abs(b) < 100 else f"{b:,.0f}"


def split(e: dict[str, Any]) -> str:
    ctx, check, fire = (e[k]["median"] if isinstance(e[k], dict) else e[k] for k in ("ctx_ns", "check_ns", "fire_ns"))
    return f"context {_us(ctx)} µs, roles+guards {_us(check - ctx)} µs, machine {_us(fire - check)} µs"


def render(r: report.Results) -> str:
    m, rss, s, h = r["mean"], r["rss_bytes_per_record"], r["sizes"], r["engine_bytes_per_record"]
    rows: list[list[str]] = []
    for name, e in r["events"].items():
        what = f"`fire()` {name} ({e['state']}, {e['guards']} guard{'' if e['guards'] == 1 else 's'})"
        note = f"floor {e['floor_ns']['median']:.0f} ns; {split(e)}"
        rows.append([what, _us(e["fire_ns"]["median"]), f"{e['ratio']:.0f}×", "–", "–", note])
    mean = ["**`fire()`, mean of the four**", f"**{_us(m['fire_ns'])}**", f"**{m['ratio']:.0f}×**", "–", "–"]
    rows.append([*mean, split(m)])
    floor, floor_bytes = m["floor_ns"], _bytes(r["floor_bytes_per_record"]["median"])
    note = f"{floor:.0f} ns; bytes: one dict `{{record id: state}}` for all records"
    what = "floor: `table[(state, event)]` + role set check"
    rows.append([what, _us(floor), "1×", _bytes(rss["floor"]["bytes"]), floor_bytes, note])
    n = s["machine_time_records"]
    for key, p in r["machine_per_record"].items():
        note = f"{p['us_gc_on']['median']:.1f} µs with the garbage collector on, {n:,} records held; "
        note += f"{rss[key]['us']:.1f} µs while building {rss[key]['records']:,}"
        us, traced = f"{p['us']['median']:.1f}", _bytes(p["bytes"]["median"])
        rows.append([f"{p['label']} (build + fire)", us, f"{p['ratio']:.0f}×", _bytes(rss[key]["bytes"]), traced, note])
        note = f"`submit` once on each of {n:,} machines built beforehand"
        alone = [f"{p['label']}, fire alone", f"{p['fire_us']['median']:.1f}", f"{p['fire_ratio']:.0f}×"]
        rows.append([*alone, "–", "–", note])
    what = f"shared engine, kept per stored record ({s['engine_memory_records']:,} records fired)"
    note = f"tracemalloc counts only `workflow/` and `transitions/`; whole process: {h['total']['median']:.3f} "
    note += f"B/record; the engine itself: {r['engine_size_bytes']:,} B once"
    rows.append([what, "–", "–", _bytes(rss["engine"]["bytes"]), f"{h['engine']['median']:.3f}", note])
    resident = f"bytes per record, resident, at {s['rss_records']:,} records"
    heads = ["measurement", "µs per event / record", "× floor", resident, "bytes per record, tracemalloc", "notes"]
    machine, traced = m["fire_ns"] - m["check_ns"], r["repeats"] * s["machine_memory_records"]
    sizes = f"Sizes: timed loops of {s['fire_ops']:,} events ({s['floor_ops']:,} for the floor); "
    sizes += f"{s['machine_time_records']:,} records per machine run; resident bytes over {s['rss_records']:,} records "
    sizes += f"per forked child; tracemalloc over {s['machine_memory_records']:,} records per machine run "
    sizes += f"({traced:,} in all) and {s['engine_memory_records']:,} for the floor and the shared engine. "
    sizes += f"Of the mean `fire()`, transitions' `Event.trigger` takes {_us(machine)} µs "
    sizes += f"({machine / m['fire_ns']:.0%}); {TARGET_FLOOR_RATIO:g}× the floor is "
    sizes += f"{_us(m['floor_ns'] * TARGET_FLOOR_RATIO)} µs. Raw runs: `bench/results/engine.json`."
    return report.section(r, f"medians of {r['repeats']} runs", heads, rows, "", sizes, notes=True)


if __name__ == "__main__":
    versions = {"transitions": transitions.__version__}
    versions["python-statemachine"] = importlib.metadata.version("python-statemachine")
    sys.exit(report.run(report.parser(__doc__).parse_args(), "engine", "Engine", measure, render, **versions))
