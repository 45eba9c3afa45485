"""Branch self-evaluation use cases: its kind on the one event path, create, scores on the 100-point
sheet; `order_rectification` issues the 限期整改 order it names, in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from definitions import Scorecard
from services.access import Actor
from services.errors import Conflict, Forbidden, Invalid
from services.lifecycle import store
from services.lifecycle.deadlines import Deadlines
from services.lifecycle.fire import Facts, Step
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import Kind, Loaded
from services.persistence.tables import ScoreEntry, SelfEvaluation
from services.persistence.uow import UnitOfWork
from services.usecases import org_records, rectifications
from services.usecases.commands import CreateSelfEvaluation, IssueRectification, PutScores
from services.usecases.events import record_view
from services.usecases.fields import as_json

LIFECYCLE = "self_evaluation"
SCORE_STATES = {"self": "self_checking", "assessed": "under_assessment"}
SCORERS = {"self": frozenset({"secretary"}), "assessed": frozenset({"office", "supervisor"})}
SCORE: sa.Table = ScoreEntry.__table__  # type: ignore[attr-defined]
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_SCORES = sa.select(SCORE).where(SCORE.c.evaluation_id.in_(_IDS)).order_by(SCORE.c.id)
_INSERT_SCORE = sa.insert(SCORE)
_UPDATE_SCORE = (
    sa.update(SCORE)
    .where(SCORE.c.id == sa.bindparam("score_id"))
    .values(points=sa.bindparam("points"), method=sa.bindparam("method"), note=sa.bindparam("note"))
)

Scores = dict[str, dict[str, Any]]
"""kind ('self' or 'assessed') → item code → its stored row."""


def scores_of_page(session: Session, ids: Sequence[int]) -> dict[int, Scores]:
    found: dict[int, Scores] = defaultdict(lambda: {"self": {}, "assessed": {}})
    for row in session.connection().execute(_SCORES, {"ids": list(ids)}):
        found[row.evaluation_id][row.kind][row.item_code] = row
    return found


def _facts(session: Session, p: Loaded, lc: Lifecycles) -> Facts:
    def scores() -> Scores:
        return scores_of_page(session, [p.record.id])[p.record.id]

    return Facts(
        {"score_items": [(it.code, it.label_zh) for it in lc.scorecard.items]},
        {
            "self_scores": lambda: {code: e.points for code, e in scores()["self"].items()},
            "assessed_scores": lambda: {code: e.method for code, e in scores()["assessed"].items()},
        },
    )


def _submitted(step: Step) -> dict[str, Any]:
    report = {k: step.data.get(k) for k in ("report", "meeting_held_on", "questionnaires")}
    return {"data": {**step.loaded.record.data, **as_json(report)}}


def _rectification_ordered(step: Step) -> dict[str, Any]:
    """The order goes to the branch with the reason as its problems, due on the date given."""
    r = step.loaded.record
    order = IssueRectification(year=r.year, org_id=r.org_id, problems=step.reason or "", due_date=step.data["due_date"])
    order_id = rectifications.add(step.session, step.lifecycles, step.actor, order, step.now, evaluation_id=r.id)
    rectification = {"reason": step.reason, "due_date": str(order.due_date)}
    return {"data": {**r.data, "rectification": rectification, "rectification_id": order_id}}


def proposal(scorecard: Scorecard, state: str, assessed: dict[str, Any]) -> dict[str, Any] | None:
    """Below the pass mark, an assessed branch is proposed for 限期整改, naming its weakest areas."""
    total = sum(e.points for e in assessed.values())
    if state != "assessed" or not assessed or total >= scorecard.pass_mark:
        return None
    lost = {
        a.label_zh: sum(it.max_points - (assessed[it.code].points if it.code in assessed else 0) for it in a.items)
        for a in scorecard.areas
    }
    weakest = sorted(lost, key=lambda label: -lost[label])[:3]
    reason = f"考核得分{round(total, 2)}分，低于合格线{scorecard.pass_mark}分；失分较多的方面：{'、'.join(weakest)}"
    return {"reason": reason, "weakest_areas": weakest, "event": "order_rectification"}


def views(
    session: Session, lc: Lifecycles, page: Sequence[Loaded], now: dt.datetime, known: Deadlines | None = None
) -> list[dict[str, Any]]:
    sheet, found = lc.scorecard, scores_of_page(session, [p.record.id for p in page])
    out = []
    for p, base in zip(page, record_view(session, lc, list(page), now, known), strict=True):
        scores = found[p.record.id]
        totals = {kind: round(sum(e.points for e in rows.values()), 2) for kind, rows in scores.items()}

        def band(kind: str) -> dict[str, str] | None:
            chosen = sheet.band(totals[kind]) if scores[kind] else None  # noqa: B023 (used at once)
            return {"code": chosen.code, "label_zh": chosen.label_zh} if chosen else None

        out.append(
            base
            | {
                "self_score": totals["self"] if scores["self"] else None,
                "self_band": band("self"),
                "assessed_score": totals["assessed"] if scores["assessed"] else None,
                "band": band("assessed"),
                "rectification_proposal": proposal(sheet, p.record.state, scores["assessed"]),
                "scores": [
                    {"code": e.item_code, "kind": kind, "points": e.points, "method": e.method, "note": e.note}
                    for kind, rows in scores.items()
                    for e in rows.values()
                ],
            }
        )
    return out


KIND = Kind(
    lifecycle=LIFECYCLE,
    label_zh="自查总结评估报告",
    table=SelfEvaluation.__table__,  # type: ignore[attr-defined]
    facts=_facts,
    on={"submit": _submitted, "order_rectification": _rectification_ordered},
    views=views,
    tells={event: "secretary" for event in ("return", "assess", "order_rectification", "verify_rectification")},
)


def create(uow: UnitOfWork, lc: Lifecycles, actor: Actor, cmd: CreateSelfEvaluation, now: dt.datetime) -> int:
    values = cmd.model_dump()
    record_id = org_records.start(
        uow.session, lc, LIFECYCLE, {"secretary", "office"}, actor, values, now, once_a_year=True
    )
    uow.commit()
    return record_id


def put_scores(
    uow: UnitOfWork, lc: Lifecycles, actor: Actor, evaluation_id: int, cmd: PutScores, now: dt.datetime
) -> None:
    """Self scores while 自查中 (the secretary), assessed scores while 考核中 (office or supervisor); a PUT
    merges by item code and moves the record's version (two scorers at once: one wins, one gets 409)."""
    s, sheet = uow.session, lc.scorecard
    loaded = store.load(s, KIND, actor, evaluation_id)
    if not SCORERS[cmd.kind] & loaded.roles:
        raise Forbidden("自评分由支部书记填写，考核评分由活动办公室或教育工委领导填写")
    if loaded.record.state != SCORE_STATES[cmd.kind]:
        label = lc.engine(LIFECYCLE).lifecycle.state(SCORE_STATES[cmd.kind]).label_zh
        raise Conflict(f"{'自评分' if cmd.kind == 'self' else '考核评分'}只能在“{label}”阶段填写")
    maxima = {it.code: it.max_points for it in sheet.items}
    existing = scores_of_page(s, [evaluation_id])[evaluation_id][cmd.kind]
    updates, added = [], []
    for n, item in enumerate(cmd.items):
        _check_score(sheet, maxima, n, item.code, item.points, item.method)
        row = {"points": item.points, "method": item.method, "note": item.note}
        if item.code in existing:
            updates.append({"score_id": existing[item.code].id, **row})
        else:
            added.append({"evaluation_id": evaluation_id, "kind": cmd.kind, "item_code": item.code, **row})
    store.write(s, KIND, loaded.record, updated_at=now)
    if updates:
        s.connection().execute(_UPDATE_SCORE, updates)
    if added:
        s.connection().execute(_INSERT_SCORE, added)
    uow.commit()


def _check_score(sheet: Scorecard, maxima: dict[str, int], n: int, code: str, points: float, method: Any) -> None:
    if code not in maxima:
        raise Invalid(f"items[{n}].code", f"考核标准中没有项目 {code}")
    if not 0 <= points <= maxima[code]:
        raise Invalid(f"items[{n}].points", f"项目 {code} 的得分应在 0 到 {maxima[code]} 分之间（现为 {points}）")
    if method is not None and method not in sheet.methods:
        raise Invalid(f"items[{n}].method", f"考核方式应为：{'、'.join(sheet.methods.values())}")
