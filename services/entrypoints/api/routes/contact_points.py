"""The supervisor's view of their contact points (联系点)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.entrypoints.api.params import YearFilter
from services.entrypoints.api.schemas import ContactPointOut
from services.entrypoints.deps import ContainerDep, CurrentActor, Now, ReadUow
from services.queries import contact_points

router = APIRouter(prefix="/api/v1", tags=["contact_points"])


@router.get("/contact-points", response_model=list[ContactPointOut], name="list", summary="我的联系点")
def list_contact_points(
    c: ContainerDep,
    actor: CurrentActor,
    uow: ReadUow,
    now: Now,
    year: YearFilter = None,
) -> list[dict[str, Any]]:
    return contact_points.contact_points(uow.session, c.engines["pledge"], actor, year, now)
