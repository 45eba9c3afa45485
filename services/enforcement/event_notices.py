"""Notices of what happened to a record (`kind: event`): returned with its reason, approved, published,
commented, appraised, rectification ordered, a round opened — written through the outbox in the
transaction of their cause, to the inbox, webhooks and e-mail like deadline notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from definitions.vocabulary import NoticeKind
from notifications.outbox import NoticeDraft, active_webhooks, publish
from services.persistence.tables import Org, Person, RoleGrant, User

EVENT = NoticeKind.event.value


@dataclass(frozen=True)
class Happened:
    """One thing that happened to a record, as its notice tells it."""

    lifecycle: str
    record_id: int
    step: str
    """The history seq (or a comment's id): what makes this notice one of a kind."""
    title: str
    body: str


def tell(session: Session, happened: Happened, who: str, org_id: int, person_id: int | None, now: dt.datetime) -> None:
    """Publish `happened` to `who` — `owner` (the member, or for an org's record its secretaries),
    `secretary` (the org's secretaries) or `voters` (everyone who may vote in the org's round)."""
    recipients = _recipients(session, who, org_id, person_id)
    if not recipients:
        return
    draft = NoticeDraft(
        key=f"{happened.lifecycle}:{happened.record_id}:event:{happened.step}",
        kind=EVENT,
        subject_type=happened.lifecycle,
        subject_id=happened.record_id,
        deadline="",
        due_at=now,
        offset_days=0,
        title=happened.title[:300],
        body=happened.body[:2000],
        recipients=tuple(sorted(recipients)),
    )
    publish(session, [draft], active_webhooks(session), {uid: email for uid, email in recipients.items() if email}, now)


def _recipients(session: Session, who: str, org_id: int, person_id: int | None) -> dict[int, str | None]:
    """user id → e-mail address (or None). A member without an account is told through her branch's
    secretaries, who act for her (as deadline notices do: recipients.Directory.actor)."""
    if who == "owner" and person_id is not None:
        own = _users(session, col(User.person_id) == person_id)
        if own:
            return own
    path = session.exec(select(Org.path).where(Org.id == org_id)).one()
    if who == "voters":
        in_subtree = select(Person.id).join(Org, col(Org.id) == Person.org_id).where(col(Org.path).startswith(path))
        members = _users(session, col(User.person_id).in_(in_subtree))
        ancestry = [int(part) for part in path.strip("/").split("/") if part]
        appraisers = _granted(session, "appraiser", ancestry)
        return members | appraisers
    ancestry = [int(part) for part in path.strip("/").split("/") if part]
    for org in reversed(ancestry):  # the secretaries of the nearest org that has any, from the branch up
        found = _granted(session, "secretary", [org])
        if found:
            return found
    return {}


def _users(session: Session, where: sa.ColumnElement[bool]) -> dict[int, str | None]:
    q = sa.select(col(User.id), col(User.email)).where(where)
    return {uid or 0: email for uid, email in session.connection().execute(q)}


def _granted(session: Session, role: str, orgs: list[int]) -> dict[int, str | None]:
    q = (
        select(User.id, User.email)
        .join(RoleGrant, col(RoleGrant.user_id) == User.id)
        .where(RoleGrant.role == role, col(RoleGrant.org_id).in_(orgs))
    )
    return {uid or 0: email for uid, email in session.exec(q).all()}
