"""ids never reused on SQLite (AUTOINCREMENT)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 21:30:00.000000

SQLite can add AUTOINCREMENT only by rebuilding a table (copy, drop, rename: Alembic's batch mode keeps
indexes, partial ones included, and constraints). Ids deleted before this migration above the highest one
left cannot be known any more; from here on none comes back. PostgreSQL's sequences never went back, so
there nothing changes. The rebuild needs foreign keys off, which persistence.db.migrate
sees to (a pragma that cannot change inside a transaction); the result is checked before commit.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "org",
    "person",
    "user",
    "role_grant",
    "campaign",
    "pledge",
    "pledge_item",
    "progress_record",
    "leader_comment",
    "self_evaluation",
    "score_entry",
    "history",
    "deadline",
    "appraisal_round",
    "ballot",
    "demo_site",
    "rectification",
    "idempotency_key",
    "notice",
    "inbox_entry",
    "webhook",
    "delivery",
)


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("rebuilding SQLite tables needs PRAGMA foreign_keys=OFF (persistence.db.migrate sets it)")
    for name in TABLES:
        with op.batch_alter_table(name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign keys broken after rebuilding the tables: {broken[:5]}")
