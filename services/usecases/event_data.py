"""The payload of every event of every lifecycle: one model per (lifecycle, event), checked at start-up
against definitions/*.yaml (every event has one, none is extra). An event's `data` is read by its
model once the state and the caller's roles have passed; the guards then judge what it says (a
model types and bounds the values, so that what is missing or out of the vocabulary is refused by
the guard that the definition names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from definitions.vocabulary import Channel, Coded, Grade, Outcome, SiteMethod
from services.usecases.commands import Items
from services.usecases.fields import Clean, Code, Command, Id, parse


def one_of(vocabulary: type[Coded], title: str) -> Any:
    """A code from `vocabulary`, described as such in the OpenAPI; a value outside it is refused by
    the event's guard, with the guard's name and message (SPEC §4: 422 guard-failed). The vocabulary
    itself rides along in the annotation, for a page to offer its labels."""
    listed = "；".join(f"{code} {label}" for code, label in vocabulary.labels().items())
    schema = {"type": "string", "enum": list(vocabulary.labels()), "title": title, "description": listed}
    return Annotated[Clean, Field(max_length=40, title=title), WithJsonSchema(schema), vocabulary]


class NoData(Command):
    """This event carries no data."""


class Meeting(Command):
    held_on: Annotated[dt.date | None, Field(title="会议日期")] = None
    attendees: Annotated[int | None, Field(ge=0, le=100000, title="参会人数")] = None


class PledgeSubmitData(Command):
    """An org pledge is discussed at a branch meeting (基层党组织通过召开会议对承诺事项进行讨论)."""

    meeting: Annotated[Meeting | None, Field(title="会议记录")] = None


class PublishData(Command):
    channel: Annotated[one_of(Channel, "公开方式") | None, Field(title="公开方式")] = None  # type: ignore[valid-type]
    published_on: Annotated[dt.date | None, Field(title="公开日期")] = None


class AmendData(Command):
    """充实完善: the pledge's items as they are to be; items that carry their id keep it (and its progress)."""

    items: Items | None = None


class ItemOutcome(Command):
    item: Annotated[Id, Field(title="承诺事项")]
    outcome: Annotated[one_of(Outcome, "兑现情况") | None, Field(title="兑现情况")] = None  # type: ignore[valid-type]
    explanation: Annotated[Clean | None, Field(max_length=2000, title="原因说明")] = None


class AppraiseData(Command):
    grade: Annotated[one_of(Grade, "考评等次") | None, Field(title="考评等次")] = None  # type: ignore[valid-type]
    outcomes: Annotated[list[ItemOutcome], Field(max_length=50, title="兑现情况")] = Field(default_factory=list)
    ratings: Annotated[dict[Code, Annotated[Clean, Field(max_length=40)]] | None, Field(title="五个好/五带头评价")] = (
        None
    )


class ReportData(Command):
    report: Annotated[Clean | None, Field(max_length=10000, title="自查总结报告")] = None
    meeting_held_on: Annotated[dt.date | None, Field(title="民主生活会日期")] = None
    questionnaires: Annotated[int | None, Field(ge=0, le=1000000, title="问卷测评份数")] = None


class RectificationOrderData(Command):
    due_date: Annotated[dt.date | None, Field(title="整改期限")] = None


class SiteEvaluationData(Command):
    methods: Annotated[list[one_of(SiteMethod, "评估方式")] | None, Field(max_length=3, title="评估方式")] = None  # type: ignore[valid-type]


class RectificationReportData(Command):
    report: Annotated[Clean | None, Field(max_length=10000, title="整改情况报告")] = None


EVENT_DATA: Mapping[str, Mapping[str, type[Command]]] = {
    "pledge": {
        "submit": PledgeSubmitData,
        "return": NoData,
        "approve": NoData,
        "publish": PublishData,
        "amend": AmendData,
        "request_appraisal": NoData,
        "appraise": AppraiseData,
        "withdraw": NoData,
    },
    "self_evaluation": {
        "start": NoData,
        "submit": ReportData,
        "return": NoData,
        "accept": NoData,
        "assess": NoData,
        "order_rectification": RectificationOrderData,
        "verify_rectification": NoData,
    },
    "appraisal_round": {"open": NoData, "close": NoData},
    "demo_site": {"evaluate": SiteEvaluationData, "select_for_focus": NoData, "recommend": NoData, "reject": NoData},
    "rectification": {
        "acknowledge": NoData,
        "report": RectificationReportData,
        "verify": NoData,
        "reject_report": NoData,
    },
}


def read(lifecycle: str, event: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """An event's data as its model reads it (fields not sent are left out), or an Invalid naming
    each refused field (`data.outcomes[0].item`)."""
    return parse(EVENT_DATA[lifecycle][event], data or {}, prefix="data").model_dump(exclude_unset=True)
