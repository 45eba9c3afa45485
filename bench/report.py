"""Shared by the benchmarks: command line, machine info, databases, results file with `targets`, section writer."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS, RESULTS = ROOT / "BENCHMARKS.md", ROOT / "bench" / "results"
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "sqlalchemy": "SQLAlchemy", "spiffworkflow": "SpiffWorkflow"}
NO_PG = " **PostgreSQL was not run** (no `--pg-url` / PLEDGEFLOW_TEST_PG_URL: run under `scripts/with-postgres.sh`)."
_MACHINE = {"processor", "cpu_model", "cpu_count", "machine", "platform", "python"}
_T0 = time.perf_counter()

Results = dict[str, Any]
Render = Callable[[Results], str]
Rows = list[list[str]]


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Seconds `fn(*args)` took, and what it returned."""
    started = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - started, out


def progress(message: str) -> None:
    print(f"  [{time.perf_counter() - _T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def parser(doc: str | None, pg: bool = False) -> argparse.ArgumentParser:
    """The flags every script takes: --quick, --report-only, --no-write, and --pg-url where PostgreSQL runs."""
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run for `make bench`")
    if pg:
        p.add_argument("--pg-url", help="PostgreSQL URL (default: $PLEDGEFLOW_TEST_PG_URL); fresh schemas are used")
    p.add_argument("--report-only", action="store_true", help="measure nothing: rewrite the section from the results")
    p.add_argument("--no-write", action="store_true", help="print only: leave the results file and BENCHMARKS.md")
    return p


def pg_url(args: Any) -> str | None:
    url = getattr(args, "pg_url", None) or os.environ.get("PLEDGEFLOW_TEST_PG_URL") or None
    if not url:
        progress("no PostgreSQL URL (--pg-url or PLEDGEFLOW_TEST_PG_URL): PostgreSQL is skipped")
    return url


def databases(args: Any, name: str) -> dict[str, Callable[[], AbstractContextManager[str]]]:
    """SQLite, and PostgreSQL when a URL is given: each a maker of a fresh database (a context of its URL)."""
    pg = pg_url(args)
    makers: dict[str, Callable[[], AbstractContextManager[str]]] = {"sqlite": lambda: sqlite_url(name)}
    return makers | ({"postgresql": lambda: pg_schema_url(pg)} if pg else {})


def run(args: Any, name: str, title: str, measure: Callable[[Any], Results], render: Render, **versions: str) -> int:
    """Measure (or read bench/results/<name>.json), print the section, write the results and the section."""
    path = RESULTS / f"{name}.json"
    if args.report_only:
        results = json.loads(path.read_text(encoding="utf-8"))
    else:
        started, now = time.perf_counter(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        results = {"benchmark": name, "mode": "quick" if args.quick else "full", "date": now, "command": command()}
        results |= {"machine": machine_info(**versions)} | measure(args)
        results["machine"]["loadavg_at_end"] = list(os.getloadavg())
        results["runtime_s"] = round(time.perf_counter() - started, 1)
    text = render(results)
    print(text)
    if not args.no_write:
        if not args.report_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
            tmp.replace(path)
        write_section(name, title, text)
    return 0


def write_section(name: str, title: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace what lies between `<!-- name:start -->` and `<!-- name:end -->`, or append `## title` and them."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Pledgeflow benchmarks\n"
    if start in text and end in text and text.index(start) < text.index(end):
        head, rest = text.split(start, 1)
        text = f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"
    else:
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{start}\n{body}\n{end}\n"
    path.write_text(text, encoding="utf-8")


def machine_info(**versions: str) -> dict[str, Any]:
    cpu = [x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in x]
    out = {"processor": platform.processor(), "cpu_model": cpu[0] if cpu else "", "cpu_count": os.cpu_count()}
    out |= {"machine": platform.machine(), "platform": platform.platform(), "python": platform.python_version()}
    return out | versions | {"loadavg_at_start": list(os.getloadavg())}


def command() -> str:
    """How this script was run, the PostgreSQL URL hidden (it may hold a password), the wrapper named."""
    exe = Path(sys.executable)
    with suppress(ValueError):
        exe = exe.relative_to(Path.cwd())
    args, hide = [], False
    for arg in sys.argv:
        args.append("URL" if hide else "--pg-url=URL" if arg.startswith("--pg-url=") else arg)
        hide = arg == "--pg-url"
    line = shlex.join([str(exe), *args])
    return f"bash scripts/with-postgres.sh {line}" if os.environ.get("PLEDGEFLOW_TEST_PG_URL") else line


@contextmanager
def pg_schema_url(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at `base` (its URL), dropped afterwards."""
    schema, admin = f"bench_{uuid.uuid4().hex[:12]}", sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def sqlite_url(name: str) -> Iterator[str]:
    """A SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="pledgeflow-bench-") as tmp:
        yield f"sqlite:///{tmp}/{name}.db"


def git(*args: str) -> str:
    """The output of `git args…` in this checkout (CalledProcessError when it fails)."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def server_version(db: sa.Engine) -> str:
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())
        return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar_one()).split()[0]


def header(r: Results, runs: str, also: str = "", note: str = "") -> list[str]:
    """The lines a section opens with: machine, versions, command, mode, date and load."""
    m = r["machine"]
    versions = "".join(f", {NAMES.get(k, k)} {v}" for k, v in m.items() if k not in _MACHINE and "load" not in k)
    load = {w: "/".join(f"{v:.2f}" for v in m.get(f"loadavg_at_{w}") or []) or "–" for w in ("start", "end")}
    quick = " **Quick run (`--quick`): smaller sizes, a smoke test — not figures to publish.**" * (r["mode"] == "quick")
    return [
        f"Machine: {m['cpu_model'] or m['processor'] or m['machine']} ({m['machine']}), {m['cpu_count']} CPUs, "
        f"{m['platform']}; Python {m['python']}{versions}{also}.  ",
        f"Command: `{r['command']}` · mode: {r['mode']} · date: {r['date']} · {runs} · load average at start "
        f"{load['start']}, at end {load['end']}.{quick}{note}",
        "",
    ]


def section(
    r: Results,
    runs: str,
    heads: list[str],
    rows: Rows,
    *tail: str,
    also: str = "",
    pg: bool = True,
    notes: bool = False,
) -> str:
    """Header, one table, the targets and `tail`; `pg=False` notes that PostgreSQL was not run."""
    top, lines = header(r, runs, also, "" if pg else NO_PG), table(heads, rows, notes=notes)
    return "\n".join([*top, *lines, *target_lines(r["targets"]), *tail])


def table(heads: list[str], rows: list[list[str]], left: int = 1, notes: bool = False) -> list[str]:
    """A markdown table: the first `left` columns (and a last `notes` one) left-aligned, figures right-aligned."""
    align = ["---"] * left + ["---:"] * (len(heads) - left - notes) + ["---"] * notes
    return ["| " + " | ".join(heads) + " |", "|" + "|".join(align) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def verdict(met: bool | None) -> str:
    return "not judged (quick run)" if met is None else "met" if met else "**missed**"


def target(text: str, measured: str, met: bool | None) -> dict[str, Any]:
    return {"target": text, "measured": measured, "met": met}


def target_lines(targets: list[dict[str, Any]]) -> list[str]:
    return ["", "Targets:", "", *(f"- {t['target']}: {t['measured']} — {verdict(t['met'])}." for t in targets)]


def shares(counter: Counter[str], k: int, total: float) -> list[list[Any]]:
    return [[name, round(v / total, 4)] for name, v in counter.most_common(k)]


def listing(pairs: list[list[Any]], k: int) -> str:
    return "; ".join(f"`{name}` {share:.0%}" for name, share in pairs[:k])


def package_of(function: str, path: str) -> str:
    """`sqlalchemy.orm`, `services.usecases`, `stdlib json`, …: two levels tell where time goes."""
    if path == "<built-in>":  # pyinstrument names C functions by their class: the sqlite3 driver's Cursor, …
        return "sqlite3 driver (C)" if function.startswith(("Cursor.", "Connection.")) else "C built-ins"
    p = Path(path)
    if "site-packages" in p.parts:
        return ".".join(x.removesuffix(".py") for x in p.parts[p.parts.index("site-packages") + 1 :][:2])
    with suppress(ValueError):
        return ".".join(x.removesuffix(".py") for x in p.resolve().relative_to(ROOT).parts[:2])
    return f"stdlib {p.stem}" if p.suffix == ".py" else path or "?"


def profile_counters(session: Any, ours: set[str]) -> tuple[Counter[str], Counter[str], Counter[str], float]:
    """A pyinstrument session: self time by frame and package, inclusive time in `ours` packages, time sampled."""
    by_frame, by_package, inclusive = Counter[str](), Counter[str](), Counter[str]()
    for stack, t in session.frame_records:
        names = {}
        for ident in stack:
            function, path, line = [*ident.split("\x01")[0].split("\x00"), "", ""][:3]
            package = package_of(function, path)
            where = f"{package}:{line}" if path and line not in ("", "0") else package
            names[ident] = f"{function} ({where})", package
        leaf, package = names[stack[-1]]
        by_frame[leaf] += t
        by_package[package] += t
        for name, package in set(names.values()):
            if package.split(".")[0] in ours:
                inclusive[name] += t
    return by_frame, by_package, inclusive, sum(t for _, t in session.frame_records)
