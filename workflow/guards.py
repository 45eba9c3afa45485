"""The guard registry: pure, named predicates that refuse an event with a Chinese message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from definitions.vocabulary import Channel, Coded, Grade, Outcome, SiteMethod
from workflow.errors import GuardFailure


@dataclass(frozen=True)
class GuardContext:
    """What a guard may look at. The service loads `record` facts; guards never do I/O."""

    record: Mapping[str, Any]
    data: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    today: dt.date | None = None
    """The day it is where the campaign is (a date after it has not happened yet)."""


Guard = Callable[[GuardContext], str | None]
"""A guard returns None to allow, or a Chinese message saying what is missing."""


MIN_ITEM_CONTENT = 10
MIN_REPORT_CHARS = 200


def evaluate(names: Sequence[str], ctx: GuardContext) -> list[GuardFailure]:
    """Run every named guard (not only up to the first refusal) and list the failures."""
    failures = []
    for name in names:
        message = GUARDS[name](ctx)
        if message is not None:
            failures.append(GuardFailure(name, message))
    return failures


def _one_of(value: Any, options: type[Coded] | Mapping[str, Any]) -> bool:
    """Membership that a list or object in the request cannot crash (they are unhashable)."""
    codes = options.__members__ if isinstance(options, type) else options
    return isinstance(value, str) and value in codes


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _is_date(value: Any) -> bool:
    return _date(value) is not None


def _proposed_items(ctx: GuardContext) -> list[Mapping[str, Any]]:
    items = ctx.data.get("items", ctx.record.get("items", []))
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def reason_given(ctx: GuardContext) -> str | None:
    return None if _text(ctx.reason) else "请填写理由"


def has_items(ctx: GuardContext) -> str | None:
    return None if _proposed_items(ctx) else "承诺书至少要有一项承诺事项"


def items_specific(ctx: GuardContext) -> str | None:
    problems = []
    for n, item in enumerate(_proposed_items(ctx), start=1):
        if len(_text(item.get("content"))) < MIN_ITEM_CONTENT:
            problems.append(f"第{n}项承诺内容不足{MIN_ITEM_CONTENT}个字")
        if not _text(item.get("measure")) and not item.get("due_date"):
            problems.append(f"第{n}项缺少践诺措施或完成时限")
    return "承诺事项不够明确、具体：" + "；".join(problems) if problems else None


def meeting_recorded(ctx: GuardContext) -> str | None:
    if ctx.record.get("kind") != "org":
        return None
    meeting = ctx.data.get("meeting")
    if not isinstance(meeting, Mapping) or not _is_date(meeting.get("held_on")):
        return "党组织承诺须经支部会议讨论：请填写会议日期"
    attendees = meeting.get("attendees")
    if not isinstance(attendees, int) or isinstance(attendees, bool) or attendees < 1:
        return "请填写参会人数（至少1人）"
    return None


def channel_valid(ctx: GuardContext) -> str | None:
    return None if _one_of(ctx.data.get("channel"), Channel) else f"请选择公开方式：{Channel.listed()}"


def published_on_given(ctx: GuardContext) -> str | None:
    day = _date(ctx.data.get("published_on"))
    if day is None:
        return "请填写公开日期"
    return f"公开日期不能晚于今天（{ctx.today}）" if ctx.today and day > ctx.today else None


def items_changed(ctx: GuardContext) -> str | None:
    def key(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
        return [(_text(i.get("content")), _text(i.get("measure")), str(i.get("due_date") or "")) for i in items]

    new = ctx.data.get("items")
    if not isinstance(new, list) or not new:
        return "充实完善须提交修改后的承诺事项"
    return (
        None
        if key(_proposed_items(ctx)) != key(ctx.record.get("items", []))
        else "承诺事项与现有内容相同，无需充实完善"
    )


def has_progress(ctx: GuardContext) -> str | None:
    return None if ctx.record.get("progress_count", 0) > 0 else "申请考评前至少要有一条践诺记录"


def grade_valid(ctx: GuardContext) -> str | None:
    return None if _one_of(ctx.data.get("grade"), Grade) else f"请选择考评等次：{Grade.listed()}"


def has_leader_comment(ctx: GuardContext) -> str | None:
    return None if ctx.record.get("comment_count", 0) > 0 else "考评前须有至少一条领导点评"


def outcomes_complete(ctx: GuardContext) -> str | None:
    given = {o.get("item"): o for o in ctx.data.get("outcomes", []) or [] if isinstance(o, Mapping)}
    problems = []
    for n, item in enumerate(ctx.record.get("items", []), start=1):
        entry = given.get(item["id"]) or {"outcome": item.get("outcome"), "explanation": item.get("explanation")}
        if not _one_of(entry.get("outcome"), Outcome):
            problems.append(f"第{n}项未填写兑现情况")
        elif entry["outcome"] == "objective" and not _text(entry.get("explanation")):
            problems.append(f"第{n}项因客观原因未兑现，须说明原因")
    unknown = set(given) - {item["id"] for item in ctx.record.get("items", [])}
    if unknown:
        problems.append(f"承诺事项 {sorted(unknown, key=str)} 不属于本承诺书")
    return "；".join(problems) if problems else None


def report_long_enough(ctx: GuardContext) -> str | None:
    n = len(_text(ctx.data.get("report")))
    return None if n >= MIN_REPORT_CHARS else f"自查总结报告不少于{MIN_REPORT_CHARS}字（现为{n}字）"


def meeting_held(ctx: GuardContext) -> str | None:
    return None if _is_date(ctx.data.get("meeting_held_on")) else "请填写民主生活会召开日期"


def questionnaires_given(ctx: GuardContext) -> str | None:
    n = ctx.data.get("questionnaires")
    ok = isinstance(n, int) and not isinstance(n, bool) and n >= 1
    return None if ok else "请填写问卷测评份数（至少1份）"


def self_scores_complete(ctx: GuardContext) -> str | None:
    scores = ctx.record.get("self_scores", {})
    missing = [label for code, label in ctx.record.get("score_items", []) if code not in scores]
    return "以下考核项目尚未自评打分：" + "、".join(missing) if missing else None


def assessed_scores_complete(ctx: GuardContext) -> str | None:
    scores = ctx.record.get("assessed_scores", {})
    missing = [label for code, label in ctx.record.get("score_items", []) if code not in scores]
    no_method = [label for code, label in ctx.record.get("score_items", []) if code in scores and not scores[code]]
    problems = []
    if missing:
        problems.append("以下考核项目尚未评分：" + "、".join(missing))
    if no_method:
        problems.append("以下考核项目未注明考核方式：" + "、".join(no_method))
    return "；".join(problems) if problems else None


def due_date_given(ctx: GuardContext) -> str | None:
    return None if _is_date(ctx.data.get("due_date")) else "请填写整改期限"


def evaluation_methods_valid(ctx: GuardContext) -> str | None:
    methods = ctx.data.get("methods")
    ok = isinstance(methods, list) and methods and all(_one_of(m, SiteMethod) for m in methods)
    return None if ok else f"请注明评估方式（可多选）：{SiteMethod.listed()}"


def rectification_report_given(ctx: GuardContext) -> str | None:
    return None if _text(ctx.data.get("report")) else "请填写整改情况报告"


def criteria_ratings_valid(ctx: GuardContext) -> str | None:
    """Optional 五个好/五带头 ratings on appraise: known criteria, known levels."""
    ratings = ctx.data.get("ratings")
    if ratings is None:
        return None
    criteria, levels = ctx.record.get("criteria", {}), ctx.record.get("criteria_levels", {})
    if not isinstance(ratings, Mapping):
        return "五个好/五带头评价应逐项给出等次"
    unknown = [k for k in ratings if k not in criteria]
    bad = [k for k, v in ratings.items() if k in criteria and not _one_of(v, levels)]
    problems = []
    if unknown:
        problems.append(f"未知的评价指标：{'、'.join(map(str, unknown))}（应为：{'、'.join(criteria.values())}）")
    if bad:
        problems.append(f"评价等次应为：{'、'.join(levels.values())}")
    return "；".join(problems) if problems else None


GUARDS: Mapping[str, Guard] = {
    fn.__name__: fn
    for fn in (
        reason_given,
        has_items,
        items_specific,
        meeting_recorded,
        channel_valid,
        published_on_given,
        items_changed,
        has_progress,
        grade_valid,
        has_leader_comment,
        outcomes_complete,
        report_long_enough,
        meeting_held,
        questionnaires_given,
        self_scores_complete,
        assessed_scores_complete,
        due_date_given,
        evaluation_methods_valid,
        rectification_report_given,
        criteria_ratings_valid,
    )
}
"""Every guard by the name a definition gives it (definitions/guards.yaml declares the same names)."""
