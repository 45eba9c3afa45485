"""The lifecycles the service runs, each with its kind (its hooks on the one event path)."""

from __future__ import annotations

from collections.abc import Mapping

from services.lifecycle.store import Kind
from services.usecases import appraisals, demo_sites, pledges, rectifications, self_evaluations

KINDS: Mapping[str, Kind] = {
    k.lifecycle: k for k in (pledges.KIND, self_evaluations.KIND, appraisals.KIND, demo_sites.KIND, rectifications.KIND)
}
