"""The demo a newcomer first sees is a campaign in progress on the day it is seeded (SPEC §7.2):
deadlines ahead, records at every stage, a few late, notices already in the inboxes, a round open."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from services.config import Settings
from services.entrypoints.cli import main
from services.rehearsal import live_demo

NOW = dt.datetime(2026, 12, 2, 2, 30, tzinfo=dt.UTC)  # 10:30 in Beijing


def _rows(db_url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _utc(value: str | dt.datetime) -> dt.datetime:
    """A stored time: text in UTC on SQLite, an aware time on PostgreSQL."""
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def test_the_demo_is_in_progress_on_the_day_it_is_seeded(db_url: str) -> None:
    seeded = live_demo.seed_live(Settings(database_url=db_url), NOW)
    assert seeded is not None and seeded.refused == [], "every step of the played weeks was taken"
    states = dict(_rows(db_url, "SELECT state, count(*) FROM pledge GROUP BY state"))
    assert set(states) == {"proposing", "reviewing", "publicizing", "practising", "appraising", "closed"}
    due = [(name, _utc(at)) for name, at in _rows(db_url, "SELECT name, due_at FROM deadline")]
    ahead = {name for name, at in due if at > NOW}
    assert ahead == {"self_evaluation_submitted", "pledge_appraised", "self_evaluation_assessed", "appraisal_closed"}
    statuses = dict(_rows(db_url, "SELECT status, count(*) FROM deadline WHERE name = 'pledge_published' GROUP BY 1"))
    total = sum(statuses.values())
    assert 0 < statuses["missed"] <= total // 3, "a few late, not most"
    assert statuses["met"] > total // 2
    evaluations = {s for (s,) in _rows(db_url, "SELECT state FROM self_evaluation")}
    assert {"self_checking", "submitted"} <= evaluations, "one waiting for the office's 受理"
    assert _rows(db_url, "SELECT state FROM appraisal_round") == [("open",)]
    assert _rows(db_url, "SELECT count(*) FROM tally")[0][0] > 0

    inbox = _rows(
        db_url,
        'SELECT n.kind, n.title, n.body FROM inbox_entry i JOIN notice n ON n.id = i.notice_id JOIN "user" u '
        "ON u.id = i.user_id JOIN person p ON p.id = u.person_id WHERE p.name = "
        f"'{next(name for label, name, _ in seeded.tokens if label == '党员')}'",
    )
    kinds = {k for k, _, _ in inbox}
    assert "event" in kinds and kinds & {"overdue", "reminder", "digest"}
    assert any("退回" in title + body and "践诺措施还不够具体" in body for _, title, body in inbox)
    assert live_demo.seed_live(Settings(database_url=db_url), NOW) is None, "seeded once"


def test_the_demo_command_prints_the_pages_and_the_token_to_try_first(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLEDGEFLOW_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "活动进行中" in result.output and "网页：http://127.0.0.1:8000/" in result.output
    assert "先用「党员」的令牌登录网页" in result.output
    assert CliRunner().invoke(main, ["demo"]).output == "", "a second run seeds nothing"
