"""The workflow engine: machines built from definitions, guards, fire(), deadline arithmetic."""

from workflow.engine import Engine, Engines, Transitioned, known_guards
from workflow.errors import (
    GuardFailure,
    GuardRejected,
    RoleForbidden,
    TransitionNotAllowed,
    UnknownEvent,
    WorkflowError,
)
from workflow.guards import GUARDS, GuardContext

__all__ = [
    "GUARDS",
    "Engine",
    "Engines",
    "GuardContext",
    "GuardFailure",
    "GuardRejected",
    "RoleForbidden",
    "TransitionNotAllowed",
    "Transitioned",
    "UnknownEvent",
    "WorkflowError",
    "known_guards",
]
