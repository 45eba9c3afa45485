"""Definitions as data: lifecycles, scorecards, calendars, and their strict loader."""

from definitions.loader import Catalog, DefinitionError, Problem, load_catalog
from definitions.schema import ROLES, Calendar, CriteriaSet, EventDef, Lifecycle, RatingScale, Scorecard, StateDef

__all__ = [
    "ROLES",
    "Calendar",
    "Catalog",
    "CriteriaSet",
    "DefinitionError",
    "EventDef",
    "Lifecycle",
    "Problem",
    "RatingScale",
    "Scorecard",
    "StateDef",
    "load_catalog",
]
