"""One digest per person per morning: a secretary's three reminders of one morning arrive as one notice listing
them, in her inbox, by e-mail and to webhooks; another person's single reminder stays a plain reminder
(a controlled clock and a direct sweep call, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from notifications.outbox import payload
from notifications.tables import EMAIL, WEBHOOK, Delivery, Notice
from services.config import Settings
from services.container import Container, build_container
from services.enforcement.sweep import sweep
from services.usecases import inbox
from tests import usecases as uc
from tests.conftest import Clock

BEIJING = ZoneInfo("Asia/Shanghai")
ITEMS = [{"content": "认真备好每一节课，所教班级成绩稳步提高", "measure": "每周参加集体备课"}]
MORNING = dt.datetime(2010, 10, 25, 8, tzinfo=BEIJING)
"""Monday: the 7-day reminders of pledge_published (Sunday 2010-10-31) were held from Sunday night to now."""


@pytest.fixture
def container(db_url: str, clock: Clock) -> Iterator[Container]:
    clock.set(dt.datetime(2010, 9, 20, 10, tzinfo=BEIJING))
    c = build_container(Settings(database_url=db_url, scheduler=False, webhook_allow_private=True), clock)
    yield c
    c.db.dispose()


def three_for_sec_a(c: Container) -> tuple[uc.Roster, list[int]]:
    """m1's and m2's pledges submitted (for sec_a to review), branch a's own pledge (sec_a drafts it) and mb's
    pledge (mb drafts it), in the 2010 campaign; a webhook for every kind; e-mail addresses for sec_a and mb."""
    now = c.clock()
    r = uc.roster(c, now, {"sec_a": "sec_a@example.cn", "mb": "mb@example.cn"})
    uc.campaign(c, 2010, now)
    uc.do(c, inbox.create_webhook, r.actors["office"], "http://127.0.0.1:9/hook", "secret-1", [], now, True)
    ids = []
    for who in ("m1", "m2"):
        pid = uc.pledge(c, r.actors[who], {"year": 2010, "person_id": r.people[who], "items": ITEMS}, now)
        uc.fire(c, r.actors[who], pid, {"event": "submit"}, now)
        ids.append(pid)
    ids.append(uc.pledge(c, r.actors["sec_a"], {"year": 2010, "org_id": r.orgs["a"], "items": ITEMS}, now))
    uc.pledge(c, r.actors["mb"], {"year": 2010, "person_id": r.people["mb"], "items": ITEMS}, now)
    return r, ids


def inbox_of(c: Container, r: uc.Roster, who: str) -> list[dict[str, Any]]:
    entries = uc.read(c, inbox.inbox, r.actors[who], None, 50, 0)["items"]
    return [e for e in entries if e["kind"] != "event"]


def test_three_reminders_of_a_morning_come_to_the_secretary_as_one_digest(container: Container, clock: Clock) -> None:
    c = container
    r, ids = three_for_sec_a(c)
    clock.set(MORNING)
    sweep(c.db, c.catalog, clock())

    [entry] = inbox_of(c, r, "sec_a")
    assert entry["kind"] == "digest"
    assert entry["title"] == "【提醒】您有3项待办事项即将到期"
    lines = entry["body"].splitlines()
    assert lines[0] == "【提醒】您有3项待办事项即将到期：" and len(lines) == 4
    named = {line.split(" ", 1)[1].split("的公开承诺")[0] for line in lines[1:]}
    assert named == {"m1老师", "m2老师", "延庆一中党支部"}
    assert all("须在2010年10月31日前完成公开（还有7天）" in line for line in lines[1:])
    with Session(c.db) as s:
        digest = s.get_one(Notice, entry["notice_id"])
    assert digest.recipients == [r.actors["sec_a"].user_id]
    assert sorted(i["subject_id"] for i in digest.items or []) == sorted(ids)
    assert {(i["subject_type"], i["deadline"]) for i in digest.items or []} == {("pledge", "pledge_published")}
    assert payload(digest)["items"] == digest.items, "a webhook receives the list too"

    [plain] = inbox_of(c, r, "mb")
    assert plain["kind"] == "reminder" and plain["title"].startswith("【提醒】mb老师的公开承诺须在")
    assert inbox_of(c, r, "m1") == [] and inbox_of(c, r, "m2") == [], "a pledge under review waits on sec_a"


def test_the_digest_goes_by_e_mail_and_webhook_like_any_notice_and_only_once(
    container: Container, clock: Clock
) -> None:
    c = container
    three_for_sec_a(c)
    clock.set(MORNING)
    sweep(c.db, c.catalog, clock())
    clock.set(MORNING + dt.timedelta(minutes=5))
    sweep(c.db, c.catalog, clock())
    with Session(c.db) as s:
        notices = {n.id: n for n in s.exec(select(Notice).where(col(Notice.kind).in_(["digest", "reminder"]))).all()}
        deliveries = s.exec(select(Delivery)).all()
    digests = [n for n in notices.values() if n.kind == "digest"]
    assert len(digests) == 1 and len(notices) == 5, "4 reminders (3 carried by the digest, mb's) and 1 digest"
    mailed = sorted((notices[d.notice_id].kind, d.address) for d in deliveries if d.channel == EMAIL)
    assert mailed == [("digest", "sec_a@example.cn"), ("reminder", "mb@example.cn")]
    hooked = [notices[d.notice_id].kind for d in deliveries if d.channel == WEBHOOK and d.notice_id in notices]
    assert sorted(hooked) == ["digest", "reminder", "reminder", "reminder", "reminder"]
    carried = [n for n in notices.values() if n.kind == "reminder" and not n.recipients]
    assert len(carried) == 3, "each reminder is still kept once, under its own key"
