"""The payload registry and the lifecycles' hooks agree with definitions/*.yaml, are checked when the
service starts, and describe each event's body in the OpenAPI."""

from __future__ import annotations

import dataclasses

import pytest

from definitions import load_catalog
from services.entrypoints.api import event_schemas
from services.lifecycle import registry
from services.lifecycle.registry import LifecycleMismatch
from services.usecases.event_data import EVENT_DATA, NoData
from services.usecases.kinds import KINDS


def test_the_shipped_code_matches_the_shipped_definitions() -> None:
    catalog = load_catalog()
    registry.check(catalog, KINDS, EVENT_DATA)
    for name, lc in catalog.lifecycles.items():
        assert set(EVENT_DATA[name]) == {e.name for e in lc.events}


def test_a_lifecycle_without_hooks_or_payloads_stops_the_service_naming_both() -> None:
    catalog = load_catalog()
    kinds = {k: v for k, v in KINDS.items() if k != "demo_site"}
    payloads = {k: dict(v) for k, v in EVENT_DATA.items()}
    del payloads["pledge"]["publish"]
    payloads["rectification"]["explode"] = NoData
    with pytest.raises(LifecycleMismatch) as refused:
        registry.check(catalog, kinds, payloads)
    text = str(refused.value)
    assert "'demo_site'" in text and "definitions/demo_site.yaml" in text and "no hooks" in text
    assert "event 'publish' of 'pledge'" in text and "no payload model" in text
    assert "'explode'" in text and "definitions/rectification.yaml does not have" in text


def test_hooks_for_an_event_the_definition_lacks_are_refused() -> None:
    catalog = load_catalog()
    kind = KINDS["pledge"]
    odd = dataclasses.replace(kind, on={**kind.on, "fly": lambda step: {}})
    with pytest.raises(LifecycleMismatch) as refused:
        registry.check(catalog, {**KINDS, "pledge": odd}, EVENT_DATA)
    assert "hooks of 'pledge' name event 'fly', which definitions/pledge.yaml does not have" in str(refused.value)


def test_each_events_body_is_typed_in_the_openapi_from_the_same_registry() -> None:
    catalog = load_catalog()
    components, names = event_schemas.schemas(catalog)
    for lifecycle, lc in catalog.lifecycles.items():
        union = components[names[lifecycle]]
        assert set(union["discriminator"]["mapping"]) == {e.name for e in lc.events}
        for event, ref in union["discriminator"]["mapping"].items():
            member = components[ref.rsplit("/", 1)[1]]
            assert member["properties"]["event"]["const"] == event
            assert member["description"].startswith(lc.event(event).label_zh)  # type: ignore[union-attr]
    publish = components["PublishData"]["properties"]
    assert publish["channel"]["anyOf"][0]["enum"] == ["notice_board", "website", "meeting", "other"]
    assert publish["published_on"]["anyOf"][0]["format"] == "date"
