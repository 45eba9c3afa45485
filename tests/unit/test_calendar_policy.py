"""A campaign's calendar policy under China's official calendar, and the set-up checks: deadlines in
lifecycle order, none already past unless it is 补录 (the use case on an in-memory database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services.access import admin_actor
from services.container import Container
from services.entrypoints.api.schemas import CampaignOut
from services.errors import Invalid
from services.usecases import campaigns
from services.usecases.commands import CreateCampaign
from tests import usecases as uc
from tests.unit.memory import NOW

SHANGHAI = "+08:00"


def create(c: Container, year: int, now: dt.datetime = NOW, **calendar: Any) -> Any:
    cmd = CreateCampaign.model_validate({"year": year, "calendar": calendar or None})
    return uc.do(c, campaigns.create_campaign, c.catalog, admin_actor(), cmd, now, c.settings.timezone)


def refusal(c: Container, year: int, now: dt.datetime = NOW, **calendar: Any) -> Invalid:
    with pytest.raises(Invalid) as refused:
        create(c, year, now, **calendar)
    return refused.value


@pytest.mark.parametrize(
    ("policy", "published"),
    [("fixed", "2010-10-31"), ("previous_workday", "2010-10-29"), ("next_workday", "2010-11-01")],
)
def test_a_sunday_deadline_moves_as_the_policy_says_keeping_its_time_of_day(
    container: Container, policy: str, published: str
) -> None:
    """2010-10-31 was a Sunday: 10月份完成 falls on Friday the 29th, or on Monday 1 November."""
    campaign = create(container, 2010, policy=policy)
    assert campaign.calendar_policy == policy
    assert campaign.deadlines_as_set["pledge_published"] == f"2010-10-31T23:59:59{SHANGHAI}"
    assert campaign.deadlines["pledge_published"] == f"{published}T23:59:59{SHANGHAI}"
    # 2010-11-20 was a Saturday too; 2010-12-31 a Friday, a working day, stays
    assert campaign.deadlines["appraisal_closed"] == f"2010-12-31T23:59:59{SHANGHAI}"


def test_the_answer_shows_the_policy_and_each_deadline_before_and_after(container: Container) -> None:
    campaign = create(container, 2010, policy="next_workday", deadlines={"pledge_published": "2010-10-31T17:30+08:00"})
    shown = CampaignOut.model_validate(campaign, from_attributes=True).model_dump(mode="json")
    assert (shown["calendar_policy"], shown["calendar_policy_label"]) == ("next_workday", "顺延到下一个工作日")
    assert shown["deadlines_as_set"]["pledge_published"] == "2010-10-31T17:30:00+08:00"
    assert shown["deadlines"]["pledge_published"] == "2010-11-01T17:30:00+08:00"
    assert shown["deadlines"]["self_evaluation_submitted"] == "2010-11-22T23:59:59+08:00"


def test_a_make_up_saturday_is_a_working_day_and_a_statutory_holiday_is_not(container: Container) -> None:
    """2010-10-09 (a Saturday) was worked in exchange for the National Day week; 2010-10-01 was a Friday off."""
    days = {"pledge_published": "2010-10-09", "self_evaluation_submitted": "2010-10-01"}
    moved = create(container, 2010, policy="next_workday", deadlines=days).deadlines
    assert moved["pledge_published"].startswith("2010-10-09")
    assert moved["self_evaluation_submitted"].startswith("2010-10-08")


def test_fixed_is_the_default_and_the_calendar_file_may_name_a_policy(container: Container) -> None:
    assert create(container, 2010).deadlines["pledge_published"].startswith("2010-10-31")
    file = container.catalog.calendars[2010]
    container.catalog.calendars[2011] = file.model_copy(update={"year": 2011, "policy": "previous_workday"})
    container.catalog.calendars[2011] = container.catalog.calendars[2011].model_copy(
        update={"deadlines": {n: d.replace(year=2011) for n, d in file.deadlines.items()}}
    )
    campaign = create(container, 2011)  # 2011-10-31 was a Monday; 2011-11-20 a Sunday
    assert campaign.calendar_policy == "previous_workday"
    assert campaign.deadlines["self_evaluation_submitted"].startswith("2011-11-18")


def test_a_year_the_holiday_data_does_not_cover_is_refused_for_a_moving_policy(container: Container) -> None:
    refused = refusal(container, 2031, policy="next_workday")
    assert refused.field == "calendar.policy"
    assert "2031年" in str(refused) and "按原定日期" in str(refused)
    assert create(container, 2031).deadlines["pledge_published"].startswith("2031-10-31"), "fixed needs no data"


@pytest.mark.parametrize(
    ("deadlines", "field", "first", "then"),
    [
        ({"pledge_published": "2010-12-31", "pledge_appraised": "2010-12-01"},
         "pledge_published", "完成公开", "完成考评"),
        ({"self_evaluation_submitted": "2010-12-31", "self_evaluation_assessed": "2010-12-30"},
         "self_evaluation_submitted", "上报自查报告", "完成评定"),
        ({"appraisal_closed": "2010-12-20"}, "pledge_appraised", "完成考评", "完成评议"),
    ],
)  # fmt: skip
def test_deadlines_out_of_lifecycle_order_are_refused_naming_both(
    container: Container, deadlines: dict[str, str], field: str, first: str, then: str
) -> None:
    refused = refusal(container, 2010, deadlines=deadlines)
    assert refused.field == f"calendar.deadlines.{field}"
    assert f"“{first}”" in str(refused) and f"“{then}”" in str(refused) and "不能晚于" in str(refused)


def test_equal_deadlines_are_in_order(container: Container) -> None:
    same = {"pledge_published": "2010-12-31", "pledge_appraised": "2010-12-31"}
    assert create(container, 2010, deadlines=same).deadlines["pledge_published"].startswith("2010-12-31")


def test_a_deadline_past_at_creation_is_refused_for_this_year_unless_it_is_backfill(container: Container) -> None:
    """NOW is 2030-09-01: a 2030 deadline in August has passed; a 2029 campaign is 补录 by nature."""
    past = {"pledge_published": "2030-08-31"}
    refused = refusal(container, 2030, deadlines=past)
    assert refused.field == "calendar.deadlines.pledge_published"
    assert "“完成公开”（2030年8月31日）已经过去" in str(refused) and "已过期限也发提醒" in str(refused)
    assert create(container, 2030, deadlines=past, notify_past_deadlines=True).notify_past_deadlines
    assert create(container, 2029, deadlines={"pledge_published": "2029-08-31"}).year == 2029
