"""Simulate benchmark: a campaign year at real scale — `pledgeflow simulate` on generated counties."""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import suppress
from typing import Any

import ours
import report
import sqlalchemy as sa

YEAR, TARGET_S = 2010, 60.0
DISTRICT = {"orgs": 653, "members": 23_625}
NATION = {"name": "the nation (2024)", "orgs": 5_250_000, "members": 100_000_000}
PROVINCE = {"name": "an average province (1/31 of the nation)", "orgs": 5_250_000 // 31, "members": 100_000_000 // 31}
SQLITE_FACTORS = {"quick": (1 / 32, 1 / 16), "full": (1 / 8, 1 / 4, 1 / 2, 1.0)}
PG_FACTORS = (1.0, 10.0)
NAMES = report.NAMES
KEYS = ("seconds", "cpu_seconds", "db_bytes", "transitions", "calls")


def one(factor: float, url: str | None) -> dict[str, Any]:
    """Play one year at `factor` × the district and return its figures (in a child process of its own)."""
    text = io.StringIO()
    o, shape = ours.simulate(YEAR, factor, url, text)
    f, calls, total = o.figures, sum(o.calls.values()), o.seconds["total"]
    by_call = {k: {"calls": n, "seconds": o.spent[k], "ms_per_call": 1000 * o.spent[k] / n} for k, n in o.calls.items()}
    by_call = dict(sorted(by_call.items(), key=lambda kv: -kv[1]["seconds"]))
    out = {"factor": factor, "orgs": shape.orgs, "branches": shape.branches, "members": shape.members}
    out |= {"dialect": o.dialect, "seconds": o.seconds, "calls": calls, "transitions": o.transitions}
    out |= {"transitions_per_s": o.transitions / total, "calls_per_s": calls / total}
    out |= {"cpu_ms_per_call": 1000 * o.seconds["cpu"] / calls, "db_bytes": o.db_bytes}
    out |= {"notices": sum(f["notices"].values()), "notices_by_kind": f["notices"], "inbox_entries": f["inbox_entries"]}
    out |= {"pledges": f["pledges"], "deadlines": {"/".join(k): v for k, v in f["deadlines"].items()}}
    out |= {"ballots": sum(f["ballots"].values()), "late_transitions": f["late_transitions"]}
    out |= {"refused": len(o.refused), "refused_examples": o.refused[:5], "by_call": by_call}
    out["busiest_step"] = {"calls": o.busiest[0], "ending": o.busiest[1].isoformat()}
    return out | {"peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "summary": text.getvalue()}


def run_child(factor: float, url: str | None, label: str) -> dict[str, Any]:
    spec, started = json.dumps({"factor": factor, "url": url}), time.perf_counter()
    cmd = [sys.executable, __file__, "--one", spec]
    done = subprocess.run(cmd, cwd=report.ROOT, stdout=subprocess.PIPE, text=True, check=True)
    r: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    r["wall_s_with_interpreter"] = time.perf_counter() - started
    s = r["seconds"]
    report.progress(f"{label} ×{factor:g} ({r['members']:,} members): {s['total']:.1f} s, {r['refused']} refused")
    assert r["refused"] == 0, r["refused_examples"]
    assert set(r["pledges"]) == {"closed"}, r["pledges"]
    return r


def fit(xs: list[float], ys: list[float]) -> dict[str, float]:
    """Least squares y = intercept + slope·x, with R²."""
    if len(xs) < 2:
        return {"slope": ys[0] / xs[0], "intercept": 0.0, "r2": float("nan")}
    slope, intercept = statistics.linear_regression(xs, ys)
    mean = statistics.fmean(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return {"slope": slope, "intercept": intercept, "r2": 1 - residual / total if total else 1.0}


def curve(runs: list[dict[str, Any]]) -> dict[str, Any]:
    xs, ys = [float(r["members"]) for r in runs], {"seconds": [r["seconds"]["total"] for r in runs]}
    ys |= {"cpu_seconds": [r["seconds"]["cpu"] for r in runs]}
    ys |= {k: [float(r[k]) for r in runs] for k in ("db_bytes", "transitions", "calls")}
    return {"points": len(runs)} | {f"{k}_vs_members": fit(xs, y) for k, y in ys.items()}


def predict(line: dict[str, float], members: float) -> float:
    return line["intercept"] + line["slope"] * members


def projection(curves: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for place in (PROVINCE, NATION):
        out[place["name"]] = entry = {"orgs": place["orgs"], "members": place["members"]}
        for backend, c in curves.items():
            at = {k: predict(c[f"{k}_vs_members"], place["members"]) for k in KEYS}
            entry[backend] = {"replay_hours": at["seconds"] / 3600, "cpu_hours": at["cpu_seconds"] / 3600}
            entry[backend] |= {"db_gb": at["db_bytes"] / 1e9, "transitions": at["transitions"], "calls": at["calls"]}
    return out


def revision() -> str:
    """The code measured: PLEDGEFLOW_BENCH_REVISION, or a git revision (`-dirty` when the tree has changes)."""
    if revision := os.environ.get("PLEDGEFLOW_BENCH_REVISION"):
        return revision
    with suppress(OSError, subprocess.CalledProcessError):
        return report.git("describe", "--always", "--dirty")
    return "unknown"


def measure(args: Any) -> report.Results:
    mode, pg_url = "quick" if args.quick else "full", report.pg_url(args)
    results: report.Results = {"revision": revision(), "district": DISTRICT, "runs": {}}
    results["runs"]["sqlite"] = [run_child(factor, None, "sqlite") for factor in SQLITE_FACTORS[mode]]
    if pg_url and not args.quick:
        db = sa.create_engine(pg_url)
        results["postgresql_version"] = report.server_version(db)
        db.dispose()
        results["runs"]["postgresql"] = []
        for factor in PG_FACTORS:
            with report.pg_schema_url(pg_url) as url:
                results["runs"]["postgresql"].append(run_child(factor, url, "postgresql"))
    else:
        results["postgresql_skipped"] = "a --quick run plays SQLite only" if args.quick else "no PostgreSQL URL"
    results["fit"] = {backend: curve(runs) for backend, runs in results["runs"].items()}
    results["projection"] = projection(results["fit"])
    return results | {"targets": targets(results)}


def district_run(r: dict[str, Any], backend: str, factor: float = 1.0) -> dict[str, Any] | None:
    return next((run for run in r["runs"].get(backend, []) if run["factor"] == factor), None)


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    run = district_run(r, "sqlite")
    target = f"a district-size year (653 organisations, 23,625 members) in < {TARGET_S:g} s on SQLite"
    if run is None:  # a quick run cannot judge it
        guess = predict(r["fit"]["sqlite"]["seconds_vs_members"], DISTRICT["members"])
        measured, met = f"not run at district size (--quick); the fitted line predicts {guess:.0f} s", None
    else:
        s = run["seconds"]
        measured, met = f"{s['total']:.1f} s wall, {s['cpu']:.1f} s CPU in the process", s["total"] < TARGET_S
    out = [report.target(target, measured, met)]
    if big := district_run(r, "postgresql", 10.0):
        target = "10× the district (6,530 organisations, 236,250 members) on PostgreSQL, nothing refused"
        measured = f"{big['seconds']['total'] / 60:.1f} min, {big['refused']} refused"
        out.append(report.target(target, measured, big["refused"] == 0))
    return out


HEADS = ["database", "× district", "orgs", "members", "use-case calls", "transitions", "total", "CPU"]
HEADS += ["transitions/s", "calls/s", "DB size", "notices", "peak RSS"]


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:,.1f} h" if hours < 48 else f"{hours / 24:,.1f} days"


def render(r: report.Results) -> str:
    rows = []
    for backend, runs in r["runs"].items():
        for run in runs:
            s, b = run["seconds"], "**" if run["factor"] == 1.0 and backend == "sqlite" else ""
            counts = [f"{run[k]:,}" for k in ("orgs", "members", "calls", "transitions")]
            rates = [f"{run['transitions_per_s']:,.0f}", f"{run['calls_per_s']:,.0f}"]
            size = [f"{run['db_bytes'] / 2**20:,.1f} MB", f"{run['notices']:,}", f"{run['peak_rss_kb'] / 1024:,.0f} MB"]
            times = [f"{b}{s['total']:,.1f} s{b}", f"{s['cpu']:,.1f} s"]
            rows.append([NAMES[backend], f"{run['factor']:g}", *counts, *times, *rates, *size])
    fits = []
    for backend, c in r["fit"].items():
        t, cpu, size = c["seconds_vs_members"], c["cpu_seconds_vs_members"], c["db_bytes_vs_members"]
        r2 = "" if c["points"] < 3 else f", R² = {t['r2']:.3f}"
        fits.append(
            f"- {NAMES[backend]} ({c['points']} sizes): time = {t['intercept']:.1f} s + {1000 * t['slope']:.2f} s "
            f"per 1,000 members{r2}; CPU {1000 * cpu['slope']:.2f} s per 1,000 members; "
            f"database {size['slope'] / 1024:.1f} KB per member."
        )
    run = max(r["runs"]["sqlite"], key=lambda x: x["members"])  # where the time of the largest SQLite run went
    s, spent = run["seconds"], sum(v["seconds"] for v in run["by_call"].values())
    top = [(k, v["ms_per_call"], v["calls"], 100 * v["seconds"] / spent) for k, v in list(run["by_call"].items())[:9]]
    calls = "; ".join(f"`{k}` {ms:.2f} ms ×{n:,} ({share:.0f} %)" for k, ms, n, share in top)
    cost = (
        f"Where the time goes (SQLite, {run['members']:,} members, {s['total']:.1f} s): use-case calls "
        f"{s['actions']:.1f} s ({100 * s['actions'] / s['total']:.0f} %), deadline sweeps {s['sweep']:.1f} s "
        f"({100 * s['sweep'] / s['total']:.0f} %), schema and county {s['setup'] + s.get('generate', 0):.1f} s. "
        f"By call (ms per call, share of the calls' time): {calls}."
    )
    projected = []
    for name, p in r["projection"].items():
        parts = [
            f"{NAMES[b]}: replaying the year in one process ≈ {_duration(x['replay_hours'])} "
            f"({_duration(x['cpu_hours'])} of CPU), ≈ {x['calls'] / 1e6:,.0f} M use-case calls and "
            f"{x['transitions'] / 1e6:,.0f} M transitions, database ≈ {x['db_gb']:,.0f} GB"
            for b, x in ((b, p[b]) for b in r["fit"])
        ]
        place = f"**{name}** ({p['members'] / 1e6:,.1f} M members, {p['orgs']:,} organisations)"
        projected.append(f"- {place}: {'; '.join(parts)}.")
    busiest = run["busiest_step"]["calls"]  # the busiest simulated six hours, scaled up, against the measured rates
    rates = ", ".join(f"{NAMES[b]} {max(x['calls_per_s'] for x in runs):,.0f}" for b, runs in r["runs"].items() if runs)
    live = [
        f"Live load: the busiest six simulated hours of the {run['members']:,}-member run held {busiest:,} calls "
        f"({busiest / 21600:.2f}/s over the six hours; calls/s measured by one process: {rates})."
    ]
    for place in (PROVINCE, NATION):
        n = busiest * place["members"] / run["members"]
        live.append(f"The same bunching for {place['name']}: {n / 1e6:,.1f} M calls in six hours, {n / 21600:,.0f}/s.")
    versions = f"; {r['postgresql_version']}" if "postgresql_version" in r else ""
    note = f" PostgreSQL not run: {r['postgresql_skipped']}." if "postgresql_skipped" in r else ""
    note += f" Run from {r['run_from']}." if r.get("run_from") else ""
    took = f"took {r['runtime_s'] / 60:.1f} min"
    runs_line = f"code: {r.get('revision', '?')} · one run per size, each in a fresh process · {took}"
    lines = [*report.header(r, runs_line, versions, note), *report.table(HEADS, rows), ""]
    lines += ["Fitted lines (least squares, time against members):", "", *fits, *report.target_lines(r["targets"])]
    projection = "Projection — **a linear extrapolation** of the fitted lines far beyond the measured sizes, for one "
    projection += "process replaying the whole year as `pledgeflow simulate` does:"
    raw = "Raw figures, per-call costs and each run's Chinese summary: `bench/results/simulate.json`."
    return "\n".join([*lines, "", cost, "", projection, "", *projected, "", " ".join(live), "", raw])


if __name__ == "__main__":
    parser = report.parser(__doc__, pg=True)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print(json.dumps(one(spec["factor"], spec["url"]), ensure_ascii=False, default=str))
    else:
        versions = {"sqlalchemy": sa.__version__, "sqlite": sqlite3.sqlite_version}
        sys.exit(report.run(args, "simulate", "A year at real scale", measure, render, **versions))
