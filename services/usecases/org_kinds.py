"""The records that follow an org's own lifecycle — appraisal rounds, demo sites, rectification orders —
each with the command that starts one and the use case that does: read by the API's routes and the pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.usecases import appraisals, demo_sites, rectifications
from services.usecases.commands import CreateRound, IssueRectification, NominateSite
from services.usecases.fields import Command


@dataclass(frozen=True)
class Start:
    command: type[Command]
    start: Callable[..., int]
    """`start(uow, lifecycles, actor, command, now) -> record id`."""
    path: str
    """Where the API lists them: /api/v1/<path>."""


STARTS: Mapping[str, Start] = {
    appraisals.LIFECYCLE: Start(CreateRound, appraisals.open_round, "appraisal-rounds"),
    demo_sites.LIFECYCLE: Start(NominateSite, demo_sites.nominate, "demo-sites"),
    rectifications.LIFECYCLE: Start(IssueRectification, rectifications.issue, "rectifications"),
}


def own_labels(lifecycle: str) -> dict[str, Any]:
    """The Chinese label of each column a record of `lifecycle` was started with (典型提法, 整改期限, …)."""
    fields = STARTS[lifecycle].command.model_fields
    return {name: f.title for name, f in fields.items() if name not in ("year", "org_id")}
