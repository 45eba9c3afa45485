"""The query and path parameters the routes share, each with its Chinese title (a refusal names it by it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from services.usecases.fields import STATE_CODE

ID_MAX = 2**63 - 1
RecordId = Annotated[int, Path(ge=1, le=ID_MAX, title="记录编号")]
YearPath = Annotated[int, Path(ge=2000, le=2100, title="年度")]
YearFilter = Annotated[int | None, Query(ge=2000, le=2100, title="年度")]
StateFilter = Annotated[str | None, Query(max_length=30, pattern=STATE_CODE, title="环节")]
OrgFilter = Annotated[int | None, Query(ge=1, le=ID_MAX, title="党组织")]
Limit = Annotated[int, Query(ge=1, le=200, title="每页条数")]
Offset = Annotated[int, Query(ge=0, le=2**31, title="跳过条数")]
