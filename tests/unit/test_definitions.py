"""The shipped definitions match SPEC §2 and the notice; broken definitions are refused with file and line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from definitions import Catalog, DefinitionError, Lifecycle, Problem, load_catalog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "definitions"
MARKER = "expect-problem"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(known_guards=None)


def transitions_of(lc: Lifecycle) -> set[tuple[str, str, str]]:
    """Every (event, source, dest) triple, with `*` expanded to the non-final states."""
    return {(ev.name, src, ev.dest) for ev in lc.events for src in lc.sources(ev)}


def roles_of(lc: Lifecycle) -> dict[str, set[str]]:
    return {ev.name: set(ev.roles) for ev in lc.events}


# --- the shipped catalog ---------------------------------------------------------------------------


def test_shipped_catalog_loads_with_its_lifecycles_scorecard_and_calendar(catalog: Catalog) -> None:
    assert {"pledge", "self_evaluation"} <= set(catalog.lifecycles)
    assert "default" in catalog.scorecards
    assert 2010 in catalog.calendars


def test_pledge_states_match_spec_2_1(catalog: Catalog) -> None:
    pledge = catalog.lifecycles["pledge"]
    assert pledge.initial == "proposing"
    assert [(s.code, s.label_zh, s.final) for s in pledge.states] == [
        ("proposing", "提出承诺", False),
        ("reviewing", "审查承诺", False),
        ("publicizing", "公开承诺", False),
        ("practising", "践行承诺", False),
        ("appraising", "考评承诺", False),
        ("closed", "已考评", True),
        ("withdrawn", "已撤回", True),
    ]
    assert all(s.label_en for s in pledge.states)


def test_pledge_events_match_spec_2_1(catalog: Catalog) -> None:
    pledge = catalog.lifecycles["pledge"]
    names = [ev.name for ev in pledge.events]
    assert sorted(names) == sorted(
        ["submit", "return", "approve", "publish", "amend", "request_appraisal", "appraise", "withdraw"]
    )
    non_final = ["proposing", "reviewing", "publicizing", "practising", "appraising"]
    assert transitions_of(pledge) == {
        ("submit", "proposing", "reviewing"),
        ("return", "reviewing", "proposing"),
        ("approve", "reviewing", "publicizing"),
        ("publish", "publicizing", "practising"),
        ("amend", "practising", "reviewing"),
        ("request_appraisal", "practising", "appraising"),
        ("appraise", "appraising", "closed"),
        *{("withdraw", s, "withdrawn") for s in non_final},
    }
    assert roles_of(pledge) == {
        "submit": {"owner"},
        "return": {"reviewer"},
        "approve": {"reviewer"},
        "publish": {"secretary", "office"},
        "amend": {"owner"},
        "request_appraisal": {"owner", "secretary"},
        "appraise": {"reviewer"},
        "withdraw": {"secretary", "office"},
    }


def test_pledge_who_acts_next_and_deadlines_match_spec_2_1(catalog: Catalog) -> None:
    pledge = catalog.lifecycles["pledge"]
    assert {s.code: s.actor for s in pledge.states if not s.final} == {
        "proposing": "owner",
        "reviewing": "reviewer",
        "publicizing": "secretary",
        "practising": "owner",
        "appraising": "reviewer",
    }
    rules = {d.name: set(d.reached_in) for d in pledge.deadlines}
    # "the first entry into the target state (or a later one) settles a deadline"
    assert rules == {
        "pledge_published": {"practising", "appraising", "closed"},
        "pledge_appraised": {"closed"},
    }


def test_self_evaluation_matches_spec_2_2(catalog: Catalog) -> None:
    se = catalog.lifecycles["self_evaluation"]
    assert se.initial == "not_started"
    assert [(s.code, s.label_zh) for s in se.states] == [
        ("not_started", "未开始"),
        ("self_checking", "自查中"),
        ("submitted", "已上报"),
        ("under_assessment", "考核中"),
        ("assessed", "已评定"),
        ("rectifying", "限期整改"),
    ]
    # `assessed` is final only unless a rectification is ordered, so it must keep its exit.
    assert not se.state("assessed").final
    assert transitions_of(se) == {
        ("start", "not_started", "self_checking"),
        ("submit", "self_checking", "submitted"),
        ("return", "submitted", "self_checking"),
        ("return", "under_assessment", "self_checking"),
        ("accept", "submitted", "under_assessment"),
        ("assess", "under_assessment", "assessed"),
        ("order_rectification", "assessed", "rectifying"),
        ("verify_rectification", "rectifying", "assessed"),
    }
    assert roles_of(se) == {
        "start": {"secretary"},
        "submit": {"secretary"},
        "return": {"office"},
        "accept": {"office"},
        "assess": {"office", "supervisor"},
        "order_rectification": {"supervisor", "office"},
        "verify_rectification": {"supervisor", "office"},
    }
    assert {d.name for d in se.deadlines} == {"self_evaluation_submitted", "self_evaluation_assessed"}


def test_calendar_2010_has_the_five_deadlines_of_the_notice(catalog: Catalog) -> None:
    cal = catalog.calendars[2010]
    assert cal.timezone == "Asia/Shanghai"
    assert cal.deadlines == {
        "pledge_published": dt.date(2010, 10, 31),  # "10月份完成"
        "self_evaluation_submitted": dt.date(2010, 11, 20),  # "11月中旬", the end of 中旬
        "pledge_appraised": dt.date(2010, 12, 31),  # "年底前"
        "self_evaluation_assessed": dt.date(2010, 12, 31),
        "appraisal_closed": dt.date(2010, 12, 31),
    }
    assert cal.reminder_offsets_days == [7, 1]


def test_every_lifecycle_deadline_has_a_date_in_2010(catalog: Catalog) -> None:
    # A rectification's deadline is its own due date, set by whoever issues it.
    named = {d.name for lc in catalog.lifecycles.values() for d in lc.deadlines} - {"rectification_reported"}
    assert named <= set(catalog.calendars[2010].deadlines)


def test_scorecard_has_the_seven_areas_of_the_notice(catalog: Catalog) -> None:
    sc = catalog.scorecards["default"]
    assert sc.name == "default"
    assert sc.label_zh == "考核标准（百分制）"
    assert sc.total == 100
    assert [(a.code, a.label_zh, a.max_points) for a in sc.areas] == [
        ("organization_leadership", "组织领导", 15),
        ("organization_building", "组织建设", 15),
        ("conduct_year", "党员作风建设年", 15),
        ("party_mass", "党群共建", 10),
        ("eco_civilization", "群众性生态文明创建", 10),
        ("public_pledge", "推动公开承诺", 20),
        ("actual_effect", "实际效果", 15),
    ]
    assert sum(a.max_points for a in sc.areas) == 100


def test_scorecard_items_are_concrete_and_add_up(catalog: Catalog) -> None:
    sc = catalog.scorecards["default"]
    codes: list[str] = []
    for area in sc.areas:
        assert 2 <= len(area.items) <= 5, area.code
        assert sum(it.max_points for it in area.items) == area.max_points, area.code
        for it in area.items:
            assert isinstance(it.max_points, int) and it.max_points > 0
            assert CJK.search(it.label_zh), it.code
            assert CJK.search(it.criterion), it.code
            assert CJK.search(it.deduction) and "扣" in it.deduction, it.code
            codes.append(it.code)
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in codes)


def test_scorecard_public_pledge_area_covers_the_notice(catalog: Catalog) -> None:
    """一(五): five stages in time, 领导点评, 党员群众评议 must each be checked somewhere."""
    area = next(a for a in catalog.scorecards["default"].areas if a.code == "public_pledge")
    text = "".join(it.criterion for it in area.items)
    stages = ["提出承诺", "审查承诺", "公开承诺", "践行承诺", "考评承诺"]
    for phrase in [*stages, "10月份", "年底前", "点评", "评议"]:
        assert phrase in text, phrase


def test_scorecard_bands_methods_and_note(catalog: Catalog) -> None:
    sc = catalog.scorecards["default"]
    assert [(b.code, b.label_zh, b.min_points) for b in sc.bands] == [
        ("excellent", "优秀", 90),
        ("good", "良好", 80),
        ("pass", "合格", 60),
        ("fail", "不合格", 0),
    ]
    assert sc.pass_band == "pass"
    assert sc.methods == {
        "report": "听汇报",
        "documents": "查资料",
        "site_visit": "实地查看",
        "interviews": "座谈走访",
        "democratic_poll": "民主测评",
    }
    # The official weights (附件1) are lost: the sheet must say so rather than pass for official.
    assert "附件1" in sc.note_zh
    assert "默认" in sc.note_zh


def test_shipped_guards_are_checked_when_a_guard_registry_is_given(catalog: Catalog) -> None:
    used = {g for lc in catalog.lifecycles.values() for ev in lc.events for g in ev.guards}
    assert "reason_given" in used
    load_catalog(known_guards=frozenset(used))  # all known: loads
    with pytest.raises(DefinitionError) as info:
        load_catalog(known_guards=frozenset(used - {"reason_given"}))
    problems = info.value.problems
    assert problems
    assert all("unknown guard 'reason_given'" in p.message for p in problems)
    assert {p.file.name for p in problems} == {
        "pledge.yaml",
        "self_evaluation.yaml",
        "demo_site.yaml",
        "rectification.yaml",
    }
    assert all(p.line for p in problems)


# --- broken definitions ----------------------------------------------------------------------------

# case directory → (file holding the problem, relative to the case; words the problem must say)
BROKEN: dict[str, tuple[str, list[str]]] = {
    "unknown_guard": ("lifecycle.yaml", ["unknown guard", "moon_is_full"]),
    "unknown_role": ("lifecycle.yaml", ["unknown role", "janitor"]),
    "unreachable_state": ("lifecycle.yaml", ["archived", "unreachable"]),
    "dead_end_state": ("lifecycle.yaml", ["non-final", "stuck", "no exit"]),
    "duplicate_event": ("lifecycle.yaml", ["duplicate event", "submit"]),
    "extra_field": ("lifecycle.yaml", ["timeout_days", "Extra inputs are not permitted"]),
    "duplicate_key": ("lifecycle.yaml", ["duplicate key", "dest"]),
    "scorecard_items_mismatch": ("scorecards/broken.yaml", ["second", "do not add up", "10"]),
}
KNOWN_GUARDS = frozenset({"has_items"})


def marked_line(path: Path) -> int:
    """The 1-based line of the fixture that carries the `expect-problem` marker."""
    lines = [i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if MARKER in text]
    assert len(lines) == 1, f"{path} must mark exactly one line with {MARKER!r}"
    return lines[0]


def test_every_fixture_case_is_tested() -> None:
    cases = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert cases == set(BROKEN)
    for case in cases:
        assert list((FIXTURES / case).glob("*.yaml")), f"{case} has no lifecycle at its top"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_definition_is_refused_with_file_line_and_problem(case: str) -> None:
    relative, words = BROKEN[case]
    root = FIXTURES / case
    broken = root / relative

    with pytest.raises(DefinitionError) as info:
        load_catalog(root, known_guards=KNOWN_GUARDS)

    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    [problem] = problems
    assert isinstance(problem, Problem)
    assert problem.file.resolve() == broken.resolve()
    assert problem.line == marked_line(broken)
    for word in words:
        assert word in problem.message, (word, problem.message)
    # The rendered error reads as "file:line: message".
    assert f"{broken}:{problem.line}: " in str(info.value)


def test_guards_are_only_checked_against_a_given_registry() -> None:
    catalog = load_catalog(FIXTURES / "unknown_guard", known_guards=None)
    assert catalog.lifecycles["broken_guard"].event("submit") is not None
    with pytest.raises(DefinitionError):
        load_catalog(FIXTURES / "unknown_guard", known_guards=KNOWN_GUARDS)
