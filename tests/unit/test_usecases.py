"""The use cases called directly on an in-memory database: each of the five lifecycles from creation to its
end, the order in which refusals answer (SPEC §4), and that a refused event changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlmodel import select

from services.container import Container
from services.errors import Invalid, NotFound, PreconditionFailed
from services.persistence.tables import Org
from services.persistence.uow import UnitOfWork
from services.usecases import appraisals, demo_sites, pledges, rectifications, self_evaluations
from services.usecases.commands import (
    AddProgress,
    CastBallot,
    CreateRound,
    CreateSelfEvaluation,
    IssueRectification,
    NominateSite,
    PutScores,
)
from tests import usecases as uc
from tests.county import GOOD_ITEMS, PUBLISH, REPORT, YEAR
from tests.unit.memory import (
    AFTER_PUBLISHED,
    COMMENT,
    NOW,
    fire,
    history,
    member_pledge,
    progress,
    snapshot,
    statuses,
    view,
)
from workflow import GuardRejected, RoleForbidden, TransitionNotAllowed


def test_the_in_memory_database_keeps_what_a_unit_of_work_commits_and_nothing_else(container: Container) -> None:
    kept = uc.org(container, "延庆一中党支部")
    with UnitOfWork(container.db) as uow:
        uow.session.add(Org(name="未提交的党支部", kind="branch", path="/"))
        uow.session.flush()  # written, then rolled back on leaving without a commit
    with UnitOfWork(container.db, write=False) as uow:
        assert [o.name for o in uow.session.exec(select(Org)).all()] == [kept.name]


def test_a_members_pledge_goes_from_proposing_to_closed(container: Container, roster: uc.Roster) -> None:
    c, m1, sec = container, roster.actors["m1"], roster.actors["sec_a"]
    pid = member_pledge(c, roster)
    created = view(c, m1, "pledge", pid)
    assert (created["state"], created["version"], created["allowed_events"]) == ("proposing", 1, ["submit"])
    assert created["subject"] == {"type": "person", "id": roster.people["m1"], "name": "m1老师"}
    assert fire(c, m1, pid, "submit")["state"] == "reviewing"
    assert fire(c, sec, pid, "approve")["state"] == "publicizing"
    published = fire(c, sec, pid, "publish", data=PUBLISH)
    assert published["state"] == "practising" and published["data"]["publication"] == PUBLISH
    items = [i["id"] for i in published["items"]]
    progress(c, m1, pid, items[0])
    assert fire(c, m1, pid, "request_appraisal")["state"] == "appraising"
    uc.do(c, pledges.add_comment, sec, pid, COMMENT, NOW)
    outcomes = [{"item": items[0], "outcome": "done"}, {"item": items[1], "outcome": "partial"}]
    closed = fire(c, sec, pid, "appraise", data={"grade": "good", "outcomes": outcomes})
    assert (closed["state"], closed["version"], closed["allowed_events"]) == ("closed", 6, [])
    assert [i["outcome"] for i in closed["items"]] == ["done", "partial"] and closed["data"]["grade"] == "good"
    assert statuses(closed) == {"pledge_published": "met", "pledge_appraised": "met"}
    steps = [(h["event"], h["actor"]["role"]) for h in history(c, m1, "pledge", pid)]
    assert steps == [
        ("create", "member"),
        ("submit", "owner"),
        ("approve", "reviewer"),
        ("publish", "secretary"),
        ("request_appraisal", "owner"),
        ("appraise", "reviewer"),
    ]


def test_an_org_pledge_is_submitted_with_its_meeting_and_approved_by_a_supervisor(
    container: Container, roster: uc.Roster
) -> None:
    c, sec, sup = container, roster.actors["sec_a"], roster.actors["supervisor"]
    pid = uc.pledge(c, sec, {"year": YEAR, "org_id": roster.orgs["a"], "items": GOOD_ITEMS}, NOW)
    meeting = {"held_on": "2030-09-20", "attendees": 12}
    assert fire(c, sec, pid, "submit", data={"meeting": meeting})["state"] == "reviewing"
    with pytest.raises(RoleForbidden):
        fire(c, sec, pid, "approve")  # the level above reviews an org's pledge
    approved = fire(c, sup, pid, "approve")
    assert approved["state"] == "publicizing" and approved["data"]["meeting"] == meeting
    withdrawn = fire(c, sec, pid, "withdraw", reason="重复提交")
    assert withdrawn["state"] == "withdrawn" and set(statuses(withdrawn).values()) == {"cancelled"}


def full_scores(c: Container, kind: str, less: int = 0) -> PutScores:
    items = [{"code": it.code, "points": it.max_points - less, "method": "documents"} for it in c.scorecard.items]
    return PutScores.model_validate({"kind": kind, "items": items})


def test_a_self_evaluation_is_scored_assessed_and_ordered_to_rectify(container: Container, roster: uc.Roster) -> None:
    c, sec, office, sup = container, roster.actors["sec_a"], roster.actors["office"], roster.actors["supervisor"]
    cmd = CreateSelfEvaluation(year=YEAR, org_id=roster.orgs["a"])
    eid = uc.do(c, self_evaluations.create, c.lifecycles, sec, cmd, NOW)
    assert view(c, sec, "self_evaluation", eid)["state"] == "not_started"
    assert fire(c, sec, eid, "start", "self_evaluation")["state"] == "self_checking"
    uc.do(c, self_evaluations.put_scores, c.lifecycles, sec, eid, full_scores(c, "self"), NOW)
    report = {"report": REPORT, "meeting_held_on": "2030-11-05", "questionnaires": 40}
    submitted = fire(c, sec, eid, "submit", "self_evaluation", data=report)
    assert (submitted["state"], submitted["self_score"]) == ("submitted", 100)
    assert fire(c, office, eid, "accept", "self_evaluation")["state"] == "under_assessment"
    uc.do(c, self_evaluations.put_scores, c.lifecycles, sup, eid, full_scores(c, "assessed", less=1), NOW)
    assessed = fire(c, sup, eid, "assess", "self_evaluation")
    assert (assessed["state"], assessed["assessed_score"]) == ("assessed", 100 - len(c.scorecard.items))
    assert statuses(assessed) == {"self_evaluation_submitted": "met", "self_evaluation_assessed": "met"}

    data = {"due_date": "2030-12-20"}
    ordered = fire(c, sup, eid, "order_rectification", "self_evaluation", reason="问卷测评份数偏少", data=data)
    assert ordered["state"] == "rectifying"
    order = view(c, sec, "rectification", ordered["data"]["rectification_id"])
    assert (order["state"], order["org_id"], order["evaluation_id"]) == ("issued", roster.orgs["a"], eid)
    assert order["problems"] == "问卷测评份数偏少" and order["due_date"] == dt.date(2030, 12, 20)
    assert fire(c, sup, eid, "verify_rectification", "self_evaluation")["state"] == "assessed"


def test_an_appraisal_round_opens_takes_ballots_and_closes(container: Container, roster: uc.Roster) -> None:
    c, sec, m1 = container, roster.actors["sec_a"], roster.actors["m1"]
    rid = uc.do(c, appraisals.open_round, c.lifecycles, sec, CreateRound(year=YEAR, org_id=roster.orgs["a"]), NOW)
    assert view(c, sec, "appraisal_round", rid)["state"] == "draft"
    assert fire(c, sec, rid, "open", "appraisal_round")["state"] == "open"
    ballot = CastBallot.model_validate({"subject": {"type": "org", "id": roster.orgs["a"]}, "rating": "satisfied"})
    uc.do(c, appraisals.cast, c.catalog.rating_scale, m1, rid, ballot)
    closed = fire(c, sec, rid, "close", "appraisal_round")
    assert (closed["state"], statuses(closed)) == ("closed", {"appraisal_closed": "met"})
    with pytest.raises(TransitionNotAllowed):
        fire(c, sec, rid, "open", "appraisal_round")


def test_a_demo_site_is_nominated_evaluated_and_recommended(container: Container, roster: uc.Roster) -> None:
    c, sec, office, sup = container, roster.actors["sec_a"], roster.actors["office"], roster.actors["supervisor"]
    typicals = {"typical_formulation": "三心教育", "typical_person": "王老师", "typical_event": "送教下乡"}
    cmd = NominateSite(year=YEAR, org_id=roster.orgs["a"], **typicals)
    sid = uc.do(c, demo_sites.nominate, c.lifecycles, sec, cmd, NOW)
    nominated = view(c, sec, "demo_site", sid)
    assert nominated["state"] == "nominated" and nominated["typical_person"] == "王老师"
    evaluating = fire(c, office, sid, "evaluate", "demo_site", data={"methods": ["report", "site_visit"]})
    assert evaluating["state"] == "evaluating" and evaluating["data"]["evaluate"] == {
        "methods": ["report", "site_visit"]
    }
    assert fire(c, sup, sid, "select_for_focus", "demo_site")["state"] == "focus"
    recommended = fire(c, office, sid, "recommend", "demo_site")
    assert (recommended["state"], recommended["allowed_events"]) == ("recommended", [])


def test_a_rectification_is_reported_sent_back_reported_again_and_verified(
    container: Container, roster: uc.Roster
) -> None:
    c, sec, sup = container, roster.actors["sec_a"], roster.actors["supervisor"]
    cmd = IssueRectification(
        year=YEAR, org_id=roster.orgs["a"], problems="会议记录不全", due_date=dt.date(2030, 12, 20)
    )
    oid = uc.do(c, rectifications.issue, c.lifecycles, roster.actors["office"], cmd, NOW)
    issued = view(c, sec, "rectification", oid)
    assert issued["state"] == "issued"
    (deadline,) = issued["deadlines"]
    assert (deadline["name"], deadline["status"]) == ("rectification_reported", "pending")
    assert deadline["due_at"] == dt.datetime(2030, 12, 20, 15, 59, 59, tzinfo=dt.UTC)  # the day's end in Shanghai
    assert fire(c, sec, oid, "acknowledge", "rectification")["state"] == "acknowledged"
    assert fire(c, sec, oid, "report", "rectification", data={"report": "已补齐会议记录"})["state"] == "reported"
    assert fire(c, sup, oid, "reject_report", "rectification", reason="缺少签字")["state"] == "acknowledged"
    assert fire(c, sec, oid, "report", "rectification", data={"report": "已补签"})["data"]["report"] == {
        "report": "已补签"
    }
    verified = fire(c, sup, oid, "verify", "rectification")
    assert (verified["state"], statuses(verified)) == ("verified", {"rectification_reported": "met"})


def test_refusals_answer_in_the_order_404_412_409_403_422(container: Container, roster: uc.Roster) -> None:
    """Each step mends one more thing of a request that is wrong in every way; the first wrong thing answers."""
    c, r = container, roster
    pid = member_pledge(c, r)
    fire(c, r.actors["m1"], pid, "submit")  # reviewing, version 2: m1 owns it, sec_a reviews it
    bad_data = {"data": {"unknown": 1}}
    steps: list[tuple[type[Exception], str, str, int, dict[str, Any]]] = [
        (NotFound, "sec_b", "return", 1, bad_data),  # sec_b may not read a pledge of branch a
        (PreconditionFailed, "m1", "publish", 1, bad_data),  # version 1 is stale
        (TransitionNotAllowed, "m1", "publish", 2, bad_data),  # publish does not leave reviewing
        (RoleForbidden, "m1", "return", 2, bad_data),  # return is the reviewer's
        (Invalid, "sec_a", "return", 2, bad_data),  # return carries no data
        (GuardRejected, "sec_a", "return", 2, {}),  # and needs a reason
    ]
    for refusal, who, event, version, body in steps:
        with pytest.raises(refusal) as refused:
            fire(c, r.actors[who], pid, event, if_match=version, **body)
        assert type(refused.value) is refusal, (who, event)
    assert fire(c, r.actors["sec_a"], pid, "return", if_match=2, reason="请写明家访对象")["state"] == "proposing"


def test_a_refusal_names_what_refused(container: Container, roster: uc.Roster) -> None:
    c, r = container, roster
    pid = member_pledge(c, r)
    fire(c, r.actors["m1"], pid, "submit")
    with pytest.raises(TransitionNotAllowed) as wrong_state:
        fire(c, r.actors["sec_a"], pid, "publish")
    assert set(wrong_state.value.allowed_events) == {"return", "approve", "withdraw"}
    with pytest.raises(Invalid) as wrong_data:
        fire(c, r.actors["sec_a"], pid, "return", data={"unknown": 1})
    assert wrong_data.value.field == "data.unknown"
    with pytest.raises(GuardRejected) as no_reason:
        fire(c, r.actors["sec_a"], pid, "return")
    assert [f.name for f in no_reason.value.failures] == ["reason_given"]


def test_a_refused_event_changes_nothing(container: Container, roster: uc.Roster) -> None:
    c, r = container, roster
    sec = r.actors["sec_a"]
    pid = member_pledge(c, r)
    fire(c, r.actors["m1"], pid, "submit")
    fire(c, sec, pid, "approve")
    before = snapshot(c, r, "pledge", pid, AFTER_PUBLISHED)
    refusals: list[tuple[type[Exception], str, dict[str, Any]]] = [
        (GuardRejected, "sec_a", {"data": {"channel": "wechat"}}),
        (RoleForbidden, "m1", {"data": PUBLISH}),
        (GuardRejected, "sec_a", {}),
    ]
    for refusal, who, body in refusals:
        with pytest.raises(refusal):
            fire(c, r.actors[who], pid, "publish", now=AFTER_PUBLISHED, **body)
    assert snapshot(c, r, "pledge", pid, AFTER_PUBLISHED) == before
    assert [d.status for d in before[2]] == ["pending", "pending"]

    published = fire(c, sec, pid, "publish", now=AFTER_PUBLISHED, data=PUBLISH)  # what the refusals held back
    assert published["version"] == before[0]["version"] + 1
    assert statuses(published)["pledge_published"] == "late" and history(c, sec, "pledge", pid)[-1]["late"] is True


def test_no_publication_or_progress_is_dated_after_today_where_the_campaign_is(
    container: Container, roster: uc.Roster
) -> None:
    c, r, sec = container, roster, roster.actors["sec_a"]
    pid = member_pledge(c, r)
    fire(c, r.actors["m1"], pid, "submit")
    fire(c, sec, pid, "approve")
    evening = dt.datetime(2030, 10, 8, 17, tzinfo=dt.UTC)  # 01:00 on 9 October in Beijing
    with pytest.raises(GuardRejected) as refused:
        fire(c, sec, pid, "publish", now=evening, data=PUBLISH | {"published_on": "2030-10-10"})
    assert [(f.name, f.message) for f in refused.value.failures] == [
        ("published_on_given", "公开日期不能晚于今天（2030-10-09）")
    ]
    published = fire(c, sec, pid, "publish", now=evening, data=PUBLISH | {"published_on": "2030-10-09"})
    before = snapshot(c, r, "pledge", pid, evening)
    tomorrow = AddProgress(item=published["items"][0]["id"], note="参加集体备课8次", happened_on=dt.date(2030, 10, 10))
    with pytest.raises(Invalid) as future:
        uc.do(c, pledges.add_progress, r.actors["m1"], pid, tomorrow, evening)
    assert (future.value.field, str(future.value)) == ("happened_on", "践诺日期不能晚于今天（2030-10-09）")
    assert snapshot(c, r, "pledge", pid, evening) == before
    with UnitOfWork(c.db, write=False) as uow:
        assert pledges.progress(uow.session, pid) == []


def test_a_refused_submit_of_a_self_evaluation_changes_nothing(container: Container, roster: uc.Roster) -> None:
    c, r, sec = container, roster, roster.actors["sec_a"]
    eid = uc.do(c, self_evaluations.create, c.lifecycles, sec, CreateSelfEvaluation(year=YEAR, org_id=r.orgs["a"]), NOW)
    fire(c, sec, eid, "start", "self_evaluation")
    before = snapshot(c, r, "self_evaluation", eid, NOW)
    data = {"report": REPORT, "meeting_held_on": "2030-11-05", "questionnaires": 40}
    with pytest.raises(GuardRejected) as refused:
        fire(c, sec, eid, "submit", "self_evaluation", data=data)  # no self scores yet
    assert [f.name for f in refused.value.failures] == ["self_scores_complete"]
    assert snapshot(c, r, "self_evaluation", eid, NOW) == before
