"""The engine alone: one shared machine, every guard evaluated, roles checked, nothing kept per record."""

from __future__ import annotations

import pytest

from definitions import load_catalog
from workflow import (
    Engines,
    GuardContext,
    GuardRejected,
    RoleForbidden,
    TransitionNotAllowed,
    UnknownEvent,
    known_guards,
)

GOOD = [{"id": 1, "content": "认真备好每一节课，提高教学质量", "measure": "每周集体备课"}]


@pytest.fixture(scope="module")
def engines() -> Engines:
    return Engines(load_catalog(known_guards=known_guards()))


def test_one_machine_per_lifecycle_without_models(engines: Engines) -> None:
    pledge = engines["pledge"]
    assert set(engines) == {"pledge", "self_evaluation", "appraisal_round", "demo_site", "rectification"}
    assert pledge.machine.models == [] and not pledge.machine.auto_transitions
    moved = pledge.fire("proposing", "submit", {"owner"}, GuardContext(record={"kind": "person", "items": GOOD}))
    assert (moved.event, moved.source, moved.dest) == ("submit", "proposing", "reviewing")
    assert pledge.machine.models == []


def test_every_failing_guard_is_reported_at_once(engines: Engines) -> None:
    ctx = GuardContext(record={"kind": "org", "items": [{"id": 1, "content": "好好干"}]})
    with pytest.raises(GuardRejected) as refused:
        engines["pledge"].fire("proposing", "submit", {"owner"}, ctx)
    names = [f.name for f in refused.value.failures]
    assert names == ["items_specific", "meeting_recorded"]
    assert all(f.message for f in refused.value.failures)


def test_an_event_from_the_wrong_state_lists_what_this_caller_may_do(engines: Engines) -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        engines["pledge"].fire("reviewing", "publish", {"reviewer"}, GuardContext(record={}))
    assert refused.value.allowed_events == ["return", "approve"]
    with pytest.raises(UnknownEvent):
        engines["pledge"].fire("reviewing", "explode", {"office"}, GuardContext(record={}))


def test_roles_are_checked_before_guards(engines: Engines) -> None:
    with pytest.raises(RoleForbidden) as refused:
        engines["pledge"].fire("reviewing", "return", {"owner", "secretary"}, GuardContext(record={}))
    assert refused.value.roles == ["reviewer"]


def test_withdraw_leaves_every_active_state_and_no_final_one(engines: Engines) -> None:
    pledge = engines["pledge"]
    ctx = GuardContext(record={}, reason="党员调离")
    for state in ("proposing", "reviewing", "publicizing", "practising", "appraising"):
        assert pledge.fire(state, "withdraw", {"office"}, ctx).dest == "withdrawn"
    for state in ("closed", "withdrawn"):
        with pytest.raises(TransitionNotAllowed):
            pledge.fire(state, "withdraw", {"office"}, ctx)


def test_appraise_checks_outcomes_and_explanations(engines: Engines) -> None:
    record = {"items": [{"id": 7}, {"id": 8}], "comment_count": 1}
    data = {"grade": "good", "outcomes": [{"item": 7, "outcome": "done"}, {"item": 8, "outcome": "objective"}]}
    with pytest.raises(GuardRejected) as refused:
        engines["pledge"].fire("appraising", "appraise", {"reviewer"}, GuardContext(record=record, data=data))
    assert [f.name for f in refused.value.failures] == ["outcomes_complete"]
    assert "第2项" in refused.value.failures[0].message
    data["outcomes"][1]["explanation"] = "学校合并"
    assert engines["pledge"].fire("appraising", "appraise", {"reviewer"}, GuardContext(record, data)).dest == "closed"


def test_amend_needs_changed_items(engines: Engines) -> None:
    ctx = GuardContext(record={"items": GOOD}, data={"items": GOOD}, reason="充实完善")
    with pytest.raises(GuardRejected) as refused:
        engines["pledge"].fire("practising", "amend", {"owner"}, ctx)
    assert [f.name for f in refused.value.failures] == ["items_changed"]


def test_allowed_events_depend_on_roles(engines: Engines) -> None:
    pledge = engines["pledge"]
    assert pledge.allowed_events("proposing", {"owner"}) == ["submit"]
    assert pledge.allowed_events("proposing", {"owner", "secretary"}) == ["submit", "withdraw"]
    assert pledge.allowed_events("closed", {"office", "owner", "reviewer", "secretary"}) == []
    assert engines["self_evaluation"].allowed_events("submitted", {"office"}) == ["return", "accept"]


def test_guards_refuse_lists_and_objects_instead_of_crashing(engines: Engines) -> None:
    odd: list[object] = [["notice_board"], {"a": 1}]
    for value in odd:
        with pytest.raises(GuardRejected) as refused:
            engines["pledge"].fire(
                "publicizing", "publish", {"secretary"}, GuardContext(record={}, data={"channel": value})
            )
        assert "channel_valid" in [f.name for f in refused.value.failures]
        ctx = GuardContext(record={"items": [], "comment_count": 1}, data={"grade": value, "ratings": {"x": value}})
        with pytest.raises(GuardRejected):
            engines["pledge"].fire("appraising", "appraise", {"reviewer"}, ctx)
        with pytest.raises(GuardRejected):
            engines["demo_site"].fire("nominated", "evaluate", {"office"}, GuardContext({}, {"methods": [value]}))
