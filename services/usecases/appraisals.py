"""党员群众评议: who may vote, one ballot per voter and subject, and results that reveal no voter."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from definitions import RatingScale
from services.access import Actor
from services.errors import Conflict, Forbidden, Invalid
from services.lifecycle import store
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import Kind, OrgRow
from services.persistence.tables import AppraisalRound, Org, Person, Tally, Voted
from services.persistence.uow import UnitOfWork
from services.usecases import org_records
from services.usecases.commands import CastBallot, CreateRound

LIFECYCLE = "appraisal_round"


KIND = Kind(
    lifecycle=LIFECYCLE,
    label_zh="党员群众评议",
    table=AppraisalRound.__table__,  # type: ignore[attr-defined]
    voters_read=True,
    tells={"open": "voters"},
)
CREATORS = frozenset({"secretary", "office"})


def open_round(uow: UnitOfWork, lc: Lifecycles, actor: Actor, cmd: CreateRound, now: dt.datetime) -> int:
    round_id = org_records.start(uow.session, lc, LIFECYCLE, CREATORS, actor, cmd.model_dump(), now)
    uow.commit()
    return round_id


def voter_of(actor: Actor) -> str:
    """Who a ballot counts as: the person, whichever of their accounts votes; else the account."""
    return f"person:{actor.person_id}" if actor.person_id is not None else f"user:{actor.user_id}"


def voted(session: Session, actor: Actor, round_ids: Sequence[int]) -> set[tuple[int, str, int]]:
    """The (round, subject type, subject id) the actor has already voted on, in these rounds."""
    q = sa.select(col(Voted.round_id), col(Voted.subject_type), col(Voted.subject_id)).where(
        col(Voted.voter) == voter_of(actor), col(Voted.round_id).in_(round_ids)
    )
    return {(int(r), str(t), int(i)) for r, t, i in session.execute(q).all()}


def cast(uow: UnitOfWork, scale: RatingScale, actor: Actor, round_id: int, cmd: CastBallot) -> None:
    """One ballot: the voter is marked as having voted on the subject (`Voted`) and the rating's count
    moves by one (`Tally`), two writes that share nothing but the subject. A person votes once per
    subject whichever of their accounts they use."""
    s, subject, rating = uow.session, cmd.subject.model_dump(), cmd.rating
    loaded = store.load(s, KIND, actor, round_id)
    if actor.user_id is None or not actor.votes_in(loaded.org):
        raise Forbidden("只有本组织的党员和评议人可以投票")
    if loaded.record.state != "open":
        raise Conflict("评议未在进行中，不能投票")
    if rating not in {r.code for r in scale.ratings}:
        options = "、".join(f"{r.code}（{r.label_zh}）" for r in scale.ratings)
        raise Invalid("rating", f"评价应为：{options}")
    _check_subject(s, loaded.org, subject)
    if subject["type"] == "person" and subject["id"] == actor.person_id:
        raise Forbidden("不能评议本人")
    where = {"round_id": round_id, "subject_type": subject["type"], "subject_id": subject["id"]}
    s.add(Voted(**where, voter=voter_of(actor)))
    try:
        s.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict("您已对该对象投过票，每人每个对象只能投一票") from exc
    s.execute(_count_one(s.get_bind().dialect.name, where | {"rating": rating}))
    uow.commit()


def _count_one(dialect: str, key: dict[str, Any]) -> sa.Executable:
    """`tally.ballots + 1` for the key, the row made by the first ballot (an upsert: no race between firsts)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Tally.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(**key, ballots=1)
    return statement.on_conflict_do_update(
        index_elements=[table.c.round_id, table.c.subject_type, table.c.subject_id, table.c.rating],
        set_={"ballots": table.c.ballots + 1},
    )


def _check_subject(session: Session, org: OrgRow, subject: dict[str, Any]) -> None:
    if subject["type"] == "org":
        if subject["id"] != org.id:
            raise Invalid("subject.id", "只能评议本次评议所属的党组织")
        return
    person = session.get(Person, subject["id"])
    person_org = session.get(Org, person.org_id) if person else None
    if person_org is None or not person_org.path.startswith(org.path):
        raise Invalid("subject.id", f"人员 {subject['id']} 不属于本党组织")


def subject_results(
    session: Session,
    scale: RatingScale,
    round_id: int,
    basic_counts_as_satisfied: bool,
    min_ballots: int,
    totals_only: bool = False,
) -> list[dict[str, Any]]:
    """Per subject: counts, satisfaction rate and weighted score — never who voted what; a subject with
    fewer ballots than the campaign's `min_ballots` shows its total alone (a few ballots would tell)."""
    q = select(Tally.subject_type, Tally.subject_id, Tally.rating, Tally.ballots).where(Tally.round_id == round_id)
    counts: dict[tuple[str, int], Counter[str]] = {}
    for subject_type, subject_id, rating, n in session.exec(q).all():
        counts.setdefault((subject_type, subject_id), Counter())[rating] = n
    return [
        _result(session, scale, key, c, basic_counts_as_satisfied, totals_only or sum(c.values()) < min_ballots)
        for key, c in sorted(counts.items())
    ]


def _result(
    session: Session, scale: RatingScale, key: tuple[str, int], c: Counter[str], basic: bool, totals_only: bool
) -> dict[str, Any]:
    subject_type, subject_id = key
    name: Org | Person | None = (
        session.get(Org, subject_id) if subject_type == "org" else session.get(Person, subject_id)
    )
    total = sum(c.values())
    out: dict[str, Any] = {
        "subject": {"type": subject_type, "id": subject_id, "name": name.name if name else ""},
        "total": total,
    }
    if totals_only:
        return out
    satisfied = {r.code for r in scale.ratings if r.satisfied or (basic and r.code == scale.basic_code)}
    weights = {r.code: r.weight for r in scale.ratings}
    rate = sum(n for code, n in c.items() if code in satisfied) / total
    return out | {
        "counts": {r.code: c.get(r.code, 0) for r in scale.ratings},
        "satisfaction_rate": round(rate, 4),
        "score": round(sum(weights[code] * n for code, n in c.items()) / total, 2),
        "below_threshold": rate < scale.threshold,
    }


def results(session: Session, scale: RatingScale, actor: Actor, round_id: int, basic: bool) -> dict[str, Any]:
    loaded = store.load(session, KIND, actor, round_id)
    if not (actor.reads_everything or actor.secretary_of(loaded.org)):
        raise Forbidden("评议结果只对本组织书记、教育工委领导和活动办公室开放")
    totals_only = loaded.record.state != "closed"
    return {
        "round_id": round_id,
        "state": loaded.record.state,
        "threshold": scale.threshold,
        "basic_counts_as_satisfied": basic,
        "totals_only": totals_only,
        "subjects": subject_results(session, scale, round_id, basic, loaded.campaign.min_ballots, totals_only),
    }
