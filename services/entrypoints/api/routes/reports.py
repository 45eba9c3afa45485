"""Report routes: a year's progress per org, as JSON, as an .xlsx workbook and as a .csv file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from services.entrypoints.api.params import YearPath
from services.entrypoints.deps import ContainerDep, CurrentActor, Now, ReadUow
from services.queries import reports
from services.usecases.sheets import XLSX

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
BINARY = {"schema": {"type": "string", "format": "binary"}}
"""A file download: bytes of its own media type."""


class AppraisalFigures(BaseModel):
    state: str
    satisfaction_rate: float | None
    score: float | None
    below_threshold: bool | None


class SelfEvaluationFigures(BaseModel):
    state: str
    state_label: str
    self_score: float | None
    assessed_score: float | None
    band_label: str | None


class StateFigures(BaseModel):
    state: str
    state_label: str


class RectificationFigures(StateFigures):
    due_date: dt.date
    overdue: bool


class ProgressRow(BaseModel):
    org_id: int
    name: str
    kind: str
    parent_id: int | None
    pledges_by_state: dict[str, int]
    pledges: int
    overdue: int
    late: int
    members: int
    members_practising: int
    coverage: float | None
    commented: int
    comment_coverage: float | None
    all_commented: bool
    appraisal: AppraisalFigures | None
    flagged_subjects: int | None
    self_evaluation: SelfEvaluationFigures | None
    demo_site: StateFigures | None
    rectification: RectificationFigures | None


class ProgressTotals(BaseModel):
    pledges: int
    pledges_by_state: dict[str, int]
    overdue: int
    late: int
    members: int
    members_practising: int
    coverage: float | None
    commented: int
    comment_coverage: float | None


class ProgressReport(BaseModel):
    year: int
    timezone: str
    generated_at: dt.datetime
    orgs: list[ProgressRow]
    totals: ProgressTotals


def _file(content: bytes, media_type: str, year: int, extension: str) -> Response:
    disposition = reports.content_disposition(reports.filename(year, extension))
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/{year}/progress.xlsx",
    response_class=Response,
    name="progress_xlsx",
    summary="工作进展（Excel 工作簿）",
    responses={200: {"content": {XLSX: BINARY}, "description": "工作进展（Excel 工作簿）"}},
)
def progress_xlsx(year: YearPath, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now) -> Response:
    src = c.report_sources()
    report = reports.progress(uow.session, src, actor, year, now)
    return _file(reports.to_xlsx(report, src), XLSX, year, "xlsx")


@router.get(
    "/{year}/progress.csv",
    response_class=Response,
    name="progress_csv",
    summary="工作进展（CSV）",
    responses={200: {"content": {reports.CSV: BINARY}, "description": "工作进展（CSV，UTF-8 带 BOM）"}},
)
def progress_csv(year: YearPath, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now) -> Response:
    src = c.report_sources()
    report = reports.progress(uow.session, src, actor, year, now)
    return _file(reports.to_csv(report, src), reports.CSV, year, "csv")


@router.get("/{year}/progress", response_model=ProgressReport, name="progress", summary="工作进展")
def progress(year: YearPath, c: ContainerDep, actor: CurrentActor, uow: ReadUow, now: Now) -> Any:
    return reports.progress(uow.session, c.report_sources(), actor, year, now)
