"""One transitions.Machine per lifecycle, shared by every record; `Engine.fire` is the only way in."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from definitions import Catalog, EventDef, Lifecycle
from workflow.errors import GuardRejected, RoleForbidden, TransitionNotAllowed, UnknownEvent
from workflow.guards import GUARDS, GuardContext, evaluate


@dataclass(frozen=True)
class Transitioned:
    """Past-tense domain event recorded by the machine's callback."""

    lifecycle: str
    event: str
    source: str
    dest: str


class _Subject:
    """The stand-in the machine moves: a record's state, never the record itself."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


class Engine:
    """Fires events of one lifecycle for any stored record, whose state is passed in."""

    def __init__(self, lifecycle: Lifecycle):
        self.lifecycle = lifecycle
        self.machine = Machine(
            model=None,
            states=[s.code for s in lifecycle.states],
            initial=lifecycle.initial,
            auto_transitions=False,
            send_event=True,
        )
        for ev in lifecycle.events:
            sources: list[Any] = lifecycle.sources(ev)
            self.machine.add_transition(ev.name, sources, ev.dest)
        self._from: dict[str, list[str]] = {
            s.code: [e.name for e in lifecycle.events if s.code in lifecycle.sources(e)] for s in lifecycle.states
        }
        # Looked up on every fire: dicts and frozensets built once, not scans per event.
        self._events: dict[str, EventDef] = {e.name: e for e in lifecycle.events}
        self._roles: dict[str, frozenset[str]] = {e.name: frozenset(e.roles) for e in lifecycle.events}
        self._sources: dict[str, frozenset[str]] = {e.name: frozenset(lifecycle.sources(e)) for e in lifecycle.events}

    def events_from(self, state: str) -> list[str]:
        return self._from.get(state, [])

    def allowed_events(self, state: str, roles: Set[str]) -> list[str]:
        """The events this caller (holding `roles` on the record) may fire now, guards aside."""
        return [name for name in self.events_from(state) if not self._roles[name].isdisjoint(roles)]

    def check(self, state: str, event: str, roles: Set[str], ctx: GuardContext) -> None:
        """Raise what firing would raise, without moving anything."""
        ev = self._events.get(event)
        if ev is None:
            raise UnknownEvent(event, state, self.allowed_events(state, roles))
        if state not in self._sources[event]:
            raise TransitionNotAllowed(event, state, self.allowed_events(state, roles))
        if self._roles[event].isdisjoint(roles):
            raise RoleForbidden(event, ev.roles)
        failures = evaluate(ev.guards, ctx)
        if failures:
            raise GuardRejected(event, failures)

    def fire(self, state: str, event: str, roles: Set[str], ctx: GuardContext) -> Transitioned:
        """Check roles and every guard of `event`, then move `state`; return what happened."""
        self.check(state, event, roles, ctx)
        subject = _Subject(state)
        self.machine.events[event].trigger(subject)
        return Transitioned(self.lifecycle.name, event, state, subject.state)


class Engines(Mapping[str, Engine]):
    """The engines of every lifecycle in a catalog, built once at start-up."""

    def __init__(self, catalog: Catalog):
        self._engines = {name: Engine(lc) for name, lc in catalog.lifecycles.items()}

    def __getitem__(self, name: str) -> Engine:
        return self._engines[name]

    def __iter__(self) -> Any:
        return iter(self._engines)

    def __len__(self) -> int:
        return len(self._engines)


def known_guards() -> frozenset[str]:
    return frozenset(GUARDS)
