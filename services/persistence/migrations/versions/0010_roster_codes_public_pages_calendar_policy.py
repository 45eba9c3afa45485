"""roster codes, public pages that can be switched off, and a calendar policy per campaign

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 01:20:00.000000

`org.code` and `person.code`: the roster's own keys (编码), so importing the same roster twice finds
what the first import made. `org.public_page`: whether the org's public 公示 page answers.
`campaign.calendar_policy` and `campaign.deadlines_as_set`: where a deadline on a rest day moves, and
the dates before it moved (existing campaigns are `fixed`, so they are their own dates).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEEP = {"sqlite_autoincrement": True}
"""SQLite rebuilds a table to add a constraint: the rebuilt table keeps AUTOINCREMENT (see 0004)."""


def upgrade() -> None:
    with op.batch_alter_table("org", table_kwargs=KEEP) as batch:
        batch.add_column(sa.Column("code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("public_page", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_unique_constraint("uq_org_code", ["code"])
    with op.batch_alter_table("person", table_kwargs=KEEP) as batch:
        batch.add_column(sa.Column("code", sa.String(40), nullable=True))
        batch.create_unique_constraint("uq_person_code", ["code"])
    with op.batch_alter_table("campaign", table_kwargs=KEEP) as batch:
        batch.add_column(sa.Column("calendar_policy", sa.String(20), nullable=False, server_default="fixed"))
        batch.add_column(sa.Column("deadlines_as_set", sa.JSON(), nullable=True))
    campaign = sa.table("campaign", sa.column("deadlines", sa.JSON()), sa.column("deadlines_as_set", sa.JSON()))
    op.execute(campaign.update().values(deadlines_as_set=campaign.c.deadlines))
    with op.batch_alter_table("campaign", table_kwargs=KEEP) as batch:
        batch.alter_column("deadlines_as_set", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign", table_kwargs=KEEP) as batch:
        batch.drop_column("deadlines_as_set")
        batch.drop_column("calendar_policy")
    with op.batch_alter_table("person", table_kwargs=KEEP) as batch:
        batch.drop_constraint("uq_person_code", type_="unique")
        batch.drop_column("code")
    with op.batch_alter_table("org", table_kwargs=KEEP) as batch:
        batch.drop_constraint("uq_org_code", type_="unique")
        batch.drop_column("public_page")
        batch.drop_column("code")
