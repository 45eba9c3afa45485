"""CPU time of processes and process trees, read from /proc (Linux): what the benchmarks charge to a server."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

TICKS = os.sysconf("SC_CLK_TCK")


def read_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime in clock ticks) of one process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may hold spaces
    return int(rest[1]), int(rest[11]) + int(rest[12])


def tree_ticks(root: int) -> dict[int, int]:
    """CPU ticks of `root` and all its descendants, by pid."""
    stats = {int(e): st for e in os.listdir("/proc") if e.isdigit() and (st := read_stat(int(e))) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid][1]
            todo.extend(children.get(pid, []))
    return out


def tree_seconds(root: int) -> float:
    """CPU seconds of `root` and all its descendants (a PostgreSQL postmaster: every backend)."""
    return sum(tree_ticks(root).values()) / TICKS


def postmaster_pid(db: sa.Engine) -> int | None:
    """The PostgreSQL postmaster: the parent of any backend (here, ours); None on other databases."""
    if db.dialect.name != "postgresql":
        return None
    with db.connect() as conn:
        backend = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    stat = read_stat(backend)
    return stat[0] if stat else None
