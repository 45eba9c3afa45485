"""HTTP benchmark: real `pledgeflow serve` processes under wrk (`make wrk`), on SQLite and PostgreSQL, 1–4 workers."""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import ours
import proc
import report
import sqlalchemy as sa

PY_SPY = Path(sys.executable).parent / "py-spy"
WRK = Path(__file__).resolve().parent / "wrk"
CONNECTIONS, THREADS = 32, 2
TARGET_RPS, TARGET_P99_MS, TARGET_CPU_RATIO = 1000.0, 100.0, 4.0
CONFIGS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))
WORKLOADS = {
    "healthz": "`GET /healthz`",
    "list": "`GET /api/v1/pledges?limit=20` (office)",
    "events": "`POST /api/v1/pledges/{id}/events` (submit / return)",
    "events_1": "the same events, **1 connection** (diagnostic)",
    "healthz_1": "`GET /healthz`, **1 connection** (diagnostic)",
}
PATHS = {"healthz": "/healthz", "list": "/api/v1/pledges?limit=20", "events": ""}
NAMES = report.NAMES
RETURN_REASON = "承诺措施还不够具体，请补充后再提交"
RACE_CALLS = [("secretary", {"event": "approve"})] * 12 + [("secretary", {"event": "return", "reason": "再改改"})] * 4
RACE_CALLS += [("office", {"event": "withdraw", "reason": "重复"})] * 4
SIZES = {"quick": {"pool": 200, "duration_s": 2, "warmup_s": 1, "race_rounds": 1, "profile_s": 2, "diag_s": 1}}
SIZES["full"] = {"pool": 2000, "duration_s": 12, "warmup_s": 2, "race_rounds": 5, "profile_s": 10, "diag_s": 3}
SIZES["quick"]["configs"], SIZES["full"]["configs"] = CONFIGS[:3], CONFIGS  # --quick: under 5 minutes on 2 CPUs
Sizes = dict[str, Any]


class PoolPledge(NamedTuple):
    id: int
    owner_token: str
    reviewer_token: str


def seed(url: str, pool: int, race: int, now: dt.datetime) -> dict[str, Any]:
    started, c = time.perf_counter(), ours.Pledgeflow(url)
    try:
        county = c.seed(now, accounts_for_all=True, with_pledges=True, year=now.year + 1)  # its deadlines ahead
        reviewers = {}
        for b in county.branches:
            reviewers[b.id] = c.user(f"审查书记{b.id}", None, [{"role": "secretary", "org_id": b.id}], now)[1]
        made: list[PoolPledge] = []
        for n in range(pool + race):
            branch = county.branches[n % len(county.branches)]
            person_id, owner, token = c.member(f"压测党员{n}", branch.id, now)
            pid = c.create_pledge(owner, county.year, person_id, now)
            if n >= pool or n % 4 in (2, 3):
                c.fire(owner, pid, "submit", now)
            made.append(PoolPledge(pid, token, reviewers[branch.id]))
            if (n + 1) % 500 == 0:
                report.progress(f"  seeded {n + 1:,} pledges")
        people = len(county.people) + pool + race
        return {"pool": made[:pool], "race": made[pool:], "people": people, "seconds": time.perf_counter() - started}
    finally:
        c.db.dispose()


@dataclass
class Backend:
    name: str
    url: str
    db: sa.Engine
    pool: list[PoolPledge]
    race: list[PoolPledge]
    admin_token: str
    version: str = field(init=False)
    postmaster: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.version, self.postmaster = report.server_version(self.db), proc.postmaster_pid(self.db)


def wrk_script(b: Backend, workload: str, threads: int) -> str:
    """The Lua for one burst: bench/wrk/events.lua with the pool's states, or a static GET."""
    done = (WRK / "done.lua").read_text(encoding="utf-8")
    if workload != "events":
        token = f'wrk.headers["Authorization"] = "Bearer {b.admin_token}"\n' if workload == "list" else ""
        setup = "function setup(thread) table.insert(threads, thread) end\n"
        return f'threads = {{}}\nwrk.method = "GET"\n{token}{setup}{done}'
    sql = "SELECT id, state, version FROM pledge WHERE id IN :ids"
    states = {int(i): (str(s), int(v)) for i, s, v in ours.query(b.db, sql, ids=[p.id for p in b.pool])}
    assert {s for s, _ in states.values()} <= {"proposing", "reviewing"}, Counter(s for s, _ in states.values())
    rows = ",\n".join(
        f'{{{p.id},"{states[p.id][0]}",{states[p.id][1]},"{p.owner_token}","{p.reviewer_token}"}}' for p in b.pool
    )
    head = f'POOL = {{\n{rows}\n}}\nNTHREADS = {threads}\nREASON = "{RETURN_REASON}"\n'
    return head + (WRK / "events.lua").read_text(encoding="utf-8") + done


def run_wrk(url: str, script: str, duration: int, workdir: Path, connections: int, threads: int) -> dict[str, Any]:
    path = workdir / f"wrk-{secrets.token_hex(4)}.lua"
    path.write_text(script, encoding="utf-8")
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "--latency"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([*args, "-s", str(path), url], capture_output=True, text=True, timeout=duration + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    out["client_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out["wrk_output"] = [ln for ln in done.stdout.splitlines() if ln and not ln.startswith("BENCH_JSON")]
    return out


def burst(
    b: Backend, server: proc.Server, workload: str, duration: int, connections: int = CONNECTIONS, warmup: bool = False
) -> dict[str, Any]:
    threads = min(THREADS, connections)
    script, workdir = wrk_script(b, workload, threads), server.log.parent
    with proc.cpu_spent({"server": server.pid, "database": b.postmaster}) as cpu:
        started = time.perf_counter()
        out = run_wrk(server.url + PATHS[workload], script, duration, workdir, connections, threads)
        wall = time.perf_counter() - started
    proc.wait_idle(server.pid, 0.3)  # the requests in flight when the load stopped: the next burst reads settled states
    if warmup:
        return out
    if not (n := out["requests"]):
        raise RuntimeError(f"{workload}: no request completed: {out}")
    codes = {int(k): v for k, v in out["codes"].items()}
    lat = {f"{k}_ms": out["latency_us"][k] / 1000 for k in ("p50", "p90", "p99", "p999")}
    others = cpu["system"] - cpu["server"] - cpu.get("database", 0.0) - cpu["self"] - out["client_cpu_s"]
    result = {"requests": n, "rps": n / (out["duration_us"] / 1e6), **lat, "max_ms": out["latency_us"]["max"] / 1000}
    result["non_2xx"] = sum(v for k, v in codes.items() if not 200 <= k < 300) if codes else out["errors"]["status"]
    result |= {"codes": codes, "socket_errors": {k: v for k, v in out["errors"].items() if k != "status" and v}}
    result |= {"server_cpu_s": cpu["server"], "server_cpu_ms_per_request": cpu["server"] * 1000 / n}
    result |= {"server_cores_busy": cpu["server"] / wall, "other_cores_busy": max(0.0, others) / wall}
    result |= {"connections": connections, "wall_s": wall, "extra": out.get("extra", {})}
    result["client_cpu_s"] = out["client_cpu_s"]
    if "database" in cpu:
        result |= {"database_cpu_s": cpu["database"], "database_cpu_ms_per_request": cpu["database"] * 1000 / n}
    return result | {"wrk_output": out["wrk_output"]}


def race_round(url: str, pledge: PoolPledge, admin_token: str) -> dict[str, Any]:
    tokens = {"secretary": pledge.reviewer_token, "office": admin_token}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30) as office:
        version = office.get(f"/api/v1/pledges/{pledge.id}").json()["version"]
    released: list[float] = []
    barrier = threading.Barrier(len(RACE_CALLS), action=lambda: released.append(time.perf_counter()))
    answers: list[tuple[str, int, float]] = []

    def fire(who: str, body: dict[str, str]) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[who]}"}, timeout=60) as c:
            c.get("/healthz")  # the connection is open before the release
            barrier.wait()
            r = c.post(f"/api/v1/pledges/{pledge.id}/events", json=body, headers={"If-Match": f'"{version}"'})
            answers.append((body["event"], r.status_code, time.perf_counter()))

    threads = [threading.Thread(target=fire, args=call) for call in RACE_CALLS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [event for event, status, _ in answers if status == 200]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30) as office:
        history = [h["event"] for h in office.get(f"/api/v1/pledges/{pledge.id}/history").json()]
    done = sorted(t for _, _, t in answers)
    out = {"pledge": pledge.id, "release_to_last_ms": (done[-1] - released[0]) * 1000}
    out |= {"release_to_first_ms": (done[0] - released[0]) * 1000, "statuses": dict(Counter(s for _, s, _ in answers))}
    one = len(won) == 1
    return out | {"winner": won[0] if one else None, "consistent": one and history == ["create", "submit", *won]}


def run_config(b: Backend, workers: int, sizes: Sizes, workdir: Path, profile: str) -> dict[str, Any]:
    first, label = b.name == "sqlite" and workers == 1, f"{NAMES[b.name]}, {workers} worker{'s' if workers > 1 else ''}"
    out: dict[str, Any] = {"backend": b.name, "workers": workers, "label": label, "version": b.version, "workloads": {}}
    log = workdir / f"serve-{b.name}-{workers}.log"
    with proc.serve(b.url, log, workers, PLEDGEFLOW_ADMIN_TOKEN=b.admin_token) as server:
        for workload in ("healthz", "list", "events") if sizes["warmup_s"] else ():
            burst(b, server, workload, sizes["warmup_s"], warmup=True)
        plan = [(w, w, sizes["duration_s"], CONNECTIONS) for w in ("healthz", "list", "events")]
        plan += [("events_1", "events", sizes["duration_s"], 1)] if b.name == "sqlite" and workers == 1 else []
        for key, workload, duration, connections in [*plan, ("healthz_1", "healthz", sizes["diag_s"], 1)]:
            r = out["workloads"][key] = burst(b, server, workload, duration, connections)
            report.progress(f"{label}: {key}: {r['rps']:,.0f} req/s, p99 {r['p99_ms']:.1f} ms, non-2xx {r['non_2xx']}")
        healthz = out["workloads"]["healthz"]["server_cpu_ms_per_request"]
        for r in out["workloads"].values():
            r["cpu_vs_healthz"] = r["server_cpu_ms_per_request"] / healthz if healthz else None
        rounds = [race_round(server.url, b.race.pop(), b.admin_token) for _ in range(sizes["race_rounds"])]
        last = [r["release_to_last_ms"] for r in rounds]
        out["race"] = {"rounds": rounds, "median_ms": statistics.median(last), "max_ms": max(last)}
        out["race"]["all_consistent"] = all(r["consistent"] for r in rounds)
        report.progress(f"{label}: race {out['race']['median_ms']:.1f} ms, consistent {out['race']['all_consistent']}")
        if first and profile == "always":
            out["profile"] = profile_events(b, server, sizes)
        text = server.log.read_text(errors="replace")
        out["server_log"] = {"tracebacks": text.count("Traceback"), "status_500": len(re.findall(r'" 500 ', text))}
    ev = out["workloads"]["events"]
    met = ev["rps"] >= TARGET_RPS and ev["p99_ms"] < TARGET_P99_MS and ev["cpu_vs_healthz"] <= TARGET_CPU_RATIO
    if first and profile == "auto" and not met:
        report.progress("a target is missed: profiling one more event burst with py-spy")
        with proc.serve(b.url, workdir / "serve-profile.log", PLEDGEFLOW_ADMIN_TOKEN=b.admin_token) as server:
            burst(b, server, "events", sizes["warmup_s"] or 1, warmup=True)
            out["profile"] = profile_events(b, server, sizes)
    return out


SAME = "psycopg pydantic uvicorn h11 httptools anyio asyncio transitions notifications definitions logging json"
PACKAGES = {p: p for p in [*SAME.split(), "threading", "email"]} | {"pydantic_core": "pydantic"}
PACKAGES |= {"sqlalchemy": "SQLAlchemy", "sqlmodel": "SQLModel", "fastapi": "FastAPI", "starlette": "Starlette"}
PACKAGES |= {"workflow": "workflow (engine)", "services": "services (app code)", "concurrent": "concurrent.futures"}
APP_PACKAGES = ("services (app code)", "workflow (engine)", "notifications")
PROFILE_RATE = 100
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
WAITS = {"Condition.wait", "Event.wait", "EpollSelector.select", "Queue.get", "sleep", "Lock.acquire", "wait"}
DRIVER = {"DefaultDialect.do_execute", "DefaultDialect.do_commit", "DefaultDialect.do_rollback"}
WALL_LABELS = {
    "pool": "waiting for a pooled database connection (`QueuePool`)",
    "lock": "`BEGIN IMMEDIATE`: waiting for the SQLite write lock",
    "driver": "in the database driver (executing SQL, commit)",
    "python": "running Python or waiting for the GIL",
    "other_wait": "other waits",
}


def short(file: str, package: bool = False) -> str:
    """A frame's file below site-packages, this checkout or the stdlib, or with `package` its package."""
    parts = re.split(r"[/\\]", file)
    anchor = next((a for a in ("site-packages", report.ROOT.name, "python3.11") if a in parts), None)
    rest = parts[parts.index(anchor) + 1 :] if anchor else parts
    if not package:
        return "/".join(rest if anchor else rest[-2:])
    stem = rest[-1].removesuffix(".py") if rest else file
    found = (PACKAGES[p.split(".")[0]] for p in [*(rest[:-1] or rest), stem] if p.split(".")[0] in PACKAGES)
    return next(found, "stdlib / other")


def package_of(file: str) -> str:
    return short(file, package=True)


def stacks(raw: str) -> Iterator[tuple[list[tuple[str, str]], int]]:
    """py-spy's folded stacks ('frame;frame;… count'), frames as (function, file), process frames dropped."""
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = [(m["func"], m["file"]) if (m := FRAME.match(f)) else (f, "") for f in stack.split(";")]
            frames = [f for f in frames if not re.match(r"^process \d+:", f[0])]
            if frames:
                yield frames, int(count)


def analyse_cpu(raw: str) -> dict[str, Any]:
    """Samples of the thread holding the GIL: self share per function and per package, inclusive share of our code."""
    self_f, pkg, app, callers, waits = Counter[str](), Counter[str](), Counter[str](), {}, 0
    for frames, n in stacks(raw):
        func, file = frames[-1]
        if func in WAITS:
            waits += n
            continue
        name = f"{func} ({short(file)})"
        self_f[name] += n
        callers.setdefault(name, Counter())[" < ".join(f for f, _ in frames[-2:-5:-1])] += n
        pkg[package_of(file)] += n
        mine = {f"{f} ({short(p)})" for f, p in frames if package_of(p) in APP_PACKAGES and not p.endswith("cli.py")}
        for name in mine:
            app[name] += n
    total = sum(self_f.values())

    def share(counter: Counter[str], k: int) -> list[dict[str, Any]]:
        return [{"name": name, "share": n / total} for name, n in counter.most_common(k)] if total else []

    top = {
        f: [{"callers": c, "share": k / total} for c, k in callers[f].most_common(3)] for f, _ in self_f.most_common(5)
    }
    out = {"samples": total, "dropped_wait_samples": waits, "self_top": share(self_f, 15)}
    return out | {"packages_self": share(pkg, 14), "app_inclusive_top": share(app, 15), "self_top_callers": top}


def wall_kind(frames: list[tuple[str, str]]) -> str | None:
    """What one sampled thread was doing; None when it was idle (no request on it)."""
    funcs, leaf = [f for f, _ in frames], frames[-1][0]
    if "WorkerThread.run" in funcs:  # anyio's thread pool, where the sync routes run
        if not any(package_of(file) in (*APP_PACKAGES, "FastAPI", "Starlette", "SQLAlchemy") for _, file in frames):
            return None
        if "QueuePool._do_get" in funcs:
            return "pool"
        if leaf in DRIVER:
            return "lock" if "_sqlite_begin_immediate" in funcs else "driver"
        return "other_wait" if leaf in WAITS else "python"
    if "BaseEventLoop.run_forever" in funcs:
        return "loop_idle" if leaf in WAITS else "loop_busy"
    return None


def analyse_wall(raw: str) -> dict[str, Any]:
    """Every thread, idle included: how requests' time on the thread pool divides; how busy the event loop was."""
    kinds: Counter[str] = Counter()
    for frames, n in stacks(raw):
        if kind := wall_kind(frames):
            kinds[kind] += n
    total, loop = sum(kinds[k] for k in WALL_LABELS), kinds["loop_busy"] + kinds["loop_idle"]
    shares = {k: kinds[k] / total for k in WALL_LABELS if total}
    return {"samples": total, "shares": shares, "loop_busy": kinds["loop_busy"] / loop if loop else None}


def profile_events(b: Backend, server: proc.Server, sizes: Sizes) -> dict[str, Any]:
    if not PY_SPY.exists():
        return {"error": f"{PY_SPY} not found: install it into .venv with `.venv/bin/pip install py-spy`"}
    out: dict[str, Any] = {"rate": PROFILE_RATE}
    for view, analyse in (("cpu", analyse_cpu), ("wall", analyse_wall)):
        raw_path = server.log.parent / f"profile-{view}.txt"
        args = [str(PY_SPY), "record", "--pid", str(server.pid), "--subprocesses", "--rate", str(PROFILE_RATE)]
        args += ["--gil" if view == "cpu" else "--idle", "--nolineno", "--nonblocking"]
        args += ["--duration", str(sizes["profile_s"] + 3), "--format", "raw", "--output", str(raw_path)]
        spy = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)  # py-spy attaches
        r = burst(b, server, "events", sizes["profile_s"])
        log, _ = spy.communicate(timeout=sizes["profile_s"] + 60)
        if spy.returncode != 0 or not raw_path.exists():
            return {"error": f"py-spy failed ({spy.returncode}): {log[-2000:]}"}
        summary = {k: r[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "non_2xx", "server_cpu_ms_per_request")}
        raw = raw_path.read_text(encoding="utf-8", errors="replace")
        out[view] = analyse(raw) | {"burst": summary, "py_spy": log.strip().splitlines()[-3:]}
        report.progress(f"profile ({view}): {out[view]['samples']:,} samples, {summary['rps']:,.0f} req/s")
    return out


def measure(args: Any) -> report.Results:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py: wrk not found (Debian's wrk: `make wrk`)")
    version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    tool = {"tool": "wrk", "version": version[0].split(" Copyright")[0] if version else "wrk"}
    sizes, now = SIZES["quick" if args.quick else "full"], dt.datetime.now(dt.UTC)
    results: report.Results = {"load_generator": tool | {"connections": CONNECTIONS, "threads": THREADS}}
    results |= {"sizes": sizes, "configs": [], "seeding": {}}
    admin_token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="pledgeflow-http-") as tmp:
        for name, fresh in report.databases(args, "http").items():
            configs = [w for n, w in sizes["configs"] if n == name]
            with fresh() as url:
                report.progress(f"{NAMES[name]}: seeding {sizes['pool']:,} pool pledges + race pledges")
                seeded = seed(url, sizes["pool"], sizes["race_rounds"] * len(configs), now)
                results["seeding"][name] = {"seconds": seeded["seconds"], "people": seeded["people"]}
                b = Backend(name, url, sa.create_engine(url), seeded["pool"], list(seeded["race"]), admin_token)
                try:
                    results["configs"] += [run_config(b, w, sizes, Path(tmp), args.profile) for w in configs]
                finally:
                    b.db.dispose()
    results["verdicts"] = verdicts(results)
    return results | {"targets": targets(results)}


def verdicts(r: report.Results) -> dict[str, Any]:
    ev = next(c for c in r["configs"] if c["backend"] == "sqlite" and c["workers"] == 1)["workloads"]["events"]
    rps_met, p99_met = ev["rps"] >= TARGET_RPS, ev["p99_ms"] < TARGET_P99_MS
    sqlite = {"rps": ev["rps"], "p99_ms": ev["p99_ms"], "rps_met": rps_met, "p99_met": p99_met}
    ratio = {c["label"]: c["workloads"]["events"]["cpu_vs_healthz"] for c in r["configs"]}
    ratios = {k: {"ratio": v, "met": v <= TARGET_CPU_RATIO} for k, v in ratio.items()}
    return {"events_sqlite_1_worker": sqlite | {"met": rps_met and p99_met}, "cpu_ratio": ratios}


def targets(r: report.Results) -> list[dict[str, Any]]:
    t, tool = r["verdicts"], r["load_generator"]["tool"]
    ev, ratios = t["events_sqlite_1_worker"], "; ".join(f"{k} {v['ratio']:.1f}×" for k, v in t["cpu_ratio"].items())
    target = f"events on SQLite, 1 worker: ≥ {TARGET_RPS:,.0f} req/s with p99 < {TARGET_P99_MS:g} ms at "
    cpu = f"event server CPU ≤ {TARGET_CPU_RATIO:g}× a `GET /healthz` on the same server, same run"
    measured = f"{ev['rps']:,.0f} req/s, p99 {ev['p99_ms']:.1f} ms"
    first = report.target(f"{target}{CONNECTIONS} connections ({tool})", measured, ev["met"])
    return [first, report.target(cpu, ratios, all(v["met"] for v in t["cpu_ratio"].values()))]


HEADS = ["configuration", "workload", "req/s", "p50 ms", "p99 ms", "non-2xx", "server CPU ms/req", "× healthz CPU"]
HEADS += ["PostgreSQL CPU ms/req", "server cores busy", "others' cores busy"]
RACE_HEADS = ["configuration", "release → last answer, median ms", "max ms", "rounds", "answers (all rounds)"]
RACE_HEADS += ["one winner, history intact"]


def codes(w: dict[str, Any]) -> str:
    bad = {k: v for k, v in sorted((int(k), v) for k, v in w["codes"].items()) if not 200 <= k < 300}
    text = f"{w['non_2xx']:,}" + (" (" + ", ".join(f"{v:,}× {k}" for k, v in bad.items()) + ")" if bad else "")
    errors = ", ".join(f"{k} {v}" for k, v in w["socket_errors"].items())
    return text + (f" + socket errors {errors}" if errors else "")


def render(r: report.Results) -> str:
    rows, races = [], []
    for c in r["configs"]:
        for key, label in WORKLOADS.items():
            if w := c["workloads"].get(key):
                db, rps = w.get("database_cpu_ms_per_request"), f"{w['rps']:,.0f}"
                cells = [c["label"], label, f"**{rps}**" if key == "events" else rps, f"{w['p50_ms']:.1f}"]
                cells += [f"{w['p99_ms']:.1f}", codes(w), f"{w['server_cpu_ms_per_request']:.2f}"]
                cells += [f"{w['cpu_vs_healthz']:.1f}×", "–" if db is None else f"{db:.2f}"]
                rows.append([*cells, f"{w['server_cores_busy']:.2f}", f"{w['other_cores_busy']:.2f}"])
        race, answers = c["race"], Counter[int]()
        for rnd in race["rounds"]:
            answers.update({int(k): v for k, v in rnd["statuses"].items()})
        answered = ", ".join(f"{v}× {k}" for k, v in sorted(answers.items()))
        consistent = "yes" if race["all_consistent"] else "**no**"
        cells = [c["label"], f"{race['median_ms']:.1f}", f"{race['max_ms']:.1f}", str(len(race["rounds"]))]
        races.append([*cells, answered, consistent])
    t = r["verdicts"]
    ev, s, lg = t["events_sqlite_1_worker"], r["sizes"], r["load_generator"]
    ratios = "; ".join(f"{k} {v['ratio']:.1f}×, {report.verdict(v['met'])}" for k, v in t["cpu_ratio"].items())
    versions = "; " + ", ".join(dict.fromkeys(c["version"] for c in r["configs"]))
    pg = "" if any(c["backend"] == "postgresql" for c in r["configs"]) else report.NO_PG
    seeding = ", ".join(f"{NAMES[k]} {v['seconds']:.0f} s" for k, v in r["seeding"].items())
    lines = [
        *report.header(r, f"one run, {s['duration_s']} s per burst after a {s['warmup_s']} s warm-up", versions, pg),
        *report.table(HEADS, rows, left=2),
        "",
        "Race: release → last answer of 20 simultaneous conflicting events on one reviewing pledge (see below).",
        "",
        *report.table(RACE_HEADS, races),
        "",
        "Targets:",
        "",
        f"- events on SQLite, 1 worker, ≥ {TARGET_RPS:,.0f} req/s with p99 < {TARGET_P99_MS:g} ms at {CONNECTIONS} "
        f"connections: {ev['rps']:,.0f} req/s ({report.verdict(ev['rps_met'])}), p99 {ev['p99_ms']:.1f} ms "
        f"({report.verdict(ev['p99_met'])}) — {report.verdict(ev['met'])}.",
        f"- event CPU ≤ {TARGET_CPU_RATIO:g}× healthz CPU (server CPU per request, same server, same run): {ratios}.",
        *profile_lines(r),
        "",
        f"This run: a pool of {s['pool']:,} pledges ({s['pool'] // THREADS:,} per wrk thread); seeding {seeding}; "
        f"load from {lg['version']}, {lg['connections']} connections, {lg['threads']} threads, `--latency`. "
        "Raw figures: `bench/results/http.json`.",
    ]
    return "\n".join(lines)


def profile_lines(r: report.Results) -> list[str]:
    p = next((c["profile"] for c in r["configs"] if c.get("profile")), None)
    if p is None or "error" in p:
        return [] if p is None else ["", f"Profile: not taken — {p['error']}"]
    cpu, wall = p["cpu"], p["wall"]

    def listed(items: list[dict[str, Any]], k: int) -> str:
        return "; ".join(f"`{x['name']}` {x['share']:.1%}" for x in items[:k])

    packages = ", ".join(f"{x['name']} {x['share']:.0%}" for x in cpu["packages_self"] if x["share"] >= 0.01)
    waits = "; ".join(f"{WALL_LABELS[k]} {v:.0%}" for k, v in sorted(wall["shares"].items(), key=lambda kv: -kv[1]))
    loop = f". The event loop thread was busy {wall['loop_busy']:.0%} of the time." if wall["loop_busy"] else "."
    return [
        "",
        "Profile of the event workload on SQLite, 1 worker, 32 connections: two more bursts with "
        f"`py-spy record --nonblocking --rate {p['rate']}` attached to the server (the process is not paused).",
        "",
        f"- Where the CPU goes (`--gil`: the thread holding the GIL; {cpu['samples']:,} samples, "
        f"{cpu['burst']['rps']:,.0f} req/s while sampled), self time by package: {packages}.",
        f"- top functions, self time: {listed(cpu['self_top'], 10)}.",
        f"- our code, inclusive time: {listed(cpu['app_inclusive_top'], 12)}.",
        f"- Where a request's time goes (`--idle`: every thread; {wall['samples']:,} samples of thread-pool threads "
        f"serving a request, {wall['burst']['rps']:,.0f} req/s while sampled): {waits}{loop}",
    ]


if __name__ == "__main__":
    parser = report.parser(__doc__, pg=True)
    when = "py-spy profile of an event burst on SQLite: when a target is missed (auto), always, or never"
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto", help=when)
    sys.exit(report.run(parser.parse_args(), "http", "HTTP", measure, render, sqlalchemy=sa.__version__))
