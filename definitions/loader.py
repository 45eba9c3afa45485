"""Load the definition files and check them, naming the file and line of every problem."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from definitions.schema import ROLES, Calendar, CriteriaSet, Lifecycle, RatingScale, Scorecard

ROOT = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.message}"


class DefinitionError(Exception):
    """One or more definition files are invalid."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Catalog:
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)
    scorecards: dict[str, Scorecard] = field(default_factory=dict)
    calendars: dict[int, Calendar] = field(default_factory=dict)
    criteria: dict[str, CriteriaSet] = field(default_factory=dict)
    ratings: RatingScale | None = None
    guards: dict[str, str] = field(default_factory=dict)
    """The declared guards: name → what it checks (definitions/guards.yaml)."""

    @property
    def rating_scale(self) -> RatingScale:
        assert self.ratings is not None, "definitions/appraisal/ratings.yaml is missing"
        return self.ratings


def _line_of(node: yaml.Node | None, path: Iterable[Any]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to its line."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _duplicate_keys(node: yaml.Node | None) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                found.append((key.start_mark.line + 1, str(key.value)))
            seen.add(key.value)
            found += _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicate_keys(item)
    return found


def _parse(path: Path, model: type[M]) -> tuple[M | None, yaml.Node | None, list[Problem]]:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, None, [Problem(path, mark.line + 1 if mark else None, f"YAML: {exc}")]
    duplicates = [Problem(path, line, f"duplicate key '{key}'") for line, key in _duplicate_keys(node)]
    if duplicates:  # YAML itself would silently keep the last value
        return None, node, duplicates
    try:
        return model.model_validate(raw), node, []
    except ValidationError as exc:
        problems = [
            Problem(path, _line_of(node, err["loc"]), f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
            for err in exc.errors()
        ]
        return None, node, problems


def check_lifecycle(
    lc: Lifecycle, path: Path, node: yaml.Node | None, known_guards: frozenset[str] | None
) -> list[Problem]:
    """Semantic checks the schema cannot express."""
    problems: list[Problem] = []

    def at(*loc: Any) -> int | None:
        return _line_of(node, loc)

    codes = [s.code for s in lc.states]
    for i, code in enumerate(codes):
        if codes.index(code) != i:
            problems.append(Problem(path, at("states", i), f"duplicate state '{code}'"))
    if lc.initial not in codes:
        problems.append(Problem(path, at("initial"), f"initial state '{lc.initial}' is not a state"))
    seen: set[str] = set()
    for i, ev in enumerate(lc.events):
        if ev.name in seen:
            problems.append(Problem(path, at("events", i, "name"), f"duplicate event '{ev.name}'"))
        seen.add(ev.name)
        for s in [*([] if ev.source == "*" else ev.source), ev.dest]:
            if s not in codes:
                problems.append(Problem(path, at("events", i), f"event '{ev.name}' names unknown state '{s}'"))
        for j, role in enumerate(ev.roles):
            if role not in ROLES:
                problems.append(Problem(path, at("events", i, "roles", j), f"unknown role '{role}'"))
        for j, guard in enumerate(ev.guards):
            if known_guards is not None and guard not in known_guards:
                problems.append(Problem(path, at("events", i, "guards", j), f"unknown guard '{guard}'"))
    for i, st in enumerate(lc.states):
        if st.actor is not None and st.actor not in ROLES:
            problems.append(Problem(path, at("states", i, "actor"), f"unknown role '{st.actor}'"))
    for i, rule in enumerate(lc.deadlines):
        for s in rule.reached_in:
            if s not in codes:
                problems.append(Problem(path, at("deadlines", i), f"deadline '{rule.name}' names unknown state '{s}'"))
    if problems:
        return problems
    return problems + _check_graph(lc, path, at)


def _check_graph(lc: Lifecycle, path: Path, at: Any) -> list[Problem]:
    problems: list[Problem] = []
    edges = {s.code: {e.dest for e in lc.events if s.code in lc.sources(e)} for s in lc.states}
    reached, frontier = {lc.initial}, [lc.initial]
    while frontier:
        for nxt in edges[frontier.pop()] - reached:
            reached.add(nxt)
            frontier.append(nxt)
    for i, st in enumerate(lc.states):
        if st.code not in reached:
            problems.append(Problem(path, at("states", i), f"state '{st.code}' is unreachable from '{lc.initial}'"))
        if not st.final and not (edges[st.code] - {st.code}):
            problems.append(Problem(path, at("states", i), f"non-final state '{st.code}' has no exit"))
        if st.final and edges[st.code]:
            problems.append(Problem(path, at("states", i), f"final state '{st.code}' has an exit"))
    return problems


DECLARED: frozenset[str] = frozenset({"declared"})
"""`known_guards`' default: the guards declared in definitions/guards.yaml."""


def declared_guards() -> dict[str, str]:
    """The guards a lifecycle may name (definitions/guards.yaml): name → what it checks, in Chinese."""
    found = yaml.safe_load((ROOT / "guards.yaml").read_text(encoding="utf-8"))
    return {str(name): str(label) for name, label in found.items()}


def load_catalog(root: Path = ROOT, known_guards: frozenset[str] | None = DECLARED) -> Catalog:
    """Load every definition under `root`; raise DefinitionError listing all problems. Guard names
    are checked against the declared guards unless `known_guards` names others (None: unchecked)."""
    catalog, problems = Catalog(guards=declared_guards()), []
    if known_guards is DECLARED:
        known_guards = frozenset(catalog.guards)
    for path in sorted(p for p in root.glob("*.yaml") if p.name != "guards.yaml"):
        lc, node, found = _parse(path, Lifecycle)
        if lc is not None:
            found = check_lifecycle(lc, path, node, known_guards)
            if lc.name in catalog.lifecycles:
                found.append(Problem(path, _line_of(node, ["name"]), f"duplicate lifecycle '{lc.name}'"))
            catalog.lifecycles[lc.name] = lc
        problems += found
    for path in sorted((root / "scorecards").glob("*.yaml")):
        sc, node, found = _parse(path, Scorecard)
        if sc is not None:
            found = check_scorecard(sc, path, node)
            catalog.scorecards[sc.name] = sc
        problems += found
    for path in sorted((root / "calendars").glob("*.yaml")):
        cal, node, found = _parse(path, Calendar)
        if cal is not None:
            catalog.calendars[cal.year] = cal
            if cal.closing is not None and cal.closing not in cal.deadlines:
                found.append(Problem(path, _line_of(node, ["closing"]), f"closing names no deadline: '{cal.closing}'"))
        problems += found
    for path in sorted((root / "criteria").glob("*.yaml")):
        crit, _, found = _parse(path, CriteriaSet)
        if crit is not None:
            catalog.criteria[crit.name] = crit
        problems += found
    ratings_path = root / "appraisal" / "ratings.yaml"
    if ratings_path.exists():
        catalog.ratings, _, found = _parse(ratings_path, RatingScale)
        problems += found
    if problems:
        raise DefinitionError(problems)
    return catalog


def check_scorecard(sc: Scorecard, path: Path, node: yaml.Node | None) -> list[Problem]:
    problems = []
    if sum(a.max_points for a in sc.areas) != sc.total:
        problems.append(
            Problem(
                path,
                _line_of(node, ["areas"]),
                f"areas add up to {sum(a.max_points for a in sc.areas)}, not {sc.total}",
            )
        )
    for i, area in enumerate(sc.areas):
        if sum(it.max_points for it in area.items) != area.max_points:
            problems.append(
                Problem(
                    path, _line_of(node, ["areas", i]), f"items of '{area.code}' do not add up to {area.max_points}"
                )
            )
    codes = [it.code for a in sc.areas for it in a.items]
    if len(codes) != len(set(codes)):
        problems.append(Problem(path, _line_of(node, ["areas"]), "duplicate item code"))
    if sc.pass_band not in {b.code for b in sc.bands}:
        problems.append(Problem(path, _line_of(node, ["pass_band"]), f"unknown band '{sc.pass_band}'"))
    return problems
