"""The roster import of a district (653 organisations, 23,625 people) on SQLite, and on PostgreSQL when given."""

from __future__ import annotations

import datetime as dt
import io
import sys
import time
from contextlib import ExitStack
from typing import Any

import report
from openpyxl import Workbook

from services.access import admin_actor
from services.config import Settings
from services.container import build_container
from services.persistence.uow import UnitOfWork
from services.usecases import roster, roster_book

DISTRICT = {"orgs": 653, "people": 23_625}
TARGET_S = 30.0
STATUSES = ("正式", "正式", "正式", "预备", "积极分子", "群众")


def workbook(orgs: int, people: int) -> bytes:
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(roster_book.ORGS.name)
    sheet.append(roster_book.ORGS.headers)
    sheet.append(["C", "县委教育工委", "教育工委", None])
    generals = [f"G{g:02d}" for g in range(12)]
    for g in generals:
        sheet.append([g, f"第{g}党总支", "党总支/机关党委", "C"])
    branches = [f"B{b:04d}" for b in range(orgs - 1 - len(generals))]
    for n, b in enumerate(branches):
        sheet.append([b, f"第{b}党支部", "党支部", generals[n % len(generals)]])
    sheet = wb.create_sheet(roster_book.PEOPLE.name)
    sheet.append(roster_book.PEOPLE.headers)
    for n in range(people):
        branch, status = branches[n % len(branches)], STATUSES[n % len(STATUSES)]
        roles = "支部书记、党员" if n < len(branches) else "党员" if status in ("正式", "预备") else None
        sheet.append([f"P{n:06d}", f"教师{n}", branch, status, "书记" * (n < len(branches)) or None, None, roles])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def timed(url: str, data: bytes, dry_run: bool = False) -> tuple[float, roster.Outcome]:
    container = build_container(Settings(database_url=url, scheduler=False))
    try:
        t0 = time.perf_counter()
        with UnitOfWork(container.db) as uow:
            outcome = roster.import_roster(uow, admin_actor(), data, dt.datetime.now(dt.UTC), dry_run)
        return time.perf_counter() - t0, outcome
    finally:
        container.db.dispose()


def measure(args: Any) -> report.Results:
    size = {k: round(v * (0.1 if args.quick else 1.0)) for k, v in DISTRICT.items()}
    data = workbook(**size)
    report.progress(f"roster of {size['orgs']} orgs, {size['people']} people: {len(data) / 1e6:.1f} MB")
    runs = {}
    with ExitStack() as stack:
        urls = {name: stack.enter_context(fresh()) for name, fresh in report.databases(args, "roster").items()}
        for backend, url in urls.items():
            checked, _ = timed(url, data, dry_run=True)
            first, outcome = timed(url, data)
            again, _ = timed(url, data)
            runs[backend] = {"dry_run_s": checked, "import_s": first, "again_s": again, "users": outcome.users.created}
            report.progress(f"{backend}: import {first:.1f} s, again {again:.1f} s, dry run {checked:.1f} s")
    met, measured = None if args.quick else runs["sqlite"]["import_s"] < TARGET_S, f"{runs['sqlite']['import_s']:.1f} s"
    text = f"importing a district roster ({DISTRICT['orgs']} orgs, {DISTRICT['people']:,} people) < {TARGET_S:g} s "
    targets = [report.target(text + "on SQLite", measured, met)]
    return {"size": size, "bytes": len(data), "runs": runs, "targets": targets}


def render(r: report.Results) -> str:
    rows = [
        [report.NAMES[b], f"{x['import_s']:.1f}", f"{x['again_s']:.1f}", f"{x['dry_run_s']:.1f}", f"{x['users']:,}"]
        for b, x in r["runs"].items()
    ]
    heads = ["database", "import (s)", "same file again (s)", "dry run (s)", "users made"]
    runs = f"{r['size']['orgs']} orgs, {r['size']['people']:,} people, {r['bytes'] / 1e6:.1f} MB"
    return report.section(r, runs, heads, rows)


if __name__ == "__main__":
    args = report.parser(__doc__, pg=True).parse_args()
    sys.exit(report.run(args, "roster", "Roster import", measure, render))
