"""Answer bodies of the read-only definitions: the lifecycles and the 100-point scorecard."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class LifecycleSummary(BaseModel):
    name: str
    label_zh: str
    label_en: str


class StateOut(BaseModel):
    code: str
    label_zh: str
    label_en: str
    final: bool
    actor: str | None


class EventOut(BaseModel):
    name: str
    label_zh: str
    label_en: str
    source: list[str] | Literal["*"]
    dest: str
    roles: list[str]
    guards: list[str]


class DeadlineRuleOut(BaseModel):
    name: str
    label_zh: str
    reached_in: list[str]


class LifecycleOut(LifecycleSummary):
    initial: str
    states: list[StateOut]
    events: list[EventOut]
    deadlines: list[DeadlineRuleOut]


class ScoreItemOut(BaseModel):
    code: str
    label_zh: str
    max_points: int
    criterion: str
    deduction: str


class ScoreAreaOut(BaseModel):
    code: str
    label_zh: str
    max_points: int
    items: list[ScoreItemOut]


class BandRuleOut(BaseModel):
    code: str
    label_zh: str
    min_points: float


class ScorecardOut(BaseModel):
    name: str
    label_zh: str
    note_zh: str
    areas: list[ScoreAreaOut]
    total: int
    bands: list[BandRuleOut]
    pass_band: str
    methods: dict[str, str]
