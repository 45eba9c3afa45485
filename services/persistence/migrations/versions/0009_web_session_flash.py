"""a page session keeps its next message, and what was typed, server-side

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00.000000

`web_session.flash`: the outcome of the last form (its messages, the refused field and, after a
refusal, every value typed), shown once by the next page. It lived in the signed cookie, which
holds 4 KB: a long report refused was lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("web_session", sa.Column("flash", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.drop_column("flash")
