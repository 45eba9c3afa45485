"""Deadline arithmetic: what a date means, and which notices fall due when."""

from __future__ import annotations

import datetime as dt

import pytest

from services.enforcement import notices
from workflow import deadlines as dl

DUE = dt.datetime(2010, 10, 31, 15, 59, 59, tzinfo=dt.UTC)
STAGES = dl.notice_stages([7, 1], 1)


def at(days: float) -> dt.datetime:
    return DUE + dt.timedelta(days=days)


def test_a_date_is_the_end_of_that_day_in_the_campaign_zone() -> None:
    assert dl.due_at("2010-10-31", "Asia/Shanghai").isoformat() == "2010-10-31T23:59:59+08:00"
    assert dl.due_at("2010-10-31T12:00:00+00:00", "Asia/Shanghai") == dt.datetime(2010, 10, 31, 12, tzinfo=dt.UTC)


def test_stages_run_from_the_first_reminder_to_the_escalation() -> None:
    assert [(s.offset_days, s.kind) for s in STAGES] == [
        (-7, "reminder"),
        (-1, "reminder"),
        (0, "overdue"),
        (1, "escalation"),
    ]


def test_a_deadline_created_late_skips_reminders_already_past() -> None:
    assert dl.first_stage(STAGES, DUE, at(-3), notify_past=False) == (1, at(-1))
    assert dl.first_stage(STAGES, DUE, at(+2), notify_past=False) == (4, None)
    assert dl.first_stage(STAGES, DUE, at(+2), notify_past=True) == (0, at(-7))


def test_after_downtime_only_what_still_matters_goes_out_once() -> None:
    send, index, nxt = dl.due_stages(STAGES, 0, DUE, at(-0.5))
    assert [s.offset_days for s in send] == [-1] and (index, nxt) == (2, DUE)
    send, index, nxt = dl.due_stages(STAGES, 0, DUE, at(+3))
    assert [s.kind for s in send] == ["overdue", "escalation"] and (index, nxt) == (4, None)
    assert dl.due_stages(STAGES, 4, DUE, at(+9)) == ([], 4, None)


def test_settling_judges_by_the_clock() -> None:
    assert dl.settle(dl.PENDING, DUE, at(-1)) == dl.MET
    assert dl.settle(dl.MISSED, DUE, at(+1)) == dl.LATE
    assert dl.settle(dl.MET, DUE, at(+1)) == dl.MET


@pytest.mark.parametrize(
    "left, said",
    [
        (dt.timedelta(seconds=38), "1分钟"),
        (dt.timedelta(minutes=59, seconds=1), "60分钟"),
        (dt.timedelta(hours=22), "22小时"),
        (dt.timedelta(hours=24), "24小时"),
        (dt.timedelta(days=6, hours=22), "7天"),
    ],
)
def test_a_reminder_says_the_time_really_left(left: dt.timedelta, said: str) -> None:
    assert notices.time_left(left) == said
