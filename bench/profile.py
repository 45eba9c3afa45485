"""Profile → fix, before and after: the pledge event path of a baseline commit beside this tree, in one run."""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import ours
import proc
import report

BASELINE = "c7d6422"  # main before this profile → fix cycle (the HTTP section's 11.4× was measured on it)
PACKAGES = ("sqlalchemy", "sqlmodel", "pydantic", "fastapi", "starlette", "transitions", "anyio", "uvicorn")
BURSTS = {"event": 6, "healthz": 2000}  # per burst: submit/return cycles over every pledge, or healthz requests


def child(cycles: int, profile: bool) -> dict[str, Any]:
    import services

    now = dt.datetime.now(dt.UTC)
    url = f"sqlite:///{tempfile.mkdtemp(prefix='pledgeflow-profile-')}/profile.db"
    c = ours.Pledgeflow(url)
    # last year's campaign (set up on 1 September of it): a campaign of this year with its deadlines past is
    # refused now, and the baseline tree's seed takes no year
    seeded, work = c.seed(dt.datetime(now.year - 1, 9, 1, tzinfo=dt.UTC)), []
    for person in ours.pledgers(seeded):
        owner, token = c.user(person.name, person.id, [{"role": "member"}], now)
        _, secretary_token = c.user("书记", None, [{"role": "secretary", "org_id": person.org_id}], now)
        pid = c.create_pledge(owner, seeded.year, person.id, now)
        work.append((pid, owner, seeded.actors[f"secretary:{person.org_id}"], token, secretary_token))

    def service_round() -> int:
        for pid, owner, secretary, _, _ in work:
            c.fire(owner, pid, "submit", now)
            c.fire(secretary, pid, "return", now, reason="请补充措施")
        return 2 * len(work)

    service_round()
    out: dict[str, Any] = {"events_per_round": 2 * len(work), "tree": str(Path(services.__file__).parent.parent)}
    per_event = []
    for _ in range(cycles):
        started, n = time.process_time(), service_round()
        per_event.append((time.process_time() - started) / n * 1e6)
    out["service_us"] = statistics.median(per_event)
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(cycles):
            service_round()
        _, by_package, inclusive, total = report.profile_counters(profiler.stop(), {"services"})
        coarse: Counter[str] = Counter()
        for package, t in by_package.items():
            top = package.split(".")[0]
            coarse[top if top in PACKAGES or top == "services" else "other"] += t
        shares = {"by_package": report.shares(coarse, len(coarse), total), "ours": report.shares(inclusive, 14, total)}
        out["profile"] = {k: dict((name, round(v, 3)) for name, v in pairs) for k, pairs in shares.items()}
    c.db.dispose()
    return out | http_cpu(url, work, cycles)


def http_cpu(url: str, work: list[Any], cycles: int) -> dict[str, Any]:
    conn: http.client.HTTPConnection | None = None

    def request(method: str, path: str, body: Any = None, token: str = "") -> None:
        nonlocal conn
        conn = conn or http.client.HTTPConnection(server.url.removeprefix("http://"))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"} if token else {}
        conn.request(method, path, json.dumps(body) if body else None, headers)
        answer = conn.getresponse()
        assert answer.status == 200, (answer.status, answer.read()[:300])
        answer.read()

    def events() -> int:
        for _ in range(BURSTS["event"]):
            for pid, _, _, token, secretary_token in work:
                path = f"/api/v1/pledges/{pid}/events"
                request("POST", path, {"event": "submit", "data": {}}, token)
                request("POST", path, {"event": "return", "reason": "请补充措施"}, secretary_token)
        return 2 * BURSTS["event"] * len(work)

    def healthz() -> int:
        for _ in range(BURSTS["healthz"]):
            request("GET", "/healthz")
        return BURSTS["healthz"]

    log = Path(url.removeprefix("sqlite:///")).with_suffix(".log")
    with proc.serve(url, log, cli=ours.serve_command(), PLEDGEFLOW_SCHEDULER="false") as server:
        events(), healthz()
        figures: dict[str, list[float]] = {"event": [], "healthz": []}
        for _ in range(cycles):
            for name, burst in (("healthz", healthz), ("event", events)):
                before = proc.tree_seconds(server.pid)
                n = burst()
                figures[name].append((proc.tree_seconds(server.pid) - before) / n * 1000)
    event, health = statistics.median(figures["event"]), statistics.median(figures["healthz"])
    return {"http_event_cpu_ms": event, "http_healthz_cpu_ms": health, "http_ratio": event / health}


def run_child(tree: Path, cycles: int, profile: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--cycles", str(cycles), *["--profile"] * profile]
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring child failed in {tree}:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(out["tree"]).resolve() != tree.resolve():
        raise SystemExit(f"the child imported services from {out['tree']}, not {tree}")
    return out


def short(rev: str) -> str:
    try:
        return report.git("rev-parse", "--short", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"profile.py: {rev} is not in this clone (a shallow clone?): {exc.stderr.strip()}") from exc


def measure(args: Any) -> report.Results:
    (rounds, cycles), base = (2, 2) if args.quick else (4, 5), short(args.baseline)
    with tempfile.TemporaryDirectory(prefix="pledgeflow-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        report.git("worktree", "add", "--detach", str(tree), args.baseline)
        try:
            runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
            for n in range(rounds):
                order = [("before", tree), ("after", report.ROOT)]
                for label, where in order if n % 2 == 0 else order[::-1]:
                    runs[label].append(run_child(where, cycles, profile=False))
                    report.progress(f"round {n + 1}/{rounds} {label}: {runs[label][-1]}")
            profile = run_child(report.ROOT, cycles, profile=True)["profile"]
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=report.ROOT, check=False)
    results = {"baseline": base, "head": short("HEAD"), "runs": runs, "profile": profile}
    results["after_events"] = runs["after"][0]["events_per_round"] * cycles
    ratio, before = median(runs["after"], "http_ratio"), median(runs["before"], "http_ratio")
    target = "event CPU ≤ 4× healthz CPU (one connection, same server, same run)"
    return results | {"targets": [report.target(target, f"{ratio:.1f}× after, {before:.1f}× before", ratio <= 4)]}


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


ROWS = [
    ("service layer: one event, CPU µs (own unit of work, commit included)", "service_us", "{:,.0f}"),
    ("HTTP: server CPU per `POST …/events`, ms", "http_event_cpu_ms", "{:.2f}"),
    ("HTTP: server CPU per `GET /healthz`, ms", "http_healthz_cpu_ms", "{:.2f}"),
    ("HTTP: event ÷ healthz CPU", "http_ratio", "{:.1f}×"),
]


def render(r: report.Results) -> str:
    before, after = r["runs"]["before"], r["runs"]["after"]
    rows = []
    for label, key, fmt in ROWS:
        b, a = median(before, key), median(after, key)
        rows.append([label, fmt.format(b), fmt.format(a), f"{a / b:.2f}"])
    heads = ["measurement", f"before ({r['baseline']})", f"after ({r['head']} + working tree)", "after ÷ before"]
    packages = ", ".join(f"{k} {v:.0%}" for k, v in r["profile"]["by_package"].items() if v >= 0.01)
    functions = "; ".join(f"`{k}` {v:.0%}" for k, v in list(r["profile"]["ours"].items())[:10])
    pledges = after[0]["events_per_round"] // 2
    where = f"Where the service-layer event's time goes now (pyinstrument, {r['after_events']} events): by package, "
    bursts = f"This run: {pledges} pledges; each burst {2 * BURSTS['event'] * pledges:,} events or "
    bursts += f"{BURSTS['healthz']:,} healthz requests. Raw runs: `bench/results/profile.json`."
    runs = f"medians of {len(before)} alternating rounds per tree"
    where += f"{packages}. Our functions, inclusive: {functions}."
    return report.section(r, runs, heads, rows, "", where, "", bursts)


if __name__ == "__main__":
    parser = report.parser(__doc__)
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with (default {BASELINE})")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cycles", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.cycles, args.profile)))
    else:
        sys.exit(report.run(args, "profile", "Profile → fix: the event path before and after", measure, render))
