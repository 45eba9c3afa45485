"""Branch self-evaluation use cases: create, read, scores on the 100-point sheet, fire events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions import Scorecard
from services.access import Actor, evaluation_roles, load_org, visible
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.lifecycle import records
from services.lifecycle.calendar import campaign_for
from services.persistence.tables import Org, ScoreEntry, SelfEvaluation
from services.persistence.uow import UnitOfWork
from services.usecases import rectifications
from workflow import Engine, Transitioned

LIFECYCLE = "self_evaluation"
SCORE_STATES = {"self": "self_checking", "assessed": "under_assessment"}


@dataclass(frozen=True)
class Loaded:
    evaluation: SelfEvaluation
    org: Org
    roles: set[str]


def load(session: Session, actor: Actor, evaluation_id: int) -> Loaded:
    ev = session.get(SelfEvaluation, evaluation_id)
    org = load_org(session, ev.org_id) if ev else None
    if ev is None or org is None or not (actor.reads_everything or actor.secretary_of(org)):
        raise NotFound(f"自查总结评估报告 {evaluation_id} 不存在")
    return Loaded(ev, org, evaluation_roles(actor, org))


def listing(
    session: Session,
    engine: Engine,
    scorecard: Scorecard,
    actor: Actor,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """A page of the self-evaluations the caller may read, each with its org from the same query."""
    q = select(SelfEvaluation, Org).join(Org, col(Org.id) == SelfEvaluation.org_id).where(visible(actor, Org))
    for name, value in filters.items():
        if value is not None:
            q = q.where(getattr(SelfEvaluation, name) == value)
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(col(SelfEvaluation.id)).limit(limit).offset(offset)).all()
    items = [view(session, engine, scorecard, Loaded(ev, org, evaluation_roles(actor, org)), now) for ev, org in rows]
    return {"items": items, "total": total}


def band(scorecard: Scorecard, total: float) -> dict[str, Any]:
    chosen = max((b for b in scorecard.bands if total >= b.min_points), key=lambda b: b.min_points)
    return {"code": chosen.code, "label_zh": chosen.label_zh}


def pass_mark(scorecard: Scorecard) -> float:
    return next(b.min_points for b in scorecard.bands if b.code == scorecard.pass_band)


def proposal(scorecard: Scorecard, state: str, assessed: dict[str, ScoreEntry]) -> dict[str, Any] | None:
    """Below the pass mark, an assessed branch is proposed for 限期整改, naming its weakest areas."""
    total = sum(e.points for e in assessed.values())
    if state != "assessed" or not assessed or total >= pass_mark(scorecard):
        return None
    lost = {
        a.label_zh: sum(it.max_points - (assessed[it.code].points if it.code in assessed else 0) for it in a.items)
        for a in scorecard.areas
    }
    weakest = sorted(lost, key=lambda label: -lost[label])[:3]
    reason = f"考核得分{round(total, 2)}分，低于合格线{pass_mark(scorecard)}分；失分较多的方面：{'、'.join(weakest)}"
    return {"reason": reason, "weakest_areas": weakest, "event": "order_rectification"}


def scores_of(session: Session, evaluation_id: int) -> dict[str, dict[str, ScoreEntry]]:
    rows = session.exec(select(ScoreEntry).where(ScoreEntry.evaluation_id == evaluation_id)).all()
    out: dict[str, dict[str, ScoreEntry]] = {"self": {}, "assessed": {}}
    for row in rows:
        out[row.kind][row.item_code] = row
    return out


def view(session: Session, engine: Engine, scorecard: Scorecard, loaded: Loaded, now: dt.datetime) -> dict[str, Any]:
    ev = loaded.evaluation
    scores = scores_of(session, ev.id or 0)
    totals = {kind: round(sum(e.points for e in rows.values()), 2) for kind, rows in scores.items()}
    deadlines, overdue = records.deadline_view(records.deadlines_of(session, LIFECYCLE, ev.id or 0), now)
    return {
        "id": ev.id,
        "year": ev.year,
        "org_id": ev.org_id,
        "org_name": loaded.org.name,
        "state": ev.state,
        "state_label": engine.lifecycle.state(ev.state).label_zh,
        "version": ev.version,
        "self_score": totals["self"] if scores["self"] else None,
        "self_band": band(scorecard, totals["self"]) if scores["self"] else None,
        "assessed_score": totals["assessed"] if scores["assessed"] else None,
        "band": band(scorecard, totals["assessed"]) if scores["assessed"] else None,
        "rectification_proposal": proposal(scorecard, ev.state, scores["assessed"]),
        "scores": [
            {"code": e.item_code, "kind": kind, "points": e.points, "method": e.method, "note": e.note}
            for kind, rows in scores.items()
            for e in rows.values()
        ],
        "data": ev.data,
        "deadlines": deadlines,
        "overdue": overdue,
        "allowed_events": engine.allowed_events(ev.state, loaded.roles),
    }


def create(uow: UnitOfWork, engine: Engine, actor: Actor, year: int, org_id: int, now: dt.datetime) -> int:
    s = uow.session
    org = s.get(Org, org_id)
    if org is None:
        raise Invalid("org_id", f"党组织 {org_id} 不存在")
    if not (actor.secretary_of(org) or actor.is_office):
        raise Forbidden("只有本组织的支部书记或活动办公室可以建立自查总结评估报告")
    campaign = campaign_for(s, year)
    if s.exec(select(SelfEvaluation.id).where(SelfEvaluation.year == year, SelfEvaluation.org_id == org_id)).first():
        raise Conflict(f"该党组织{year}年度已有自查总结评估报告")
    ev = SelfEvaluation(year=year, org_id=org_id, state=engine.lifecycle.initial, created_at=now, updated_at=now)
    s.add(ev)
    s.flush()
    records.create_deadlines(s, engine.lifecycle, ev.id or 0, campaign, now)
    role = "secretary" if actor.secretary_of(org) else "office"
    records.append_history(
        s, LIFECYCLE, ev.id or 0, None, actor, role, records.Firing(now), event="create", state=ev.state
    )
    uow.commit()
    return ev.id or 0


def put_scores(
    uow: UnitOfWork,
    engine: Engine,
    scorecard: Scorecard,
    actor: Actor,
    evaluation_id: int,
    kind: str,
    items: list[dict[str, Any]],
    now: dt.datetime,
) -> None:
    s = uow.session
    loaded = load(s, actor, evaluation_id)
    ev = loaded.evaluation
    allowed = {"self": {"secretary"}, "assessed": {"office", "supervisor"}}[kind]
    if not allowed & loaded.roles:
        raise Forbidden("自评分由支部书记填写，考核评分由活动办公室或教育工委领导填写")
    if ev.state != SCORE_STATES[kind]:
        label = engine.lifecycle.state(SCORE_STATES[kind]).label_zh
        raise Conflict(f"{'自评分' if kind == 'self' else '考核评分'}只能在“{label}”阶段填写")
    maxima = {it.code: it.max_points for a in scorecard.areas for it in a.items}
    existing = scores_of(s, evaluation_id)[kind]
    for n, item in enumerate(items):
        _check_score(scorecard, maxima, kind, n, item)
        row = existing.get(item["code"]) or ScoreEntry(
            evaluation_id=evaluation_id, kind=kind, item_code=item["code"], points=0
        )
        row.points, row.method, row.note = item["points"], item.get("method"), item.get("note")
        s.add(row)
    ev.updated_at = now
    s.add(ev)
    uow.commit()


def _check_score(scorecard: Scorecard, maxima: dict[str, int], kind: str, n: int, item: dict[str, Any]) -> None:
    code = item["code"]
    if code not in maxima:
        raise Invalid(f"items[{n}].code", f"考核标准中没有项目 {code}")
    if not 0 <= item["points"] <= maxima[code]:
        raise Invalid(
            f"items[{n}].points", f"项目 {code} 的得分应在 0 到 {maxima[code]} 分之间（现为 {item['points']}）"
        )
    method = item.get("method")
    if method is not None and method not in scorecard.methods:
        options = "、".join(f"{k}（{v}）" for k, v in scorecard.methods.items())
        raise Invalid(f"items[{n}].method", f"考核方式应为：{options}")


def fire_event(
    uow: UnitOfWork,
    engines: Mapping[str, Engine],
    scorecard: Scorecard,
    actor: Actor,
    evaluation_id: int,
    body: dict[str, Any],
    if_match: int | None,
    now: dt.datetime,
) -> None:
    """Fire an event; `order_rectification` also issues the 限期整改 order it names."""
    s = uow.session
    loaded = load(s, actor, evaluation_id)
    ev = loaded.evaluation
    records.check_version(ev, if_match)
    event, data = body["event"], body.get("data") or {}
    scores = scores_of(s, evaluation_id)
    facts = {
        "score_items": [(it.code, it.label_zh) for a in scorecard.areas for it in a.items],
        "self_scores": {code: e.points for code, e in scores["self"].items()},
        "assessed_scores": {code: e.method for code, e in scores["assessed"].items()},
    }

    def apply(moved: Transitioned) -> None:
        extra = dict(ev.data)
        if event == "submit":
            extra.update({k: data[k] for k in ("report", "meeting_held_on", "questionnaires")})
        elif event == "order_rectification":
            extra["rectification"] = {"reason": body.get("reason"), "due_date": str(data["due_date"])}
        ev.data = extra
        records.set_state(s, ev, moved, now)

    records.transition(s, engines[LIFECYCLE], ev, loaded.roles, actor, body, facts, now, store=apply)
    if event == "order_rectification":
        order = {
            "year": ev.year,
            "org_id": ev.org_id,
            "problems": body.get("reason"),
            "due_date": dt.date.fromisoformat(str(data["due_date"])),
            "evaluation_id": ev.id,
        }
        ev.data = {**ev.data, "rectification_id": rectifications.add(uow, engines["rectification"], actor, order, now)}
    uow.commit()


def history(session: Session, actor: Actor, evaluation_id: int) -> list[dict[str, Any]]:
    load(session, actor, evaluation_id)
    return records.history_view(records.history_of(session, LIFECYCLE, evaluation_id))
