"""One transitions.Machine per lifecycle, shared by every record; `Engine.fire` is the only way in.

The machine decides: it knows which events leave a state and where they lead, refuses an event
from any other state (its `MachineError`, turned into `TransitionNotAllowed`), runs our check of
roles and guards as the transition's `prepare` callback, and records what happened from its own
`after` callback. Every guard of the event is evaluated before anything moves, so a refusal lists
all of them (transitions' own conditions stop at the first that fails).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine, MachineError

from definitions import Catalog, Lifecycle
from definitions.vocabulary import Role
from workflow.errors import GuardRejected, RoleForbidden, TransitionNotAllowed, UnknownEvent
from workflow.guards import GUARDS, GuardContext, evaluate

Context = GuardContext | Callable[[], GuardContext]
"""What the guards read: given, or built on demand once the state and the roles have passed."""


@dataclass(frozen=True)
class Transitioned:
    """Past-tense domain event, recorded by the machine's `after` callback."""

    lifecycle: str
    event: str
    source: str
    dest: str


class _Subject:
    """The stand-in the machine moves: a record's state, never the record itself."""

    __slots__ = ("moved", "state")

    def __init__(self, state: str):
        self.state = state
        self.moved: Transitioned | None = None


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
            self.machine.add_transition(ev.name, sources, ev.dest, prepare=[self._permit], after=[self._record])

    def events_from(self, state: str) -> list[str]:
        """The events that leave `state`, as the machine knows them (in the definition's order)."""
        return list(self.machine.get_triggers(state))

    def allowed_events(self, state: str, roles: Set[str]) -> list[str]:
        """The events this caller (holding `roles` on the record) may fire now, guards aside."""
        return [name for name in self.events_from(state) if self._permitted(name, roles)]

    def fire(self, state: str, event: str, roles: Set[str], context: Context) -> Transitioned:
        """Fire `event` from `state`: the machine refuses a wrong state, `_permit` the roles and the
        guards; nothing moves unless all pass. Returns the move the machine recorded."""
        if event not in self.machine.events:
            allowed = self.allowed_events(state, roles)
            detail = f"{self.lifecycle.label_zh}没有“{event}”这项操作；可执行的操作：{self._labels(allowed)}"
            raise UnknownEvent(event, state, allowed, detail)
        subject = _Subject(state)
        try:
            self.machine.events[event].trigger(subject, roles=roles, context=context)
        except MachineError:
            allowed = self.allowed_events(state, roles)
            label = self.lifecycle.state(state).label_zh
            detail = f"当前环节“{label}”不能{self._labels([event])}；可执行的操作：{self._labels(allowed)}"
            raise TransitionNotAllowed(event, state, allowed, detail) from None
        assert subject.moved is not None, "the machine's after-callback records every move"
        return subject.moved

    def _labels(self, events: list[str]) -> str:
        """Events as a person reads them: 提交审查、撤回 (or 无)."""
        found = [self.lifecycle.event(name) for name in events]
        return "、".join(ev.label_zh for ev in found if ev is not None) or "无"

    def _permitted(self, event: str, roles: Set[str]) -> bool:
        ev = self.lifecycle.event(event)
        return ev is not None and not roles.isdisjoint(ev.roles)

    def _permit(self, event_data: EventData) -> None:
        """The transition's `prepare` callback: the caller's roles, then every guard of the event."""
        name, roles = event_data.event.name, event_data.kwargs["roles"]
        ev = self.lifecycle.event(name)
        assert ev is not None
        if roles.isdisjoint(ev.roles):
            needed = "、".join(Role.of(r).label_zh for r in ev.roles)
            raise RoleForbidden(name, ev.roles, f"您的身份不能{ev.label_zh}；需要：{needed}")
        context = event_data.kwargs["context"]
        failures = evaluate(ev.guards, context if isinstance(context, GuardContext) else context())
        if failures:
            raise GuardRejected(name, failures)

    def _record(self, event_data: EventData) -> None:
        """The transition's `after` callback: what happened, as a past-tense domain event (no I/O)."""
        t, subject = event_data.transition, event_data.model
        assert t is not None and t.dest is not None and isinstance(subject, _Subject)
        subject.moved = Transitioned(self.lifecycle.name, event_data.event.name, t.source, t.dest)


class Engines(Mapping[str, Engine]):
    """The engines of every lifecycle in a catalog, built once at start-up."""

    def __init__(self, catalog: Catalog):
        declared, coded = set(catalog.guards), set(GUARDS)
        if declared != coded:
            raise ValueError(
                "definitions/guards.yaml and workflow/guards.py disagree: declared without code "
                f"{sorted(declared - coded)}, code without declaration {sorted(coded - declared)}"
            )
        self._engines = {name: Engine(lc) for name, lc in catalog.lifecycles.items()}

    def __getitem__(self, name: str) -> Engine:
        return self._engines[name]

    def __iter__(self) -> Any:
        return iter(self._engines)

    def __len__(self) -> int:
        return len(self._engines)


def known_guards() -> frozenset[str]:
    return frozenset(GUARDS)
