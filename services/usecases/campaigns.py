"""Campaign years and their calendars: deadline names → aware due times."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from definitions import Calendar, Catalog
from services.access import Actor
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.persistence.tables import Campaign
from services.persistence.uow import UnitOfWork
from services.usecases.commands import CreateCampaign
from workflow import deadlines

TEMPLATE_YEAR = 2010


def default_calendar(catalog: Catalog, year: int) -> Calendar:
    """The year's calendar file, or the template year's month/day moved to `year`."""
    if year in catalog.calendars:
        return catalog.calendars[year]
    template = catalog.calendars[TEMPLATE_YEAR]
    moved = {name: _move(value, year - TEMPLATE_YEAR) for name, value in template.deadlines.items()}
    return template.model_copy(update={"year": year, "deadlines": moved})


def _move(value: dt.date | dt.datetime, years: int) -> dt.date | dt.datetime:
    return value.replace(year=value.year + years)


def resolve_deadlines(calendar: Calendar, timezone: str, overrides: dict[str, Any]) -> dict[str, str]:
    values: dict[str, Any] = {**calendar.deadlines, **overrides}
    resolved = {}
    for name, value in values.items():
        try:
            resolved[name] = deadlines.due_at(value, timezone).isoformat()
        except ValueError as exc:
            raise Invalid(
                f"calendar.deadlines.{name}", f"期限 {name} 格式不正确：应为日期或带时区的时间（{exc}）"
            ) from exc
    return resolved


def create_campaign(
    uow: UnitOfWork,
    catalog: Catalog,
    actor: Actor,
    cmd: CreateCampaign,
    now: dt.datetime,
    default_timezone: str,
) -> Campaign:
    """A campaign year: the year's calendar file (or the template year's dates moved), overridden by
    `calendar`; its time zone from `calendar`, the file, or else the service's setting."""
    if not actor.is_office:
        raise Forbidden("只有创先争优活动办公室可以设立年度活动")
    year, calendar = cmd.year, cmd.calendar.model_dump(exclude_none=True) if cmd.calendar else {}
    base = default_calendar(catalog, year)
    timezone = calendar.get("timezone") or base.timezone or default_timezone
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("calendar.timezone", f"未知的时区：{timezone}") from exc
    overrides = calendar.get("deadlines") or {}
    unknown = sorted(set(overrides) - set(base.deadlines))
    if unknown:
        raise Invalid(f"calendar.deadlines.{unknown[0]}", f"未知的期限名称：{'、'.join(unknown)}")
    if uow.session.exec(select(Campaign).where(Campaign.year == year)).first():
        raise Conflict(f"{year}年度活动已经设立")
    resolved = resolve_deadlines(base, timezone, overrides)
    campaign = Campaign(
        year=year,
        timezone=timezone,
        deadlines=resolved,
        deadlines_as_set=resolved,
        notify_past_deadlines=bool(calendar.get("notify_past_deadlines", False)),
        reminder_offsets_days=list(calendar.get("reminder_offsets_days") or base.reminder_offsets_days),
        escalation_after_days=calendar.get("escalation_after_days", base.escalation_after_days),
        min_ballots=cmd.min_ballots,
        created_at=now,
    )
    uow.session.add(campaign)
    uow.commit()
    return campaign


def get_campaign(session: Session, year: int) -> Campaign:
    campaign = session.exec(select(Campaign).where(Campaign.year == year)).first()
    if campaign is None:
        raise NotFound(f"{year}年度活动尚未设立")
    return campaign
