"""history chains keyed with a secret kept outside the database

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:10:00.000000

Each history row's hash becomes an HMAC under the history key (`SecretKey.derive("history")`), so a
row changed in the database can no longer be hidden by recomputing the chain. Every chain that is
intact under the old unkeyed SHA-256 is re-hashed under the key; a chain already broken is left as
it is, for `pledgeflow audit verify` to report. The downgrade does the reverse under the same key.
"""

import hashlib
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from services.persistence.history_hash import canonical, digest
from services.persistence.tables import History

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Every chain intact under the unkeyed SHA-256 is re-hashed under the history key."""
    _rehash(intact=lambda row, prev, key: row["hash"] == _unkeyed(row, prev, key), new=digest)


def downgrade() -> None:
    """Every chain intact under the history key goes back to the unkeyed SHA-256; a broken one stays
    as it is, as on the way up."""
    _rehash(intact=lambda row, prev, key: row["hash"] == digest(row, prev, key), new=_unkeyed)


Hash = Callable[[dict, str | None, bytes], str]


def _unkeyed(row: dict, prev: str | None, key: bytes) -> str:
    return hashlib.sha256(canonical(row, prev)).hexdigest()


def _history_key() -> bytes:
    key = context.config.attributes.get("history_key")
    if not key:
        raise RuntimeError(
            "migration 0007 re-keys the history chains: it needs the secret key (run `pledgeflow migrate`)"
        )
    return key


def _rehash(intact: Callable[[dict, str | None, bytes], bool], new: Hash) -> None:
    conn = op.get_bind()
    table = History.__table__  # type: ignore[attr-defined]
    rows = conn.execute(sa.select(table).order_by(table.c.subject_type, table.c.subject_id, table.c.seq)).mappings()
    chains: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        chains.setdefault((row["subject_type"], row["subject_id"]), []).append(dict(row))
    if not chains:
        return
    key = _history_key()
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(hash=sa.bindparam("new_hash"), prev_hash=sa.bindparam("new_prev"))
    )
    for chain in chains.values():
        if not _intact(chain, lambda row, prev: intact(row, prev, key)):
            continue
        prev = None
        changes = []
        for row in chain:
            value = new(row, prev, key)
            changes.append({"row_id": row["id"], "new_hash": value, "new_prev": prev})
            prev = value
        conn.execute(update, changes)


def _intact(chain: list[dict], hashed: Callable[[dict, str | None], bool]) -> bool:
    prev = None
    for seq, row in enumerate(chain, start=1):
        if row["seq"] != seq or row["prev_hash"] != prev or not hashed(row, prev):
            return False
        prev = row["hash"]
    return True
