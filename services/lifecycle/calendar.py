"""A campaign year's calendar as the event path reads it (plain values, read once per session), and China's
working days: where a deadline on a rest day moves, and when a reminder may go out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar
import sqlalchemy as sa
from sqlmodel import Session

from definitions.vocabulary import CalendarPolicy
from services.errors import Invalid
from services.persistence.tables import Campaign


@dataclass(frozen=True, slots=True)
class Year:
    """A campaign year's settings as a transition reads them: plain values, not an ORM object."""

    year: int
    timezone: str
    deadlines: dict[str, str]
    notify_past_deadlines: bool
    reminder_offsets_days: list[int]
    escalation_after_days: int
    criteria: dict[str, str]
    min_ballots: int


CAMPAIGN = Campaign.__table__  # type: ignore[attr-defined]
YEAR_COLUMNS = tuple(CAMPAIGN.c[f.name] for f in dataclasses.fields(Year))
"""What a `Year` holds, in its order: for a query that reads the year with its record."""
_BY_YEAR = sa.select(*YEAR_COLUMNS).where(CAMPAIGN.c.year == sa.bindparam("year"))


def campaign_for(session: Session, year: int, field: str = "year") -> Year:
    """The year's campaign, read once per session: a transition asks for it more than once."""
    known: Year | None = session.info.get("campaigns", {}).get(year)
    if known is not None:
        return known
    found = session.connection().execute(_BY_YEAR, {"year": year}).first()
    if found is None:
        raise Invalid(field, f"{year}年度活动尚未设立，请先由创先争优活动办公室设立")
    return remember(session, Year(*found))


def remember(session: Session, campaign: Year) -> Year:
    """Keep a campaign year that a query read with its record, for `campaign_for` in this session."""
    session.info.setdefault("campaigns", {})[campaign.year] = campaign
    return campaign


def local_date(when: dt.datetime, timezone: str) -> dt.date:
    """The day it is at `when` where the campaign is: no publication or progress is dated after it."""
    return when.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Firing:
    """The moment an event is fired: the real clock, and the effective time for a backfill."""

    now: dt.datetime
    effective_on: dt.date | None
    timezone: str

    @property
    def today(self) -> dt.date:
        return local_date(self.now, self.timezone)

    @property
    def judged_at(self) -> dt.datetime:
        """Deadlines are judged by the server's clock; a backfill by noon of its effective day."""
        if self.effective_on is None:
            return self.now
        noon = dt.datetime.combine(self.effective_on, dt.time(12), tzinfo=ZoneInfo(self.timezone))
        return min(self.now, noon)


WORKING_HOURS = (dt.time(8), dt.time(20))
"""Reminders go out between these local times on a working day; held ones go at the first."""


def is_workday(day: dt.date) -> bool:
    """A working day under China's official calendar: statutory holidays are rest days, 调休 make-up
    Saturdays and Sundays are working days (the `chinese_calendar` package's data).

    Raises NotImplementedError for a year the package does not cover: a deadline is never guessed."""
    return bool(chinese_calendar.is_workday(day))


def move_deadline(due: dt.datetime, policy: CalendarPolicy, timezone: str) -> dt.datetime:
    """`due` moved off a rest day to the previous or next working day at the same local time of day;
    under `fixed` it stays (and needs no calendar data). NotImplementedError as `is_workday`."""
    if policy is CalendarPolicy.fixed:
        return due
    local = due.astimezone(ZoneInfo(timezone))
    step = dt.timedelta(days=-1 if policy is CalendarPolicy.previous_workday else 1)
    day = local.date()
    while not is_workday(day):
        day += step
    return local.replace(year=day.year, month=day.month, day=day.day)


def is_reminder_day(day: dt.date) -> bool:
    """A day a reminder may go out: a working day under China's calendar; for a year the package does
    not cover, Monday to Friday (only weekends count as rest days there)."""
    try:
        return is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def reminder_time(when: dt.datetime, timezone: str) -> dt.datetime:
    """`when` if it falls on a working day within working hours (08:00–20:00 local), else the next
    working morning at 08:00 local: the time a reminder due at `when` may really go out."""
    zone = ZoneInfo(timezone)
    local = when.astimezone(zone)
    start, end = WORKING_HOURS
    if is_reminder_day(local.date()) and start <= local.time() < end:
        return when
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    while not is_reminder_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=zone)
