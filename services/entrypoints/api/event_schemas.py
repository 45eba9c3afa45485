"""Each lifecycle's event body in the OpenAPI, from the payload registry that validates it (one
source): a union discriminated by `event`, each member with its typed `data` and the event's
Chinese label, so a generated client knows what `publish` or `appraise` needs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, create_model

from definitions import Catalog
from services.usecases.event_data import EVENT_DATA
from services.usecases.fields import Clean, Command

PATHS = {
    "pledge": "/api/v1/pledges/{pledge_id}/events",
    "self_evaluation": "/api/v1/self-evaluations/{evaluation_id}/events",
    "appraisal_round": "/api/v1/appraisal-rounds/{record_id}/events",
    "demo_site": "/api/v1/demo-sites/{record_id}/events",
    "rectification": "/api/v1/rectifications/{record_id}/events",
}
"""Where each lifecycle's events are fired."""


def _pascal(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def _event_model(catalog: Catalog, lifecycle: str, event: str, data: type[Command]) -> type[Command]:
    ev = catalog.lifecycles[lifecycle].event(event)
    assert ev is not None
    guards = "；".join(catalog.guards.get(g, g) for g in ev.guards)
    doc = f"{ev.label_zh}（{catalog.lifecycles[lifecycle].label_zh}）" + (f"。条件：{guards}" if guards else "")
    fields: dict[str, Any] = {
        "event": (Literal[event], Field(title="操作", description=ev.label_zh)),
        "reason": (Annotated[Clean | None, Field(max_length=2000, title="理由")], None),
        "data": (data | None, Field(default=None, title="办理内容")),
        "effective_on": (dt.date | None, Field(default=None, title="补录日期")),
    }
    model: type[Command] = create_model(
        f"{_pascal(lifecycle)}{_pascal(event)}Event", __base__=Command, __doc__=doc, **fields
    )
    return model


def schemas(catalog: Catalog) -> tuple[dict[str, Any], dict[str, str]]:
    """The components to add, and each lifecycle's event-body schema name."""
    components: dict[str, Any] = {}
    names = {}
    for lifecycle, events in EVENT_DATA.items():
        members = tuple(_event_model(catalog, lifecycle, event, data) for event, data in events.items())
        union = Annotated[Union[members], Field(discriminator="event")]  # type: ignore[valid-type]  # noqa: UP007
        found = TypeAdapter(union).json_schema(ref_template="#/components/schemas/{model}")
        components.update(found.pop("$defs", {}))
        name = f"{_pascal(lifecycle)}Event"
        components[name] = found | {"title": name, "description": f"{catalog.lifecycles[lifecycle].label_zh}的操作"}
        names[lifecycle] = name
    return components, names


def install(document: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """Describe every `/events` route's body by its lifecycle's union (validation stays with the
    registry: an unknown event is answered 409 with what may be done, as SPEC §4 says)."""
    components, names = schemas(catalog)
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    for lifecycle, path in PATHS.items():
        body = document["paths"][path]["post"]["requestBody"]
        body["content"]["application/json"]["schema"] = {"$ref": f"#/components/schemas/{names[lifecycle]}"}
    document["components"]["schemas"].pop("FireEvent", None)
    return document
