"""Deadline arithmetic: what a calendar date means, and how a deadline settles."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PENDING, MET, MISSED, LATE, CANCELLED = "pending", "met", "missed", "late", "cancelled"
OPEN = (PENDING, MISSED)
STATUS_ZH = {PENDING: "未到期", MET: "按期完成", MISSED: "已逾期", LATE: "逾期完成", CANCELLED: "已取消"}


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
