"""Campaign routes: set up a year, read it, and its 100-point scorecard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.entrypoints.api.definition_schemas import ScorecardOut
from services.entrypoints.api.params import YearPath
from services.entrypoints.api.schemas import CampaignOut
from services.entrypoints.deps import ContainerDep, CurrentActor, Now, ReadUow, WriteUow
from services.usecases import campaigns
from services.usecases.commands import CreateCampaign

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


@router.post("", status_code=201, response_model=CampaignOut, name="create", summary="新建年度活动")
def create_campaign(body: CreateCampaign, c: ContainerDep, actor: CurrentActor, uow: WriteUow, now: Now) -> Any:
    return campaigns.create_campaign(uow, c.catalog, actor, body, now, c.settings.timezone)


@router.get("/{year}", response_model=CampaignOut, name="read", summary="年度活动及其时间安排")
def get_campaign(year: YearPath, actor: CurrentActor, uow: ReadUow) -> Any:
    return campaigns.get_campaign(uow.session, year)


@router.get("/{year}/scorecard", name="read_scorecard", summary="百分制考核标准", response_model=ScorecardOut)
def scorecard(year: YearPath, c: ContainerDep, actor: CurrentActor, uow: ReadUow) -> dict[str, Any]:
    campaigns.get_campaign(uow.session, year)
    sheet = c.scorecard
    return {
        "name": sheet.name,
        "label_zh": sheet.label_zh,
        "note_zh": sheet.note_zh,
        "areas": [a.model_dump() for a in sheet.areas],
        "total": sheet.total,
        "bands": [b.model_dump() for b in sheet.bands],
        "pass_band": sheet.pass_band,
        "methods": sheet.methods,
    }
