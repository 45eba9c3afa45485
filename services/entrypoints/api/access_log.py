"""The access log without secrets: a `token=` (or `secret=`, `password=`) in a query string is masked.

Tokens belong in the Authorization header or the sign-in form, but a link such as `/login?token=…` still
reaches uvicorn's access log, and logs travel further than the database (to log shippers, to whoever
debugs). The filter rewrites uvicorn's access records before any handler formats them.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
SECRET_NAMES = frozenset({"token", "access_token", "secret", "password"})
MASK = "***"


def masked(target: str) -> str:
    """The path and query as logged, with the values of secret parameters replaced by ***."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        secret = unquote_plus(name).strip().lower() in SECRET_NAMES
        parts.append(f"{name}={MASK}" if secret and equals else part)
    return f"{path}?{'&'.join(parts)}"


class MaskSecrets(logging.Filter):
    """uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with (client, method, path and query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], masked(args[2]), *args[3:])
        return True


def install() -> None:
    """Put the filter on uvicorn's access logger, once, however the app is served."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, MaskSecrets) for f in logger.filters):
        logger.addFilter(MaskSecrets())
