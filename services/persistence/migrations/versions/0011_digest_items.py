"""a digest notice lists the reminders it carries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 01:30:00.000000

`notice.items`: a digest's reminders (subject, deadline, due time, title), one notice for a person's
several reminders of a morning; NULL for every other notice (existing ones included).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEEP = {"sqlite_autoincrement": True}
"""SQLite rebuilds a table to drop a column: the rebuilt table keeps AUTOINCREMENT (see 0004)."""


def upgrade() -> None:
    op.add_column("notice", sa.Column("items", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notice", table_kwargs=KEEP) as batch:
        batch.drop_column("items")
