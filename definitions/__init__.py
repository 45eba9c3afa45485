"""Definitions as data: lifecycles, scorecards, calendars, and their strict loader."""

from definitions.loader import Catalog, DefinitionError, Problem, load_catalog
from definitions.schema import ROLES, Calendar, EventDef, Lifecycle, Scorecard, StateDef

__all__ = [
    "ROLES",
    "Calendar",
    "Catalog",
    "DefinitionError",
    "EventDef",
    "Lifecycle",
    "Problem",
    "Scorecard",
    "StateDef",
    "load_catalog",
]
