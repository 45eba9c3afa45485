"""A campaign year's calendar as the event path reads it: plain values, read once per session."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

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


@dataclass(frozen=True)
class Firing:
    """The moment an event is fired: the real clock, and the effective time for a backfill."""

    now: dt.datetime
    effective_on: dt.date | None
    timezone: str

    @property
    def judged_at(self) -> dt.datetime:
        """Deadlines are judged by the server's clock; a backfill by noon of its effective day."""
        if self.effective_on is None:
            return self.now
        noon = dt.datetime.combine(self.effective_on, dt.time(12), tzinfo=ZoneInfo(self.timezone))
        return min(self.now, noon)
