"""Campaign years and their calendars: deadline names → aware due times."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from definitions import Calendar, Catalog
from definitions.vocabulary import CalendarPolicy
from services.access import Actor
from services.enforcement.notices import local_date
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.lifecycle.calendar import move_deadline
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


def resolve_deadlines(calendar: Calendar, timezone: str, overrides: dict[str, Any]) -> dict[str, dt.datetime]:
    """The calendar's deadlines with the overrides, as aware due times (a date: the end of that day)."""
    values: dict[str, Any] = {**calendar.deadlines, **overrides}
    resolved = {}
    for name, value in values.items():
        try:
            resolved[name] = deadlines.due_at(value, timezone)
        except ValueError as exc:
            raise Invalid(
                f"calendar.deadlines.{name}", f"期限 {name} 格式不正确：应为日期或带时区的时间（{exc}）"
            ) from exc
    return resolved


def move_deadlines(as_set: dict[str, dt.datetime], policy: CalendarPolicy, timezone: str) -> dict[str, dt.datetime]:
    """Each deadline moved off a rest day as the policy says; a date the holiday data does not cover is
    refused for a moving policy (never guessed)."""
    moved = {}
    for name, due in as_set.items():
        try:
            moved[name] = move_deadline(due, policy, timezone)
        except NotImplementedError as exc:
            year = due.astimezone(ZoneInfo(timezone)).year
            raise Invalid(
                "calendar.policy",
                f"国家节假日数据尚未收录{year}年的法定节假日和调休安排，"
                f"不能按“{policy.label_zh}”调整期限；请改为“{CalendarPolicy.fixed.label_zh}”",
            ) from exc
    return moved


def deadline_labels(catalog: Catalog) -> dict[str, str]:
    """Deadline name → its Chinese label (完成公开, 完成考评, …) from the lifecycle definitions."""
    return {r.name: r.label_zh for lc in catalog.lifecycles.values() for r in lc.deadlines}


def check_order(catalog: Catalog, closing: str | None, due: dict[str, dt.datetime], timezone: str) -> None:
    """Deadlines in lifecycle order: each lifecycle's in the order its definition lists them, and none
    after the calendar's closing deadline."""
    labels = deadline_labels(catalog)
    pairs = [
        (first, then)
        for lc in catalog.lifecycles.values()
        for first, then in itertools.pairwise([r.name for r in lc.deadlines if r.name in due])
    ]
    if closing in due:
        pairs += [(name, closing) for name in due if name != closing]
    for first, then in pairs:
        if due[first] > due[then]:
            said = {n: f"“{labels.get(n, n)}”（{local_date(due[n], timezone)}）" for n in (first, then)}
            raise Invalid(f"calendar.deadlines.{first}", f"期限顺序不对：{said[first]}不能晚于{said[then]}")


def check_not_past(
    catalog: Catalog, year: int, due: dict[str, dt.datetime], timezone: str, notify_past: bool, now: dt.datetime
) -> None:
    """A campaign of the current or a later year may not start with a deadline already past, unless it is
    补录 (`notify_past_deadlines`); a year gone by is 补录 by nature."""
    if notify_past or year < now.astimezone(ZoneInfo(timezone)).year:
        return
    labels = deadline_labels(catalog)
    for name, when in due.items():
        if when <= now:
            raise Invalid(
                f"calendar.deadlines.{name}",
                f"期限“{labels.get(name, name)}”（{local_date(when, timezone)}）已经过去；"
                "如为补录，请同时选择“已过期限也发提醒”",
            )


def create_campaign(
    uow: UnitOfWork,
    catalog: Catalog,
    actor: Actor,
    cmd: CreateCampaign,
    now: dt.datetime,
    default_timezone: str,
) -> Campaign:
    """A campaign year: the year's calendar file (or the template year's dates moved), overridden by
    `calendar`; its time zone from `calendar`, the file, or else the service's setting; its deadlines moved
    off rest days as `calendar.policy` (or the file) says, checked for order and for being past."""
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
    as_set = resolve_deadlines(base, timezone, overrides)
    policy = CalendarPolicy.of(calendar.get("policy") or base.policy)
    moved = move_deadlines(as_set, policy, timezone)
    check_order(catalog, base.closing, moved, timezone)
    notify_past = bool(calendar.get("notify_past_deadlines", False))
    check_not_past(catalog, year, moved, timezone, notify_past, now)
    campaign = Campaign(
        year=year,
        timezone=timezone,
        deadlines=_iso(moved),
        deadlines_as_set=_iso(as_set),
        calendar_policy=policy.value,
        notify_past_deadlines=notify_past,
        reminder_offsets_days=list(calendar.get("reminder_offsets_days") or base.reminder_offsets_days),
        escalation_after_days=calendar.get("escalation_after_days", base.escalation_after_days),
        min_ballots=cmd.min_ballots,
        created_at=now,
    )
    uow.session.add(campaign)
    uow.commit()
    return campaign


def _iso(due: dict[str, dt.datetime]) -> dict[str, str]:
    return {name: when.isoformat() for name, when in due.items()}


def get_campaign(session: Session, year: int) -> Campaign:
    campaign = session.exec(select(Campaign).where(Campaign.year == year)).first()
    if campaign is None:
        raise NotFound(f"{year}年度活动尚未设立")
    return campaign
