"""Strict pydantic schema of the definition files: lifecycles, scorecards and calendars."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from definitions.vocabulary import CalendarPolicy, Role

ROLES: frozenset[str] = frozenset(Role)
"""Roles an event may name (definitions/vocabulary.py)."""

ANY_ACTIVE = "*"


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StateDef(Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    final: bool = False
    actor: str | None = None
    """Who must act next while a record is in this state (a role name)."""


class EventDef(Strict):
    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    source: list[str] | Literal["*"]
    """The states the event leaves from; `*` means every non-final state."""
    dest: str
    roles: list[str] = Field(min_length=1)
    guards: list[str] = []


class DeadlineRule(Strict):
    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_zh: str = Field(min_length=1)
    reached_in: list[str] = Field(min_length=1)
    """Entering any of these states settles the deadline."""


class Lifecycle(Strict):
    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    initial: str
    states: list[StateDef] = Field(min_length=1)
    events: list[EventDef] = Field(min_length=1)
    deadlines: list[DeadlineRule] = []

    def state(self, code: str) -> StateDef:
        return self._states[code]

    def event(self, name: str) -> EventDef | None:
        return self._events.get(name)

    # Lookups by name, built on first use (the sweep asks once per notice). cached_property writes
    # the instance __dict__ directly, so it works on a frozen model and is neither field nor extra.
    @cached_property
    def _states(self) -> dict[str, StateDef]:
        return {s.code: s for s in reversed(self.states)}  # reversed: the first of a name wins, as a scan

    @cached_property
    def _events(self) -> dict[str, EventDef]:
        return {e.name: e for e in reversed(self.events)}

    def sources(self, event: EventDef) -> list[str]:
        if event.source == ANY_ACTIVE:
            return [s.code for s in self.states if not s.final]
        return list(event.source)


class ScoreItem(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    max_points: int = Field(gt=0)
    criterion: str = Field(min_length=1)
    """What is checked, in the notice's words."""
    deduction: str = Field(min_length=1)
    """How points are taken off."""


class ScoreArea(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    max_points: int = Field(gt=0)
    items: list[ScoreItem] = Field(min_length=2, max_length=5)


class Band(Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_zh: str = Field(min_length=1)
    min_points: float = Field(ge=0)


class Scorecard(Strict):
    name: str
    label_zh: str
    note_zh: str = ""
    total: int = Field(gt=0)
    pass_band: str
    """Code of the lowest band that passes; below it a rectification is proposed."""
    areas: list[ScoreArea] = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)
    methods: dict[str, str] = Field(min_length=1)
    """Assessment methods: code → Chinese label."""

    def band(self, total: float) -> Band:
        """The highest band whose minimum `total` reaches."""
        return max((b for b in self.bands if total >= b.min_points), key=lambda b: b.min_points)

    @property
    def pass_mark(self) -> float:
        return next(b.min_points for b in self.bands if b.code == self.pass_band)

    @property
    def items(self) -> list[ScoreItem]:
        return [it for a in self.areas for it in a.items]


class Calendar(Strict):
    year: int = Field(ge=2000, le=2100)
    timezone: str | None = None
    """The campaign's time zone; unset, the service's setting (PLEDGEFLOW_TIMEZONE)."""
    deadlines: dict[str, dt.date | dt.datetime]
    policy: CalendarPolicy = CalendarPolicy.fixed
    """Where a deadline on a rest day goes; a campaign's `calendar.policy` overrides it."""
    closing: str | None = None
    """The deadline that closes the year: no other may fall after it."""
    reminder_offsets_days: list[int] = [7, 1]
    escalation_after_days: int = 1


class Criterion(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    description: str = Field(min_length=1)


class CriteriaSet(Strict):
    """五个好 (branches) or 五带头 (members): what an appraisal may rate, criterion by criterion."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    applies_to: Literal["org", "person"]
    levels: dict[str, str] = Field(min_length=2)
    """Rating level code → Chinese label."""
    criteria: list[Criterion] = Field(min_length=1)


class Rating(Strict):
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_zh: str = Field(min_length=1)
    weight: float = Field(ge=0)
    satisfied: bool
    """Counts towards the satisfaction rate (满意、比较满意)."""


class RatingScale(Strict):
    """党员群众评议: the ballot's ratings, their weights and the satisfaction threshold."""

    ratings: list[Rating] = Field(min_length=2)
    threshold: float = Field(gt=0, le=1)
    basic_code: str = "basic"
    """The rating a setting may add to the satisfied ones (基本满意)."""
