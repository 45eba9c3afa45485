"""HTTP benchmark: real `pledgeflow serve` processes under wrk, on SQLite and PostgreSQL, 1 to 4 workers.

Run as `bash scripts/with-postgres.sh .venv/bin/python bench/load.py [--quick]` (the wrapper starts a throwaway
PostgreSQL 15 and exports PLEDGEFLOW_TEST_PG_URL; without it only SQLite runs). In one run it

  1. seeds, per database (a SQLite file in a temp dir; a fresh PostgreSQL schema, dropped afterwards), the demo
     county with accounts for all members (`rehearsal.demo.seed`), one reviewing secretary per branch, and N more
     members with accounts and one pledge each (`directory.create_person`, `directory.create_user`,
     `pledges.create`), every other one already submitted — all through the service layer;
  2. per configuration (SQLite 1 worker; PostgreSQL 1, 2 and 4 workers) starts `pledgeflow serve --no-scheduler
     --port P [--workers N]`, waits for /healthz, and drives three bursts with wrk (32 connections, 2 threads,
     `--latency`): `GET /healthz` (the per-request CPU baseline), `GET /api/v1/pledges?limit=20` as the office,
     and `POST /api/v1/pledges/{id}/events` — `submit` by the owner on a pledge in proposing, `return` with a
     reason by the branch secretary on one in reviewing, round-robin over the pool, so that every request moves
     a pledge and concurrent requests rarely touch the same one;
  3. reads the server's CPU time (utime + stime of the serve process and all its descendants, /proc/<pid>/stat)
     before and after each burst, and on PostgreSQL that of the whole cluster (the postmaster's tree);
  4. runs the race of tests/e2e/test_races.py over HTTP (20 simultaneous conflicting events on one pledge: 12
     approve, 4 return, 4 withdraw, all with the same If-Match) and times release → last answer;
  5. if a target is missed, profiles one more event burst on SQLite with `py-spy record` attached to the server.

Prints a table, writes bench/results/http.json, and rewrites the HTTP section of BENCHMARKS.md between its markers,
leaving the other sections alone. Only loopback (127.0.0.1) is used.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from proc import TICKS, postmaster_pid, tree_ticks
from report import BENCHMARKS, command, machine_info, pg_schema_url, write_section

from services.access import admin_actor
from services.config import Settings
from services.container import Container, build_container
from services.persistence.uow import UnitOfWork
from services.rehearsal import demo
from services.usecases import directory, pledges

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "http.json"
PLEDGEFLOW = Path(sys.executable).parent / "pledgeflow"
PY_SPY = Path(sys.executable).parent / "py-spy"
HOST = "127.0.0.1"

CONNECTIONS = 32
THREADS = 2
TARGET_RPS = 1000.0
TARGET_P99_MS = 100.0
TARGET_CPU_RATIO = 4.0
CONFIGS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))
QUICK_CONFIGS = CONFIGS[:3]
"""`--quick` leaves out 4 workers: `make bench` runs every benchmark in under 5 minutes on 2 CPUs."""
WORKLOADS = ("healthz", "list", "events")
WORKLOAD_LABELS = {
    "healthz": "`GET /healthz`",
    "list": "`GET /api/v1/pledges?limit=20` (office)",
    "events": "`POST /api/v1/pledges/{id}/events` (submit / return)",
    "events_1": "the same events, **1 connection** (diagnostic)",
    "healthz_1": "`GET /healthz`, **1 connection** (diagnostic)",
}
NAGLE_ISSUE = "https://github.com/Kludex/uvicorn/issues/3149"
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RETURN_REASON = "承诺措施还不够具体，请补充后再提交"
RACE_CALLS = [("secretary", {"event": "approve"})] * 12
RACE_CALLS += [("secretary", {"event": "return", "reason": "再改改"})] * 4
RACE_CALLS += [("office", {"event": "withdraw", "reason": "重复"})] * 4


@dataclass(frozen=True)
class Sizes:
    pool: int
    duration_s: int
    warmup_s: int
    race_rounds: int
    profile_s: int
    diag_s: int
    configs: tuple[tuple[str, int], ...] = CONFIGS


def sizes_for(quick: bool, duration: int | None) -> Sizes:
    if quick:
        return Sizes(
            pool=200, duration_s=duration or 2, warmup_s=1, race_rounds=1, profile_s=2, diag_s=1, configs=QUICK_CONFIGS
        )
    return Sizes(pool=2000, duration_s=duration or 12, warmup_s=2, race_rounds=5, profile_s=10, diag_s=3)


_T0 = time.perf_counter()


def progress(message: str) -> None:
    print(f"  [{time.perf_counter() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- databases ---------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pledgeflow-bench-") as tmp:
        yield f"sqlite:///{tmp}/http.db"


def server_version(db: sa.Engine) -> str:
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())
        return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar_one()).split()[0]


# --- seeding -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolPledge:
    id: int
    owner_token: str
    reviewer_token: str


@dataclass
class Seeded:
    pool: list[PoolPledge]
    race: list[PoolPledge]
    """Pledges in reviewing, one per race round; reviewer_token is the branch secretary's."""
    people: int
    seconds: float


def do(c: Container, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with UnitOfWork(c.db) as uow:
        return fn(uow, *args, **kwargs)


def seed(url: str, pool: int, race: int, now: dt.datetime) -> Seeded:
    """The demo county with accounts for all, a reviewing secretary per branch, then `pool + race` more members
    with accounts and a pledge each; pool pledges n with n % 4 in (2, 3) and all race pledges are submitted."""
    started = time.perf_counter()
    container = build_container(Settings(database_url=url, scheduler=False))
    try:
        county = demo.seed(container, now, accounts_for_all=True)
        admin, engine = admin_actor(), container.engines["pledge"]
        reviewers = {}
        for branch in county.branches:
            grant = [{"role": "secretary", "org_id": branch.id}]
            _, reviewers[branch.id] = do(
                container, directory.create_user, admin, f"审查书记{branch.id}", None, grant, now
            )
        made: list[PoolPledge] = []
        for n in range(pool + race):
            branch = county.branches[n % len(county.branches)]
            body = {"name": f"压测党员{n}", "org_id": branch.id, "status": "full", "position": "教师"}
            person = do(container, directory.create_person, admin, body)
            user, token = do(container, directory.create_user, admin, person.name, person.id, [{"role": "member"}], now)
            with UnitOfWork(container.db, write=False) as uow:
                owner = directory.user_actor(uow.session, user.id)
            pledge = {"year": now.year, "person_id": person.id, "items": demo.ITEMS}
            pid = do(container, pledges.create, engine, owner, pledge, now)
            if n >= pool or n % 4 in (2, 3):
                do(container, pledges.fire_event, engine, owner, pid, {"event": "submit"}, None, now)
            made.append(PoolPledge(pid, token, reviewers[branch.id]))
            if (n + 1) % 500 == 0:
                progress(f"  seeded {n + 1:,} pledges")
        return Seeded(made[:pool], made[pool:], len(county.people) + pool + race, time.perf_counter() - started)
    finally:
        container.db.dispose()


def pool_states(db: sa.Engine, pool: list[PoolPledge]) -> dict[int, tuple[str, int]]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, state, version FROM pledge WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": [p.id for p in pool]},
        ).all()
    return {int(r[0]): (str(r[1]), int(r[2])) for r in rows}


# --- CPU time from /proc -----------------------------------------------------------------------------------------


def cpu_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / TICKS


def system_busy_seconds() -> float:
    """CPU time all CPUs spent busy since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def self_seconds() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class CpuWatch:
    """CPU seconds of process trees over a burst, with the whole machine's busy time and this process's own."""

    roots: dict[str, int]
    before: dict[str, dict[int, int]] = field(default_factory=dict)
    system: float = 0.0
    own: float = 0.0

    def start(self) -> None:
        self.before = {name: tree_ticks(pid) for name, pid in self.roots.items()}
        self.system, self.own = system_busy_seconds(), self_seconds()

    def stop(self) -> dict[str, float]:
        out = {name: cpu_seconds(self.before[name], tree_ticks(pid)) for name, pid in self.roots.items()}
        out["system"] = system_busy_seconds() - self.system
        out["self"] = self_seconds() - self.own
        return out


# --- the server --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    pid: int
    log: Path


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serve(db_url: str, admin_token: str, workers: int, log: Path) -> Iterator[Server]:
    port = free_port()
    env = os.environ | {"PLEDGEFLOW_DATABASE_URL": db_url, "PLEDGEFLOW_ADMIN_TOKEN": admin_token}
    args = [str(PLEDGEFLOW), "serve", "--no-scheduler", "--host", HOST, "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pledgeflow serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        if workers > 1:  # every worker up: /healthz answered by one only proves that one
            deadline = time.monotonic() + 60
            while log.read_text().count("Application startup complete") < workers and time.monotonic() < deadline:
                time.sleep(0.1)
        yield Server(url, proc.pid, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- wrk ---------------------------------------------------------------------------------------------------------

LUA_DONE = r"""
function done(summary, latency, requests)
  local all, extra = {}, {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    if c then for k, v in pairs(c) do all[k] = (all[k] or 0) + v end end
    for _, name in ipairs({"moved_submit", "moved_return", "healed"}) do
      local v = t:get(name)
      if v then extra[name] = (extra[name] or 0) + v end
    end
  end
  local codes, more = {}, {}
  for k, v in pairs(all) do codes[#codes + 1] = string.format('"%d":%d', k, v) end
  for k, v in pairs(extra) do more[#more + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"codes":{%s},"extra":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), table.concat(codes, ","), table.concat(more, ",")))
end
"""

LUA_STATIC = r"""
threads = {}
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %(token)s"
function setup(thread) table.insert(threads, thread) end
"""

LUA_EVENTS = r"""
-- rows: {pledge id, state, version, owner token, reviewer token}
local POOL = {
%(rows)s
}
local NTHREADS = %(threads)d
local SUBMIT = '{"event":"submit"}'
local RETURN = '{"event":"return","reason":"%(reason)s"}'
threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function post(path, token, body)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function init(args)
  mine, byid, pos = {}, {}, 0
  codes, moved_submit, moved_return, healed = {}, 0, 0, 0
  for i, row in ipairs(POOL) do
    if (i - 1) %% NTHREADS == tid then
      local path = "/api/v1/pledges/" .. row[1] .. "/events"
      local p = {id = row[1], state = row[2], version = row[3],
                 submit = post(path, row[4], SUBMIT), ret = post(path, row[5], RETURN)}
      mine[#mine + 1] = p
      byid[row[1]] = p
    end
  end
end

-- The next pledge of this thread's share, round-robin: submit it if it is proposing, return it if reviewing.
function request()
  pos = pos %% #mine + 1
  local p = mine[pos]
  if p.state == "proposing" then return p.submit end
  return p.ret
end

-- Follow each pledge's state from the answers: a 200 carries the pledge (newer versions win), a refused
-- transition (409) names the pledge in `instance` and its current state.
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if status == 200 then
    local id, state, version = string.match(body, '^{"id":(%%d+),.-"state":"([%%w_]+)".-"version":(%%d+)')
    local p = id and byid[tonumber(id)]
    if p and tonumber(version) > p.version then p.state, p.version = state, tonumber(version) end
    if state == "reviewing" then moved_submit = moved_submit + 1 elseif state == "proposing" then
      moved_return = moved_return + 1 end
  elseif status == 409 and string.find(body, "transition-not-allowed", 1, true) then
    local id = string.match(body, '"instance":"/api/v1/pledges/(%%d+)/events"')
    local state = string.match(body, '"state":"([%%w_]+)"')
    local p = id and byid[tonumber(id)]
    if p and state then p.state = state; healed = healed + 1 end
  end
end
"""


def events_script(pool: list[PoolPledge], states: dict[int, tuple[str, int]], threads: int) -> str:
    rows = ",\n".join(
        f'{{{p.id},"{states[p.id][0]}",{states[p.id][1]},"{p.owner_token}","{p.reviewer_token}"}}' for p in pool
    )
    return LUA_EVENTS % {"rows": rows, "threads": threads, "reason": RETURN_REASON} + LUA_DONE


def static_script(token: str | None) -> str:
    script = LUA_STATIC % {"token": token or ""}
    if token is None:
        script = script.replace('wrk.headers["Authorization"] = "Bearer "\n', "")
    return script + LUA_DONE


def run_wrk(url: str, script: str, duration: int, workdir: Path, connections: int, threads: int) -> dict[str, Any]:
    path = workdir / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    path.write_text(script, encoding="utf-8")
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "--latency"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*args, "-s", str(path), url], capture_output=True, text=True, timeout=duration + 120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    out["wall_s"] = wall
    out["client_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out["wrk_output"] = [ln for ln in done.stdout.splitlines() if ln and not ln.startswith("BENCH_JSON")]
    return out


# --- fallback load generator (only when wrk cannot be had) ---------------------------------------------------------


async def _httpx_burst(url: str, workload: str, duration: int, ctx: dict[str, Any], connections: int) -> dict[str, Any]:
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    pool: list[dict[str, Any]] = ctx.get("pool", [])
    state = {"pos": 0}
    extra = Counter[str]()

    def next_request() -> tuple[str, str, dict[str, str], Any]:
        if workload == "healthz":
            return "GET", "/healthz", {}, None
        if workload == "list":
            return "GET", "/api/v1/pledges?limit=20", {"Authorization": f"Bearer {ctx['admin']}"}, None
        state["pos"] = (state["pos"] + 1) % len(pool)
        p = pool[state["pos"]]
        path = f"/api/v1/pledges/{p['id']}/events"
        if p["state"] == "proposing":
            return "POST", path, {"Authorization": f"Bearer {p['owner']}"}, {"event": "submit"}
        return "POST", path, {"Authorization": f"Bearer {p['reviewer']}"}, {"event": "return", "reason": RETURN_REASON}

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        stop = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < stop:
                method, path, headers, body = next_request()
                t = time.perf_counter()
                r = await client.request(method, path, headers=headers, json=body)
                latencies.append(time.perf_counter() - t)
                codes[r.status_code] += 1
                if workload == "events" and r.status_code in (200, 409):
                    data = r.json()
                    pid = data.get("id") or int(str(data.get("instance", "/0/0")).split("/")[-2] or 0)
                    for p in pool:
                        if p["id"] == pid and data.get("state"):
                            p["state"] = data["state"]
                            extra["moved_submit" if data["state"] == "reviewing" else "moved_return"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> int:
        return int(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1e6)

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "errors": {"status": sum(v for k, v in codes.items() if k > 399), "timeout": 0},
        "latency_us": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "p999": pct(99.9), "max": pct(100)},
        "codes": {str(k): v for k, v in codes.items()},
        "extra": dict(extra),
    }


# --- one configuration -------------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    url: str
    db: sa.Engine
    seeded: Seeded
    admin_token: str
    postmaster: int | None
    version: str
    race_left: list[PoolPledge]


def burst(
    backend: Backend,
    server: Server,
    workload: str,
    duration: int,
    workdir: Path,
    tool: str,
    connections: int = CONNECTIONS,
    warmup: bool = False,
) -> dict[str, Any]:
    threads = min(THREADS, connections)
    pool = backend.seeded.pool
    if workload == "events":
        states = pool_states(backend.db, pool)
        assert {s for s, _ in states.values()} <= {"proposing", "reviewing"}, Counter(s for s, _ in states.values())
        script = events_script(pool, states, threads)
        ctx = {
            "pool": [
                {"id": p.id, "state": states[p.id][0], "owner": p.owner_token, "reviewer": p.reviewer_token}
                for p in pool
            ]
        }
        url = server.url
    else:
        script = static_script(backend.admin_token if workload == "list" else None)
        ctx = {"admin": backend.admin_token}
        url = server.url + ("/healthz" if workload == "healthz" else "/api/v1/pledges?limit=20")
    roots = {"server": server.pid} | ({"database": backend.postmaster} if backend.postmaster else {})
    watch = CpuWatch(roots)
    watch.start()
    started = time.perf_counter()
    if tool == "wrk":
        out = run_wrk(url, script, duration, workdir, connections, threads)
    else:
        out = asyncio.run(_httpx_burst(server.url, workload, duration, ctx, connections))
    wall = time.perf_counter() - started
    cpu = watch.stop()
    drain(server.pid)
    n = out["requests"]
    if warmup:
        return out
    if not n:
        raise RuntimeError(f"{workload}: no request completed: {out}")
    codes = {int(k): v for k, v in out["codes"].items()}
    non_2xx = sum(v for k, v in codes.items() if not 200 <= k < 300) if codes else out["errors"]["status"]
    result = {
        "requests": n,
        "rps": n / (out["duration_us"] / 1e6),
        "p50_ms": out["latency_us"]["p50"] / 1000,
        "p90_ms": out["latency_us"]["p90"] / 1000,
        "p99_ms": out["latency_us"]["p99"] / 1000,
        "p999_ms": out["latency_us"]["p999"] / 1000,
        "max_ms": out["latency_us"]["max"] / 1000,
        "non_2xx": non_2xx,
        "codes": codes,
        "socket_errors": {k: v for k, v in out["errors"].items() if k != "status" and v},
        "server_cpu_s": cpu["server"],
        "server_cpu_ms_per_request": cpu["server"] * 1000 / n if n else None,
        "server_cores_busy": cpu["server"] / wall,
        "other_cores_busy": max(
            0.0,
            cpu["system"] - cpu["server"] - cpu.get("database", 0.0) - cpu["self"] - (out.get("client_cpu_s") or 0.0),
        )
        / wall,
        "connections": connections,
        "wall_s": wall,
        "extra": out.get("extra", {}),
        "client_cpu_s": out.get("client_cpu_s"),
    }
    if "database" in cpu:
        result["database_cpu_s"] = cpu["database"]
        result["database_cpu_ms_per_request"] = cpu["database"] * 1000 / n if n else None
    if "wrk_output" in out:
        result["wrk_output"] = out["wrk_output"]
    return result


def drain(pid: int, timeout: float = 30.0) -> None:
    """Wait until the server has finished the requests still in flight when the load stopped (its CPU time stops
    moving), so that the next burst starts on an idle server and reads settled pledge states."""
    deadline, last, still = time.monotonic() + timeout, -1.0, 0
    while time.monotonic() < deadline and still < 3:
        now = sum(tree_ticks(pid).values()) / TICKS
        still = still + 1 if now == last else 0
        last = now
        time.sleep(0.1)


def race_round(url: str, pledge: PoolPledge, admin_token: str) -> dict[str, Any]:
    """tests/e2e/test_races.py over HTTP: 20 callers fire conflicting events at one reviewing pledge at once."""
    tokens = {"secretary": pledge.reviewer_token, "office": admin_token}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30) as office:
        version = office.get(f"/api/v1/pledges/{pledge.id}").json()["version"]
    released: list[float] = []
    barrier = threading.Barrier(len(RACE_CALLS), action=lambda: released.append(time.perf_counter()))
    answers: list[tuple[str, int, float]] = []
    lock = threading.Lock()

    def fire(who: str, body: dict[str, str]) -> None:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
            c.get("/healthz")  # the connection is open before the release
            barrier.wait()
            r = c.post(f"/api/v1/pledges/{pledge.id}/events", json=body, headers={"If-Match": f'"{version}"'})
            with lock:
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
    return {
        "pledge": pledge.id,
        "release_to_last_ms": (done[-1] - released[0]) * 1000,
        "release_to_first_ms": (done[0] - released[0]) * 1000,
        "statuses": dict(Counter(status for _, status, _ in answers)),
        "winner": won[0] if len(won) == 1 else None,
        "consistent": len(won) == 1 and history == ["create", "submit", won[0]],
    }


def run_config(
    backend: Backend, workers: int, sizes: Sizes, workdir: Path, tool: str, profile: bool, single: bool
) -> dict[str, Any]:
    label = f"{NAMES[backend.name]}, {workers} worker{'s' if workers > 1 else ''}"
    out: dict[str, Any] = {"backend": backend.name, "workers": workers, "label": label, "version": backend.version}
    log = workdir / f"serve-{backend.name}-{workers}.log"
    with serve(backend.url, backend.admin_token, workers, log) as server:
        progress(f"{label}: serving on {server.url} (pid {server.pid})")
        if sizes.warmup_s:
            for workload in WORKLOADS:
                burst(backend, server, workload, sizes.warmup_s, workdir, tool, warmup=True)
        out["workloads"] = {}
        for workload in WORKLOADS:
            r = burst(backend, server, workload, sizes.duration_s, workdir, tool)
            out["workloads"][workload] = r
            db_cpu = f", database {r['database_cpu_ms_per_request']:.2f} ms" if "database_cpu_s" in r else ""
            progress(
                f"{label}: {workload}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                f"non-2xx {r['non_2xx']}, server CPU {r['server_cpu_ms_per_request']:.2f} ms/req{db_cpu}"
            )
        if single:
            r = burst(backend, server, "events", sizes.duration_s, workdir, tool, connections=1)
            out["workloads"]["events_1"] = r
            progress(
                f"{label}: events, 1 connection: {r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 "
                f"{r['p99_ms']:.1f} ms, server CPU {r['server_cpu_ms_per_request']:.2f} ms/req"
            )
        r = burst(backend, server, "healthz", sizes.diag_s, workdir, tool, connections=1)
        out["workloads"]["healthz_1"] = r
        progress(f"{label}: healthz, 1 connection: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms")
        healthz = out["workloads"]["healthz"]["server_cpu_ms_per_request"]
        for r in out["workloads"].values():
            r["cpu_vs_healthz"] = r["server_cpu_ms_per_request"] / healthz if healthz else None
        rounds = [
            race_round(server.url, backend.race_left.pop(), backend.admin_token) for _ in range(sizes.race_rounds)
        ]
        last = [r["release_to_last_ms"] for r in rounds]
        out["race"] = {
            "rounds": rounds,
            "median_ms": statistics.median(last),
            "max_ms": max(last),
            "all_consistent": all(r["consistent"] for r in rounds),
        }
        progress(
            f"{label}: race: release → last answer median {out['race']['median_ms']:.1f} ms, max "
            f"{out['race']['max_ms']:.1f} ms, one winner and matching history in every round: "
            f"{out['race']['all_consistent']}"
        )
        if profile:
            out["profile"] = profile_events(backend, server, sizes, workdir, tool)
        text = log.read_text(errors="replace")
        out["server_log"] = {
            "tracebacks": text.count("Traceback"),
            "status_500": len(re.findall(r'" 500 ', text)),
        }
    return out


# --- profile -----------------------------------------------------------------------------------------------------

PACKAGES = [
    ("sqlalchemy", "SQLAlchemy"),
    ("sqlmodel", "SQLModel"),
    ("psycopg", "psycopg"),
    ("pydantic", "pydantic"),
    ("pydantic_core", "pydantic"),
    ("fastapi", "FastAPI"),
    ("starlette", "Starlette"),
    ("uvicorn", "uvicorn"),
    ("h11", "h11"),
    ("httptools", "httptools"),
    ("anyio", "anyio"),
    ("asyncio", "asyncio"),
    ("transitions", "transitions"),
    ("workflow", "workflow (engine)"),
    ("services", "services (app code)"),
    ("notifications", "notifications"),
    ("definitions", "definitions"),
    ("logging", "logging"),
    ("json", "json"),
    ("threading", "threading"),
    ("concurrent", "concurrent.futures"),
    ("email", "email"),
]
APP_PACKAGES = ("services (app code)", "workflow (engine)", "notifications")
PROFILE_RATE = 100
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
PROCESS_FRAME = re.compile(r"^process \d+:")
WAITS = {"Condition.wait", "Event.wait", "EpollSelector.select", "Queue.get", "sleep", "Lock.acquire", "wait"}
DRIVER = {"DefaultDialect.do_execute", "DefaultDialect.do_commit", "DefaultDialect.do_rollback"}
WALL_LABELS = {
    "pool": "waiting for a pooled database connection (`QueuePool`)",
    "lock": "`BEGIN IMMEDIATE`: waiting for the SQLite write lock",
    "driver": "in the database driver (executing SQL, commit)",
    "python": "running Python or waiting for the GIL",
    "other_wait": "other waits",
}


def package_of(file: str) -> str:
    parts = re.split(r"[/\\]", file)
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "main" in parts:
        parts = parts[parts.index("main") + 1 :]
    for part in parts[:-1] or parts:
        for key, name in PACKAGES:
            if part == key or part.startswith(key + "."):
                return name
    stem = parts[-1].removesuffix(".py") if parts else file
    for key, name in PACKAGES:
        if stem == key:
            return name
    return "stdlib / other"


def short(file: str) -> str:
    parts = re.split(r"[/\\]", file)
    for anchor in ("site-packages", "main", "python3.11"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1 :])
    return "/".join(parts[-2:])


def stacks(raw: str) -> Iterator[tuple[list[tuple[str, str]], int]]:
    """py-spy's folded stacks ('frame;frame;… count'), each frame as (function, file); process frames dropped."""
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for frame in stack.split(";"):
            if PROCESS_FRAME.match(frame):
                continue
            m = FRAME.match(frame)
            frames.append((m["func"], m["file"]) if m else (frame, ""))
        if frames:
            yield frames, int(count)


def analyse_cpu(raw: str) -> dict[str, Any]:
    """Samples of the thread holding the GIL: self share per function and per package, inclusive share of our code."""
    total = 0
    self_f: Counter[str] = Counter()
    pkg: Counter[str] = Counter()
    app_incl: Counter[str] = Counter()
    callers: dict[str, Counter[str]] = {}
    waits = 0
    for frames, n in stacks(raw):
        func, file = frames[-1]
        if func in WAITS:
            waits += n
            continue
        total += n
        self_f[f"{func} ({short(file)})"] += n
        chain = " < ".join(f for f, _ in frames[-2:-5:-1])
        callers.setdefault(f"{func} ({short(file)})", Counter())[chain] += n
        pkg[package_of(file)] += n
        seen = {
            f"{func} ({short(file)})"
            for func, file in frames
            if package_of(file) in APP_PACKAGES and not file.endswith("cli.py")
        }
        for name in seen:
            app_incl[name] += n

    def share(counter: Counter[str], k: int) -> list[dict[str, Any]]:
        return [{"name": name, "share": n / total} for name, n in counter.most_common(k)] if total else []

    return {
        "samples": total,
        "dropped_wait_samples": waits,
        "self_top": share(self_f, 15),
        "packages_self": share(pkg, 14),
        "app_inclusive_top": share(app_incl, 15),
        "self_top_callers": {
            name: [{"callers": chain, "share": k / total} for chain, k in callers[name].most_common(3)]
            for name, _ in self_f.most_common(5)
        },
    }


def wall_kind(frames: list[tuple[str, str]]) -> str | None:
    """What one sampled thread was doing; None when it was idle (no request on it)."""
    funcs = [f for f, _ in frames]
    leaf = funcs[-1]
    if "WorkerThread.run" in funcs:  # anyio's thread pool, where the sync routes run
        if not any(package_of(file) in (*APP_PACKAGES, "FastAPI", "Starlette", "SQLAlchemy") for _, file in frames):
            return None
        if "QueuePool._do_get" in funcs:
            return "pool"
        if "_sqlite_begin_immediate" in funcs and leaf in DRIVER:
            return "lock"
        if leaf in DRIVER:
            return "driver"
        return "other_wait" if leaf in WAITS else "python"
    if "BaseEventLoop.run_forever" in funcs:
        return "loop_idle" if leaf in WAITS else "loop_busy"
    return None


def analyse_wall(raw: str) -> dict[str, Any]:
    """All threads, idle included: how the time of requests in flight on the thread pool divides (each sample of
    each busy request thread counts), and how busy the event loop thread was."""
    kinds: Counter[str] = Counter()
    for frames, n in stacks(raw):
        kind = wall_kind(frames)
        if kind:
            kinds[kind] += n
    total = sum(kinds[k] for k in WALL_LABELS)
    loop = kinds["loop_busy"] + kinds["loop_idle"]
    return {
        "samples": total,
        "shares": {k: kinds[k] / total for k in WALL_LABELS if total},
        "loop_busy": kinds["loop_busy"] / loop if loop else None,
    }


def spy_burst(
    backend: Backend, server: Server, sizes: Sizes, workdir: Path, tool: str, view: str
) -> tuple[str | None, dict[str, Any], str]:
    raw_path = workdir / f"profile-{view}.txt"
    flags = ["--gil"] if view == "cpu" else ["--idle"]
    args = [str(PY_SPY), "record", "--pid", str(server.pid), "--subprocesses", "--rate", str(PROFILE_RATE), *flags]
    args += ["--nolineno", "--nonblocking", "--duration", str(sizes.profile_s + 3), "--format", "raw"]
    spy = subprocess.Popen(
        [*args, "--output", str(raw_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    time.sleep(1.5)  # py-spy attaches
    r = burst(backend, server, "events", sizes.profile_s, workdir, tool)
    spy_out, _ = spy.communicate(timeout=sizes.profile_s + 60)
    keys = ("requests", "rps", "p50_ms", "p99_ms", "non_2xx", "server_cpu_ms_per_request")
    summary = {k: r[k] for k in keys}
    if spy.returncode != 0 or not raw_path.exists():
        return None, summary, f"py-spy failed ({spy.returncode}): {spy_out[-2000:]}"
    return raw_path.read_text(encoding="utf-8", errors="replace"), summary, spy_out.strip()


def profile_events(backend: Backend, server: Server, sizes: Sizes, workdir: Path, tool: str) -> dict[str, Any]:
    """Two more event bursts with `py-spy record` attached to the server (not pausing it): one sampling the thread
    that holds the GIL (where the CPU goes), one sampling every thread, idle included (where the time goes)."""
    if not PY_SPY.exists():
        return {"error": f"{PY_SPY} not found: install it into .venv with `.venv/bin/pip install py-spy`"}
    out: dict[str, Any] = {"rate": PROFILE_RATE}
    for view, analyse in (("cpu", analyse_cpu), ("wall", analyse_wall)):
        raw, summary, log = spy_burst(backend, server, sizes, workdir, tool, view)
        if raw is None:
            return {"error": log}
        out[view] = analyse(raw) | {"burst": summary, "py_spy": log.splitlines()[-3:]}
        progress(f"profile ({view}): {out[view]['samples']:,} samples, {summary['rps']:,.0f} req/s while sampled")
    return out


# --- the run -----------------------------------------------------------------------------------------------------


def ensure_wrk() -> tuple[str, str]:
    """('wrk', version) — installing Debian's wrk when missing and allowed — or ('httpx', why)."""
    if shutil.which("wrk") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        progress("wrk not found: apt-get install -y wrk")
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet).returncode != 0:  # type: ignore[call-overload]
            subprocess.run(["apt-get", "update"], **quiet)  # type: ignore[call-overload]
            subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet)  # type: ignore[call-overload]
    if shutil.which("wrk") is None:
        return "httpx", "wrk could not be installed: an asyncio httpx client in this process generates the load"
    version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    return "wrk", (version[0].split(" Copyright")[0] if version else "wrk")


def sqlite_missed(config: dict[str, Any]) -> bool:
    ev = config["workloads"]["events"]
    return not (ev["rps"] >= TARGET_RPS and ev["p99_ms"] < TARGET_P99_MS and ev["cpu_vs_healthz"] <= TARGET_CPU_RATIO)


def measure(sizes: Sizes, pg_url: str | None, profile: str) -> dict[str, Any]:
    tool, tool_version = ensure_wrk()
    progress(f"load generator: {tool_version}")
    now = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "machine": machine_info(sqlalchemy=sa.__version__),
        "date": now.replace(microsecond=0).isoformat(),
        "command": command(),
        "load_generator": {"tool": tool, "version": tool_version, "connections": CONNECTIONS, "threads": THREADS},
        "sizes": sizes.__dict__,
        "configs": [],
        "seeding": {},
    }
    admin_token = secrets.token_urlsafe(24)
    backends = ["sqlite"] + (["postgresql"] if pg_url else [])
    with tempfile.TemporaryDirectory(prefix="pledgeflow-http-") as tmp:
        workdir = Path(tmp)
        for name in backends:
            configs = [w for b, w in sizes.configs if b == name]
            with sqlite_url() if name == "sqlite" else pg_schema_url(pg_url or "") as url:
                progress(f"{NAMES[name]}: seeding {sizes.pool:,} pool pledges + race pledges")
                seeded = seed(url, sizes.pool, sizes.race_rounds * len(configs), now)
                results["seeding"][name] = {"seconds": seeded.seconds, "people": seeded.people}
                progress(f"{NAMES[name]}: seeded in {seeded.seconds:.1f} s")
                db = sa.create_engine(url)
                try:
                    backend = Backend(
                        name, url, db, seeded, admin_token, postmaster_pid(db), server_version(db), list(seeded.race)
                    )
                    for workers in configs:
                        want_profile = profile == "always" and name == "sqlite" and workers == 1
                        first = name == "sqlite" and workers == 1
                        config = run_config(backend, workers, sizes, workdir, tool, want_profile, first)
                        results["configs"].append(config)
                        if name == "sqlite" and workers == 1 and profile == "auto" and sqlite_missed(config):
                            progress("a target is missed: profiling one more event burst with py-spy")
                            with serve(url, admin_token, 1, workdir / "serve-profile.log") as server:
                                burst(backend, server, "events", sizes.warmup_s or 1, workdir, tool, warmup=True)
                                config["profile"] = profile_events(backend, server, sizes, workdir, tool)
                finally:
                    db.dispose()
    results["verdicts"] = targets(results)
    results["targets"] = target_list(results)
    return results


def targets(r: dict[str, Any]) -> dict[str, Any]:
    sqlite = next(c for c in r["configs"] if c["backend"] == "sqlite" and c["workers"] == 1)
    ev = sqlite["workloads"]["events"]
    return {
        "events_sqlite_1_worker": {
            "rps": ev["rps"],
            "p99_ms": ev["p99_ms"],
            "rps_met": ev["rps"] >= TARGET_RPS,
            "p99_met": ev["p99_ms"] < TARGET_P99_MS,
            "met": ev["rps"] >= TARGET_RPS and ev["p99_ms"] < TARGET_P99_MS,
        },
        "cpu_ratio": {
            c["label"]: {
                "ratio": c["workloads"]["events"]["cpu_vs_healthz"],
                "met": c["workloads"]["events"]["cpu_vs_healthz"] <= TARGET_CPU_RATIO,
            }
            for c in r["configs"]
        },
    }


# --- reporting ---------------------------------------------------------------------------------------------------


def _codes(r: dict[str, Any]) -> str:
    bad = {k: v for k, v in sorted(r["codes"].items()) if not 200 <= k < 300}
    text = f"{r['non_2xx']:,}"
    if bad:
        text += " (" + ", ".join(f"{v:,}× {k}" for k, v in bad.items()) + ")"
    if r["socket_errors"]:
        text += " + socket errors " + ", ".join(f"{k} {v}" for k, v in r["socket_errors"].items())
    return text


def table_rows(r: dict[str, Any]) -> list[list[str]]:
    rows = []
    for c in r["configs"]:
        for workload in (*WORKLOADS, "events_1", "healthz_1"):
            if workload not in c["workloads"]:
                continue
            w = c["workloads"][workload]
            db_cpu = w.get("database_cpu_ms_per_request")
            bold = workload == "events"
            rps = f"{w['rps']:,.0f}"
            rows.append(
                [
                    c["label"],
                    WORKLOAD_LABELS[workload],
                    f"**{rps}**" if bold else rps,
                    f"{w['p50_ms']:.1f}",
                    f"{w['p99_ms']:.1f}",
                    _codes(w),
                    f"{w['server_cpu_ms_per_request']:.2f}",
                    f"{w['cpu_vs_healthz']:.1f}×",
                    "–" if db_cpu is None else f"{db_cpu:.2f}",
                    f"{w['server_cores_busy']:.2f}",
                    f"{w['other_cores_busy']:.2f}",
                ]
            )
    return rows


HEADS = [
    "configuration",
    "workload",
    "req/s",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "server CPU ms/req",
    "× healthz CPU",
    "PostgreSQL CPU ms/req",
    "server cores busy",
    "others' cores busy",
]


def race_rows(r: dict[str, Any]) -> list[list[str]]:
    rows = []
    for c in r["configs"]:
        race = c["race"]
        statuses: Counter[int] = Counter()
        for rnd in race["rounds"]:
            statuses.update({int(k): v for k, v in rnd["statuses"].items()})
        rows.append(
            [
                c["label"],
                f"{race['median_ms']:.1f}",
                f"{race['max_ms']:.1f}",
                str(len(race["rounds"])),
                ", ".join(f"{v}× {k}" for k, v in sorted(statuses.items())),
                "yes" if race["all_consistent"] else "**no**",
            ]
        )
    return rows


RACE_HEADS = [
    "configuration",
    "release → last answer, median ms",
    "max ms",
    "rounds",
    "answers (all rounds)",
    "one winner, history intact",
]


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def nagle_lines(r: dict[str, Any]) -> list[str]:
    """When one request at a time costs ~40 ms more with several workers than with one: Nagle × delayed ACK."""
    single = [c["workloads"]["healthz_1"]["p50_ms"] for c in r["configs"] if c["workers"] == 1]
    multi = {c["label"]: c["workloads"]["healthz_1"]["p50_ms"] for c in r["configs"] if c["workers"] > 1}
    if not single or not multi or min(multi.values()) < 20 or max(single) > 5:
        return []
    return [
        "",
        "With `--workers` > 1 every keep-alive request waits about 40 ms: `GET /healthz` one at a time answers in "
        f"{max(single):.1f} ms (p50) with 1 worker but in "
        + ", ".join(f"{v:.0f} ms ({label})" for label, v in multi.items())
        + ". uvicorn's multi-process path binds the listening socket itself with `proto` 0, so asyncio leaves "
        "`TCP_NODELAY` off on accepted connections and each response's second segment waits for the client's "
        f"delayed ACK (uvicorn issue [#3149]({NAGLE_ISSUE}), open). This caps the multi-worker rows above "
        "(32 connections / ~48 ms ≈ 660 req/s for `/healthz`); it is not the application's cost.",
    ]


def target_list(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets as every benchmark reports them (bench/results/*.json): what, measured, met."""
    t = r["verdicts"]
    ev = t["events_sqlite_1_worker"]
    ratios = "; ".join(f"{label} {v['ratio']:.1f}×" for label, v in t["cpu_ratio"].items())
    return [
        {
            "target": f"events on SQLite, 1 worker: ≥ {TARGET_RPS:,.0f} req/s with p99 < {TARGET_P99_MS:g} ms at "
            f"{CONNECTIONS} connections ({r['load_generator']['tool']})",
            "measured": f"{ev['rps']:,.0f} req/s, p99 {ev['p99_ms']:.1f} ms",
            "met": ev["met"],
        },
        {
            "target": f"event server CPU ≤ {TARGET_CPU_RATIO:g}× a `GET /healthz` on the same server, same run",
            "measured": ratios,
            "met": all(v["met"] for v in t["cpu_ratio"].values()),
        },
    ]


def target_lines(r: dict[str, Any]) -> list[str]:
    t = r["verdicts"]
    ev = t["events_sqlite_1_worker"]
    ratios = "; ".join(f"{label} {v['ratio']:.1f}×, {verdict(v['met'])}" for label, v in t["cpu_ratio"].items())
    return [
        f"- events on SQLite, 1 worker, ≥ {TARGET_RPS:,.0f} req/s with p99 < {TARGET_P99_MS:g} ms at {CONNECTIONS} "
        f"connections: {ev['rps']:,.0f} req/s ({verdict(ev['rps_met'])}), p99 {ev['p99_ms']:.1f} ms "
        f"({verdict(ev['p99_met'])}) — {verdict(ev['met'])}.",
        f"- event CPU ≤ {TARGET_CPU_RATIO:g}× healthz CPU (server CPU per request, same server, same run): {ratios}.",
    ]


def profile_lines(r: dict[str, Any]) -> list[str]:
    prof = next((c["profile"] for c in r["configs"] if c.get("profile")), None)
    if prof is None:
        return []
    if "error" in prof:
        return ["", f"Profile: not taken — {prof['error']}"]
    cpu, wall = prof["cpu"], prof["wall"]

    def listed(items: list[dict[str, Any]], k: int, floor: float = 0.0) -> str:
        return "; ".join(f"`{p['name']}` {p['share']:.1%}" for p in items[:k] if p["share"] >= floor)

    return [
        "",
        "Profile of the event workload on SQLite, 1 worker, 32 connections: two more bursts with "
        f"`py-spy record --nonblocking --rate {prof['rate']}` attached to the server (the process is not paused).",
        "",
        f"- Where the CPU goes (`--gil`: the thread holding the GIL; {cpu['samples']:,} samples, "
        f"{cpu['burst']['rps']:,.0f} req/s while sampled), self time by package: "
        + ", ".join(f"{p['name']} {p['share']:.0%}" for p in cpu["packages_self"] if p["share"] >= 0.01)
        + ".",
        "- top functions, self time: " + listed(cpu["self_top"], 10) + ".",
        "- our code, inclusive time: " + listed(cpu["app_inclusive_top"], 12) + ".",
        f"- Where a request's time goes (`--idle`: every thread; {wall['samples']:,} samples of thread-pool threads "
        f"serving a request, {wall['burst']['rps']:,.0f} req/s while sampled): "
        + "; ".join(f"{WALL_LABELS[k]} {v:.0%}" for k, v in sorted(wall["shares"].items(), key=lambda kv: -kv[1]))
        + (f". The event loop thread was busy {wall['loop_busy']:.0%} of the time." if wall["loop_busy"] else "."),
    ]


def md_table(heads: list[str], rows: list[list[str]], left: int) -> list[str]:
    align = ["---"] * left + ["---:"] * (len(heads) - left)
    return [
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def plain_table(heads: list[str], rows: list[list[str]], left: int) -> list[str]:
    cells = [[c.replace("**", "").replace("`", "") for c in row] for row in [heads, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(heads))]
    out = []
    for n, row in enumerate(cells):
        out.append(
            "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def load(mi: dict[str, Any], when: str) -> str:
    values = mi.get(f"loadavg_at_{when}")
    return "/".join(f"{v:.2f}" for v in values) if values else "–"


def quick_note(r: dict[str, Any]) -> str:
    if r.get("mode") != "quick":
        return ""
    left_out = [f"{NAMES[b]}, {w} workers" for b, w in CONFIGS if (b, w) not in QUICK_CONFIGS]
    return (
        f" **Quick run (`--quick`): {r['sizes']['duration_s']} s bursts, a {r['sizes']['pool']:,}-pledge pool, "
        f"{r['sizes']['race_rounds']} race round(s); not run: {', '.join(left_out)}.**"
    )


def section(r: dict[str, Any]) -> str:
    mi, s, lg = r["machine"], r["sizes"], r["load_generator"]
    cpu = mi["cpu_model"] or mi["processor"] or mi["machine"]
    versions = ", ".join(dict.fromkeys(c["version"] for c in r["configs"]))
    seeding = ", ".join(f"{NAMES[k]} {v['seconds']:.0f} s" for k, v in r["seeding"].items())
    pg_note = (
        ""
        if any(c["backend"] == "postgresql" for c in r["configs"])
        else " **PostgreSQL was not run** (no PLEDGEFLOW_TEST_PG_URL: run under `bash scripts/with-postgres.sh`)."
    )
    tool_note = (
        f"wrk ({lg['version']})" if lg["tool"] == "wrk" else f"**no wrk: {lg['version']}** (figures not comparable)"
    )
    lines = [
        f"Machine: {cpu} ({mi['processor'] or mi['machine']}), {mi['cpu_count']} CPUs, {mi['platform']}; "
        f"Python {mi['python']}, SQLAlchemy {mi['sqlalchemy']}; {versions}.  ",
        f"Command: `{r['command']}` · date: {r['date']} · one run, {s['duration_s']} s per burst after a "
        f"{s['warmup_s']} s warm-up · load average at start {load(mi, 'start')}, at end {load(mi, 'end')}."
        f"{pg_note}{quick_note(r)}",
        "",
        *md_table(HEADS, table_rows(r), 2),
        *nagle_lines(r),
        "",
        "Race (tests/e2e/test_races.py over HTTP): 20 simultaneous events with the same `If-Match` on one reviewing "
        "pledge — 12 approve and 4 return by the branch secretary, 4 withdraw by the office; time from the barrier's "
        "release to the last answer (connections opened before the release).",
        "",
        *md_table(RACE_HEADS, race_rows(r), 1),
        "",
        "Targets:",
        "",
        *target_lines(r),
        *profile_lines(r),
        "",
        f"How: per database the demo county with accounts for all members (`demo.seed`), one secretary account per "
        f"branch as reviewer, and {s['pool']:,} more members with accounts and one pledge each, half of them "
        "submitted, all through the service layer (seeding: "
        f"{seeding}); SQLite is a file in a temp dir, PostgreSQL a fresh schema dropped afterwards. Each "
        "configuration is a real `pledgeflow serve --no-scheduler [--workers N]` (uvicorn's access log on, to a "
        f"file) with PLEDGEFLOW_DATABASE_URL set; load from {tool_note} on the same machine, {lg['connections']} "
        f"connections, {lg['threads']} threads, `--latency`. Events: each request moves a pledge — `submit` by its "
        "owner when proposing, `return` with a reason by the branch secretary when reviewing — round-robin over "
        f"the pool, split between the wrk threads ({s['pool'] // THREADS:,} pledges each), the script following "
        "each pledge's state from the answers; a collision (two requests on one pledge at once) answers 409. Server "
        "CPU: utime + stime of the serve process and all its descendants from /proc/<pid>/stat, read before and "
        "after each burst, divided by the requests wrk completed; PostgreSQL CPU the same for the postmaster's tree "
        "(all backends). `× healthz CPU` divides by the healthz figure of the same server. Server cores busy = "
        "server CPU / wall time of the burst; others' cores busy = the machine's busy time (/proc/stat) less the "
        "server, PostgreSQL, wrk and this script, per wall second — other processes competing for the "
        f"{mi['cpu_count']} CPUs, which the load generator also shares. The 1-connection events row (SQLite only) "
        "shows an event's cost without concurrency; the 1-connection healthz rows, the bare round trip. "
        "Raw figures: `bench/results/http.json`.",
    ]
    return "\n".join(lines)


def print_report(r: dict[str, Any]) -> None:
    print()
    print("\n".join(plain_table(HEADS, table_rows(r), 2)))
    for line in nagle_lines(r):
        print(line.replace("`", ""))
    print()
    print("\n".join(plain_table(RACE_HEADS, race_rows(r), 1)))
    print()
    for line in target_lines(r) + profile_lines(r):
        print(line.replace("**", "").replace("`", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short bursts, small pool: a smoke run")
    parser.add_argument("--duration", type=int, help="seconds per measured burst (default 12; --quick 2)")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: $PLEDGEFLOW_TEST_PG_URL); a fresh schema is used")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy profile of an event burst on SQLite: when a target is missed (auto), always, or never",
    )
    parser.add_argument("--no-write", action="store_true", help="print only: leave the JSON and BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    pg_url = args.pg_url or os.environ.get("PLEDGEFLOW_TEST_PG_URL") or None
    sizes = sizes_for(args.quick, args.duration)
    started = time.perf_counter()
    results = measure(sizes, pg_url, args.profile)
    results["quick"] = args.quick
    results["mode"] = "quick" if args.quick else "full"
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    print_report(results)
    if args.no_write:
        return 0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    write_section("http", "HTTP", section(results))
    print(f"\nwrote {RESULTS.relative_to(ROOT)} and {BENCHMARKS.relative_to(ROOT)} in {results['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
