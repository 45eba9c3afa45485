"""Domain errors raised by the engine.

WorkflowError
 ├── UnknownEvent          the lifecycle has no such event
 ├── TransitionNotAllowed  the event does not leave the record's current state
 ├── RoleForbidden         the event is possible now, but not for this caller
 └── GuardRejected         one or more guards refuse; lists every failure
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WorkflowError(Exception):
    """Base of every refusal the engine reports."""


@dataclass(frozen=True)
class GuardFailure:
    name: str
    message: str


class TransitionNotAllowed(WorkflowError):
    def __init__(self, event: str, state: str, allowed_events: Sequence[str]):
        self.event, self.state, self.allowed_events = event, state, list(allowed_events)
        super().__init__(f"event '{event}' is not allowed from state '{state}'")


class UnknownEvent(TransitionNotAllowed):
    pass


class RoleForbidden(WorkflowError):
    def __init__(self, event: str, roles: Sequence[str], reason_zh: str | None = None):
        self.event, self.roles, self.reason_zh = event, list(roles), reason_zh
        super().__init__(f"event '{event}' needs one of the roles {self.roles}")


class GuardRejected(WorkflowError):
    def __init__(self, event: str, failures: Sequence[GuardFailure]):
        self.event, self.failures = event, list(failures)
        super().__init__(f"event '{event}' refused by guards {[f.name for f in self.failures]}")
