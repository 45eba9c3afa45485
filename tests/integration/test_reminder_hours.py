"""Reminders held to working hours on China's working days, on a controlled clock and direct sweep calls
(SQLite and PostgreSQL); overdue notices and escalations are not held."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.config import Settings
from services.container import Container, build_container
from services.enforcement.sweep import sweep
from services.lifecycle.calendar import reminder_time
from services.usecases import inbox
from tests import usecases as uc
from tests.conftest import Clock

BEIJING = ZoneInfo("Asia/Shanghai")
ITEMS = [{"content": "认真备好每一节课，所教班级成绩稳步提高", "measure": "每周参加集体备课"}]


def at(text: str) -> dt.datetime:
    """A Beijing time: '2010-10-25 08:00'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.fixture
def container(db_url: str, clock: Clock) -> Iterator[Container]:
    clock.set(at("2010-09-20 10:00"))
    c = build_container(Settings(database_url=db_url, scheduler=False), clock)
    yield c
    c.db.dispose()


def m1_pledge(c: Container, deadlines: dict[str, str] | None = None) -> tuple[uc.Roster, int]:
    """The small county, a 2010 campaign (a year gone by: 补录 by nature) and m1's pledge, still a draft."""
    r = uc.roster(c, c.clock())
    uc.campaign(c, 2010, c.clock(), deadlines)
    return r, uc.pledge(c, r.actors["m1"], {"year": 2010, "person_id": r.people["m1"], "items": ITEMS}, c.clock())


def notices_at(c: Container, r: uc.Roster, clock: Clock, when: str, who: str = "m1") -> list[tuple[str, str]]:
    """Sweep at `when`: the deadline notices then in `who`'s inbox, as (kind, title)."""
    clock.set(at(when))
    sweep(c.db, c.catalog, clock())
    entries: list[dict[str, Any]] = uc.read(c, inbox.inbox, r.actors[who], None, 50, 0)["items"]
    return [(e["kind"], e["title"]) for e in reversed(entries) if e["kind"] != "event"]


def test_a_reminder_due_on_a_sunday_night_waits_for_monday_morning(container: Container, clock: Clock) -> None:
    """pledge_published 2010-10-31 (a Sunday): its 7-day reminder falls on Sunday 10-24 23:59:59, and goes out
    on Monday 10-25 at 08:00; the 1-day one (Saturday night) would wait past the deadline, so it never goes;
    the overdue notice goes at the deadline itself, at midnight on a Sunday."""
    c = container
    r, _ = m1_pledge(c)
    assert notices_at(c, r, clock, "2010-10-25 00:00") == []
    assert notices_at(c, r, clock, "2010-10-25 07:59") == []
    sent = notices_at(c, r, clock, "2010-10-25 08:00")
    assert [kind for kind, _ in sent] == ["reminder"] and "还有7天" in sent[0][1]
    assert notices_at(c, r, clock, "2010-10-30 23:59:59") == sent
    assert notices_at(c, r, clock, "2010-10-31 12:00") == sent, "a Sunday: no reminder"
    overdue = notices_at(c, r, clock, "2010-11-01 00:00")
    assert [kind for kind, _ in overdue] == ["reminder", "overdue"]
    escalated = notices_at(c, r, clock, "2010-11-02 00:00", who="supervisor")
    assert [kind for kind, _ in escalated] == ["escalation"], "escalations are not held to working hours"


def test_the_national_day_holiday_holds_a_reminder_to_the_first_working_morning(
    container: Container, clock: Clock
) -> None:
    """Deadline Friday 2010-10-08: the 7-day reminder (10-01 night) is held through the 1–7 October holiday to
    10-08 08:00, when the 1-day reminder is due too: only the latest goes, once."""
    c = container
    r, _ = m1_pledge(c, {"pledge_published": "2010-10-08"})
    assert notices_at(c, r, clock, "2010-10-04 10:00") == []
    sent = notices_at(c, r, clock, "2010-10-08 08:00")
    assert len(sent) == 1 and sent[0][0] == "reminder" and "还有16小时" in sent[0][1]


def test_a_make_up_saturday_is_a_working_day_for_reminders(container: Container, clock: Clock) -> None:
    """Saturday 2010-10-09 was worked (调休) in exchange for the holiday: a reminder due then at noon goes."""
    c = container
    r, _ = m1_pledge(c, {"pledge_published": "2010-10-16T12:00:00+08:00"})
    sent = notices_at(c, r, clock, "2010-10-09 12:00")
    assert [kind for kind, _ in sent] == ["reminder"]


def test_a_sweep_that_runs_late_in_the_evening_holds_the_reminder_to_the_next_working_morning(
    container: Container, clock: Clock
) -> None:
    """The 7-day reminder of a Friday 19:00 deadline is due Friday 2010-10-22 19:00; a sweep that first runs at
    20:30 (after downtime) does not send it: Monday 10-25 08:00 does."""
    c = container
    r, _ = m1_pledge(c, {"pledge_published": "2010-10-29T19:00:00+08:00"})
    assert notices_at(c, r, clock, "2010-10-22 20:30") == []
    assert notices_at(c, r, clock, "2010-10-23 10:00") == []
    assert [kind for kind, _ in notices_at(c, r, clock, "2010-10-25 08:00")] == ["reminder"]


def test_a_year_the_holiday_data_does_not_cover_rests_on_weekends_only() -> None:
    """2031 is past chinese_calendar's data: Saturday and Sunday are rest days, no holiday is guessed."""
    zone = "Asia/Shanghai"
    assert reminder_time(at("2031-10-04 10:00"), zone) == at("2031-10-06 08:00")  # a Saturday → Monday
    assert reminder_time(at("2031-10-01 10:00"), zone) == at("2031-10-01 10:00")  # a Wednesday, National Day
    assert reminder_time(at("2031-10-01 20:00"), zone) == at("2031-10-02 08:00")
