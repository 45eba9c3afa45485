"""Signed-cookie sessions for the pages: the session secret, who is signed in, CSRF, and the route
class that turns a refusal into a message shown next to the form that caused it."""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from services.access import Actor, hash_token
from services.container import Container
from services.entrypoints.deps import ContainerDep, caller
from services.errors import Invalid, ServiceError, problem_of
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


def sign_in(request: Request, token: str) -> None:
    """A fresh session (no fixation): only the token's hash is kept in it."""
    request.session.clear()
    request.session["t"] = hash_token(token)
    csrf_token(request)


def resolve(container: Container, token_hash: str | None) -> Actor | None:
    return caller(container, token_hash) if token_hash else None


def web_actor(request: Request, container: ContainerDep) -> Actor:
    actor = resolve(container, request.session.get("t"))
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


def flash(request: Request, form_id: str, text: str, ok: bool = True, field: str | None = None) -> None:
    request.session["flash"] = {"form": form_id, "ok": ok, "messages": [text] if ok else [], "field": field}


class WebRoute(APIRoute):
    """Pages: not signed in → /login; a refused POST → back to its page, messages beside its form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                request.session.pop("t", None)
                return RedirectResponse("/login", status_code=303)
            except CsrfRejected:
                return HTMLResponse(
                    "<p lang='zh-CN'>页面已过期或来源不明（CSRF 校验失败），请返回刷新后重试。</p>", 403
                )
            except (ServiceError, WorkflowError) as exc:
                if request.method != "POST":
                    text = messages(exc)[0]
                    return HTMLResponse(f"<p lang='zh-CN'>{html.escape(text)}</p>", problem_of(exc).status)
                form = await request.form()
                request.session["flash"] = {
                    "form": str(form.get("form", "")),
                    "ok": False,
                    "messages": messages(exc),
                    "field": exc.field if isinstance(exc, Invalid) else None,
                }
                return RedirectResponse(back_to(form), status_code=303)

        return route
