"""工作进展报表: one row per org for a campaign year, as JSON, an .xlsx workbook and a .csv file.

Figures, for every org except the committee (ordered by org path), in the campaign year:
- pledges_by_state: pledges whose org_id is the org (its own pledge and its people's), per state
  of the pledge lifecycle, withdrawn included; pledges: their sum.
- overdue: pledges with a deadline row `missed`, or `pending` and past due (the rule of
  records.deadline_view); late: pledges with at least one deadline row `late`.
- members: people of the org who are full or probationary members; members_practising: those of
  them whose non-withdrawn pledge of the year is practising, appraising or closed; coverage: their
  share (4 decimals; null without members).
- commented: non-withdrawn pledges with at least one leader comment; comment_coverage: their share
  of the non-withdrawn pledges (null without any); all_commented: there is at least one
  non-withdrawn pledge and every one of them is commented.
- appraisal: the org as subject in its appraisal round of the year; rate, score and flag only once
  the round is closed (appraisals.subject_results); flagged_subjects: subjects below the threshold
  in that closed round.
- self_evaluation: state, self and assessed totals, band of the assessed total.
- demo_site and rectification: the latest (highest id) of the year; a rectification is overdue by
  its deadline rows, as a pledge is.
Totals add up the rows shown; their rates are the ratios of the summed counts.
Readers: office and supervisors see every org; a secretary the orgs of their subtree; others none.
Every figure is one GROUP BY (or one query) over the whole year, never a query per pledge.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from definitions import RatingScale, Scorecard
from definitions.vocabulary import OrgKind
from services.access import Actor, visible
from services.errors import Forbidden
from services.persistence.tables import (
    AppraisalRound,
    Deadline,
    DemoSite,
    LeaderComment,
    Org,
    Person,
    Pledge,
    Rectification,
    ScoreEntry,
    SelfEvaluation,
    Tally,
)
from services.queries.listings import overdue_condition
from services.usecases.appraisals import subject_results
from services.usecases.campaigns import get_campaign
from services.usecases.sheets import sheet_value, text_cell
from workflow import Engine
from workflow import deadlines as dl

MEMBER_STATUSES = ("full", "probationary")
PRACTISED = ("practising", "appraising", "closed")
WITHDRAWN = "withdrawn"
SHEET_TITLE = "工作进展"
CSV = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Sources:
    """What the report reads besides the database: lifecycles, scorecard, rating scale, a setting."""

    engines: Mapping[str, Engine]
    scorecard: Scorecard
    scale: RatingScale
    basic_counts_as_satisfied: bool

    def label(self, lifecycle: str, state: str) -> str:
        return self.engines[lifecycle].lifecycle.state(state).label_zh


# --- the figures ---------------------------------------------------------------------------


def progress(session: Session, src: Sources, actor: Actor, year: int, now: dt.datetime) -> dict[str, Any]:
    """The progress report of `year` over the orgs the actor may read (404 without a campaign)."""
    campaign = get_campaign(session, year)
    scope = sa.and_(_scope(actor), col(Org.kind) != "committee")
    orgs = list(session.exec(select(Org).where(scope).order_by(col(Org.path))).all())
    figures = _Figures(
        by_state=_pledges_by_state(session, scope, year),
        pledge_counts=_pledge_counts(session, scope, year, now),
        evaluations=_self_evaluations(session, src, scope, year),
        appraisals=_appraisals(session, src, scope, year, campaign.min_ballots),
        demo_sites=_demo_sites(session, src, scope, year),
        rectifications=_rectifications(session, src, scope, year, now),
    )
    states = [s.code for s in src.engines["pledge"].lifecycle.states]
    rows = [_row(org, figures, states) for org in orgs]
    return {
        "year": year,
        "timezone": campaign.timezone,
        "generated_at": now,
        "orgs": rows,
        "totals": _totals(rows, states),
    }


def _scope(actor: Actor) -> Any:
    """Orgs the actor may report on: all for office and supervisors, a secretary's subtree."""
    if not (actor.reads_everything or actor.secretary_orgs):
        raise Forbidden("工作进展报表只对创先争优活动办公室、教育工委领导和支部书记开放")
    return visible(actor, Org)


@dataclass(frozen=True)
class _Figures:
    by_state: dict[int, dict[str, int]]
    pledge_counts: dict[str, dict[int, int]]
    evaluations: dict[int, dict[str, Any]]
    appraisals: dict[int, tuple[dict[str, Any], int | None]]
    demo_sites: dict[int, dict[str, Any]]
    rectifications: dict[int, dict[str, Any]]


def _count_by_org(session: Session, scope: Any, org_column: Any, *where: Any) -> dict[int, int]:
    q = (
        select(org_column, sa.func.count())
        .join(Org, col(Org.id) == org_column)
        .where(scope, *where)
        .group_by(org_column)
    )
    return {org_id: n for org_id, n in session.exec(q).all()}


def _pledges_by_state(session: Session, scope: Any, year: int) -> dict[int, dict[str, int]]:
    q = (
        select(Pledge.org_id, Pledge.state, sa.func.count())
        .join(Org, col(Org.id) == col(Pledge.org_id))
        .where(scope, col(Pledge.year) == year)
        .group_by(col(Pledge.org_id), col(Pledge.state))
    )
    out: dict[int, dict[str, int]] = {}
    for org_id, state, n in session.exec(q).all():
        out.setdefault(org_id, {})[state] = n
    return out


def _pledge_counts(session: Session, scope: Any, year: int, now: dt.datetime) -> dict[str, dict[int, int]]:
    """Per org: overdue, late and commented pledges, members and members whose pledge reached 践行."""
    in_year, live = col(Pledge.year) == year, col(Pledge.state) != WITHDRAWN
    is_member = col(Person.status).in_(MEMBER_STATUSES)
    # IN, not a correlated EXISTS: SQLite would otherwise walk an index on status or state once per row.
    late_rows = select(Deadline.subject_id).where(
        col(Deadline.subject_type) == "pledge", col(Deadline.year) == year, col(Deadline.status) == dl.LATE
    )
    late = col(Pledge.id).in_(late_rows)
    commented = select(LeaderComment.id).where(col(LeaderComment.pledge_id) == col(Pledge.id)).exists()
    practised = col(Person.id).in_(select(Pledge.person_id).where(in_year, col(Pledge.state).in_(PRACTISED)))
    pledge_org = col(Pledge.org_id)
    return {
        "overdue": _count_by_org(session, scope, pledge_org, in_year, overdue_condition("pledge", col(Pledge.id), now)),
        "late": _count_by_org(session, scope, pledge_org, in_year, late),
        "commented": _count_by_org(session, scope, pledge_org, in_year, live, commented),
        "members": _count_by_org(session, scope, col(Person.org_id), is_member),
        "members_practising": _count_by_org(session, scope, col(Person.org_id), is_member, practised),
    }


def _self_evaluations(session: Session, src: Sources, scope: Any, year: int) -> dict[int, dict[str, Any]]:
    in_scope = sa.and_(scope, col(SelfEvaluation.year) == year)
    evaluations = session.exec(
        select(SelfEvaluation).join(Org, col(Org.id) == col(SelfEvaluation.org_id)).where(in_scope)
    ).all()
    q = (
        select(ScoreEntry.evaluation_id, ScoreEntry.kind, sa.func.sum(ScoreEntry.points))
        .join(SelfEvaluation, col(SelfEvaluation.id) == col(ScoreEntry.evaluation_id))
        .join(Org, col(Org.id) == col(SelfEvaluation.org_id))
        .where(in_scope)
        .group_by(col(ScoreEntry.evaluation_id), col(ScoreEntry.kind))
    )
    totals = {(evaluation_id, kind): round(float(points), 2) for evaluation_id, kind, points in session.exec(q).all()}
    out = {}
    for ev in evaluations:
        assessed = totals.get((ev.id or 0, "assessed"))
        out[ev.org_id] = {
            "state": ev.state,
            "state_label": src.label("self_evaluation", ev.state),
            "self_score": totals.get((ev.id or 0, "self")),
            "assessed_score": assessed,
            "band_label": src.scorecard.band(assessed).label_zh if assessed is not None else None,
        }
    return out


def _appraisals(
    session: Session, src: Sources, scope: Any, year: int, min_ballots: int
) -> dict[int, tuple[dict[str, Any], int | None]]:
    """Per org: its round's state and, once closed, the org's own rate and score; the flagged count."""
    rounds = session.exec(
        select(AppraisalRound)
        .join(Org, col(Org.id) == col(AppraisalRound.org_id))
        .where(scope, col(AppraisalRound.year) == year)
    ).all()
    closed = [r.id for r in rounds if r.state == "closed" and r.id is not None]
    people = _ballot_subjects(session, closed)  # held, so subject_results finds names without a query each
    out = {r.org_id: _appraisal(session, src, r, min_ballots) for r in rounds}
    del people
    return out


def _ballot_subjects(session: Session, round_ids: list[int]) -> list[Person]:
    if not round_ids:
        return []
    subjects = select(Tally.subject_id).where(col(Tally.round_id).in_(round_ids), col(Tally.subject_type) == "person")
    return list(session.exec(select(Person).where(col(Person.id).in_(subjects))).all())


def _appraisal(
    session: Session, src: Sources, r: AppraisalRound, min_ballots: int
) -> tuple[dict[str, Any], int | None]:
    view: dict[str, Any] = {"state": r.state, "satisfaction_rate": None, "score": None, "below_threshold": None}
    if r.state != "closed":
        return view, None
    results = subject_results(session, src.scale, r.id or 0, src.basic_counts_as_satisfied, min_ballots)
    own = next((s for s in results if (s["subject"]["type"], s["subject"]["id"]) == ("org", r.org_id)), None)
    if own is not None:
        view |= {k: own.get(k) for k in ("satisfaction_rate", "score", "below_threshold")}  # none below min_ballots
    return view, sum(1 for s in results if s.get("below_threshold"))  # a subject below min_ballots has no rate


def _latest(table: Any, scope: Any, year: int) -> Any:
    """The condition for the latest (highest id) record of each org in the year."""
    latest = (
        select(sa.func.max(table.id))
        .join(Org, col(Org.id) == table.org_id)
        .where(scope, table.year == year)
        .group_by(table.org_id)
    )
    return col(table.id).in_(latest)


def _demo_sites(session: Session, src: Sources, scope: Any, year: int) -> dict[int, dict[str, Any]]:
    sites = session.exec(select(DemoSite).where(_latest(DemoSite, scope, year))).all()
    return {s.org_id: {"state": s.state, "state_label": src.label("demo_site", s.state)} for s in sites}


def _rectifications(
    session: Session, src: Sources, scope: Any, year: int, now: dt.datetime
) -> dict[int, dict[str, Any]]:
    overdue = overdue_condition("rectification", col(Rectification.id), now).label("overdue")
    rows = session.exec(select(Rectification, overdue).where(_latest(Rectification, scope, year))).all()
    return {
        r.org_id: {
            "state": r.state,
            "state_label": src.label("rectification", r.state),
            "due_date": r.due_date,
            "overdue": bool(late),
        }
        for r, late in rows
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(org: Org, f: _Figures, states: list[str]) -> dict[str, Any]:
    org_id = org.id or 0
    counts = {name: per_org.get(org_id, 0) for name, per_org in f.pledge_counts.items()}
    by_state = {state: f.by_state.get(org_id, {}).get(state, 0) for state in states}
    pledges = sum(by_state.values())
    live = pledges - by_state.get(WITHDRAWN, 0)
    appraisal, flagged = f.appraisals.get(org_id, (None, None))
    return {
        "org_id": org_id,
        "name": org.name,
        "kind": org.kind,
        "parent_id": org.parent_id,
        "pledges_by_state": by_state,
        "pledges": pledges,
        "overdue": counts["overdue"],
        "late": counts["late"],
        "members": counts["members"],
        "members_practising": counts["members_practising"],
        "coverage": _rate(counts["members_practising"], counts["members"]),
        "commented": counts["commented"],
        "comment_coverage": _rate(counts["commented"], live),
        "all_commented": live > 0 and counts["commented"] == live,
        "appraisal": appraisal,
        "flagged_subjects": flagged,
        "self_evaluation": f.evaluations.get(org_id),
        "demo_site": f.demo_sites.get(org_id),
        "rectification": f.rectifications.get(org_id),
    }


def _totals(rows: list[dict[str, Any]], states: list[str]) -> dict[str, Any]:
    def total(key: str) -> int:
        return sum(int(r[key]) for r in rows)

    by_state = {state: sum(r["pledges_by_state"][state] for r in rows) for state in states}
    live = total("pledges") - by_state.get(WITHDRAWN, 0)
    return {
        "pledges": total("pledges"),
        "pledges_by_state": by_state,
        "overdue": total("overdue"),
        "late": total("late"),
        "members": total("members"),
        "members_practising": total("members_practising"),
        "coverage": _rate(total("members_practising"), total("members")),
        "commented": total("commented"),
        "comment_coverage": _rate(total("commented"), live),
    }


# --- the files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    value: Callable[[dict[str, Any]], Any]
    number_format: str | None = None


def _nested(part: str, key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: (row.get(part) or {}).get(key)


def _in_state(state: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["pledges_by_state"][state]


def _rectification_cell(row: dict[str, Any]) -> str | None:
    r = row.get("rectification")
    if not r:
        return None
    return f"{r['state_label']}（已逾期）" if r["overdue"] else str(r["state_label"])


def columns(src: Sources) -> list[Column]:
    """The file columns, in order; state headers are the pledge lifecycle's Chinese labels."""
    percent = "0.0%"
    states = [Column(s.label_zh, 10, _in_state(s.code)) for s in src.engines["pledge"].lifecycle.states]
    return [
        Column("党组织", 28, lambda row: row["name"]),
        Column("类型", 14, lambda row: OrgKind.of(row["kind"]).label_zh if row["kind"] else None),
        Column("承诺书数", 10, lambda row: row["pledges"]),
        *states,
        Column("逾期", 8, lambda row: row["overdue"]),
        Column("逾期完成", 10, lambda row: row["late"]),
        Column("应承诺党员数", 14, lambda row: row["members"]),
        Column("已践诺党员数", 14, lambda row: row["members_practising"]),
        Column("党员覆盖率", 12, lambda row: row["coverage"], percent),
        Column("已点评承诺书", 14, lambda row: row["commented"]),
        Column("点评覆盖率", 12, lambda row: row["comment_coverage"], percent),
        Column("群众满意率", 12, _nested("appraisal", "satisfaction_rate"), percent),
        Column("评议得分", 10, _nested("appraisal", "score")),
        Column("自查报告状态", 14, _nested("self_evaluation", "state_label")),
        Column("自评分", 10, _nested("self_evaluation", "self_score")),
        Column("考核得分", 10, _nested("self_evaluation", "assessed_score")),
        Column("考核等次", 10, _nested("self_evaluation", "band_label")),
        Column("示范点", 12, _nested("demo_site", "state_label")),
        Column("限期整改", 18, _rectification_cell),
    ]


def _total_row(report: dict[str, Any]) -> dict[str, Any]:
    return {"name": "合计", "kind": None, **report["totals"]}


def title(report: dict[str, Any]) -> str:
    local = report["generated_at"].astimezone(ZoneInfo(report["timezone"]))
    return f"{report['year']}年度创先争优活动工作进展（生成时间：{local:%Y-%m-%d %H:%M}）"


def filename(year: int, extension: str) -> str:
    return f"{year}年度创先争优活动工作进展.{extension}"


def content_disposition(name: str, ascii_stem: str = "progress") -> str:
    """RFC 6266: an ASCII fallback (`ascii_stem` and the extension), then the Chinese name percent-encoded as UTF-8."""
    fallback = f"{ascii_stem}." + name.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def to_xlsx(report: dict[str, Any], src: Sources) -> bytes:
    """One sheet 「工作进展」: a title row, a bold header row, one row per org and a 合计 row."""
    cols = columns(src)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    ws.append([title(report)])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.append([c.header for c in cols])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in [*report["orgs"], _total_row(report)]:
        ws.append([sheet_value(c.value(row)) for c in cols])
        for cell, c in zip(ws[ws.max_row], cols, strict=True):
            if c.number_format:
                cell.number_format = c.number_format
            if cell.data_type == "f":  # a stored name such as "=1+1" is text, never a formula
                cell.data_type = "s"
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for n, c in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(n)].width = c.width
    ws.freeze_panes = "B3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_csv(report: dict[str, Any], src: Sources) -> bytes:
    """The header and the rows of the sheet (rates as fractions), UTF-8 with a BOM for spreadsheets."""
    cols = columns(src)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([c.header for c in cols])
    for row in [*report["orgs"], _total_row(report)]:
        writer.writerow(["" if (v := c.value(row)) is None else text_cell(v) for c in cols])
    return text.getvalue().encode("utf-8-sig")
