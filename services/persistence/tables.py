"""SQLModel tables. Times are stored as UTC-aware datetimes; API schemas live elsewhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from notifications.types import SQLITE_AUTOINCREMENT, UTCDateTime


def _time(**kw: Any) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), **kw))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _pk() -> Any:
    return Field(default=None, sa_column=sa.Column(ID, primary_key=True, autoincrement=True))


def _fk(target: str, nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=sa.Column(ID, sa.ForeignKey(target), nullable=nullable, index=index),
    )


def _version() -> Any:
    """A record's version: the one event path writes `… WHERE id = :id AND version = :v` and moves it
    (services/lifecycle/store.py); nothing else writes a record."""
    return Field(default=1, sa_column=sa.Column("version", sa.Integer, nullable=False))


class Org(SQLModel, table=True):
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    parent_id: int | None = _fk("org.id", nullable=True)
    path: str = Field(default="", max_length=500, index=True)
    """Materialized path of ids, '/1/4/9/': a subtree is a prefix match."""
    code: str | None = Field(default=None, max_length=40, unique=True)
    """The roster's own key (编码): a second import of the same roster finds the org by it."""
    public_page: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    """Whether the org's public 公示 page answers; the office can switch it off."""


class Person(SQLModel, table=True):
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    name: str = Field(max_length=50)
    org_id: int = _fk("org.id")
    status: str = Field(max_length=20)
    position: str | None = Field(default=None, max_length=50)
    code: str | None = Field(default=None, max_length=40, unique=True)
    """The roster's own key (编码) for the person."""


class User(SQLModel, table=True):
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    name: str = Field(max_length=50)
    person_id: int | None = _fk("person.id", nullable=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = _time(nullable=False)
    active: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    credential_version: int = Field(default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1"))
    """Moved by every change to the user's token, roles or standing: callers cached under an older
    version are not found again, in any replica, and the user's web sessions end."""


class WebSession(SQLModel, table=True):
    """A signed-in page session. The cookie holds the session key; only the key's SHA-256 is kept here, so
    a copy of the database holds nothing that a cookie could carry."""

    __tablename__ = "web_session"
    key_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = _fk("user.id")
    credential_version: int
    created_at: dt.datetime = _time(nullable=False)
    expires_at: dt.datetime = _time(nullable=False)
    flash: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    """What the next page shows once: a form's outcome, its messages and, after a refusal, what was
    typed (kept here rather than in the cookie, so a long report is never lost)."""


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grant"
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    user_id: int = _fk("user.id")
    role: str = Field(max_length=20)
    org_id: int | None = _fk("org.id", nullable=True)


class Campaign(SQLModel, table=True):
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    year: int = Field(unique=True)
    timezone: str = Field(max_length=50)
    deadlines: dict[str, str] = _json()
    """Deadline name → ISO datetime with offset, after `calendar_policy` moved it off a rest day."""
    deadlines_as_set: dict[str, str] = _json()
    """The same before the policy moved any (equal to `deadlines` under `fixed`)."""
    calendar_policy: str = Field(
        default="fixed", sa_column=sa.Column(sa.String(20), nullable=False, server_default="fixed")
    )
    """fixed | previous_workday | next_workday: where a deadline on a rest day (China's calendar) goes."""
    notify_past_deadlines: bool = False
    reminder_offsets_days: list[int] = Field(
        default_factory=lambda: [7, 1], sa_column=sa.Column(sa.JSON, nullable=False)
    )
    escalation_after_days: int = 1
    min_ballots: int = Field(default=5, sa_column=sa.Column(sa.Integer, nullable=False, server_default="5"))
    """A subject's counts, rate and score are shown only from this many ballots; below it, its total alone."""
    criteria: dict[str, str] = Field(
        default_factory=lambda: {"org": "five_goods", "person": "five_leads"},
        sa_column=sa.Column(sa.JSON, nullable=False),
    )
    """Which criteria set rates an org's and a person's pledge at appraisal (五个好 / 五带头)."""
    created_at: dt.datetime = _time(nullable=False)


class Pledge(SQLModel, table=True):
    __table_args__ = (
        sa.Index(
            "uq_pledge_live_subject",
            "year",
            "subject_key",
            unique=True,
            sqlite_where=sa.text("state <> 'withdrawn'"),
            postgresql_where=sa.text("state <> 'withdrawn'"),
        ),
        SQLITE_AUTOINCREMENT,
    )
    id: int | None = _pk()
    year: int = Field(index=True)
    subject_type: str = Field(max_length=10)
    subject_key: str = Field(max_length=40)
    org_id: int = _fk("org.id")
    person_id: int | None = _fk("person.id", nullable=True)
    state: str = Field(max_length=30, index=True)
    version: int = _version()
    submitted_by: int | None = None
    submitted_on_behalf: bool = False
    data: dict[str, Any] = _json()
    created_at: dt.datetime = _time(nullable=False)
    updated_at: dt.datetime = _time(nullable=False)


class PledgeItem(SQLModel, table=True):
    __tablename__ = "pledge_item"
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    pledge_id: int = _fk("pledge.id")
    position: int
    content: str = Field(max_length=2000)
    measure: str | None = Field(default=None, max_length=2000)
    due_date: dt.date | None = None
    outcome: str | None = Field(default=None, max_length=20)
    explanation: str | None = Field(default=None, max_length=2000)


class ProgressRecord(SQLModel, table=True):
    __tablename__ = "progress_record"
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    pledge_id: int = _fk("pledge.id")
    item_id: int = _fk("pledge_item.id")
    note: str = Field(max_length=2000)
    happened_on: dt.date
    author_id: int | None = _fk("user.id", nullable=True, index=False)
    created_at: dt.datetime = _time(nullable=False)


class LeaderComment(SQLModel, table=True):
    __tablename__ = "leader_comment"
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    pledge_id: int = _fk("pledge.id")
    achievements: str = Field(max_length=2000)
    problems: str = Field(max_length=2000)
    direction: str = Field(max_length=2000)
    author_id: int | None = _fk("user.id", nullable=True, index=False)
    author_name: str = Field(max_length=50)
    author_role: str = Field(max_length=20)
    created_at: dt.datetime = _time(nullable=False)


class SelfEvaluation(SQLModel, table=True):
    __tablename__ = "self_evaluation"
    __table_args__ = (sa.UniqueConstraint("year", "org_id"), SQLITE_AUTOINCREMENT)
    id: int | None = _pk()
    year: int = Field(index=True)
    org_id: int = _fk("org.id")
    state: str = Field(max_length=30, index=True)
    version: int = _version()
    data: dict[str, Any] = _json()
    created_at: dt.datetime = _time(nullable=False)
    updated_at: dt.datetime = _time(nullable=False)


class ScoreEntry(SQLModel, table=True):
    __tablename__ = "score_entry"
    __table_args__ = (sa.UniqueConstraint("evaluation_id", "kind", "item_code"), SQLITE_AUTOINCREMENT)
    id: int | None = _pk()
    evaluation_id: int = _fk("self_evaluation.id")
    kind: str = Field(max_length=10)
    item_code: str = Field(max_length=50)
    points: float
    method: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=2000)


class History(SQLModel, table=True):
    """Append-only: one row per state change or edit of a record, `seq` from 1 per record."""

    __table_args__ = (sa.UniqueConstraint("subject_type", "subject_id", "seq"), SQLITE_AUTOINCREMENT)
    id: int | None = _pk()
    subject_type: str = Field(max_length=30)
    subject_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    seq: int
    event: str = Field(max_length=30)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str = Field(max_length=30)
    actor_id: int | None = None
    actor_name: str = Field(max_length=50)
    actor_role: str = Field(max_length=20)
    at: dt.datetime = _time(nullable=False)
    reason: str | None = Field(default=None, max_length=2000)
    late: bool = False
    backfilled: bool = False
    effective_on: dt.date | None = None
    data: dict[str, Any] = _json()
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str = Field(default="", max_length=64)
    """HMAC-SHA256 under the history key over this row's content and `prev_hash` (lifecycle/audit.py)."""


class Deadline(SQLModel, table=True):
    """A record's deadline. `next_notice_at` is when its next notice (reminder, overdue, escalation)
    is due, or NULL when none is: the sweep reads only rows whose time has come."""

    __table_args__ = (
        sa.UniqueConstraint("subject_type", "subject_id", "name"),
        sa.Index("ix_deadline_status_due", "status", "due_at"),
        SQLITE_AUTOINCREMENT,
    )
    id: int | None = _pk()
    year: int
    subject_type: str = Field(max_length=30)
    subject_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    name: str = Field(max_length=50)
    due_at: dt.datetime = _time(nullable=False)
    status: str = Field(max_length=20)
    fired_at: dt.datetime | None = _time(nullable=True)
    settled_at: dt.datetime | None = _time(nullable=True)
    notice_stage: int = 0
    next_notice_at: dt.datetime | None = _time(nullable=True, index=True)


class AppraisalRound(SQLModel, table=True):
    __tablename__ = "appraisal_round"
    __table_args__ = (sa.UniqueConstraint("year", "org_id"), SQLITE_AUTOINCREMENT)
    id: int | None = _pk()
    year: int = Field(index=True)
    org_id: int = _fk("org.id")
    state: str = Field(max_length=30, index=True)
    version: int = _version()
    data: dict[str, Any] = _json()
    created_at: dt.datetime = _time(nullable=False)
    updated_at: dt.datetime = _time(nullable=False)


NO_ROWID = {"sqlite_with_rowid": False}
"""Rows kept in key order only: no hidden rowid recording the order of ballots (SQLite)."""


class Voted(SQLModel, table=True):
    """Who has voted on a subject in a round: a person (whatever accounts they hold), or an account
    without a person. Nothing here says what they voted (see `Tally`)."""

    __table_args__ = (sa.PrimaryKeyConstraint("round_id", "subject_type", "subject_id", "voter"), NO_ROWID)
    round_id: int = Field(sa_column=sa.Column(ID, sa.ForeignKey("appraisal_round.id"), nullable=False))
    subject_type: str = Field(max_length=10)
    subject_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    voter: str = Field(max_length=30)
    """`person:<id>`, or `user:<id>` for an account that is not a person's."""


class Tally(SQLModel, table=True):
    """What was voted: a count per subject and rating, moved by one per ballot. No row is a ballot, so
    there is no order, time or id to set beside `Voted`."""

    __table_args__ = (sa.PrimaryKeyConstraint("round_id", "subject_type", "subject_id", "rating"), NO_ROWID)
    round_id: int = Field(sa_column=sa.Column(ID, sa.ForeignKey("appraisal_round.id"), nullable=False))
    subject_type: str = Field(max_length=10)
    subject_id: int = Field(sa_column=sa.Column(ID, nullable=False))
    rating: str = Field(max_length=20)
    ballots: int = 0


class DemoSite(SQLModel, table=True):
    __tablename__ = "demo_site"
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    year: int = Field(index=True)
    org_id: int = _fk("org.id")
    state: str = Field(max_length=30, index=True)
    version: int = _version()
    typical_formulation: str = Field(max_length=2000)
    typical_person: str = Field(max_length=2000)
    typical_event: str = Field(max_length=2000)
    data: dict[str, Any] = _json()
    created_at: dt.datetime = _time(nullable=False)
    updated_at: dt.datetime = _time(nullable=False)


class Rectification(SQLModel, table=True):
    __table_args__ = (SQLITE_AUTOINCREMENT,)
    id: int | None = _pk()
    year: int = Field(index=True)
    org_id: int = _fk("org.id")
    state: str = Field(max_length=30, index=True)
    version: int = _version()
    problems: str = Field(max_length=2000)
    due_date: dt.date
    evaluation_id: int | None = _fk("self_evaluation.id", nullable=True)
    data: dict[str, Any] = _json()
    created_at: dt.datetime = _time(nullable=False)
    updated_at: dt.datetime = _time(nullable=False)


class IdempotencyKey(SQLModel, table=True):
    """A state-changing POST's answer, kept 24 h so a retry with the same key replays it."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("caller", "route", "key"), SQLITE_AUTOINCREMENT)
    id: int | None = _pk()
    caller: str = Field(max_length=64)
    """sha256 of the caller's token: the key is scoped to who sent it."""
    route: str = Field(max_length=300)
    key: str = Field(max_length=200)
    body_hash: str = Field(max_length=64)
    status: int | None = None
    """None while the first request is still being handled."""
    response: str | None = None
    headers: dict[str, str] = _json()
    created_at: dt.datetime = _time(nullable=False, index=True)
