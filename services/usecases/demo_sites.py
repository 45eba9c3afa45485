"""创先争优示范点: a secretary nominates a branch with its three typicals; the office evaluates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.access import Actor
from services.errors import Invalid
from services.persistence.tables import DemoSite
from services.persistence.uow import UnitOfWork
from services.usecases.org_records import Kind, create
from workflow import Engine

TYPICALS = {"typical_formulation": "典型提法", "typical_person": "典型人物", "typical_event": "典型事件"}

KIND = Kind(
    lifecycle="demo_site",
    table=DemoSite,
    label_zh="创先争优示范点",
    creators=frozenset({"secretary", "office"}),
    fields=tuple(TYPICALS),
    data_events=frozenset({"evaluate"}),
)


def nominate(uow: UnitOfWork, engine: Engine, actor: Actor, body: dict[str, Any], now: dt.datetime) -> int:
    """A nomination needs the three typicals (三个典型), each as non-empty text."""
    for field, label in TYPICALS.items():
        if not str(body.get(field) or "").strip():
            raise Invalid(field, f"示范点须有{label}（{field}），不能为空")
    site_id = create(uow, engine, KIND, actor, body, now)
    uow.commit()
    return site_id
