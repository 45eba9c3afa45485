"""Processes on Linux: CPU time of process trees from /proc (what the benchmarks charge to a server), servers run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import sqlalchemy as sa

TICKS = os.sysconf("SC_CLK_TCK")
PLEDGEFLOW = str(Path(sys.executable).parent / "pledgeflow")  # this venv's console script
HOST = "127.0.0.1"


def read_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime in clock ticks) of one process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may hold spaces
    return int(rest[1]), int(rest[11]) + int(rest[12])


def tree_ticks(root: int) -> dict[int, int]:
    """CPU ticks of `root` and all its descendants (a PostgreSQL postmaster: every backend), by pid."""
    stats = {int(e): st for e in os.listdir("/proc") if e.isdigit() and (st := read_stat(int(e))) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [root]
    while todo:
        if (pid := todo.pop()) in stats:
            out[pid] = stats[pid][1]
            todo.extend(children.get(pid, []))
    return out


def tree_seconds(root: int) -> float:
    return sum(tree_ticks(root).values()) / TICKS


def busy_seconds() -> float:
    """CPU time all CPUs spent busy since boot (/proc/stat: everything but idle and iowait)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]] + [0] * 8
    )[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


@contextmanager
def cpu_spent(roots: dict[str, int | None]) -> Iterator[dict[str, float]]:
    """CPU seconds spent during the block by each named process tree (one started meanwhile counts whole), by this
    process ("self") and by the whole machine ("system")."""
    before = {name: tree_ticks(pid) for name, pid in roots.items() if pid}
    own, system, spent = sum(os.times()[:2]), busy_seconds(), {}
    try:
        yield spent
    finally:
        for name, ticks in before.items():
            spent[name] = sum(t - ticks.get(pid, 0) for pid, t in tree_ticks(roots[name] or 0).items()) / TICKS
        spent |= {"self": sum(os.times()[:2]) - own, "system": busy_seconds() - system}


def status_kb(field: str, pid: int | str = "self") -> int | None:
    """A field of /proc/<pid>/status such as VmRSS or VmHWM, in kB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    return next((int(line.split()[1]) for line in lines if line.startswith(f"{field}:")), None)


def postmaster_pid(db: sa.Engine) -> int | None:
    """The PostgreSQL postmaster: the parent of any backend (here, ours); None on other databases."""
    if db.dialect.name != "postgresql":
        return None
    with db.connect() as conn:
        stat = read_stat(int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()))
    return stat[0] if stat else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(args: list[str], log: Path, ready: Callable[[], bool], timeout: float, **env: Any) -> Iterator[Any]:
    """A child process (output to `log`, `env` over ours) once `ready()` holds; SIGTERM at the end (SIGKILL 60 s on)."""
    with log.open("w") as out:
        child = subprocess.Popen(
            args, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(args[:2])} did not get ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def wait_idle(pid: int, quiet_s: float, timeout: float = 30.0) -> None:
    """Until the process tree has used no CPU for `quiet_s` (read every 0.1 s), or `timeout` passed."""
    deadline, last, since = time.monotonic() + timeout, -1.0, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.1)
        if (now := tree_seconds(pid)) != last:
            last, since = now, time.monotonic()


class Server(NamedTuple):
    url: str
    pid: int
    log: Path


@contextmanager
def serve(db_url: str, log: Path, workers: int = 1, cli: list[str] | None = None, **env: str) -> Iterator[Server]:
    """`pledgeflow serve --no-scheduler` (of `cli`, else this venv's) on a free port, once every worker answers."""
    port = free_port()
    url, args = f"http://{HOST}:{port}", [*(cli or [PLEDGEFLOW]), "serve", "--no-scheduler", "--host", HOST, "--port"]

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    args += [str(port), *(["--workers", str(workers)] if workers > 1 else [])]
    with running(args, log, up, 60, PLEDGEFLOW_DATABASE_URL=db_url, **env) as child:
        deadline = time.monotonic() + 60  # /healthz answered by one worker only proves that one
        while workers > 1 and log.read_text().count("startup complete") < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield Server(url, child.pid, log)
