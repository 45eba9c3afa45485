"""secret ballots: who has voted and what was voted kept apart

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:20:00.000000

`ballot` kept each rating with a keyed hash of its voter, and the key sat in `app_secret` in the same
database: with it every ballot could be attributed. Now `voted` says who has voted on a subject (a
person, whatever accounts they hold) and `tally` counts the ratings per subject, with nothing linking
the two. The old ballots are carried over: their ratings into `tally`, their voters (found with the old
key, one last time) into `voted`; then `ballot` and `app_secret` are dropped. Campaigns get
`min_ballots` (5): below it a subject's results show its total alone.
"""

import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("campaign", sa.Column("min_ballots", sa.Integer(), nullable=False, server_default="5"))
    voted = op.create_table(
        "voted",
        *_subject(),
        sa.Column("voter", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("round_id", "subject_type", "subject_id", "voter"),
        sqlite_with_rowid=False,  # no hidden rowid keeping the order of ballots
    )
    tally = op.create_table(
        "tally",
        *_subject(),
        sa.Column("rating", sa.String(length=20), nullable=False),
        sa.Column("ballots", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("round_id", "subject_type", "subject_id", "rating"),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    counts = conn.execute(
        sa.text(
            "SELECT round_id, subject_type, subject_id, rating, COUNT(*) AS ballots FROM ballot"
            " GROUP BY round_id, subject_type, subject_id, rating"
        )
    ).mappings()
    if rows := [dict(r) for r in counts]:
        op.bulk_insert(tally, rows)
    if cast := _voters(conn):
        op.bulk_insert(voted, cast)
    op.drop_table("ballot")
    op.drop_table("app_secret")


def _subject() -> list[sa.Column]:
    return [
        sa.Column("round_id", ID, sa.ForeignKey("appraisal_round.id"), nullable=False),
        sa.Column("subject_type", sa.String(length=10), nullable=False),
        sa.Column("subject_id", ID, nullable=False),
    ]


def _voters(conn: sa.Connection) -> list[dict]:
    """Each old ballot's voter, found by hashing every user with the old key for the ballot's round."""
    key = conn.execute(sa.text("SELECT value FROM app_secret WHERE name = 'ballot_key'")).scalar()
    ballots = conn.execute(sa.text("SELECT round_id, subject_type, subject_id, voter_hash FROM ballot")).all()
    if key is None or not ballots:
        return []
    users = conn.execute(sa.text('SELECT id, person_id FROM "user"')).all()
    voter_of: dict[str, str] = {}
    for round_id in {b[0] for b in ballots}:
        for user_id, person_id in users:
            digest = hmac.new(key.encode(), f"{round_id}:{user_id}".encode(), hashlib.sha256).hexdigest()
            voter_of[digest] = f"person:{person_id}" if person_id is not None else f"user:{user_id}"
    found = {(b[0], b[1], b[2], voter_of[b[3]]) for b in ballots if b[3] in voter_of}
    return [{"round_id": r, "subject_type": t, "subject_id": i, "voter": v} for r, t, i, v in sorted(found)]


def downgrade() -> None:
    raise NotImplementedError(
        "0008 cannot be undone: which voter gave which ballot is deliberately no longer stored, so the"
        " one-row-per-voter ballots below it cannot be rebuilt; restore a backup taken before 0008"
    )
