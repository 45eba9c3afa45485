"""history chains keyed with a secret kept outside the database

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:10:00.000000

Each history row's hash becomes an HMAC under the history key (`SecretKey.derive("history")`), so a
row changed in the database can no longer be hidden by recomputing the chain. Every chain that is
intact under the old unkeyed SHA-256 is re-hashed under the key; a chain already broken is left as
it is, for `pledgeflow audit verify` to report.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from services.persistence.history_hash import canonical, digest
from services.persistence.tables import History

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    table = History.__table__  # type: ignore[attr-defined]
    rows = conn.execute(sa.select(table).order_by(table.c.subject_type, table.c.subject_id, table.c.seq)).mappings()
    chains: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        chains.setdefault((row["subject_type"], row["subject_id"]), []).append(dict(row))
    if not chains:
        return
    key = context.config.attributes.get("history_key")
    if not key:
        raise RuntimeError(
            "migration 0007 re-keys the history chains: it needs the secret key (run `pledgeflow migrate`)"
        )
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(hash=sa.bindparam("new_hash"), prev_hash=sa.bindparam("new_prev"))
    )
    for chain in chains.values():
        if not _intact_unkeyed(chain):
            continue
        prev = None
        changes = []
        for row in chain:
            new = digest(row, prev, key)
            changes.append({"row_id": row["id"], "new_hash": new, "new_prev": prev})
            prev = new
        conn.execute(update, changes)


def _intact_unkeyed(chain: list[dict]) -> bool:
    prev = None
    for seq, row in enumerate(chain, start=1):
        if row["seq"] != seq or row["prev_hash"] != prev:
            return False
        if row["hash"] != hashlib.sha256(canonical(row, prev)).hexdigest():
            return False
        prev = row["hash"]
    return True


def downgrade() -> None:
    raise NotImplementedError("the unkeyed hashes are not kept: restore a backup to go below 0007")
