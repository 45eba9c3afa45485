"""What a notice says and to whom: Chinese titles and bodies, recipients, the unique key."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from definitions import Lifecycle
from notifications.outbox import NoticeDraft
from services.access import ROLE_LABELS
from services.recipients import Directory, Subject
from workflow.deadlines import ESCALATION, OVERDUE, REMINDER, Stage

TAGS = {REMINDER: "提醒", OVERDUE: "逾期", ESCALATION: "督办"}


def local_date(when: dt.datetime, timezone: str) -> str:
    t = when.astimezone(ZoneInfo(timezone))
    text = f"{t.year}年{t.month}月{t.day}日"
    return text if (t.hour, t.minute) == (23, 59) else f"{text}{t:%H:%M}"


def title(stage: Stage, s: Subject, lc: Lifecycle, deadline: str, due: dt.datetime, timezone: str) -> str:
    rule = next(r for r in lc.deadlines if r.name == deadline)
    what, when = f"{s.name}的{lc.label_zh}", local_date(due, timezone)
    if stage.kind == REMINDER:
        return f"【提醒】{what}须在{when}前{rule.label_zh}（还有{-stage.offset_days}天）"
    if stage.kind == OVERDUE:
        return f"【逾期】{what}未在{when}前{rule.label_zh}"
    return f"【督办】{what}逾期{stage.offset_days}天仍未{rule.label_zh}，请督促办理"


def recipients(stage: Stage, s: Subject, lc: Lifecycle, d: Directory) -> tuple[int, ...]:
    actor = d.actor(lc.state(s.state).actor, s)
    if stage.kind == OVERDUE:
        actor |= d.branch_secretaries(s.org_id)
    elif stage.kind == ESCALATION:
        actor = d.supervisors_for(s.org_id)
    return tuple(sorted(actor))


def draft(
    stage: Stage, s: Subject, lc: Lifecycle, d: Directory, deadline: str, due: dt.datetime, timezone: str
) -> NoticeDraft:
    state = lc.state(s.state)
    head = title(stage, s, lc, deadline, due, timezone)
    who = ROLE_LABELS.get(state.actor or "", "相关人员")
    body = f"{head}。当前环节：{state.label_zh}，待{who}办理。期限：{local_date(due, timezone)}。"
    return NoticeDraft(
        key=f"{lc.name}:{s.id}:{deadline}:{stage.kind}:{stage.offset_days}",
        kind=stage.kind,
        subject_type=lc.name,
        subject_id=s.id,
        deadline=deadline,
        due_at=due,
        offset_days=stage.offset_days,
        title=head,
        body=body,
        recipients=recipients(stage, s, lc, d),
    )
