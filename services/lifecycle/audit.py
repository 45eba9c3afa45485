"""Tamper-evident history: each row's hash covers its content and the previous row of its record.

Chains are per record (subject_type, subject_id), not global: appending needs only the record's
own last row, which the record's version check already serialises, so writers on different
records never wait for one another. `verify` recomputes every chain and also checks that a chain
ends in the record's current state, so deleting the newest rows is caught too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.persistence.tables import AppraisalRound, DemoSite, History, Pledge, Rectification, SelfEvaluation

RECORD_TABLES: dict[str, Any] = {
    "pledge": Pledge,
    "self_evaluation": SelfEvaluation,
    "appraisal_round": AppraisalRound,
    "demo_site": DemoSite,
    "rectification": Rectification,
}


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(row: Mapping[str, Any], prev_hash: str | None) -> str:
    """The hash of a history row's values (as inserted, or `History.model_dump()`)."""
    content = [
        prev_hash or "",
        row["subject_type"],
        row["subject_id"],
        row["seq"],
        row["event"],
        row["from_state"],
        row["to_state"],
        row["actor_id"],
        row["actor_name"],
        row["actor_role"],
        _utc(row["at"]),
        row["reason"],
        row["late"],
        row["backfilled"],
        row["effective_on"].isoformat() if row["effective_on"] else None,
        row["data"],
    ]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Broken:
    subject_type: str
    subject_id: int
    seq: int | None
    history_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.subject_type} {self.subject_id}" + (
            f" seq {self.seq} (history id {self.history_id})" if self.seq else ""
        )
        return f"{where}: {self.problem}"


def verify(session: Session, batch: int = 10_000) -> Iterator[Broken]:
    """Recompute every chain in (subject, seq) order, streaming; yield each broken chain once."""
    q = select(History).order_by(col(History.subject_type), col(History.subject_id), col(History.seq))
    current: tuple[str, int] | None = None
    prev: History | None = None
    failed = False
    for row in session.exec(q.execution_options(yield_per=batch)):
        key = (row.subject_type, row.subject_id)
        if key != current:
            if current is not None and prev is not None and not failed:
                yield from _check_end(session, prev)
            current, prev, failed = key, None, False
        if failed:
            continue
        problem = _check_row(row, prev)
        if problem:
            failed = True
            yield Broken(row.subject_type, row.subject_id, row.seq, row.id, problem)
        prev = row
    if prev is not None and not failed:
        yield from _check_end(session, prev)


def _check_row(row: History, prev: History | None) -> str | None:
    expected_seq = prev.seq + 1 if prev else 1
    if row.seq != expected_seq:
        return f"序号不连续：应为 {expected_seq}，实为 {row.seq}（有记录被删除或插入）"
    if row.prev_hash != (prev.hash if prev else None):
        return "与上一条记录的哈希不衔接（有记录被删除、插入或修改）"
    if row.hash != digest(row.model_dump(), row.prev_hash):
        return "内容与哈希不符（记录被修改）"
    return None


def _check_end(session: Session, last: History) -> Iterator[Broken]:
    table = RECORD_TABLES.get(last.subject_type)
    if table is None:
        return
    state = session.execute(sa.select(table.state).where(table.id == last.subject_id)).scalar_one_or_none()
    if state is not None and state != last.to_state:
        yield Broken(
            last.subject_type,
            last.subject_id,
            None,
            None,
            f"最后一条历史的状态 {last.to_state} 与记录当前状态 {state} 不符（最新的历史记录可能被删除）",
        )


def count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(History)).scalar_one())
