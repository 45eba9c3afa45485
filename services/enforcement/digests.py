"""One digest per person per morning: a person with several reminders in one sweep gets one notice listing them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from definitions.vocabulary import NoticeKind
from notifications.outbox import NoticeDraft

REMINDER, DIGEST = NoticeKind.reminder.value, NoticeKind.digest.value
HEAD = "【提醒】"
BODY_LIMIT = 1900
"""The body lists the reminders while it fits the notice's 2,000 characters; `items` holds them all."""


def gather(drafts: Sequence[tuple[NoticeDraft, str]], now: dt.datetime) -> list[NoticeDraft]:
    """The sweep's drafts (each with its campaign's time zone), with every person who has two or more
    reminders among them taken off those reminders and given one digest instead.

    The reminders are still published (their keys keep each sent once) to their other recipients. A digest's
    key is (person, local date, the reminders it lists): a person whose reminders of a morning fall into two
    sweep chunks gets two digests rather than losing one."""
    first_per_key: dict[str, tuple[NoticeDraft, str]] = {}
    for draft, timezone in drafts:
        first_per_key.setdefault(draft.key, (draft, timezone))
    firsts = list(first_per_key.values())
    by_person: dict[tuple[int, str], list[NoticeDraft]] = defaultdict(list)
    for draft, timezone in firsts:
        if draft.kind == REMINDER:
            day = now.astimezone(ZoneInfo(timezone)).date().isoformat()
            for user in dict.fromkeys(draft.recipients):
                by_person[(user, day)].append(draft)
    digested = {who: listed for who, listed in by_person.items() if len(listed) > 1}
    taken: dict[str, set[int]] = defaultdict(set)
    for (user, _), listed in digested.items():
        for draft in listed:
            taken[draft.key].add(user)
    kept = [_without(d, taken[d.key]) if d.key in taken else d for d, _ in firsts]
    return kept + [digest(user, day, listed) for (user, day), listed in digested.items()]


def _without(draft: NoticeDraft, users: set[int]) -> NoticeDraft:
    return dataclasses.replace(draft, recipients=tuple(u for u in draft.recipients if u not in users))


def digest(user: int, day: str, reminders: list[NoticeDraft]) -> NoticeDraft:
    """One person's reminders of a morning as one notice: a Chinese title and body, and the items listed."""
    items = tuple(_item(d) for d in reminders)
    title = f"{HEAD}您有{len(items)}项待办事项即将到期"
    lines = [f"{n}. {item['title']}" for n, item in enumerate(items, 1)]
    body = f"{title}：\n"
    for n, line in enumerate(lines):
        if len(body) + len(line) > BODY_LIMIT:
            body += f"……另有{len(lines) - n}项，请到“消息”查看全部\n"
            break
        body += line + "\n"
    listed = hashlib.sha256("\n".join(sorted(d.key for d in reminders)).encode()).hexdigest()[:16]
    return NoticeDraft(
        key=f"{DIGEST}:{user}:{day}:{listed}",
        kind=DIGEST,
        subject_type="user",
        subject_id=user,
        deadline="",
        due_at=min(d.due_at for d in reminders),
        offset_days=0,
        title=title,
        body=body.rstrip("\n"),
        recipients=(user,),
        items=items,
    )


def _item(draft: NoticeDraft) -> dict[str, Any]:
    return {
        "subject_type": draft.subject_type,
        "subject_id": draft.subject_id,
        "deadline": draft.deadline,
        "due_at": draft.due_at.isoformat(),
        "title": draft.title.removeprefix(HEAD),
    }
