"""创先争优示范点: a secretary nominates a branch with its three typicals; the office evaluates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.access import Actor
from services.errors import Invalid
from services.lifecycle.fire import Step
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import Kind
from services.persistence.tables import DemoSite
from services.persistence.uow import UnitOfWork
from services.usecases import org_records
from services.usecases.commands import NominateSite
from services.usecases.fields import as_json

LIFECYCLE = "demo_site"
TYPICALS = ("typical_formulation", "typical_person", "typical_event")


def _evaluated(step: Step) -> dict[str, Any]:
    return {"data": {**step.loaded.record.data, "evaluate": as_json(step.data)}}


KIND = Kind(
    lifecycle=LIFECYCLE,
    label_zh="创先争优示范点",
    table=DemoSite.__table__,  # type: ignore[attr-defined]
    own=TYPICALS,
    on={"evaluate": _evaluated},
    tells={event: "secretary" for event in ("select_for_focus", "recommend", "reject")},
)


def nominate(uow: UnitOfWork, lc: Lifecycles, actor: Actor, cmd: NominateSite, now: dt.datetime) -> int:
    """A nomination needs the three typicals (三个典型), each as non-empty text."""
    for name in TYPICALS:
        if not getattr(cmd, name).strip():
            label = NominateSite.model_fields[name].title
            raise Invalid(name, f"示范点须有{label}，不能为空")
    site_id = org_records.start(uow.session, lc, LIFECYCLE, {"secretary", "office"}, actor, cmd.model_dump(), now)
    uow.commit()
    return site_id
