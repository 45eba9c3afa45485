"""Engine benchmark: what one event costs through the shared machine, against the least possible work.

Run as `.venv/bin/python bench/engine.py [--quick]` (`make bench` runs the full version). In one run it measures

  a. the floor: a plain dict "transition table", `table[(state, event)]` → dest, plus a role set check;
  b. `Engine.fire()` on the shared pledge machine for submit (3 guards), approve (none), publish (2 guards)
     and withdraw (1 guard), a `GuardContext` built per event the way `services.pledges` builds one;
  c. the anti-pattern: one `transitions.Machine` per record, built and fired once (time and tracemalloc bytes),
     with `auto_transitions` off and on;
  d. the bytes the shared engine keeps per stored record after firing for many distinct records.

Every figure is the median of 5 repetitions. Timed loops run with the garbage collector off, as `timeit` does;
for the per-record machines, whose cyclic objects stay alive, the cost with the collector on is shown as well.
Prints a table, writes bench/results/engine.json, and rewrites the Engine section of BENCHMARKS.md between
its markers, leaving the other sections alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import transitions
from report import BENCHMARKS, write_section
from transitions import Machine

import definitions
import workflow
from workflow import GuardContext

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "engine.json"
HEADER = (
    "# Pledgeflow benchmarks\n\n"
    "Figures come from `make bench` on the machine named in each section: medians of 5 runs, each compared "
    "against a baseline measured in the same run.\n"
)

REPEATS = 5
TARGET_FIRE_US = 10.0
TARGET_FLOOR_RATIO = 50.0
TARGET_BYTES_PER_RECORD = 1.0
"""`~0 bytes per record`: less than one byte per record over the whole run counts as met."""

NOW = dt.datetime(2030, 9, 21, 10, 0, tzinfo=dt.UTC)
ITEM_ROWS = [
    (1, "每周为学困生开展一次课后辅导", "每周三下午第三节课后在本班教室", dt.date(2030, 12, 31)),
    (2, "每学期家访不少于十户学生家庭", "", dt.date(2031, 1, 15)),
]


# --- the GuardContext a service builds per event (services.pledges._facts / fire_event) -------------------------


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


def ctx_submit() -> GuardContext:
    return GuardContext(record=_facts(), data={"meeting": {"held_on": "2030-09-20", "attendees": 12}}, now=NOW)


def ctx_approve() -> GuardContext:
    return GuardContext(record=_facts(), data={}, now=NOW)


def ctx_publish() -> GuardContext:
    return GuardContext(record=_facts(), data={"channel": "notice_board", "published_on": "2030-09-25"}, now=NOW)


def ctx_withdraw() -> GuardContext:
    return GuardContext(record=_facts(), data={}, reason="教师调离本校，承诺书由支部撤回", now=NOW)


@dataclass(frozen=True)
class Case:
    event: str
    state: str
    roles: frozenset[str]
    make_ctx: Callable[[], GuardContext]
    guards: int


CASES = [
    Case("submit", "proposing", frozenset({"owner"}), ctx_submit, 3),
    Case("approve", "reviewing", frozenset({"reviewer"}), ctx_approve, 0),
    Case("publish", "publicizing", frozenset({"secretary"}), ctx_publish, 2),
    Case("withdraw", "practising", frozenset({"secretary"}), ctx_withdraw, 1),
]


# --- measuring ---------------------------------------------------------------------------------------------------


@contextmanager
def collector(enabled: bool) -> Iterator[None]:
    """Run a block with the garbage collector on or off, then put it back as it was."""
    was = gc.isenabled()
    gc.enable() if enabled else gc.disable()
    try:
        yield
    finally:
        gc.enable() if was else gc.disable()


def median_of(run: Callable[[], float]) -> dict[str, Any]:
    """Run a measurement REPEATS times; keep every run and the median."""
    runs = [run() for _ in range(REPEATS)]
    return {"median": statistics.median(runs), "runs": runs}


def per_op_ns(loop: Callable[[int], int], n: int) -> float:
    gc.collect()
    with collector(False):
        return loop(n) / n


def floor_loop(table: dict[tuple[str, str], tuple[str, frozenset[str]]], case: Case) -> Callable[[int], int]:
    state, event, roles = case.state, case.event, case.roles

    def loop(n: int) -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            dest, allowed = table[(state, event)]
            if roles.isdisjoint(allowed):
                raise AssertionError(dest)
        return time.perf_counter_ns() - t0

    return loop


def fire_loop(engine: workflow.Engine, case: Case) -> Callable[[int], int]:
    fire, state, event, roles, make_ctx = engine.fire, case.state, case.event, case.roles, case.make_ctx

    def loop(n: int) -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fire(state, event, roles, make_ctx())
        return time.perf_counter_ns() - t0

    return loop


def check_loop(engine: workflow.Engine, case: Case) -> Callable[[int], int]:
    """Roles and guards only (`Engine.check`), with the context built per event: fire() minus the machine."""
    check, state, event, roles, make_ctx = engine.check, case.state, case.event, case.roles, case.make_ctx

    def loop(n: int) -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            check(state, event, roles, make_ctx())
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


class Record:
    """A stand-in for a stored row that carries its own machine (the anti-pattern)."""

    def __init__(self) -> None:
        self.state = "proposing"


def machine_spec(lifecycle: definitions.Lifecycle) -> tuple[list[str], list[dict[str, Any]]]:
    states = [s.code for s in lifecycle.states]
    trans = [{"trigger": e.name, "source": lifecycle.sources(e), "dest": e.dest} for e in lifecycle.events]
    return states, trans


def build_and_fire(records: list[Record], states: list[str], trans: list[dict[str, Any]], auto: bool) -> None:
    for record in records:
        Machine(model=record, states=states, transitions=trans, initial=record.state, auto_transitions=auto)
        record.trigger("submit")  # type: ignore[attr-defined]


def per_record_machine_us(spec: tuple[list[str], list[dict[str, Any]]], n: int, auto: bool, collect: bool) -> float:
    records = [Record() for _ in range(n)]
    gc.collect()
    with collector(collect):
        t0 = time.perf_counter_ns()
        build_and_fire(records, *spec, auto)
        elapsed = time.perf_counter_ns() - t0
    assert all(r.state == "reviewing" for r in records)
    del records
    gc.collect()
    return elapsed / n / 1000


def per_record_machine_bytes(spec: tuple[list[str], list[dict[str, Any]]], n: int, auto: bool) -> float:
    records = [Record() for _ in range(n)]  # allocated before tracing: only the machines are counted
    gc.collect()
    with collector(False):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            build_and_fire(records, *spec, auto)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    del records
    gc.collect()
    return grown / n


def _is_engine_frame(filename: str) -> bool:
    path = Path(filename).as_posix()
    return "/workflow/" in path or "/transitions/" in path


def engine_bytes_per_record(engine: workflow.Engine, n: int) -> dict[str, float]:
    """Fire for `n` distinct stored records (each its own state) through the one engine; what stays allocated."""
    by_state = {c.state: c for c in CASES}
    start_states = [CASES[i % len(CASES)].state for i in range(n)]
    records = [{"id": i, "state": s} for i, s in enumerate(start_states)]
    fire = engine.fire
    gc.collect()
    with collector(False):
        tracemalloc.start()
        try:
            before_snap = tracemalloc.take_snapshot()
            before = tracemalloc.get_traced_memory()[0]
            for record in records:
                case = by_state[record["state"]]
                record["state"] = fire(record["state"], case.event, case.roles, case.make_ctx()).dest
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
            after_snap = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    moved = sum(1 for r, s in zip(records, start_states, strict=True) if r["state"] != s)
    assert moved == n, f"only {moved} of {n} records moved"
    engine_grown = sum(
        d.size_diff
        for d in after_snap.compare_to(before_snap, "filename")
        if d.traceback and _is_engine_frame(d.traceback[0].filename)
    )
    return {"total": grown / n, "engine": engine_grown / n}


def engine_size_bytes(lifecycle: definitions.Lifecycle) -> int:
    """One-time cost: what building the shared pledge Engine allocates (kept for the life of the process)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        engine = workflow.Engine(lifecycle)
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del engine
    return size


# --- the run -----------------------------------------------------------------------------------------------------


_T0 = time.perf_counter()


def progress(message: str) -> None:
    print(f"  [{time.perf_counter() - _T0:5.1f} s] {message}", file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "processor": platform.processor(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "transitions": transitions.__version__,
    }


def command() -> str:
    exe = Path(sys.executable)
    with suppress(ValueError):
        exe = exe.relative_to(Path.cwd())
    return shlex.join([str(exe), *sys.argv])


def measure(quick: bool) -> dict[str, Any]:
    sizes = {
        "floor_ops": 20_000 if quick else 200_000,
        "fire_ops": 2_000 if quick else 20_000,
        "machine_time_records": 200 if quick else 2_000,
        "machine_memory_records": 400 if quick else 4_000,
        "engine_memory_records": 10_000 if quick else 100_000,
    }
    catalog = definitions.load_catalog(known_guards=workflow.known_guards())
    engine = workflow.Engines(catalog)["pledge"]
    lifecycle = engine.lifecycle
    table = {
        (state, ev.name): (ev.dest, frozenset(ev.roles)) for ev in lifecycle.events for state in lifecycle.sources(ev)
    }
    for case in CASES:  # the floor and the engine agree on every case, and it passes its guards
        ev = lifecycle.event(case.event)
        assert ev is not None and len(ev.guards) == case.guards, case
        assert engine.fire(case.state, case.event, case.roles, case.make_ctx()).dest == table[(case.state, ev.name)][0]

    events: dict[str, Any] = {}
    for case in CASES:
        loops = {
            "floor_ns": (floor_loop(table, case), sizes["floor_ops"]),
            "fire_ns": (fire_loop(engine, case), sizes["fire_ops"]),
            "check_ns": (check_loop(engine, case), sizes["fire_ops"]),
            "ctx_ns": (ctx_loop(case), sizes["fire_ops"]),
        }
        row: dict[str, Any] = {"state": case.state, "guards": case.guards}
        for key, (loop, n) in loops.items():
            loop(max(n // 10, 100))  # warm up
            row[key] = median_of(lambda loop=loop, n=n: per_op_ns(loop, n))
        row["ratio"] = row["fire_ns"]["median"] / row["floor_ns"]["median"]
        events[case.event] = row
        progress(f"{case.event}: fire {row['fire_ns']['median'] / 1000:.2f} µs")

    def mean(key: str) -> float:
        return statistics.fmean(e[key]["median"] for e in events.values())

    summary = {
        "floor_ns": mean("floor_ns"),
        "fire_ns": mean("fire_ns"),
        "check_ns": mean("check_ns"),
        "ctx_ns": mean("ctx_ns"),
    }
    summary["ratio"] = summary["fire_ns"] / summary["floor_ns"]

    spec = machine_spec(lifecycle)
    per_record: dict[str, Any] = {}
    n_time, n_mem = sizes["machine_time_records"], sizes["machine_memory_records"]
    for auto in (False, True):
        key = f"auto_transitions={auto}"
        per_record_machine_us(spec, max(n_time // 10, 20), auto, collect=False)  # warm up
        row = {
            "us": median_of(lambda a=auto: per_record_machine_us(spec, n_time, a, collect=False)),
            "us_gc_on": median_of(lambda a=auto: per_record_machine_us(spec, n_time, a, collect=True)),
            "bytes": median_of(lambda a=auto: per_record_machine_bytes(spec, n_mem, a)),
        }
        row["ratio"] = row["us"]["median"] * 1000 / summary["floor_ns"]
        per_record[key] = row
        progress(f"machine per record, {key}: {row['us']['median']:.1f} µs, {row['bytes']['median']:,.0f} B")

    held_runs = [engine_bytes_per_record(engine, sizes["engine_memory_records"]) for _ in range(REPEATS)]
    held = {
        "total": {"median": statistics.median(r["total"] for r in held_runs), "runs": [r["total"] for r in held_runs]},
        "engine": {
            "median": statistics.median(r["engine"] for r in held_runs),
            "runs": [r["engine"] for r in held_runs],
        },
    }
    progress(f"engine bytes per record: {held['engine']['median']:.3f}")

    targets = {
        "fire_us": {"target": TARGET_FIRE_US, "value": summary["fire_ns"] / 1000},
        "floor_ratio": {"target": TARGET_FLOOR_RATIO, "value": summary["ratio"]},
        "bytes_per_record": {"target": TARGET_BYTES_PER_RECORD, "value": max(held["engine"]["median"], 0.0)},
    }
    for t in targets.values():
        t["met"] = t["value"] <= t["target"]

    return {
        "benchmark": "engine",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command(),
        "quick": quick,
        "repeats": REPEATS,
        "machine": machine_info(),
        "sizes": sizes,
        "events": events,
        "mean": summary,
        "engine_size_bytes": engine_size_bytes(lifecycle),
        "machine_per_record": per_record,
        "engine_bytes_per_record": held,
        "targets": targets,
    }


# --- reporting ---------------------------------------------------------------------------------------------------


def _us(ns: float) -> str:
    return f"{ns / 1000:.2f}"


def _met(t: dict[str, Any]) -> str:
    return "met" if t["met"] else "**missed**"


def table_rows(r: dict[str, Any]) -> list[list[str]]:
    floor = r["mean"]["floor_ns"]
    rows = []
    for name, e in r["events"].items():
        rows.append(
            [
                f"`fire()` {name} ({e['state']}, {e['guards']} guard{'' if e['guards'] == 1 else 's'})",
                _us(e["fire_ns"]["median"]),
                f"{e['ratio']:.0f}×",
                "–",
                f"floor {e['floor_ns']['median']:.0f} ns; context {_us(e['ctx_ns']['median'])} µs, "
                f"roles+guards {_us(e['check_ns']['median'] - e['ctx_ns']['median'])} µs, "
                f"machine {_us(e['fire_ns']['median'] - e['check_ns']['median'])} µs",
            ]
        )
    m = r["mean"]
    rows.append(
        [
            "**`fire()`, mean of the four**",
            f"**{_us(m['fire_ns'])}**",
            f"**{m['ratio']:.0f}×**",
            "–",
            f"context {_us(m['ctx_ns'])} µs, roles+guards {_us(m['check_ns'] - m['ctx_ns'])} µs, "
            f"machine {_us(m['fire_ns'] - m['check_ns'])} µs",
        ]
    )
    rows.append(["floor: `table[(state, event)]` + role set check", _us(floor), "1×", "–", f"{floor:.0f} ns"])
    for key, p in r["machine_per_record"].items():
        rows.append(
            [
                f"one `Machine` per record, {key} (build + fire)",
                f"{p['us']['median']:.1f}",
                f"{p['ratio']:.0f}×",
                f"{p['bytes']['median']:,.0f}",
                f"{p['us_gc_on']['median']:.1f} µs with the garbage collector on, "
                f"{r['sizes']['machine_time_records']:,} records held",
            ]
        )
    h = r["engine_bytes_per_record"]
    rows.append(
        [
            f"shared engine, kept per stored record ({r['sizes']['engine_memory_records']:,} records fired)",
            "–",
            "–",
            f"{h['engine']['median']:.3f}",
            f"whole process: {h['total']['median']:.3f} B/record; the engine itself: {r['engine_size_bytes']:,} B once",
        ]
    )
    return rows


HEADINGS = ["measurement", "µs per event / record", "× floor", "bytes per record", "notes"]


def print_table(r: dict[str, Any]) -> None:
    rows = [HEADINGS, *table_rows(r)]
    rows = [[c.replace("**", "").replace("`", "") for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADINGS) - 1)]
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))]
        print("  ".join(cells) + "  " + row[-1])
        if n == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * len(HEADINGS[-1]))
    print()
    for name, t in r["targets"].items():
        print(f"target {name}: {t['value']:.3f} (≤ {t['target']:g}) {'met' if t['met'] else 'MISSED'}")


def section(r: dict[str, Any]) -> str:
    mi, t, s = r["machine"], r["targets"], r["sizes"]
    cpu = mi["cpu_model"] or mi["processor"] or mi["machine"]
    lines = [
        f"Machine: {cpu} ({mi['processor'] or mi['machine']}), {mi['cpu_count']} CPUs, {mi['platform']}; "
        f"Python {mi['python']}, transitions {mi['transitions']}.  ",
        f"Command: `{r['command']}` · date: {r['date']} · medians of {r['repeats']} runs.",
        "",
        "| " + " | ".join(HEADINGS) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADINGS) - 2) + ["---"]) + "|",
        *("| " + " | ".join(row) + " |" for row in table_rows(r)),
        "",
        "Targets:",
        "",
        f"- ≤ {t['fire_us']['target']:g} µs per event through `fire()`: {t['fire_us']['value']:.2f} µs, "
        f"{_met(t['fire_us'])}.",
        f"- ≤ {t['floor_ratio']['target']:g}× the floor: {t['floor_ratio']['value']:.0f}×, {_met(t['floor_ratio'])}.",
        f"- ~0 bytes kept per record (< {t['bytes_per_record']['target']:g} B): "
        f"{t['bytes_per_record']['value']:.3f} B, {_met(t['bytes_per_record'])}.",
        "",
        "How: each `fire()` builds its `GuardContext` as `services.pledges` does (record facts with two items, the "
        "event's data); the context, roles+guards (`Engine.check`) and machine columns split that time. "
        f"Timed loops run {s['fire_ops']:,} events ({s['floor_ops']:,} for the floor) with the garbage collector "
        f"off. The per-record machines have no guards; their bytes are tracemalloc growth over "
        f"{s['machine_memory_records']:,} records per run ({REPEATS * s['machine_memory_records']:,} in all). "
        "Bytes kept by the shared engine are tracemalloc growth in `workflow/` and `transitions/` after firing "
        "once for every record. Raw runs: `bench/results/engine.json`.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller loops: a smoke run, not figures to publish")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = measure(args.quick)
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    write_section("engine", "Engine", section(results), header=HEADER)
    print(f"\nwrote {RESULTS.relative_to(ROOT)} and {BENCHMARKS.relative_to(ROOT)} in {results['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
