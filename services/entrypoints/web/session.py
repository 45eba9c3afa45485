"""Page sessions: the signed cookie, who is signed in, CSRF, and the message left for the next page."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlmodel import col
from starlette.datastructures import FormData

from services import access
from services.access import Actor, hash_token, new_token
from services.container import Container
from services.entrypoints.deps import ContainerDep, caller
from services.errors import ServiceError, problem_of
from services.persistence.tables import WebSession
from services.persistence.uow import UnitOfWork
from services.secret_key import SecretKey
from workflow import WorkflowError

MAX_AGE = 12 * 3600


class SignInRequired(Exception):
    """No one (or no longer anyone valid) is signed in: the page sends them to /login."""


class CsrfRejected(Exception):
    """A form came without this session's CSRF token."""


def session_options(secret: SecretKey) -> dict[str, Any]:
    """Options for starlette's SessionMiddleware (its cookie is always http-only): SameSite=Lax,
    signed with a key derived from the secret kept outside the database."""
    return {
        "secret_key": secret.derive("session").hex(),
        "same_site": "lax",
        "max_age": MAX_AGE,
        "session_cookie": "pledgeflow_session",
    }


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


SESSION_KEY = "s"
"""The cookie's entry for the page session's key (the database keeps its SHA-256 only)."""


def sign_in(request: Request, container: Container, token: str) -> str | None:
    """A fresh page session (no fixation) for the user of `token`, kept as a row that logout deletes;
    the reason it cannot be begun, else None."""
    with UnitOfWork(container.db) as uow:
        credential = access.by_token(uow.session, hash_token(token))
        if credential is None:
            return "令牌无效或已停用，请核对后重新输入"
        key, now = new_token(), container.clock()
        uow.session.execute(sa.delete(WebSession).where(col(WebSession.expires_at) <= now))
        user_id, version = credential
        row = WebSession(
            key_hash=hash_token(key),
            user_id=user_id,
            credential_version=version,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=MAX_AGE),
        )
        uow.session.add(row)
        uow.commit()
    request.session.clear()
    request.session[SESSION_KEY] = key
    csrf_token(request)
    return None


def sign_out(request: Request, container: Container) -> None:
    key_hash = session_hash(request)
    if key_hash:
        with UnitOfWork(container.db) as uow:
            uow.session.execute(sa.delete(WebSession).where(col(WebSession.key_hash) == key_hash))
            uow.commit()
    request.session.clear()


def resolve(request: Request, container: Container) -> Actor | None:
    """Who is signed in to this page session, read afresh (a logout or revocation ends it at once)."""
    key_hash = session_hash(request)
    return caller(container, session_key_hash=key_hash) if key_hash else None


def web_actor(request: Request, container: ContainerDep) -> Actor:
    actor = resolve(request, container)
    if actor is None:
        raise SignInRequired()
    return actor


WebActor = Annotated[Actor, Depends(web_actor)]


async def checked_form(request: Request) -> FormData:
    """The posted form, refused unless it carries this session's CSRF token."""
    form = await request.form()
    sent, kept = str(form.get("csrf_token", "")), str(request.session.get("csrf", ""))
    if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        raise CsrfRejected()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def messages(exc: ServiceError | WorkflowError) -> list[str]:
    """The Chinese messages the API gives for the same refusal."""
    return problem_of(exc).messages


def back_to(form: FormData | None) -> str:
    """Where a form returns to: a local path only (never another site)."""
    back = str(form.get("back", "/")) if form else "/"
    return back if back.startswith("/") and not back.startswith("//") else "/"


def session_hash(request: Request) -> str | None:
    key = request.session.get(SESSION_KEY)
    return hash_token(str(key)) if key else None


def flash(
    request: Request,
    form_id: str,
    *messages: str,
    ok: bool = True,
    field: str | None = None,
    values: dict[str, Any] | None = None,
) -> None:
    """What the next page shows once beside form `form_id`: its messages and, after a refusal, the
    refused field and every value typed; kept with the page session in the database."""
    key_hash = session_hash(request)
    if key_hash is None:
        return
    shown = {"form": form_id, "ok": ok, "messages": list(messages), "field": field, "values": values or {}}
    container: Container = request.app.state.container
    with UnitOfWork(container.db) as uow:
        uow.session.execute(sa.update(WebSession).where(col(WebSession.key_hash) == key_hash).values(flash=shown))
        uow.commit()


def take_flash(request: Request) -> dict[str, Any]:
    """The message left for this page by the last form, once (an empty dict when there is none)."""
    key_hash = session_hash(request)
    if key_hash is None:
        return {}
    container: Container = request.app.state.container
    where = col(WebSession.key_hash) == key_hash
    with UnitOfWork(container.db, write=False) as uow:
        shown = uow.session.execute(sa.select(col(WebSession.flash)).where(where)).scalar()
    if not shown:
        return {}
    with UnitOfWork(container.db) as uow:
        uow.session.execute(sa.update(WebSession).where(where).values(flash=None))
        uow.commit()
    return dict(shown)


UNTYPED = {"csrf_token", "once", "form", "back"}


def typed(form: FormData) -> dict[str, Any]:
    """What a person typed into a form, to show it again after a refusal (a field sent several
    times, such as an item editor's rows, as its list)."""
    values: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name in UNTYPED or not isinstance(value, str):
            continue
        if name in values:
            kept = values[name]
            values[name] = [*kept, value] if isinstance(kept, list) else [kept, value]
        else:
            values[name] = value
    return values
