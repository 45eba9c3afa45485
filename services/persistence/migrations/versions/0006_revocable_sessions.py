"""revocable users and server-side web sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00.000000

`user.active` and `user.credential_version` (moved by a token replacement, a role change or a
disable), and `web_session`: a page session is a row, so logout ends it. The signed cookie of the
release before carried the token's SHA-256 and is no longer read: everyone signs in again once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from notifications.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("user", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("user", sa.Column("credential_version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "web_session",
        sa.Column("key_hash", sa.String(length=64), primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("user.id"), nullable=False, index=True),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_session")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("credential_version")
        batch.drop_column("active")
