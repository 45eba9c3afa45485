"""`pledgeflow simulate` at scale: a generated county's directory, and its year played through the real use cases."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, col, select

from notifications.tables import InboxEntry, Notice
from services.access import admin_actor, user_actor
from services.config import Settings
from services.container import build_container
from services.enforcement.sweep import Campaigns
from services.entrypoints.cli import main
from services.lifecycle import audit
from services.lifecycle.deadlines import campaign_stages, notice_at
from services.persistence.db import make_engine
from services.persistence.tables import (
    AppraisalRound,
    Campaign,
    Deadline,
    History,
    Org,
    Person,
    Pledge,
    RoleGrant,
    SelfEvaluation,
    Tally,
    User,
)
from services.persistence.uow import UnitOfWork
from services.rehearsal.county import County, Shape, generate
from services.rehearsal.simulate import STEP, Outcome, simulate
from services.secret_key import load_secret_key
from services.usecases import directory
from services.usecases.commands import CreateOrg, CreatePerson, CreateUser
from workflow.deadlines import Stage, first_stage

SHAPE = Shape(20, 300)
START = dt.datetime(2010, 9, 1, 8, tzinfo=ZoneInfo(Settings().timezone))
PARENT_KIND = {"committee": None, "general_branch": "committee", "branch": "general_branch"}
GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "simulate_2010.txt"


def _county(url: str, shape: Shape = SHAPE) -> tuple[Any, County]:
    c = build_container(Settings(database_url=url, scheduler=False))
    return c, generate(c, shape, 2010, START)


def test_the_generator_builds_the_requested_tree_with_accounts(tmp_path: Path) -> None:
    c, county = _county(f"sqlite:///{tmp_path}/a.db")
    try:
        with UnitOfWork(c.db, write=False) as uow:
            s = uow.session
            orgs = {o.id: o for o in s.exec(select(Org)).all()}
            people = s.exec(select(Person)).all()
            users = s.exec(select(User)).all()
            grants = s.exec(select(RoleGrant)).all()
            actors = {u.id: user_actor(s, u.id or 0) for u in users}
            campaign = s.exec(select(Campaign)).one()
    finally:
        c.db.dispose()
    assert Counter(o.kind for o in orgs.values()) == {"committee": 1, "general_branch": 2, "branch": 17}
    for org in orgs.values():
        parent = orgs.get(org.parent_id)
        assert PARENT_KIND[org.kind] == (parent.kind if parent else None)
        assert org.path == f"{parent.path if parent else '/'}{org.id}/"
    assert len({o.name for o in orgs.values()}) == len(orgs)
    assert len(people) == SHAPE.members == county.people
    assert all(orgs[p.org_id].kind == "branch" for p in people)
    assert {p.org_id for p in people} == {b.id for b in county.branches}
    by_person = {u.person_id: u for u in users if u.person_id is not None}
    assert set(by_person) == {p.id for p in people}
    secretary_grants = {(g.user_id, g.org_id) for g in grants if g.role == "secretary"}
    assert secretary_grants == {(by_person[b.secretary].id, b.id) for b in county.branches}
    assert all(p.position == "支部书记" for p in people if p.id in {b.secretary for b in county.branches})
    assert len({u.token_hash for u in users}) == len(users) == county.users
    assert all(re.fullmatch(r"[0-9a-f]{64}", u.token_hash) for u in users)
    built = [county.office, *county.supervisors, *county.members.values()]
    assert {a.user_id: a for a in built} == actors
    covered = {org for sup in county.supervisors for role, org in sup.grants if role == "supervisor" and org}
    assert covered == set(county.generals)
    assert campaign.year == 2010 and len(campaign.deadlines) == 5


def test_the_generator_is_deterministic_and_writes_what_the_directory_use_cases_write(tmp_path: Path) -> None:
    shape = Shape(7, 30, seed=7)
    first, _ = _county(f"sqlite:///{tmp_path}/a.db", shape)
    again, _ = _county(f"sqlite:///{tmp_path}/b.db", shape)
    by_hand = build_container(Settings(database_url=f"sqlite:///{tmp_path}/c.db", scheduler=False))
    try:
        rows = _directory_rows(first.db)
        assert _directory_rows(again.db) == rows
        _replay_through_use_cases(by_hand.db, rows)
        assert _directory_rows(by_hand.db) == rows
    finally:
        for c in (first, again, by_hand):
            c.db.dispose()


def _directory_rows(db: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every directory row but the token hash (random by design), in id order."""
    with db.connect() as conn:
        return {
            "org": [tuple(r) for r in conn.execute(sa.select(Org.__table__).order_by(sa.text("id")))],  # type: ignore[attr-defined]
            "person": [tuple(r) for r in conn.execute(sa.select(Person.__table__).order_by(sa.text("id")))],  # type: ignore[attr-defined]
            "user": [
                (r.id, r.name, r.person_id, r.email, r.created_at)
                for r in conn.execute(sa.select(User.__table__).order_by(sa.text("id")))  # type: ignore[attr-defined]
            ],
            "role_grant": [tuple(r) for r in conn.execute(sa.select(RoleGrant.__table__).order_by(sa.text("id")))],  # type: ignore[attr-defined]
        }


def _replay_through_use_cases(db: sa.Engine, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    admin = admin_actor()
    for _id, name, kind, parent_id, _path, *_roster in rows["org"]:  # code, public_page: as the use case leaves them
        with UnitOfWork(db) as uow:
            directory.create_org(
                uow, admin, CreateOrg.model_validate({"name": name, "kind": kind, "parent_id": parent_id})
            )
    for _id, name, org_id, status, position, *_roster in rows["person"]:
        with UnitOfWork(db) as uow:
            body = {"name": name, "org_id": org_id, "status": status, "position": position}
            directory.create_person(uow, admin, CreatePerson.model_validate(body))
    grants: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for _id, user_id, role, org_id in rows["role_grant"]:
        grants[user_id].append({"role": role, "org_id": org_id} if org_id else {"role": role})
    for user_id, name, person_id, _email, created_at in rows["user"]:
        with UnitOfWork(db) as uow:
            cmd = CreateUser.model_validate({"name": name, "person_id": person_id, "roles": grants[user_id]})
            directory.create_user(uow, admin, cmd, created_at)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outcome, Session, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('simulate')}/county.db"
    out = io.StringIO()
    outcome = simulate(2010, out, SHAPE, url)
    engine = make_engine(url)
    with Session(engine) as session:
        yield outcome, session, out.getvalue()
    engine.dispose()


def test_every_record_goes_all_the_way_through_the_use_cases(year: tuple[Outcome, Session, str]) -> None:
    outcome, s, text = year
    branches = SHAPE.branches
    assert outcome.refused == []
    assert outcome.figures["pledges"] == {"closed": SHAPE.members + branches}
    assert outcome.figures["evaluations"] == {"assessed": branches}
    assert outcome.figures["rounds"] == {"closed": branches}
    assert s.exec(select(sa.func.sum(Tally.ballots))).one() == SHAPE.members
    assert not list(audit.verify(s, load_secret_key(Settings()).derive("history")))
    events: dict[int, list[str]] = defaultdict(list)
    for h in s.exec(select(History).where(History.subject_type == "pledge").order_by(col(History.seq))).all():
        events[h.subject_id].append(h.event)
    plain = ["create", "submit", "approve", "publish", "request_appraisal", "appraise"]
    returned = ["create", "submit", "return", "submit", "approve", "publish", "request_appraisal", "appraise"]
    paths = Counter("returned" if e == returned else "plain" if e == plain else repr(e) for e in events.values())
    assert set(paths) == {"plain", "returned"} and paths["returned"] > 0
    assert sum(outcome.calls.values()) == sum(len(e) + 2 for e in events.values()) + _other_calls(branches)
    assert f"承诺书{SHAPE.members + branches:,}份：已考评{SHAPE.members + branches:,}份" in text
    assert "被拒绝0次" in text


def _other_calls(branches: int) -> int:
    """Per branch: a self-evaluation (create + 6 steps) and an appraisal round (create, open, close), ballots."""
    return branches * (7 + 3) + SHAPE.members


def test_deadlines_settle_and_late_flags_follow_the_clock(year: tuple[Outcome, Session, str]) -> None:
    _, s, _ = year
    deadlines = _deadlines(s)
    assert {d.status for ds in deadlines.values() for d in ds} <= {"met", "late"}
    assert Counter(d.status for ds in deadlines.values() for d in ds)["late"] > 0
    for ds in deadlines.values():
        for d in ds:
            assert d.settled_at is not None and d.status == ("met" if d.settled_at <= d.due_at else "late")
    for h in s.exec(select(History).where(History.event != "create")).all():
        open_and_past = [
            d for d in deadlines[(h.subject_type, h.subject_id)] if d.due_at < h.at and (d.settled_at or h.at) >= h.at
        ]
        assert h.late == bool(open_and_past), (h.subject_type, h.subject_id, h.event)


def _deadlines(s: Session) -> dict[tuple[str, int], list[Deadline]]:
    out: dict[tuple[str, int], list[Deadline]] = defaultdict(list)
    for d in s.exec(select(Deadline)).all():
        out[(d.subject_type, d.subject_id)].append(d)
    return out


def _sent(campaign: Campaign, d: Deadline, born: dt.datetime) -> Iterator[Stage]:
    """The stages whose notices a deadline made, sweep by sweep (every STEP minutes from START) as the sweep
    steps (a reminder held to working hours), while it was open."""
    stages = campaign_stages(campaign)
    index, at = first_stage(stages, d.due_at, born, campaign.notify_past_deadlines)
    at = notice_at(stages, index, at, d.due_at, campaign.timezone)
    while at is not None:
        swept = START + dt.timedelta(minutes=STEP * -(-int((at - START).total_seconds()) // (STEP * 60)))
        if d.settled_at is not None and d.settled_at <= swept:
            return
        step = Campaigns({d.year: stages}, {d.year: campaign.timezone}, swept).next_step(d.year, index, d.due_at)
        yield from step.send
        index, at = step.stage, step.at


def test_every_notice_the_calendar_implies_is_written_once(year: tuple[Outcome, Session, str]) -> None:
    """A stage's notice exists iff the deadline was created before the stage and was still open at the first
    sweep at or after its time, reminders held to working hours (sweeps run every six hours from the start)."""
    _, s, _ = year
    campaign = s.exec(select(Campaign)).one()
    created = {
        (h.subject_type, h.subject_id): h.at for h in s.exec(select(History).where(History.event == "create")).all()
    }
    expected = set()
    for d in s.exec(select(Deadline)).all():
        for stage in _sent(campaign, d, created[(d.subject_type, d.subject_id)]):
            expected.add(f"{d.subject_type}:{d.subject_id}:{d.name}:{stage.kind}:{stage.offset_days}")
    # the calendar's notices; what happened to records (kind `event`) is told besides, once per move
    deadline_kinds = ("reminder", "overdue", "escalation")
    notices = s.exec(select(Notice).where(col(Notice.kind).in_(deadline_kinds))).all()
    assert {n.key for n in notices} == expected
    assert Counter(n.kind for n in notices).keys() == {"reminder", "overdue", "escalation"}
    # a person's several reminders of a morning went to her as one digest, listing them
    digests = s.exec(select(Notice).where(Notice.kind == "digest")).all()
    listed = {(i["subject_type"], i["subject_id"], i["deadline"]) for n in digests for i in n.items or []}
    assert digests and all(len(n.recipients) == 1 and len(n.items or []) > 1 for n in digests)
    assert all(n.recipients or (n.subject_type, n.subject_id, n.deadline) in listed for n in notices)
    inbox = s.exec(
        select(sa.func.count())
        .select_from(InboxEntry)
        .join(Notice, col(Notice.id) == InboxEntry.notice_id)
        .where(col(Notice.kind).in_([*deadline_kinds, "digest"]))
    ).one()
    assert inbox == sum(len(set(n.recipients)) for n in [*notices, *digests])
    events = s.exec(select(Notice).where(Notice.kind == "event")).all()
    assert events and len({n.key for n in events}) == len(events)
    secretaries = _secretary_users(s)
    for n in notices:
        if n.kind == "overdue" and n.subject_type == "pledge":
            org_id = s.get(Pledge, n.subject_id).org_id  # type: ignore[union-attr]
            assert secretaries[org_id] in n.recipients


def _secretary_users(s: Session) -> dict[int, int]:
    return {g.org_id or 0: g.user_id for g in s.exec(select(RoleGrant).where(RoleGrant.role == "secretary")).all()}


def test_records_of_every_kind_are_written(year: tuple[Outcome, Session, str]) -> None:
    _, s, _ = year
    assert s.exec(select(sa.func.count()).select_from(SelfEvaluation)).one() == SHAPE.branches
    assert s.exec(select(sa.func.count()).select_from(AppraisalRound)).one() == SHAPE.branches


def test_the_command_plays_a_county_and_refuses_a_used_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    args = ["simulate", "--orgs", "7", "--members", "40", "--database-url", url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "规模：7个党组织（教育工委1个、党总支2个、党支部4个），党员40名" in result.output
    assert "承诺书44份：已考评44份" in result.output
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "演练需要一个空数据库" in again.output
    alone = CliRunner().invoke(main, ["simulate", "--orgs", "7"])
    assert alone.exit_code == 2 and "--orgs and --members go together" in alone.output


def test_the_default_rehearsal_prints_what_it_always_printed() -> None:
    out = io.StringIO()
    simulate(2010, out)
    assert out.getvalue() == GOLDEN.read_text(encoding="utf-8")
