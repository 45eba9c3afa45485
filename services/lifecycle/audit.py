"""Tamper-evident history: each row's hash is an HMAC of its content and the previous row's hash.

The HMAC key is derived from the secret kept outside the database (`SecretKey.derive("history")`), so
someone who can write to the database but not read the secret cannot recompute a chain after changing
a row. Chains are per record (subject_type, subject_id), not global: appending needs only the record's
own last row, which the record's version check already serialises, so writers on different records
never wait for one another. `verify` recomputes every chain, checks that each ends in its record's
current state (deleting the newest rows is caught) and that every record has a chain (deleting a
record's whole history is caught). It cannot see a record deleted together with its whole history,
nor a change made by someone holding the secret key.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.persistence.history_hash import digest
from services.persistence.tables import AppraisalRound, DemoSite, History, Pledge, Rectification, SelfEvaluation

RECORD_TABLES: dict[str, Any] = {
    "pledge": Pledge,
    "self_evaluation": SelfEvaluation,
    "appraisal_round": AppraisalRound,
    "demo_site": DemoSite,
    "rectification": Rectification,
}


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


def verify(session: Session, key: bytes, batch: int = 10_000) -> Iterator[Broken]:
    """Recompute every chain in (subject, seq) order, streaming; yield each broken chain once, then
    each record that has no chain at all."""
    yield from _chains(session, key, batch)
    yield from _without_history(session)


def _chains(session: Session, key: bytes, batch: int) -> Iterator[Broken]:
    q = select(History).order_by(col(History.subject_type), col(History.subject_id), col(History.seq))
    current: tuple[str, int] | None = None
    prev: History | None = None
    failed = False
    for row in session.exec(q.execution_options(yield_per=batch)):
        subject = (row.subject_type, row.subject_id)
        if subject != current:
            if current is not None and prev is not None and not failed:
                yield from _check_end(session, prev)
            current, prev, failed = subject, None, False
        if failed:
            continue
        problem = _check_row(row, prev, key)
        if problem:
            failed = True
            yield Broken(row.subject_type, row.subject_id, row.seq, row.id, problem)
        prev = row
    if prev is not None and not failed:
        yield from _check_end(session, prev)


def _check_row(row: History, prev: History | None, key: bytes) -> str | None:
    expected_seq = prev.seq + 1 if prev else 1
    if row.seq != expected_seq:
        return f"序号不连续：应为 {expected_seq}，实为 {row.seq}（有记录被删除或插入）"
    if row.prev_hash != (prev.hash if prev else None):
        return "与上一条记录的哈希不衔接（有记录被删除、插入或修改）"
    if not hmac.compare_digest(row.hash, digest(row.model_dump(), row.prev_hash, key)):
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


def _without_history(session: Session) -> Iterator[Broken]:
    for subject_type, table in RECORD_TABLES.items():
        chained = sa.exists().where(col(History.subject_type) == subject_type, col(History.subject_id) == table.id)
        for record_id in session.execute(sa.select(table.id).where(~chained).order_by(table.id)).scalars():
            yield Broken(subject_type, record_id, None, None, "记录没有任何历史（其历史可能被整体删除）")


def count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(History)).scalar_one())
