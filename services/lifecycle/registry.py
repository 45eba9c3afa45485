"""Every lifecycle the service runs: its engine, its kind (hooks) and its payload models, checked
against the catalog when the service starts — a definition without its hooks, or a hook or payload
for an event the definition does not have, stops the service with a message naming both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from definitions import Catalog, CriteriaSet, RatingScale, Scorecard
from services.lifecycle.store import Kind
from workflow import Engine, Engines


class LifecycleMismatch(Exception):
    """The definitions and the code that runs them disagree; the service does not start."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("definitions/ and services/ disagree:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Lifecycles:
    """Built once at start-up; what the use cases need to fire any event of any lifecycle."""

    catalog: Catalog
    engines: Engines
    kinds: Mapping[str, Kind]
    history_key: bytes
    """The key of the history chains (lifecycle/audit.py), derived from the secret kept outside the database."""

    def engine(self, lifecycle: str) -> Engine:
        return self.engines[lifecycle]

    @property
    def scorecard(self) -> Scorecard:
        return self.catalog.scorecards["default"]

    @property
    def criteria(self) -> Mapping[str, CriteriaSet]:
        return self.catalog.criteria

    @property
    def rating_scale(self) -> RatingScale:
        return self.catalog.rating_scale


def check(catalog: Catalog, kinds: Mapping[str, Kind], payloads: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise LifecycleMismatch listing every disagreement between the definitions and the code."""
    problems = []
    for name, lc in sorted(catalog.lifecycles.items()):
        where = f"definitions/{name}.yaml"
        events = {e.name for e in lc.events}
        if name not in kinds:
            problems.append(f"lifecycle '{name}' ({where}) has no hooks (no Kind in services/usecases/kinds.py)")
        else:
            for event in sorted((set(kinds[name].on) | set(kinds[name].tells)) - events):
                problems.append(f"hooks of '{name}' name event '{event}', which {where} does not have")
        declared = payloads.get(name)
        if declared is None:
            problems.append(f"lifecycle '{name}' ({where}) has no payload models (services/usecases/event_data.py)")
            continue
        for event in sorted(events - set(declared)):
            problems.append(f"event '{event}' of '{name}' ({where}) has no payload model")
        for event in sorted(set(declared) - events):
            problems.append(f"payload model for event '{event}' of '{name}', which {where} does not have")
    for name in sorted((set(kinds) | set(payloads)) - set(catalog.lifecycles)):
        problems.append(f"hooks or payloads for lifecycle '{name}', which definitions/ does not have")
    if problems:
        raise LifecycleMismatch(problems)
