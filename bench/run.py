"""Runs every benchmark one after another, then writes the targets of all of them at the top of BENCHMARKS.md.

A missing or failing script does not stop the others; the run then exits 1.
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
from pathlib import Path
from typing import Any

import report
from report import BENCHMARKS, RESULTS, ROOT, verdict, write_section

NAMES = ("engine", "persisted", "simulate", "sweep", "load", "burst", "roster", "profile")
BENCHES = {name: "http" if name == "load" else name for name in NAMES}  # script → results file and section markers
SUMMARY, SUMMARY_TITLE, QUICK_BUDGET_S = "summary", "Targets at a glance", 300.0  # `make bench`: under 5 minutes


def run(name: str, quick: bool) -> dict[str, Any]:
    """Run bench/<name>.py; its status: "ok", "failed (exit N)" or "missing", its seconds and start time."""
    path = ROOT / "bench" / f"{name}.py"
    if not path.exists():
        print(f"\n=== bench/{name}.py: MISSING, skipped", flush=True)
        return {"status": "missing"}
    exe = Path(sys.executable)
    args = [str(path.relative_to(ROOT)), *(["--quick"] if quick else [])]
    print(f"\n=== {' '.join([str(exe.relative_to(ROOT) if exe.is_relative_to(ROOT) else exe), *args])}", flush=True)
    started, t0 = time.time(), time.perf_counter()
    code = subprocess.run([sys.executable, *args], cwd=ROOT).returncode
    ran = {"status": "ok" if code == 0 else f"failed (exit {code})", "seconds": time.perf_counter() - t0}
    print(f"=== bench/{name}.py: {ran['status']} in {ran['seconds']:.0f} s", flush=True)
    return ran | {"started": started}


def rows(runs: dict[str, dict[str, Any]], text: str) -> list[list[str]]:
    """One row per target of every results file, noting figures this run did not rewrite."""
    out = []
    for name, ran in runs.items():
        section, path = BENCHES[name], RESULTS / f"{BENCHES[name]}.json"
        marker = text.find(f"<!-- {section}:start -->")
        title = ["", *re.findall(r"^## (.+)$", text[:marker], flags=re.MULTILINE)][-1] if marker >= 0 else ""
        anchor = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        link = f"[{title}](#{anchor})" if title else f"`bench/{name}.py`"
        status, note = ran["status"], ""
        if not path.exists():
            out.append([link, "–", f"not run: {status}, no results file", "**missing**", "–", "–"])
            continue
        if status in ("missing", "skipped"):
            note = f" ({status} in the last run: figures from an earlier run)"
        elif status != "reported" and path.stat().st_mtime < ran["started"]:
            note = f" ({status}, not rewritten: figures from an earlier run)"
        data = json.loads(path.read_text(encoding="utf-8"))
        mode, date = data.get("mode") or ("quick" if data.get("quick") else "full"), str(data.get("date", "–"))[:10]
        if not data.get("targets"):
            out.append([link, "–", "no `targets` list in the results file", "–", mode, date])
        for t in data.get("targets") or []:
            cells = [str(t.get(k, "–")).replace("|", "\\|").replace("\n", " ") for k in ("target", "measured")]
            out.append([link, cells[0], cells[1] + note, verdict(t.get("met")), mode, date])
    return out


def summary(runs: dict[str, dict[str, Any]], quick: bool, total_s: float) -> None:
    """Write "Targets at a glance" under the title of BENCHMARKS.md (its markers put there the first time)."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Pledgeflow benchmarks\n"
    if f"<!-- {SUMMARY}:start -->" not in text:
        first = re.search(r"^## ", text, flags=re.MULTILINE)
        at = first.start() if first else len(text)
        text = text[:at] + f"## {SUMMARY_TITLE}\n\n<!-- {SUMMARY}:start -->\n<!-- {SUMMARY}:end -->\n\n" + text[at:]
        BENCHMARKS.write_text(text, encoding="utf-8")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    if all(r["status"] == "reported" for r in runs.values()):
        last = f"Rewritten from `bench/results/*.json` at {now} without running a benchmark "
        last += "(`bench/run.py --summary-only`); each row's mode and date are those of its results file."
    else:
        times = ", ".join(f"{name} {r['seconds']:.0f} s" for name, r in runs.items() if r.get("seconds"))
        command = "make bench" if quick else "make bench-full"
        mode = "quick (`--quick`: smaller sizes, shorter bursts)" if quick else "full"
        last = f"Last run: `{command}` (`bench/run.py{' --quick' if quick else ''}` under `scripts/with-postgres.sh`), "
        last += f"{mode}, {now}, {os.cpu_count()} CPUs, {total_s / 60:.1f} min in all ({times})."
    table = rows(runs, text)
    lines = [f"Every target of issue 6 as the benchmarks below measured it. {last}", ""]
    lines += report.table(["benchmark", "target", "measured", "verdict", "mode", "date"], table, left=6)
    if missing := [f"`bench/{n}.py` ({r['status']})" for n, r in runs.items() if r["status"] not in ("ok", "reported")]:
        lines += ["", "Not run or failed in the last run: " + ", ".join(missing) + "."]
    if any(row[4] == "quick" for row in table):
        quick_note = "A quick run measures the same things at smaller sizes; where a target names a size (the 1 M-"
        lines += ["", quick_note + "pledge sweep, the district-size year) its verdict waits for `make bench-full`."]
    write_section(SUMMARY, SUMMARY_TITLE, "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every benchmark's --quick mode (under 5 minutes)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(BENCHES), help="run only these")
    parser.add_argument("--summary-only", action="store_true", help="run nothing: rewrite the summary from the results")
    args = parser.parse_args(argv)
    if args.summary_only:
        summary({name: {"status": "reported"} for name in BENCHES}, False, 0.0)
        print(f"rewrote the '{SUMMARY_TITLE}' section of {BENCHMARKS.relative_to(ROOT)}")
        return 0
    if not os.environ.get("PLEDGEFLOW_TEST_PG_URL"):
        print("bench/run.py: PLEDGEFLOW_TEST_PG_URL is not set: PostgreSQL rows will be missing", file=sys.stderr)
    started = time.perf_counter()
    runs = {n: run(n, args.quick) if not args.only or n in args.only else {"status": "skipped"} for n in BENCHES}
    total = time.perf_counter() - started
    summary(runs, args.quick, total)
    print(f"\n{'script':<20} {'status':<22} {'seconds':>8}")
    for name, r in runs.items():
        print(f"{'bench/' + name + '.py':<20} {r['status']:<22} {r.get('seconds', 0):>8.0f}")
    print(f"{'total':<20} {'':<22} {total:>8.0f}\n\nwrote the '{SUMMARY_TITLE}' section of {BENCHMARKS.name}")
    if args.quick and total > QUICK_BUDGET_S:
        over = f"the quick run took {total:.0f} s, over its {QUICK_BUDGET_S:.0f} s budget"
        print(f"bench/run.py: {over}", file=sys.stderr)
    if bad := [f"bench/{n}.py ({r['status']})" for n, r in runs.items() if r["status"] not in ("ok", "skipped")]:
        print(f"bench/run.py: FAILED: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
