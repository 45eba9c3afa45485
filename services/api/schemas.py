"""Request and response bodies of the HTTP API (separate from the tables)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from services.pledges import ItemIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=50)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgIn(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Literal["committee", "general_branch", "branch"]
    parent_id: Id | None = None


class OrgOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: int | None


class PersonIn(In):
    name: Name
    org_id: Id
    status: Literal["full", "probationary", "activist", "non_member"]
    position: Annotated[str, Field(max_length=50)] | None = None


class PersonOut(BaseModel):
    id: int
    name: str
    org_id: int
    status: str
    status_label: str
    position: str | None


class RoleIn(In):
    role: Literal["office", "supervisor", "secretary", "member", "appraiser"]
    org_id: Id | None = None


class UserIn(In):
    name: Name
    person_id: Id | None = None
    email: Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    roles: Annotated[list[RoleIn], Field(min_length=1, max_length=20)]


class RoleOut(BaseModel):
    role: str
    org_id: int | None


class UserCreated(BaseModel):
    id: int
    name: str
    token: str
    roles: list[RoleOut]


class MeOut(BaseModel):
    id: int | None
    name: str
    person: PersonOut | None
    roles: list[RoleOut]


class CalendarIn(In):
    timezone: Annotated[str, Field(max_length=50)] | None = None
    deadlines: dict[Annotated[str, Field(max_length=50)], Annotated[str, Field(max_length=40)]] | None = None
    notify_past_deadlines: bool = False
    reminder_offsets_days: Annotated[list[Annotated[int, Field(ge=1, le=60)]], Field(max_length=5)] | None = None
    escalation_after_days: Annotated[int, Field(ge=0, le=30)] | None = None


class CampaignIn(In):
    year: Year
    calendar: CalendarIn | None = None


class CampaignOut(BaseModel):
    year: int
    timezone: str
    deadlines: dict[str, dt.datetime]
    notify_past_deadlines: bool
    reminder_offsets_days: list[int]
    escalation_after_days: int


Items = Annotated[list[ItemIn], Field(max_length=50)]


class PledgeIn(In):
    year: Year
    org_id: Id | None = None
    person_id: Id | None = None
    items: Items = []

    @model_validator(mode="after")
    def one_subject(self) -> PledgeIn:
        if (self.org_id is None) == (self.person_id is None):
            raise ValueError("须且只能填写 org_id（党组织承诺）或 person_id（党员承诺）之一")
        return self


class PledgePatch(In):
    items: Items


class EventIn(In):
    event: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Annotated[str, Field(max_length=2000)] | None = None
    data: dict[str, Any] | None = None
    effective_on: dt.date | None = None


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
    state: str
    state_label: str
    version: int
    items: list[ItemOut]
    data: dict[str, Any]
    deadlines: list[DeadlineOut]
    overdue: bool
    allowed_events: list[str]
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
    from_state: str | None
    to_state: str
    actor: Actor
    at: dt.datetime
    reason: str | None
    late: bool
    backfilled: bool
    effective_on: dt.date | None


class CommentIn(In):
    achievements: Text
    problems: Text
    direction: Text


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


class ProgressIn(In):
    item: Id
    note: Text
    happened_on: dt.date


class ProgressOut(BaseModel):
    id: int
    pledge_id: int
    item_id: int
    note: str
    happened_on: dt.date
    author_id: int | None
    created_at: dt.datetime


class SelfEvaluationIn(In):
    year: Year
    org_id: Id


class BandOut(BaseModel):
    code: str
    label_zh: str


class ScoreOut(BaseModel):
    code: str
    kind: str
    points: float
    method: str | None
    note: str | None


class SelfEvaluationOut(BaseModel):
    id: int
    year: int
    org_id: int
    org_name: str
    state: str
    state_label: str
    version: int
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


class ScoreIn(In):
    code: Annotated[str, Field(min_length=1, max_length=50)]
    points: Annotated[float, Field(allow_inf_nan=False)]
    method: Annotated[str, Field(max_length=30)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class ScoresIn(In):
    kind: Literal["self", "assessed"]
    items: Annotated[list[ScoreIn], Field(min_length=1, max_length=100)]


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


class WebhookIn(In):
    url: AnyHttpUrl
    secret: Annotated[str, Field(min_length=8, max_length=200)]
    kinds: Annotated[list[Literal["reminder", "overdue", "escalation"]], Field(max_length=3)] = []


class WebhookOut(BaseModel):
    id: int
    url: str
    kinds: list[str]
    active: bool
    created_at: dt.datetime


class DeliveryOut(BaseModel):
    delivery_id: str
    notice_id: int
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class AppraisalRoundIn(In):
    year: Year
    org_id: Id


class DemoSiteIn(In):
    year: Year
    org_id: Id
    typical_formulation: Text
    typical_person: Text
    typical_event: Text


class RectificationIn(In):
    year: Year
    org_id: Id
    problems: Text
    due_date: dt.date


class OrgRecordOut(BaseModel):
    """An appraisal round, demo site or rectification order: the common shape plus its own fields."""

    id: int
    year: int
    org_id: int
    org_name: str
    state: str
    state_label: str
    version: int
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


class BallotSubject(In):
    type: Literal["org", "person"]
    id: Id


class BallotIn(In):
    subject: BallotSubject
    rating: Annotated[str, Field(min_length=1, max_length=20)]


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
