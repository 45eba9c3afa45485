"""Runs every benchmark one after another, then writes the targets of all of them at the top of BENCHMARKS.md.

Run as `bash scripts/with-postgres.sh .venv/bin/python bench/run.py [--quick]` (`make bench` is the quick run,
`make bench-full` the full one). Each of bench/engine.py, persisted.py, simulate.py, sweep.py, load.py and
profile.py runs as a subprocess (with `--quick` when given), writes bench/results/<name>.json and rewrites its own
section of BENCHMARKS.md. Every results file carries a top-level "mode" and a "targets" list of
{"target", "measured", "met"}; `met` is None where a quick run cannot judge a target. Afterwards this script puts
all those targets in one table ("Targets at a glance", right under the title of BENCHMARKS.md) and prints the time
each script took. A missing or failing script does not stop the others; the run then ends with exit status 1 and
names it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from report import BENCHMARKS, write_section

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
SUMMARY = "summary"
SUMMARY_TITLE = "Targets at a glance"
QUICK_BUDGET_S = 300.0
"""`make bench` must finish in under 5 minutes."""


@dataclass(frozen=True)
class Bench:
    script: str
    results: str
    section: str
    """The name of its markers in BENCHMARKS.md (`<!-- name:start -->`)."""


BENCHES = (
    Bench("engine.py", "engine.json", "engine"),
    Bench("persisted.py", "persisted.json", "persisted"),
    Bench("simulate.py", "simulate.json", "simulate"),
    Bench("sweep.py", "sweep.json", "sweep"),
    Bench("load.py", "http.json", "http"),
    Bench("profile.py", "profile.json", "profile"),
)


@dataclass
class Ran:
    bench: Bench
    status: str
    """"ok", "failed (exit N)", "missing", "skipped" (not chosen with --only) or "reported" (--summary-only)."""
    seconds: float = 0.0
    started: float = 0.0
    """Wall-clock time (time.time()) the script started: a results file older than this was not rewritten."""


def run(bench: Bench, quick: bool) -> Ran:
    path = BENCH / bench.script
    if not path.exists():
        print(f"\n=== bench/{bench.script}: MISSING, skipped", flush=True)
        return Ran(bench, "missing")
    args = [str(path.relative_to(ROOT)), *(["--quick"] if quick else [])]
    print(f"\n=== {' '.join([shown(sys.executable), *args])}", flush=True)
    started, t0 = time.time(), time.perf_counter()
    code = subprocess.run([sys.executable, *args], cwd=ROOT).returncode
    seconds = time.perf_counter() - t0
    status = "ok" if code == 0 else f"failed (exit {code})"
    print(f"=== bench/{bench.script}: {status} in {seconds:.0f} s", flush=True)
    return Ran(bench, status, seconds, started)


def shown(exe: str) -> str:
    """The interpreter as the scripts print it in their sections: relative to the checkout when inside it."""
    path = Path(exe)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else exe


# --- the summary -------------------------------------------------------------------------------------------------


def load_results(ran: Ran) -> tuple[dict[str, Any] | None, str]:
    """The results file and a note: empty when this run wrote it, else why its figures are older or absent."""
    path = RESULTS / ran.bench.results
    if not path.exists():
        return None, "no results file"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if ran.status == "reported":
        return data, ""
    if ran.status in ("missing", "skipped"):
        return data, f"{ran.status} in the last run: figures from an earlier run"
    if path.stat().st_mtime < ran.started:
        return data, f"{ran.status}, not rewritten: figures from an earlier run"
    return data, ""


def anchor(title: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def heading_of(section: str, text: str) -> str | None:
    """The `## ` heading the section's markers sit under."""
    marker = text.find(f"<!-- {section}:start -->")
    if marker < 0:
        return None
    headings = re.findall(r"^## (.+)$", text[:marker], flags=re.MULTILINE)
    return headings[-1] if headings else None


def verdict(met: Any) -> str:
    if met is None:
        return "not judged (quick run)"
    return "met" if met else "**missed**"


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def rows(runs: list[Ran], text: str) -> list[list[str]]:
    out = []
    for ran in runs:
        data, note = load_results(ran)
        title = heading_of(ran.bench.section, text)
        name = f"[{title}](#{anchor(title)})" if title else f"`bench/{ran.bench.script}`"
        if data is None:
            out.append([name, "–", f"not run: {ran.status}, {note}", "**missing**", "–", "–"])
            continue
        mode = data.get("mode") or ("quick" if data.get("quick") else "full")
        date = str(data.get("date", "–"))[:10]
        targets = data.get("targets")
        if not isinstance(targets, list) or not targets:
            out.append([name, "–", "no `targets` list in the results file", "–", mode, date])
            continue
        for t in targets:
            measured = cell(t.get("measured", "–")) + (f" ({note})" if note else "")
            out.append([name, cell(t.get("target", "–")), measured, verdict(t.get("met")), mode, date])
    return out


def summary(runs: list[Ran], quick: bool, total_s: float, text: str) -> str:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    cpus = os.cpu_count()
    times = ", ".join(f"{r.bench.script.removesuffix('.py')} {r.seconds:.0f} s" for r in runs if r.seconds)
    command = "make bench" if quick else "make bench-full"
    mode = "quick (`--quick`: smaller sizes, shorter bursts)" if quick else "full"
    if any(r.status != "reported" for r in runs):
        last = (
            f"Last run: `{command}` (`bench/run.py{' --quick' if quick else ''}` under `scripts/with-postgres.sh`), "
            f"{mode}, {now}, {cpus} CPUs, {total_s / 60:.1f} min in all ({times})."
        )
    else:
        last = (
            f"Rewritten from `bench/results/*.json` at {now} without running a benchmark "
            "(`bench/run.py --summary-only`); each row's mode and date are those of its results file."
        )
    table = rows(runs, text)
    lines = [
        f"Every target of issue 6 as the benchmarks below measured it. {last}",
        "",
        "| benchmark | target | measured | verdict | mode | date |",
        "|---|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in table),
    ]
    missing = [f"`bench/{r.bench.script}` ({r.status})" for r in runs if r.status not in ("ok", "reported")]
    if missing:
        lines += ["", "Not run or failed in the last run: " + ", ".join(missing) + "."]
    if any(row[4] == "quick" for row in table):
        lines += [
            "",
            "A quick run measures the same things at smaller sizes; where a target names a size (the 1 M-pledge "
            "sweep, the district-size year) its verdict waits for `make bench-full`.",
        ]
    return "\n".join(lines)


def ensure_slot(path: Path = BENCHMARKS) -> None:
    """Put the summary's markers under the title, before the first section, the first time."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Pledgeflow benchmarks\n"
    if f"<!-- {SUMMARY}:start -->" in text:
        return
    block = f"## {SUMMARY_TITLE}\n\n<!-- {SUMMARY}:start -->\n<!-- {SUMMARY}:end -->\n\n"
    first = re.search(r"^## ", text, flags=re.MULTILINE)
    at = first.start() if first else len(text)
    path.write_text(text[:at] + block + text[at:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="every benchmark's --quick mode (under 5 minutes)")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these (engine, persisted, simulate, sweep, load, profile)"
    )
    parser.add_argument(
        "--summary-only", action="store_true", help="run nothing: rewrite the summary from bench/results/*.json"
    )
    args = parser.parse_args(argv)
    if args.summary_only:
        runs = [Ran(bench, "reported") for bench in BENCHES]
        ensure_slot()
        write_section(SUMMARY, SUMMARY_TITLE, summary(runs, False, 0.0, BENCHMARKS.read_text(encoding="utf-8")))
        print(f"rewrote the '{SUMMARY_TITLE}' section of {BENCHMARKS.relative_to(ROOT)}")
        return 0
    if not os.environ.get("PLEDGEFLOW_TEST_PG_URL"):
        print("bench/run.py: PLEDGEFLOW_TEST_PG_URL is not set: PostgreSQL rows will be missing", file=sys.stderr)
    unknown = set(args.only or ()) - {b.script.removesuffix(".py") for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    runs = [
        run(bench, args.quick)
        if not args.only or bench.script.removesuffix(".py") in args.only
        else Ran(bench, "skipped")
        for bench in BENCHES
    ]
    total = time.perf_counter() - started
    ensure_slot()
    write_section(SUMMARY, SUMMARY_TITLE, summary(runs, args.quick, total, BENCHMARKS.read_text(encoding="utf-8")))

    print(f"\n{'script':<20} {'status':<22} {'seconds':>8}")
    for r in runs:
        print(f"{'bench/' + r.bench.script:<20} {r.status:<22} {r.seconds:>8.0f}")
    print(f"{'total':<20} {'':<22} {total:>8.0f}")
    print(f"\nwrote the '{SUMMARY_TITLE}' section of {BENCHMARKS.relative_to(ROOT)}")
    bad = [r for r in runs if r.status not in ("ok", "skipped")]
    if args.quick and total > QUICK_BUDGET_S:
        print(
            f"bench/run.py: the quick run took {total:.0f} s, over its {QUICK_BUDGET_S:.0f} s budget", file=sys.stderr
        )
    if bad:
        names = ", ".join(f"bench/{r.bench.script} ({r.status})" for r in bad)
        print(f"bench/run.py: FAILED: {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
