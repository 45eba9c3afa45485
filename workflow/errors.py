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
    def __init__(self, event: str, state: str, allowed_events: Sequence[str], detail_zh: str = ""):
        self.event, self.state, self.allowed_events = event, state, list(allowed_events)
        self.detail_zh = detail_zh or f"当前状态下不能执行此操作；可执行的操作：{'、'.join(allowed_events) or '无'}"
        super().__init__(f"event '{event}' is not allowed from state '{state}'")


class UnknownEvent(TransitionNotAllowed):
    pass


class RoleForbidden(WorkflowError):
    def __init__(self, event: str, roles: Sequence[str], reason_zh: str = ""):
        self.event, self.roles = event, list(roles)
        self.reason_zh = reason_zh or "您的身份不能执行此操作"
        super().__init__(f"event '{event}' needs one of the roles {self.roles}")


class GuardRejected(WorkflowError):
    def __init__(self, event: str, failures: Sequence[GuardFailure]):
        self.event, self.failures = event, list(failures)
        super().__init__(f"event '{event}' refused by guards {[f.name for f in self.failures]}")
