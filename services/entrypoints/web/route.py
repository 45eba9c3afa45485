"""The pages' route class: not signed in → /login; a refused POST → back to its page with the messages
beside its form and what was typed kept; a form posted twice is done once; a refused GET → the error
page in the site's layout."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from services.access import Actor
from services.container import Container
from services.entrypoints.web.render import error_page
from services.entrypoints.web.session import (
    SESSION_KEY,
    CsrfRejected,
    SignInRequired,
    back_to,
    checked_form,
    flash,
    resolve,
    session_hash,
    typed,
)
from services.errors import Invalid, ServiceError, problem_of
from services.persistence import idempotency
from workflow import WorkflowError


class WebRoute(APIRoute):
    """Pages: not signed in → /login; a refused POST → back to its page, the messages beside its form
    and what was typed kept; a form posted twice (a double click, a reload) is done once; a refused
    GET → the error page in the site's layout."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                if request.method == "POST":
                    return await once(request, handler)
                return await handler(request)
            except SignInRequired:
                request.session.pop(SESSION_KEY, None)
                return RedirectResponse("/login", status_code=303)
            except CsrfRejected:
                stale = "页面已过期或来源不明（CSRF 校验失败），请返回刷新后重试。"
                return error_page(request, 403, stale, await who(request))
            except (ServiceError, WorkflowError) as exc:
                found = problem_of(exc)
                if request.method != "POST":
                    return error_page(request, found.status, "；".join(found.messages), await who(request))
                form = await request.form()
                field = exc.field if isinstance(exc, Invalid) else None
                await anyio.to_thread.run_sync(
                    lambda: flash(
                        request, str(form.get("form", "")), *found.messages, ok=False, field=field, values=typed(form)
                    )
                )
                return RedirectResponse(back_to(form), status_code=303)

        return route


REPEAT_WAIT_S = 10


async def once(request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]) -> Response:
    """A form carries a one-time token (`once`, a new one each time a page is drawn): its first post
    is done and its answer kept (the same table as the API's Idempotency-Key); a repeat is answered
    with that kept answer, after waiting for the first to finish, and saves nothing again."""
    form = await checked_form(request)  # before anything is written
    token, key_hash = str(form.get("once", "")), session_hash(request)
    if not token or key_hash is None or len(token) > 200:
        return await handler(request)
    container: Container = request.app.state.container
    db, route = container.db, request.url.path[:300]
    outcome, row = await anyio.to_thread.run_sync(idempotency.claim, db, container.clock(), key_hash, route, token, "")
    if outcome == "new":
        location = ""
        try:
            answer = await handler(request)
            if answer.status_code == 303:
                location = answer.headers.get("location", "/")
            return answer
        finally:  # a refusal (raised) or anything but a redirect forgets the claim: the form may be sent again
            await anyio.to_thread.run_sync(
                idempotency.finish, db, row, 303, b"", {"location": location}, bool(location)
            )
    with anyio.move_on_after(REPEAT_WAIT_S):
        while row is not None and row.status is None:
            await anyio.sleep(0.1)
            row = await anyio.to_thread.run_sync(idempotency.answer, db, row.id)
    went = row.headers.get("location") if row is not None and row.status else None
    return RedirectResponse(went or back_to(form), status_code=303)


async def who(request: Request) -> Actor | None:
    """Who is signed in, for the error page's menu (read in a thread: it is a query)."""
    return await anyio.to_thread.run_sync(resolve, request, request.app.state.container)
