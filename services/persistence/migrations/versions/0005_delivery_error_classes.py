"""webhook delivery errors kept as their class only

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:10:00.000000

Webhook delivery errors used to keep the client library's words ("ConnectError: [Errno 111] Connection
refused", "HTTP 503"), which the office reads in the deliveries list and which tell a port scan what it
wants; now only the class is kept (notifications/channels.py), the rows written before included.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE delivery SET status = 'cancelled', last_error = NULL WHERE last_error = 'webhook removed or inactive'"
    )
    op.execute("UPDATE delivery SET last_error = 'http_error' WHERE channel = 'webhook' AND last_error LIKE 'HTTP %'")
    op.execute(
        "UPDATE delivery SET last_error = 'unreachable' WHERE channel = 'webhook' AND last_error IS NOT NULL "
        "AND last_error NOT IN ('http_error', 'unreachable', 'blocked')"
    )


def downgrade() -> None:
    pass  # the words are gone; the classes are valid values for the old code too
