"""Typed commands: what the API and the pages ask the use cases to do, validated by the same models
(so a form and an API call refuse the same input with the same message). Titles are the Chinese
labels people read; field names are the codes programs send."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from definitions.vocabulary import CalendarPolicy, OrgKind, PersonStatus, Role
from services.usecases.fields import Clean, Code, Command, EventData, Id, Name, Text, YearNumber

ItemText = Annotated[Clean, Field(max_length=500)]


class Item(Command):
    """One pledge item as its owner writes it (on create, edit and 充实完善)."""

    id: Annotated[Id | None, Field(title="承诺事项编号")] = None
    content: Annotated[ItemText, Field(min_length=1, title="承诺内容")]
    measure: Annotated[ItemText | None, Field(title="践诺措施")] = None
    due_date: Annotated[dt.date | None, Field(title="完成时限")] = None


Items = Annotated[list[Item], Field(max_length=50, title="承诺事项")]


class CreatePledge(Command):
    """An org's pledge (`org_id`) or a person's (`person_id`), for a campaign year."""

    year: Annotated[YearNumber, Field(title="年度")]
    org_id: Annotated[Id | None, Field(title="党组织")] = None
    person_id: Annotated[Id | None, Field(title="党员")] = None
    items: Items = Field(default_factory=list)

    @model_validator(mode="after")
    def one_subject(self) -> CreatePledge:
        if (self.org_id is None) == (self.person_id is None):
            raise ValueError("须且只能选择党组织承诺或党员承诺之一")
        return self


class EditItems(Command):
    items: Items


class FireEvent(Command):
    """An event on a record; its `data` is read by the event's own payload model (event_data.py)."""

    event: Annotated[Clean, Field(min_length=1, max_length=40, title="操作")]
    reason: Annotated[Clean | None, Field(max_length=2000, title="理由")] = None
    data: Annotated[EventData | None, Field(title="办理内容")] = None
    effective_on: Annotated[dt.date | None, Field(title="补录日期")] = None


class AddComment(Command):
    """领导点评: achievements, problems and the direction to take."""

    achievements: Annotated[Text, Field(title="肯定成绩")]
    problems: Annotated[Text, Field(title="指出问题")]
    direction: Annotated[Text, Field(title="努力方向")]


class AddProgress(Command):
    """践诺记录: what was done on one item, and when."""

    item: Annotated[Id, Field(title="承诺事项")]
    note: Annotated[Text, Field(title="践诺情况")]
    happened_on: Annotated[dt.date, Field(title="践诺日期")]


class OrgYear(Command):
    """A record of one org for one campaign year (a self-evaluation, an appraisal round)."""

    year: Annotated[YearNumber, Field(title="年度")]
    org_id: Annotated[Id, Field(title="党组织")]


class CreateSelfEvaluation(OrgYear):
    pass


class CreateRound(OrgYear):
    pass


class NominateSite(OrgYear):
    """A demo site needs its three typicals (三个典型)."""

    typical_formulation: Annotated[Text, Field(title="典型提法")]
    typical_person: Annotated[Text, Field(title="典型人物")]
    typical_event: Annotated[Text, Field(title="典型事件")]


class IssueRectification(OrgYear):
    problems: Annotated[Text, Field(title="须整改的问题")]
    due_date: Annotated[dt.date, Field(title="整改期限")]


class Score(Command):
    code: Annotated[Code, Field(title="考核项目")]
    points: Annotated[float, Field(allow_inf_nan=False, title="得分")]
    method: Annotated[Clean | None, Field(max_length=30, title="考核方式")] = None
    note: Annotated[Clean | None, Field(max_length=2000, title="说明")] = None


class PutScores(Command):
    kind: Annotated[Literal["self", "assessed"], Field(title="评分类别")]
    items: Annotated[list[Score], Field(min_length=1, max_length=100, title="评分")]


class BallotSubject(Command):
    type: Annotated[Literal["org", "person"], Field(title="评议对象类别")]
    id: Annotated[Id, Field(title="评议对象")]


class CastBallot(Command):
    subject: Annotated[BallotSubject, Field(title="评议对象")]
    rating: Annotated[Clean, Field(min_length=1, max_length=20, title="评价")]


class CreateOrg(Command):
    name: Annotated[Clean, Field(min_length=1, max_length=100, title="名称")]
    kind: Annotated[OrgKind, Field(title="类型")]
    parent_id: Annotated[Id | None, Field(title="上级党组织")] = None


class CreatePerson(Command):
    name: Annotated[Name, Field(title="姓名")]
    org_id: Annotated[Id, Field(title="所在党组织")]
    status: Annotated[PersonStatus, Field(title="身份")]
    position: Annotated[Clean | None, Field(max_length=50, title="职务")] = None


class Grant(Command):
    role: Annotated[Role, Field(title="角色")]
    org_id: Annotated[Id | None, Field(title="所属党组织")] = None


EMAIL = r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"


class CreateUser(Command):
    name: Annotated[Name, Field(title="姓名")]
    person_id: Annotated[Id | None, Field(title="人员")] = None
    email: Annotated[str | None, Field(max_length=200, pattern=EMAIL, title="邮箱")] = None
    roles: Annotated[list[Grant], Field(min_length=1, max_length=20, title="角色")]


class UpdateUser(Command):
    active: Annotated[bool | None, Field(title="启用")] = None
    roles: Annotated[list[Grant] | None, Field(min_length=1, max_length=20, title="角色")] = None


class CalendarIn(Command):
    timezone: Annotated[Clean | None, Field(max_length=50, title="时区")] = None
    deadlines: Annotated[dict[Code, Annotated[Clean, Field(max_length=40)]] | None, Field(title="期限")] = None
    policy: Annotated[CalendarPolicy | None, Field(title="期限遇休息日")] = None
    """fixed, previous_workday or next_workday; unset, the calendar file's (else fixed)."""
    notify_past_deadlines: Annotated[bool, Field(title="已过期限也发提醒")] = False
    reminder_offsets_days: Annotated[
        list[Annotated[int, Field(ge=1, le=60)]] | None, Field(max_length=5, title="提前提醒天数")
    ] = None
    escalation_after_days: Annotated[int | None, Field(ge=0, le=30, title="逾期后督办天数")] = None


class CreateCampaign(Command):
    year: Annotated[YearNumber, Field(title="年度")]
    calendar: Annotated[CalendarIn | None, Field(title="活动日历")] = None
    min_ballots: Annotated[int, Field(ge=1, le=1000, title="评议结果最少票数")] = 5
    """A subject's appraisal results are shown from this many ballots; below it, its total alone."""
