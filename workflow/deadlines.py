"""Deadline arithmetic: what a calendar date means, and how a deadline settles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from definitions.vocabulary import DeadlineStatus, NoticeKind

REMINDER, OVERDUE, ESCALATION = NoticeKind.reminder.value, NoticeKind.overdue.value, NoticeKind.escalation.value
PENDING, MET, MISSED, LATE, CANCELLED = (s.value for s in DeadlineStatus)
OPEN = (PENDING, MISSED)


def due_at(value: dt.date | dt.datetime | str, timezone: str) -> dt.datetime:
    """A date means the end of that day in the campaign's zone; a datetime must carry an offset."""
    if isinstance(value, str):
        value = parse_date_or_datetime(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a deadline datetime needs a UTC offset")
        return value
    end = dt.datetime.combine(value, dt.time(23, 59, 59))
    return end.replace(tzinfo=ZoneInfo(timezone))


def parse_date_or_datetime(text: str) -> dt.date | dt.datetime:
    if "T" in text or " " in text.strip():
        return dt.datetime.fromisoformat(text)
    return dt.date.fromisoformat(text)


def settle(status: str, due: dt.datetime, now: dt.datetime) -> str:
    """The status of an open deadline whose target state was just reached at `now`."""
    if status not in OPEN:
        return status
    return MET if now <= due else LATE


def is_missed(status: str, due: dt.datetime, now: dt.datetime) -> bool:
    """An open deadline whose due time has passed (whether or not a sweep marked it yet)."""
    return status == MISSED or (status == PENDING and now > due)


@dataclass(frozen=True)
class Stage:
    """One notice in a deadline's life: `offset_days` before (negative) or after the due time."""

    offset_days: int
    kind: str

    def at(self, due: dt.datetime) -> dt.datetime:
        return due + dt.timedelta(days=self.offset_days)


def notice_stages(reminder_offsets_days: list[int], escalation_after_days: int) -> list[Stage]:
    reminders = [Stage(-abs(days), REMINDER) for days in sorted(set(reminder_offsets_days), reverse=True) if days]
    return [*reminders, Stage(0, OVERDUE), Stage(escalation_after_days, ESCALATION)]


def next_stage(stages: list[Stage], start: int, due: dt.datetime, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The first stage from `start` that is still ahead of `now`, and when it falls due."""
    for index in range(start, len(stages)):
        if stages[index].at(due) > now:
            return index, stages[index].at(due)
    return len(stages), None


def first_stage(
    stages: list[Stage], due: dt.datetime, now: dt.datetime, notify_past: bool
) -> tuple[int, dt.datetime | None]:
    """Where a new deadline starts: a deadline already past at creation sends nothing (unless asked)."""
    if due <= now and not notify_past:
        return len(stages), None
    if notify_past:
        return 0, stages[0].at(due)
    return next_stage(stages, 0, due, now)


def due_stages(
    stages: list[Stage], start: int, due: dt.datetime, now: dt.datetime
) -> tuple[list[Stage], int, dt.datetime | None]:
    """The notices to send now, and the next stage. After downtime only the latest reminder
    still goes out, and none once the deadline itself has passed."""
    ready = [s for s in stages[start:] if s.at(due) <= now]
    reminders = [s for s in ready if s.kind == REMINDER]
    send = [s for s in ready if s.kind != REMINDER]
    if reminders and now < due:
        send.insert(0, reminders[-1])
    index, at = next_stage(stages, start + len(ready), due, now)
    return send, index, at
