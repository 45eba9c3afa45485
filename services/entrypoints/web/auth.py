"""Sign-in with a token, sign-out, and the home page that sends each person to their own page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.entrypoints.deps import ContainerDep
from services.entrypoints.throttle import FailureThrottle
from services.entrypoints.throttle import detail as throttle_detail
from services.entrypoints.web.render import menu, page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, resolve, sign_in, sign_out

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HOME_ORDER = ("/office", "/supervisor", "/branch", "/ballot", "/me")
"""Whose page a person with several roles lands on first: the widest view."""


@router.get("/")
def home(request: Request, c: ContainerDep) -> Response:
    actor = resolve(request, c)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    pages = [href for href, _ in menu(actor)]
    first = next((href for href in HOME_ORDER if href in pages), "/login")
    return RedirectResponse(first, status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", None)


@router.post("/login")
def login(request: Request, form: CheckedForm, c: ContainerDep) -> Response:
    throttle: FailureThrottle = request.app.state.throttle
    if wait := throttle.retry_after(request):
        refusal = {"form": "login", "ok": False, "messages": [throttle_detail(wait)]}
        answer = page(request, "login.html", None, status=429, flash=refusal)
        answer.headers["Retry-After"] = str(wait)
        return answer
    token = str(form.get("token", "")).strip()
    refused = sign_in(request, c, token) if token else "请输入令牌"
    if refused:
        throttle.failed(request)
        return page(
            request, "login.html", None, status=401, flash={"form": "login", "ok": False, "messages": [refused]}
        )
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, form: CheckedForm, actor: WebActor, c: ContainerDep) -> Response:
    sign_out(request, c)
    return RedirectResponse("/login", status_code=303)
