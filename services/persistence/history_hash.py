"""What a history row's hash covers, and the keyed hash itself (the chains: services/lifecycle/audit.py).

Here, beside the table, because the migration that re-keyed the chains (versions/0007) computes it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(row: Mapping[str, Any], prev_hash: str | None, key: bytes) -> str:
    """The keyed hash of a history row's values (as inserted, or `History.model_dump()`)."""
    return hmac.new(key, canonical(row, prev_hash), hashlib.sha256).hexdigest()


def canonical(row: Mapping[str, Any], prev_hash: str | None) -> bytes:
    """What a row's hash covers, as bytes: its values and the previous row's hash."""
    content = [
        prev_hash or "",
        row["subject_type"],
        row["subject_id"],
        row["seq"],
        row["event"],
        row["from_state"],
        row["to_state"],
        row["actor_id"],
        row["actor_name"],
        row["actor_role"],
        _utc(row["at"]),
        row["reason"],
        row["late"],
        row["backfilled"],
        row["effective_on"].isoformat() if row["effective_on"] else None,
        row["data"],
    ]
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
