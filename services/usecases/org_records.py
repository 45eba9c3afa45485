"""Records that belong to one org (a self-evaluation, an appraisal round, a demo site, a rectification
order): who may start one for an org, and starting it on the one event path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Set
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from services.access import Actor
from services.errors import Conflict, Forbidden, Invalid
from services.lifecycle import fire
from services.lifecycle.calendar import campaign_for
from services.lifecycle.registry import Lifecycles
from services.lifecycle.store import ORG, Kind, OrgRow

_ORG = sa.select(ORG.c.id, ORG.c.name, ORG.c.path).where(ORG.c.id == sa.bindparam("org_id"))


def org_row(session: Session, org_id: int, field: str = "org_id") -> OrgRow:
    found = session.connection().execute(_ORG, {"org_id": org_id}).first()
    if found is None:
        raise Invalid(field, f"党组织 {org_id} 不存在")
    return OrgRow(*found)


def creator_role(kind: Kind, creators: Set[str], actor: Actor, org: OrgRow) -> str:
    """The role in which `actor` starts `kind` for `org` ('secretary' means of that org's subtree)."""
    if "secretary" in creators and actor.secretary_of(org):
        return "secretary"
    for role in ("office", "supervisor"):
        if role in creators and actor.has(role):
            return role
    raise Forbidden(f"您无权为该党组织建立{kind.label_zh}")


def start(
    session: Session,
    lc: Lifecycles,
    lifecycle: str,
    creators: Set[str],
    actor: Actor,
    values: dict[str, Any],
    now: dt.datetime,
    due_at: dict[str, dt.datetime] | None = None,
    once_a_year: bool = False,
) -> int:
    """A new record of `values["org_id"]` for `values["year"]`, in the caller's transaction (the
    caller commits); `once_a_year`: an org has at most one such record a year."""
    kind = lc.kinds[lifecycle]
    org = org_row(session, values["org_id"])
    role = creator_role(kind, creators, actor, org)
    campaign = campaign_for(session, values["year"])
    if once_a_year and _exists(session, kind, values["year"], org.id):
        raise Conflict(f"该党组织{values['year']}年度已有{kind.label_zh}")
    return fire.create(session, lc, kind, values, campaign, actor, role, now, due_at)


def _exists(session: Session, kind: Kind, year: int, org_id: int) -> bool:
    t = kind.table
    q = sa.select(t.c.id).where(t.c.year == year, t.c.org_id == org_id)
    return session.connection().execute(q).first() is not None
