"""Bursts: 100, 500 and 2,000 concurrent `GET /api/v1/me` at a real `pledgeflow serve`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import proc
import report

ADMIN = "burst-admin-token"
SIZES = {"quick": (100, 500), "full": (100, 500, 2000)}
HEALTHZ_P99_MS, PROBE_EVERY_S = 100.0, 0.02
OK = ("200", "503")  # a 503 with Retry-After is an answer


def probe(url: str, stop: Any, out: Any) -> None:
    latencies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                ok = client.get("/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000 if ok else 60_000.0)
            time.sleep(PROBE_EVERY_S)
    out.put(latencies)


async def burst(url: str, token: str, n: int) -> tuple[Counter[str], float]:
    """`n` requests at once; their outcomes ("200", "503", "500", "unanswered: ReadTimeout", …) and the seconds."""
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:

        async def one() -> str:
            try:
                return str((await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code)
            except httpx.HTTPError as exc:
                return f"unanswered: {type(exc).__name__}"

        started = time.perf_counter()
        outcomes = Counter(await asyncio.gather(*(one() for _ in range(n))))
        return outcomes, time.perf_counter() - started


def member_token(url: str) -> str:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as admin:
        org = admin.post("/api/v1/orgs", json={"name": "压测党支部", "kind": "committee"}).json()["id"]
        person = admin.post("/api/v1/people", json={"name": "压测党员", "org_id": org, "status": "full"}).json()["id"]
        body = {"name": "压测党员", "roles": [{"role": "member"}], "person_id": person}
        return str(admin.post("/api/v1/users", json=body).json()["token"])


def measure_backend(url: str, log: Path, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    with proc.serve(url, log, PLEDGEFLOW_ADMIN_TOKEN=ADMIN) as server:
        token = member_token(server.url)
        for n in sizes:
            stop, out = mp.Event(), mp.Queue()
            prober = mp.Process(target=probe, args=(server.url, stop, out))
            prober.start()
            time.sleep(0.5)
            outcomes, seconds = asyncio.run(burst(server.url, token, n))
            time.sleep(0.5)
            stop.set()
            latencies = sorted(out.get(timeout=120))
            prober.join()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            row = {"n": n, "outcomes": dict(outcomes), "seconds": round(seconds, 2), "probes": len(latencies)}
            row |= {"healthz_p50_ms": round(statistics.median(latencies), 1), "healthz_p99_ms": round(p99, 1)}
            rows.append(row | {"healthz_max_ms": round(latencies[-1], 1)})
            report.progress(f"  {n} at once: {dict(outcomes)} in {seconds:.1f} s; /healthz p99 {p99:.1f} ms")
            time.sleep(1)
    return rows


def measure(args: Any) -> report.Results:
    sizes, results = SIZES["quick" if args.quick else "full"], {"backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fresh in report.databases(args, "burst").items():
            report.progress(f"{report.NAMES[name]}: bursts of {', '.join(map(str, sizes))}")
            with fresh() as url:
                results["backends"][name] = measure_backend(url, Path(tmp) / f"{name}.log", sizes)
    rows = [(name, row) for name, backend in results["backends"].items() for row in backend]
    worst = max((row["healthz_p99_ms"] for _, row in rows), default=0.0)
    bad = [f"{name} {row['n']}: {k} ×{v}" for name, row in rows for k, v in row["outcomes"].items() if k not in OK]
    healthz = f"`/healthz` p99 under {HEALTHZ_P99_MS:.0f} ms during every burst"
    results["targets"] = [report.target(healthz, f"worst {worst:.1f} ms", worst < HEALTHZ_P99_MS)]
    results["targets"].append(report.target("no 500 and no request left unanswered", "; ".join(bad) or "none", not bad))
    return results


def render(r: report.Results) -> str:
    heads = ["database", "at once", "answers", "seconds", "/healthz probes", "p50 ms", "p99 ms", "max ms"]
    rows = []
    for name, backend in r["backends"].items():
        for row in backend:
            answers = ", ".join(f"{k} ×{v:,}" for k, v in sorted(row["outcomes"].items()))
            cells = [report.NAMES[name], f"{row['n']:,}", answers, f"{row['seconds']:.2f}", f"{row['probes']:,}"]
            rows.append(cells + [f"{row[k]:.1f}" for k in ("healthz_p50_ms", "healthz_p99_ms", "healthz_max_ms")])
    runs = "one burst per size, 1 worker, default settings (32 requests in flight)"
    return report.section(r, runs, heads, rows, pg="postgresql" in r["backends"])


if __name__ == "__main__":
    args = report.parser(__doc__, pg=True).parse_args()
    sys.exit(report.run(args, "burst", "Bursts", measure, render, httpx=httpx.__version__))
