"""Column types and table options shared by every table: aware UTC datetimes, ids never reused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

SQLITE_AUTOINCREMENT: dict[str, Any] = {"sqlite_autoincrement": True}
"""`__table_args__` of every table with an integer id: SQLite then never hands out a deleted row's id again
(without it, the newest row's id comes back after a delete — a new webhook would inherit the deliveries of the
one just deleted). PostgreSQL's sequences never go back anyway."""


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out — also on SQLite, which keeps no offset."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; pass an aware datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
