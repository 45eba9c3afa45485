"""Service-level errors, each mapped to one HTTP status at the API edge.

ServiceError
 ├── NotFound            404 — missing, or not readable by the caller
 ├── PreconditionFailed  412 — a stale If-Match version
 ├── Conflict            409 — a duplicate, or a concurrent change won the race
 ├── Forbidden           403 — the caller's role does not allow it
 └── Invalid             422 — a field refuses (names the field)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflow import GuardRejected, RoleForbidden, TransitionNotAllowed, WorkflowError


class ServiceError(Exception):
    slug = "error"

    def __init__(self, detail: str, **extra: object):
        self.detail, self.extra = detail, extra
        super().__init__(detail)


class NotFound(ServiceError):
    slug = "not-found"


class PreconditionFailed(ServiceError):
    slug = "precondition-failed"


class Conflict(ServiceError):
    slug = "conflict"


class Forbidden(ServiceError):
    slug = "forbidden"


class Invalid(ServiceError):
    """Fields that refuse: each with its code (for programs) and a Chinese message naming it by its label."""

    slug = "validation-error"

    def __init__(self, field: str, detail: str, errors: list[dict[str, str]] | None = None):
        self.errors = errors or [{"field": field, "message": detail}]
        super().__init__(detail, errors=self.errors)
        self.field = field

    @classmethod
    def of(cls, errors: list[dict[str, str]]) -> Invalid:
        """Several refused fields at once (a form or a body): the first names the error."""
        return cls(errors[0]["field"], "；".join(e["message"] for e in errors), errors)


@dataclass(frozen=True)
class Problem:
    """A refusal as the API answers it and a page shows it: status, slug, Chinese detail, extras."""

    status: int
    slug: str
    detail: str
    messages: list[str]
    extra: dict[str, Any]


STATUS = {"not-found": 404, "precondition-failed": 412, "conflict": 409, "forbidden": 403, "validation-error": 422}


def problem_of(exc: ServiceError | WorkflowError) -> Problem:
    """The one description of every domain refusal, for the API and for the pages alike."""
    if isinstance(exc, GuardRejected):
        failed = [{"name": f.name, "message": f.message} for f in exc.failures]
        messages = [f.message for f in exc.failures]
        return Problem(
            422, "guard-failed", "；".join(messages), messages, {"event": exc.event, "failed_guards": failed}
        )
    if isinstance(exc, TransitionNotAllowed):
        extra = {"event": exc.event, "state": exc.state, "allowed_events": exc.allowed_events}
        return Problem(409, "transition-not-allowed", exc.detail_zh, [exc.detail_zh], extra)
    if isinstance(exc, RoleForbidden):
        return Problem(
            403, "forbidden", exc.reason_zh, [exc.reason_zh], {"event": exc.event, "required_roles": exc.roles}
        )
    if isinstance(exc, Invalid):
        return Problem(422, exc.slug, exc.detail, [e["message"] for e in exc.errors], dict(exc.extra))
    if isinstance(exc, ServiceError):
        return Problem(STATUS.get(exc.slug, 400), exc.slug, exc.detail, [exc.detail], dict(exc.extra))
    return Problem(400, "error", str(exc), [str(exc)], {})
