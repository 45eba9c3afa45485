"""Request and response bodies of the HTTP API (separate from the tables)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field, UrlConstraints, computed_field
from pydantic_core import PydanticCustomError

from definitions.vocabulary import CalendarPolicy, NoticeKind
from services.usecases.fields import Clean, Command


class OrgOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: int | None


class UpdateOrg(Command):
    """What the office may change on an org through the API: whether its public 公示 page answers."""

    public_page: Annotated[bool, Field(title="公示页面")]


class OrgUpdated(OrgOut):
    public_page: bool


class PersonOut(BaseModel):
    id: int
    name: str
    org_id: int
    status: str
    status_label: str
    position: str | None


class RoleOut(BaseModel):
    role: str
    org_id: int | None


class UserCreated(BaseModel):
    id: int
    name: str
    token: str
    roles: list[RoleOut]


class UserOut(BaseModel):
    id: int
    name: str
    person_id: int | None
    active: bool
    roles: list[RoleOut]


class TokenOut(BaseModel):
    token: str


class MeOut(BaseModel):
    id: int | None
    name: str
    person: PersonOut | None
    roles: list[RoleOut]


class CampaignOut(BaseModel):
    year: int
    timezone: str
    calendar_policy: CalendarPolicy
    """Where a deadline on a rest day went: fixed, previous_workday or next_workday."""
    deadlines: dict[str, dt.datetime]
    """The deadlines in force: after the policy moved any off a rest day."""
    deadlines_as_set: dict[str, dt.datetime]
    """The same as set, before any was moved."""
    notify_past_deadlines: bool
    reminder_offsets_days: list[int]
    escalation_after_days: int
    min_ballots: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def calendar_policy_label(self) -> str:
        return self.calendar_policy.label_zh


class Subject(BaseModel):
    type: str
    id: int
    name: str


class ItemOut(BaseModel):
    id: int
    content: str
    measure: str | None
    due_date: dt.date | None
    outcome: str | None
    explanation: str | None


class DeadlineOut(BaseModel):
    name: str
    due_at: dt.datetime
    status: str
    status_label: str


class PledgeOut(BaseModel):
    id: int
    year: int
    subject: Subject
    org_id: int
    org_name: str
    state: str
    state_label: str
    version: int
    items: list[ItemOut]
    data: dict[str, Any]
    deadlines: list[DeadlineOut]
    overdue: bool
    allowed_events: list[str]
    submitted_on_behalf: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class PledgePage(BaseModel):
    items: list[PledgeOut]
    total: int


class Actor(BaseModel):
    user_id: int | None
    name: str
    role: str


class HistoryOut(BaseModel):
    seq: int
    event: str
    event_label: str
    from_state: str | None
    to_state: str
    actor: Actor
    at: dt.datetime
    reason: str | None
    late: bool
    backfilled: bool
    effective_on: dt.date | None


class CommentOut(BaseModel):
    id: int
    pledge_id: int
    achievements: str
    problems: str
    direction: str
    author_id: int | None
    author_name: str
    author_role: str
    created_at: dt.datetime


class OrgRef(BaseModel):
    id: int
    name: str


class ContactPledge(BaseModel):
    id: int
    year: int
    subject_name: str
    state: str
    state_label: str
    overdue: bool


class ContactPointOut(BaseModel):
    """A supervisor's 联系点: the org, the pledges in its subtree, and the leader comments on them."""

    org: OrgRef
    pledges: list[ContactPledge]
    comments: list[CommentOut]


class ProgressOut(BaseModel):
    id: int
    pledge_id: int
    item_id: int
    note: str
    happened_on: dt.date
    author_id: int | None
    created_at: dt.datetime


class BandOut(BaseModel):
    code: str
    label_zh: str


class ScoreOut(BaseModel):
    code: str
    kind: str
    points: float
    method: str | None
    note: str | None


class OrgRecordBase(BaseModel):
    """What every record belonging to one org shows: who, which year, where in its lifecycle."""

    id: int
    year: int
    org_id: int
    org_name: str
    state: str
    state_label: str
    version: int


class SelfEvaluationOut(OrgRecordBase):
    self_score: float | None
    self_band: BandOut | None
    assessed_score: float | None
    band: BandOut | None
    rectification_proposal: dict[str, Any] | None
    scores: list[ScoreOut]
    data: dict[str, Any]
    deadlines: list[DeadlineOut]
    overdue: bool
    allowed_events: list[str]


class SelfEvaluationPage(BaseModel):
    items: list[SelfEvaluationOut]
    total: int


class Health(BaseModel):
    status: str


class SubjectRef(BaseModel):
    type: str
    id: int


class InboxEntryOut(BaseModel):
    id: int
    notice_id: int
    kind: str
    subject: SubjectRef
    deadline: str
    due_at: dt.datetime
    title: str
    body: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxPage(BaseModel):
    items: list[InboxEntryOut]
    total: int


WEBHOOK_URL_MAX = 500


def _stored_url_fits(url: AnyHttpUrl) -> AnyHttpUrl:
    """The URL as stored (normalized: percent-encoded, a path added) fits its 500-character column;
    `UrlConstraints` alone measures only what was sent."""
    if len(str(url)) > WEBHOOK_URL_MAX:
        limit = {"max_length": WEBHOOK_URL_MAX}
        raise PydanticCustomError("string_too_long", "过长（最多 {max_length} 个字符）", limit)
    return url


WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=WEBHOOK_URL_MAX), AfterValidator(_stored_url_fits)]


class WebhookIn(Command):
    url: Annotated[WebhookUrl, Field(title="接收地址")]
    secret: Annotated[Clean, Field(min_length=8, max_length=200, title="签名密钥")]
    kinds: Annotated[list[NoticeKind], Field(max_length=5, title="推送的通知类别（空：全部）")] = Field(
        default_factory=list
    )


class WebhookPatch(Command):
    active: bool


class WebhookOut(BaseModel):
    id: int
    url: str
    kinds: list[str]
    active: bool
    created_at: dt.datetime


class DeliveryOut(BaseModel):
    delivery_id: str
    notice_id: int
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    last_status: int | None
    """The receiver's HTTP status code, when it answered."""
    last_error: Literal["blocked", "unreachable", "http_error"] | None
    """Why the last attempt failed: the address rule refused it, no HTTP answer, or a non-2xx answer."""
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class OrgRecordOut(OrgRecordBase):
    """An appraisal round, demo site or rectification order: the common shape plus its own fields."""

    data: dict[str, Any]
    deadlines: list[DeadlineOut]
    overdue: bool
    allowed_events: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    typical_formulation: str | None = None
    typical_person: str | None = None
    typical_event: str | None = None
    problems: str | None = None
    due_date: dt.date | None = None
    evaluation_id: int | None = None


class OrgRecordPage(BaseModel):
    items: list[OrgRecordOut]
    total: int


class BallotOut(BaseModel):
    round_id: int
    subject: SubjectRef
    rating: str


class SubjectResult(BaseModel):
    subject: Subject
    total: int
    counts: dict[str, int] | None = None
    satisfaction_rate: float | None = None
    score: float | None = None
    below_threshold: bool | None = None


class RoundResults(BaseModel):
    round_id: int
    state: str
    threshold: float
    basic_counts_as_satisfied: bool
    totals_only: bool
    subjects: list[SubjectResult]
