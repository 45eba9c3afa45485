"""What a notice says and to whom: Chinese titles and bodies, recipients, the unique key."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from definitions import Lifecycle
from definitions.vocabulary import Role
from notifications.outbox import NoticeDraft
from services.enforcement.recipients import Directory, Subject
from workflow.deadlines import ESCALATION, OVERDUE, REMINDER, Stage


def local_date(when: dt.datetime, timezone: str) -> str:
    t = when.astimezone(ZoneInfo(timezone))
    text = f"{t.year}年{t.month}月{t.day}日"
    return text if (t.hour, t.minute) == (23, 59) else f"{text}{t:%H:%M}"


@dataclass(frozen=True, slots=True)
class Wording:
    """A notice's text but the record's name: the title is `head` + name + `tail`, the body the title + `rest`."""

    head: str
    tail: str
    rest: str

    def title(self, name: str) -> str:
        return f"{self.head}{name}{self.tail}"


def wording(
    stage: Stage, lc: Lifecycle, state: str, deadline: str, due: dt.datetime, timezone: str, now: dt.datetime
) -> Wording:
    rule = next(r for r in lc.deadlines if r.name == deadline)
    what, when = f"的{lc.label_zh}", local_date(due, timezone)
    if stage.kind == REMINDER:
        head, tail = "【提醒】", f"{what}须在{when}前{rule.label_zh}（还有{time_left(due - now)}）"
    elif stage.kind == OVERDUE:
        head, tail = "【逾期】", f"{what}未在{when}前{rule.label_zh}"
    else:
        head, tail = "【督办】", f"{what}逾期{stage.offset_days}天仍未{rule.label_zh}，请督促办理"
    current = lc.state(state)
    who = Role.of(current.actor).label_zh if current.actor else "相关人员"
    return Wording(head, tail, f"。当前环节：{current.label_zh}，待{who}办理。期限：{when}。")


def time_left(left: dt.timedelta) -> str:
    """ "7天"; under a day "22小时", under an hour "1分钟": a reminder sent late (after a restart, or by
    a sweep that ran hours after the stage's time) says what is really left."""
    seconds = left.total_seconds()
    if seconds < 3600:
        return f"{max(1, math.ceil(seconds / 60))}分钟"
    hours = math.ceil(seconds / 3600)
    return f"{math.ceil(hours / 24)}天" if hours > 24 else f"{hours}小时"


def recipients(stage: Stage, s: Subject, lc: Lifecycle, d: Directory) -> tuple[int, ...]:
    actor = d.actor(lc.state(s.state).actor, s)
    if stage.kind == OVERDUE:
        actor = actor | d.branch_secretaries(s.org_id)
    elif stage.kind == ESCALATION:
        actor = d.supervisors_for(s.org_id)
    return tuple(sorted(actor))


@dataclass
class Drafter:
    """Drafts one sweep's notices; the wording is worked out once per lifecycle, deadline, due time, stage
    and state, and only the record's name filled in per notice."""

    directory: Directory
    now: dt.datetime
    """The sweep's time: a reminder says how long is left from it."""
    _wordings: dict[tuple[str, str, dt.datetime, Stage, str, str], Wording] = field(default_factory=dict)

    def draft(
        self, stage: Stage, s: Subject, lc: Lifecycle, deadline: str, due: dt.datetime, timezone: str
    ) -> NoticeDraft:
        key = (lc.name, deadline, due, stage, s.state, timezone)
        said = self._wordings.get(key)
        if said is None:
            said = self._wordings[key] = wording(stage, lc, s.state, deadline, due, timezone, self.now)
        head = said.title(s.name)
        return NoticeDraft(
            key=f"{lc.name}:{s.id}:{deadline}:{stage.kind}:{stage.offset_days}",
            kind=stage.kind,
            subject_type=lc.name,
            subject_id=s.id,
            deadline=deadline,
            due_at=due,
            offset_days=stage.offset_days,
            title=head,
            body=f"{head}{said.rest}",
            recipients=recipients(stage, s, lc, self.directory),
        )
