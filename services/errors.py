"""Service-level errors, each mapped to one HTTP status at the API edge.

ServiceError
 ├── NotFound            404 — missing, or not readable by the caller
 ├── PreconditionFailed  412 — a stale If-Match version
 ├── Conflict            409 — a duplicate, or a concurrent change won the race
 ├── Forbidden           403 — the caller's role does not allow it
 └── Invalid             422 — a field refuses (names the field)
"""

from __future__ import annotations


class ServiceError(Exception):
    slug = "error"
    title = "Error"

    def __init__(self, detail: str, **extra: object):
        self.detail, self.extra = detail, extra
        super().__init__(detail)


class NotFound(ServiceError):
    slug, title = "not-found", "Not Found"


class PreconditionFailed(ServiceError):
    slug, title = "precondition-failed", "Precondition Failed"


class Conflict(ServiceError):
    slug, title = "conflict", "Conflict"


class Forbidden(ServiceError):
    slug, title = "forbidden", "Forbidden"


class Invalid(ServiceError):
    slug, title = "validation-error", "Unprocessable Content"

    def __init__(self, field: str, detail: str):
        super().__init__(detail, errors=[{"field": field, "message": detail}])
        self.field = field
