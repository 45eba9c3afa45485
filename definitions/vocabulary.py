"""The closed lists of codes that every layer shares, each code with its Chinese label, defined once.

Guards judge by them, request schemas describe them, templates and reports label by them, the
notices name them. A code is the English word programs send; `label_zh` is what people read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Coded(StrEnum):
    """A code with its Chinese label: `Channel.website.label_zh == "校园网"`."""

    label_zh: str

    def __new__(cls, code: str, label_zh: str) -> Coded:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label_zh = label_zh
        return member

    @classmethod
    def of(cls, code: str) -> Self:
        """The member with this code (ValueError when there is none)."""
        return cls._value2member_map_[code] if code in cls._value2member_map_ else cls._missing(code)  # type: ignore[return-value]

    @classmethod
    def _missing(cls, code: str) -> Self:
        raise ValueError(f"{code!r} is not a {cls.__name__}")

    @classmethod
    def labels(cls) -> dict[str, str]:
        """code → Chinese label, in the order the list is written."""
        return {m.value: m.label_zh for m in cls}

    @classmethod
    def listed(cls) -> str:
        """The codes as a person reads them in a message: 公示栏、校园网、…"""
        return "、".join(m.label_zh for m in cls)


class Channel(Coded):
    """Where a pledge was made public (公开承诺)."""

    notice_board = "notice_board", "公示栏"
    website = "website", "校园网"
    meeting = "meeting", "会议"
    other = "other", "其他"


class Grade(Coded):
    """A pledge's grade at year-end appraisal (考评承诺)."""

    excellent = "excellent", "优秀"
    good = "good", "合格"
    basic = "basic", "基本合格"
    poor = "poor", "不合格"


class Outcome(Coded):
    """How one pledge item was kept (兑现情况)."""

    done = "done", "已兑现"
    partial = "partial", "部分兑现"
    objective = "objective", "因客观原因未兑现"
    failed = "failed", "未兑现"


class SiteMethod(Coded):
    """How the office evaluates a nominated demo site (示范点评估方式)."""

    report = "report", "听取汇报"
    survey = "survey", "调查走访"
    site_visit = "site_visit", "现场察看"


class Role(Coded):
    """Roles an event may name. The first five are held by users; `owner` and `reviewer` are
    relations between a user and one record, resolved by the service when firing."""

    office = "office", "创先争优活动办公室"
    supervisor = "supervisor", "教育工委领导"
    secretary = "secretary", "支部书记"
    member = "member", "党员"
    appraiser = "appraiser", "评议人"
    owner = "owner", "承诺人"
    reviewer = "reviewer", "审查人"


USER_ROLES: tuple[Role, ...] = (Role.office, Role.supervisor, Role.secretary, Role.member, Role.appraiser)
"""The roles a user account can be granted."""
ORG_SCOPED_ROLES: frozenset[Role] = frozenset({Role.secretary, Role.appraiser})
"""Roles that are granted on an org (and cover its subtree)."""


class OrgKind(Coded):
    committee = "committee", "教育工委"
    general_branch = "general_branch", "党总支/机关党委"
    branch = "branch", "党支部"


class PersonStatus(Coded):
    full = "full", "正式党员"
    probationary = "probationary", "预备党员"
    activist = "activist", "入党积极分子"
    non_member = "non_member", "群众"


class DeadlineStatus(Coded):
    pending = "pending", "未到期"
    met = "met", "按期完成"
    missed = "missed", "已逾期"
    late = "late", "逾期完成"
    cancelled = "cancelled", "已取消"


class CalendarPolicy(Coded):
    """Where a campaign deadline that falls on a rest day (China's official calendar) goes."""

    fixed = "fixed", "按原定日期"
    previous_workday = "previous_workday", "提前到前一个工作日"
    next_workday = "next_workday", "顺延到下一个工作日"


class NoticeKind(Coded):
    """What a notice is about: a deadline's reminder, overdue notice or escalation, or an event."""

    reminder = "reminder", "提醒"
    overdue = "overdue", "逾期"
    escalation = "escalation", "督办"
    event = "event", "动态"
    digest = "digest", "汇总提醒"


DEADLINE_NOTICES: tuple[NoticeKind, ...] = (
    NoticeKind.reminder,
    NoticeKind.overdue,
    NoticeKind.escalation,
    NoticeKind.digest,
)
"""The notices a deadline's calendar sends: a person's several reminders of a morning go as one digest."""
