"""Request and response bodies of the HTTP API (separate from the tables)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints, model_validator
from pydantic_core import PydanticCustomError

from services.usecases.pledges import PLAIN_TEXT, ItemIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Clean = Annotated[str, Field(pattern=PLAIN_TEXT)]
"""Every text field: no control character but tab and line breaks; each field adds its own length limit."""
Text = Annotated[Clean, Field(min_length=1, max_length=2000)]
Name = Annotated[Clean, Field(min_length=1, max_length=50)]
Code = Annotated[Clean, Field(min_length=1, max_length=50)]
"""A short machine word: a deadline name, a score item code, a key in an event's `data`."""

STATE_CODE = r"^[a-z_]*$"
"""A `state` query filter is a state code such as `proposing`."""

DATA_TEXT_MAX, DATA_ITEMS_MAX, DATA_DEPTH_MAX = 10000, 200, 10
PLAIN = re.compile(PLAIN_TEXT)


def _data_error(where: str, problem: str) -> PydanticCustomError:
    return PydanticCustomError("data_invalid", "{where} {problem}", {"where": where, "problem": problem})


def bounded_json(value: Any, where: str = "", depth: int = 0) -> Any:
    """An event's `data` is free-form JSON whose meaning the lifecycle's guards check; here only
    its shape is bounded: text (no control characters, at most 10000 characters), finite numbers,
    the size of lists and objects, nesting."""
    if depth > DATA_DEPTH_MAX:
        raise _data_error(where, f"嵌套过深（最多 {DATA_DEPTH_MAX} 层）")
    if isinstance(value, str):
        if len(value) > DATA_TEXT_MAX:
            raise _data_error(where, f"过长（最多 {DATA_TEXT_MAX} 个字符）")
        if not PLAIN.match(value):
            raise _data_error(where, "不能包含控制字符（如 \\x00）")
    elif isinstance(value, float) and not math.isfinite(value):
        raise _data_error(where, "应为有限的数字")
    elif isinstance(value, list):
        if len(value) > DATA_ITEMS_MAX:
            raise _data_error(where, f"过多（最多 {DATA_ITEMS_MAX} 项）")
        for n, item in enumerate(value):
            bounded_json(item, f"{where}[{n}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > DATA_ITEMS_MAX:
            raise _data_error(where, f"字段过多（最多 {DATA_ITEMS_MAX} 个）")
        for key, item in value.items():
            if not 1 <= len(key) <= 50 or not PLAIN.match(key):
                raise _data_error(where or "data", f"含无效的字段名（1 至 50 个字符，不含控制字符）：{key[:50]!r}")
            bounded_json(item, f"{where}.{key}" if where else key, depth + 1)
    return value


EventData = Annotated[dict[Code, Any], Field(max_length=50), AfterValidator(bounded_json)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgIn(In):
    name: Annotated[Clean, Field(min_length=1, max_length=100)]
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
    position: Annotated[Clean, Field(max_length=50)] | None = None


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


EMAIL = r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"


class UserIn(In):
    name: Name
    person_id: Id | None = None
    email: Annotated[str, Field(max_length=200, pattern=EMAIL)] | None = None
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
    timezone: Annotated[Clean, Field(max_length=50)] | None = None
    deadlines: dict[Code, Annotated[Clean, Field(max_length=40)]] | None = None
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
    event: Annotated[Clean, Field(min_length=1, max_length=40)]
    reason: Annotated[Clean, Field(max_length=2000)] | None = None
    data: EventData | None = None
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


class ScoreIn(In):
    code: Code
    points: Annotated[float, Field(allow_inf_nan=False)]
    method: Annotated[Clean, Field(max_length=30)] | None = None
    note: Annotated[Clean, Field(max_length=2000)] | None = None


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


WEBHOOK_URL_MAX = 500


def _stored_url_fits(url: AnyHttpUrl) -> AnyHttpUrl:
    """The URL as stored (normalized: percent-encoded, a path added) fits its 500-character column;
    `UrlConstraints` alone measures only what was sent."""
    if len(str(url)) > WEBHOOK_URL_MAX:
        limit = {"max_length": WEBHOOK_URL_MAX}
        raise PydanticCustomError("string_too_long", "过长（最多 {max_length} 个字符）", limit)
    return url


WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=WEBHOOK_URL_MAX), AfterValidator(_stored_url_fits)]


class WebhookIn(In):
    url: WebhookUrl
    secret: Annotated[Clean, Field(min_length=8, max_length=200)]
    kinds: Annotated[list[Literal["reminder", "overdue", "escalation"]], Field(max_length=3)] = []


class WebhookPatch(In):
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


class BallotSubject(In):
    type: Literal["org", "person"]
    id: Id


class BallotIn(In):
    subject: BallotSubject
    rating: Annotated[Clean, Field(min_length=1, max_length=20)]


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
