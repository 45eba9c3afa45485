"""The use cases around a record's events, on an in-memory database: a pledge's items edited by id, comments
and progress records, a self-evaluation's scores, an appraisal round's ballots."""

from __future__ import annotations

from typing import Any

import pytest

from services.access import Actor
from services.container import Container
from services.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from services.usecases import appraisals, pledges, self_evaluations
from services.usecases.commands import (
    AddComment,
    CastBallot,
    CreateRound,
    CreateSelfEvaluation,
    EditItems,
    PutScores,
)
from tests import usecases as uc
from tests.county import GOOD_ITEMS, PUBLISH, YEAR
from tests.unit.memory import COMMENT, NOW, fire, history, member_pledge, progress, snapshot, view

EXTRA = {"content": "每学期开设一次公开课，请同组教师听评", "measure": "学期末前完成"}


def edit(c: Container, actor: Actor, pid: int, items: list[dict[str, Any]], if_match: int | None = None) -> None:
    uc.do(c, pledges.edit_items, c.lifecycles, actor, pid, EditItems.model_validate({"items": items}), if_match, NOW)


def items_of(c: Container, actor: Actor, pid: int) -> list[dict[str, Any]]:
    return list(view(c, actor, "pledge", pid)["items"])


def practising(c: Container, r: uc.Roster) -> int:
    pid = member_pledge(c, r)
    fire(c, r.actors["m1"], pid, "submit")
    fire(c, r.actors["sec_a"], pid, "approve")
    fire(c, r.actors["sec_a"], pid, "publish", data=PUBLISH)
    return pid


def test_an_edit_keeps_the_items_that_carry_their_id(container: Container, roster: uc.Roster) -> None:
    c, m1 = container, roster.actors["m1"]
    pid = member_pledge(c, roster)
    first, second = items_of(c, m1, pid)
    edit(c, m1, pid, [EXTRA, {**GOOD_ITEMS[1], "id": second["id"], "content": "主动联系五名学困生，每月家访一次"}])
    new, kept = items_of(c, m1, pid)
    assert kept["id"] == second["id"] and kept["content"] == "主动联系五名学困生，每月家访一次"
    assert new["id"] not in {first["id"], second["id"]} and new["content"] == EXTRA["content"]
    record = view(c, m1, "pledge", pid)
    assert record["version"] == 2 and [h["event"] for h in history(c, m1, "pledge", pid)] == ["create", "edit"]


def test_an_edit_is_refused_for_a_foreign_item_a_stale_version_and_after_proposing(
    container: Container, roster: uc.Roster
) -> None:
    c, r, m1 = container, roster, roster.actors["m1"]
    pid, other = member_pledge(c, r), member_pledge(c, r, "m2")
    foreign = items_of(c, r.actors["m2"], other)[0]["id"]
    before = snapshot(c, r, "pledge", pid, NOW)
    with pytest.raises(Invalid) as refused:
        edit(c, m1, pid, [{**EXTRA, "id": foreign}])
    assert refused.value.field == "items[0].id"
    with pytest.raises(Forbidden):
        edit(c, r.actors["supervisor"], pid, [EXTRA])  # a supervisor reads it, but does not own it
    with pytest.raises(PreconditionFailed):
        edit(c, m1, pid, [EXTRA], if_match=2)
    assert snapshot(c, r, "pledge", pid, NOW) == before
    fire(c, m1, pid, "submit")
    with pytest.raises(Conflict):
        edit(c, m1, pid, [EXTRA])


def test_amending_keeps_an_items_id_and_its_progress(container: Container, roster: uc.Roster) -> None:
    c, r, m1 = container, roster, roster.actors["m1"]
    pid = practising(c, r)
    first, second = items_of(c, m1, pid)
    done = progress(c, m1, pid, first["id"])
    items = [{**GOOD_ITEMS[0], "id": first["id"], "measure": "每周参加集体备课，每月上一节研讨课"}, EXTRA]
    amended = fire(c, m1, pid, "amend", reason="充实践诺措施", data={"items": items})
    assert amended["state"] == "reviewing"
    kept, added = amended["items"]
    assert kept["id"] == first["id"] and added["id"] not in {first["id"], second["id"]}  # ids are never reused
    assert added["content"] == EXTRA["content"]
    assert kept["measure"] == "每周参加集体备课，每月上一节研讨课"
    assert [(p.id, p.item_id) for p in uc.read(c, pledges.progress, pid)] == [(done.id, first["id"])]


def test_an_amend_that_would_drop_an_item_with_progress_keeps_everything(
    container: Container, roster: uc.Roster
) -> None:
    c, r, m1 = container, roster, roster.actors["m1"]
    pid = practising(c, r)
    first, second = items_of(c, m1, pid)
    progress(c, m1, pid, first["id"])
    before = snapshot(c, r, "pledge", pid, NOW)
    with pytest.raises(Invalid, match="已有践诺记录"):
        fire(c, m1, pid, "amend", reason="删去第一项", data={"items": [{**GOOD_ITEMS[1], "id": second["id"]}, EXTRA]})
    assert snapshot(c, r, "pledge", pid, NOW) == before
    assert before[0]["state"] == "practising" and len(uc.read(c, pledges.progress, pid)) == 1


def test_progress_is_recorded_by_the_owner_on_an_item_of_a_pledge_being_carried_out(
    container: Container, roster: uc.Roster
) -> None:
    c, r, m1 = container, roster, roster.actors["m1"]
    pid = member_pledge(c, r)
    item = items_of(c, m1, pid)[0]["id"]
    with pytest.raises(Conflict):
        progress(c, m1, pid, item)  # still proposing
    fire(c, m1, pid, "submit")
    fire(c, r.actors["sec_a"], pid, "approve")
    fire(c, r.actors["sec_a"], pid, "publish", data=PUBLISH)
    other = items_of(c, r.actors["m2"], member_pledge(c, r, "m2"))[0]["id"]
    with pytest.raises(Invalid) as foreign:
        progress(c, m1, pid, other)
    assert foreign.value.field == "item"
    with pytest.raises(NotFound):
        progress(c, r.actors["m2"], pid, item)  # m2 may not even read m1's pledge
    with pytest.raises(Forbidden):
        progress(c, r.actors["supervisor"], pid, item)
    mine = progress(c, m1, pid, item, "家访三次")
    by_secretary = progress(c, r.actors["sec_a"], pid, item, "集体备课8次")
    listed = uc.read(c, pledges.progress, pid)
    assert [(p.id, p.note, p.author_id) for p in listed] == [
        (mine.id, "家访三次", m1.user_id),
        (by_secretary.id, "集体备课8次", r.actors["sec_a"].user_id),
    ]


def test_comments_come_from_the_level_above_the_pledger(container: Container, roster: uc.Roster) -> None:
    c, r = container, roster
    sec, sup = r.actors["sec_a"], r.actors["supervisor"]
    members = member_pledge(c, r)
    branch = uc.pledge(c, sec, {"year": YEAR, "org_id": r.orgs["a"], "items": GOOD_ITEMS}, NOW)
    refusals = [
        (Forbidden, "supervisor", members),  # a member's pledge is commented on by the branch's secretary
        (Forbidden, "sec_a", branch),  # a branch's own pledge by a supervisor
        (Forbidden, "m1", members),  # nobody comments on their own
        (NotFound, "sec_b", branch),  # another branch's secretary may not even read it
    ]
    for refusal, who, pid in refusals:
        with pytest.raises(refusal):
            uc.do(c, pledges.add_comment, r.actors[who], pid, COMMENT, NOW)
    on_member = uc.do(c, pledges.add_comment, sec, members, COMMENT, NOW)
    on_branch = uc.do(
        c, pledges.add_comment, sup, branch, AddComment(achievements="a", problems="b", direction="c"), NOW
    )
    assert (on_member.author_role, on_branch.author_role) == ("secretary", "supervisor")
    listed = uc.read(c, pledges.comments, r.actors["m1"], members)
    assert [(x.id, x.achievements, x.author_id) for x in listed] == [(on_member.id, "备课认真", sec.user_id)]


def evaluation(c: Container, r: uc.Roster) -> int:
    sec = r.actors["sec_a"]
    eid = uc.do(c, self_evaluations.create, c.lifecycles, sec, CreateSelfEvaluation(year=YEAR, org_id=r.orgs["a"]), NOW)
    fire(c, sec, eid, "start", "self_evaluation")
    return int(eid)


def put(c: Container, actor: Actor, eid: int, kind: str, items: list[dict[str, Any]]) -> None:
    cmd = PutScores.model_validate({"kind": kind, "items": items})
    uc.do(c, self_evaluations.put_scores, c.lifecycles, actor, eid, cmd, NOW)


def test_scores_merge_by_item_code_and_move_the_version(container: Container, roster: uc.Roster) -> None:
    c, sec = container, roster.actors["sec_a"]
    eid = evaluation(c, roster)
    a, b, d = (it.code for it in c.scorecard.items[:3])
    put(c, sec, eid, "self", [{"code": a, "points": 3}, {"code": b, "points": 2, "note": "有记录"}])
    put(c, sec, eid, "self", [{"code": b, "points": 1}, {"code": d, "points": 2}])
    record = view(c, sec, "self_evaluation", eid)
    assert {s["code"]: (s["points"], s["note"]) for s in record["scores"]} == {a: (3, None), b: (1, None), d: (2, None)}
    assert len(record["scores"]) == 3 and record["self_score"] == 6 and record["assessed_score"] is None
    assert record["version"] == 4  # created, started, two PUTs


def test_scores_are_refused_above_an_items_maximum_out_of_turn_and_for_the_wrong_scorer(
    container: Container, roster: uc.Roster
) -> None:
    c, r, sec = container, roster, roster.actors["sec_a"]
    eid = evaluation(c, r)
    first = c.scorecard.items[0]
    before = snapshot(c, r, "self_evaluation", eid, NOW)
    with pytest.raises(Invalid) as too_many:
        put(c, sec, eid, "self", [{"code": first.code, "points": 1}, {"code": first.code, "points": 99}])
    assert too_many.value.field == "items[1].points" and str(first.max_points) in too_many.value.detail
    with pytest.raises(Invalid) as unknown:
        put(c, sec, eid, "self", [{"code": "no_such_item", "points": 1}])
    assert unknown.value.field == "items[0].code"
    with pytest.raises(Forbidden):
        put(c, r.actors["office"], eid, "self", [{"code": first.code, "points": 1}])
    with pytest.raises(Conflict):
        put(c, r.actors["supervisor"], eid, "assessed", [{"code": first.code, "points": 1}])  # not under assessment
    assert snapshot(c, r, "self_evaluation", eid, NOW) == before
    put(c, sec, eid, "self", [{"code": first.code, "points": first.max_points}])  # the maximum itself is allowed
    assert view(c, sec, "self_evaluation", eid)["self_score"] == first.max_points


def ballot(subject: dict[str, Any], rating: str = "satisfied") -> CastBallot:
    return CastBallot.model_validate({"subject": subject, "rating": rating})


def test_one_ballot_per_voter_and_subject(container: Container, roster: uc.Roster) -> None:
    c, r, sec = container, roster, roster.actors["sec_a"]
    scale = c.catalog.rating_scale
    rid = uc.do(c, appraisals.open_round, c.lifecycles, sec, CreateRound(year=YEAR, org_id=r.orgs["a"]), NOW)
    org, m2 = {"type": "org", "id": r.orgs["a"]}, {"type": "person", "id": r.people["m2"]}
    with pytest.raises(Conflict):
        uc.do(c, appraisals.cast, scale, r.actors["m1"], rid, ballot(org))  # still a draft
    fire(c, sec, rid, "open", "appraisal_round")
    uc.do(c, appraisals.cast, scale, r.actors["m1"], rid, ballot(org))
    with pytest.raises(Conflict):
        uc.do(c, appraisals.cast, scale, r.actors["m1"], rid, ballot(org, "dissatisfied"))
    uc.do(c, appraisals.cast, scale, r.actors["m1"], rid, ballot(m2, "fairly"))  # another subject
    uc.do(c, appraisals.cast, scale, r.actors["appraiser"], rid, ballot(org, "fairly"))  # another voter
    with pytest.raises(Invalid):
        uc.do(c, appraisals.cast, scale, r.actors["m2"], rid, ballot(org, "great"))
    with pytest.raises(Invalid):
        uc.do(c, appraisals.cast, scale, r.actors["m2"], rid, ballot({"type": "person", "id": r.people["mb"]}))
    with pytest.raises(NotFound):
        uc.do(c, appraisals.cast, scale, r.actors["mb"], rid, ballot(org))  # a member of branch b does not see it
    with pytest.raises(Forbidden):
        uc.do(c, appraisals.cast, scale, r.actors["office"], rid, ballot(org))  # the office reads it, but has no vote
    fire(c, sec, rid, "close", "appraisal_round")
    found = uc.read(c, appraisals.results, scale, sec, rid, False)["subjects"]
    by_subject = {(s["subject"]["type"], s["subject"]["id"]): s for s in found}
    assert by_subject[("org", r.orgs["a"])]["counts"] == {"satisfied": 1, "fairly": 1, "basic": 0, "dissatisfied": 0}
    assert by_subject[("org", r.orgs["a"])]["score"] == 8.5 and by_subject[("person", r.people["m2"])]["total"] == 1
    shown = {"subject", "total", "counts", "satisfaction_rate", "score", "below_threshold"}
    assert all(set(s) == shown for s in found)  # never who voted what
