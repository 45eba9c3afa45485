"""The webhook payload, its encoding and its signature, without a database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from notifications.dispatcher import Retry, Stats
from notifications.outbox import encode, payload, sign
from notifications.tables import Notice
from workflow.deadlines import REMINDER

DUE = dt.datetime(2010, 11, 20, 15, 59, 59, tzinfo=dt.UTC)


def _notice() -> Notice:
    return Notice(
        id=42,
        key="self_evaluation:9:self_evaluation_submitted:reminder:7",
        kind=REMINDER,
        subject_type="self_evaluation",
        subject_id=9,
        deadline="self_evaluation_submitted",
        due_at=DUE,
        offset_days=7,
        title="【提醒】自查总结评估报告将于11月20日截止",
        body="请于11月中旬前上报自查总结评估报告。",
        recipients=[3],
        occurred_at=DUE - dt.timedelta(days=7),
    )


def test_the_payload_names_the_notice_its_subject_and_its_times() -> None:
    assert payload(_notice()) == {
        "id": 42,
        "kind": "reminder",
        "subject": {"type": "self_evaluation", "id": 9},
        "deadline": "self_evaluation_submitted",
        "due_at": "2010-11-20T15:59:59+00:00",
        "recipients": [3],
        "occurred_at": "2010-11-13T15:59:59+00:00",
        "title": "【提醒】自查总结评估报告将于11月20日截止",
        "body": "请于11月中旬前上报自查总结评估报告。",
    }


def test_the_encoding_is_compact_utf8_json() -> None:
    assert encode({"title": "提醒", "ids": [1, 2]}) == '{"title":"提醒","ids":[1,2]}'.encode()


def test_the_signature_is_the_hex_hmac_sha256_of_the_timestamp_a_dot_and_the_body() -> None:
    body = encode(payload(_notice()))
    expected = hmac.new(b"k", b"1288540800." + body, hashlib.sha256).hexdigest()
    assert sign(body, "k", 1288540800) == f"sha256={expected}"
    assert sign(body, "k", 1288540800) != sign(body + b" ", "k", 1288540800)
    assert sign(body, "k", 1288540800) != sign(body, "k", 1288540801), "a replay with a new time needs the secret"


def test_the_backoff_doubles_and_is_capped_at_a_day() -> None:
    retry = Retry(max_attempts=8, backoff_seconds=2.0)
    assert [retry.delay(n).total_seconds() for n in (1, 2, 3, 7)] == [2.0, 4.0, 8.0, 128.0]
    assert retry.delay(500) == dt.timedelta(days=1)
    assert Stats(1, 2, 3) + Stats(sent=1) == Stats(2, 2, 3)
