"""`create_app(settings)`: builds the container once and mounts the routes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from definitions import Catalog
from services.config import Settings
from services.container import build_container, utc_now
from services.entrypoints.api import access_log, docs, event_schemas, openapi, problems, server
from services.entrypoints.api.idempotency import IdempotencyMiddleware
from services.entrypoints.api.limits import BodyLimitMiddleware, InFlightLimit
from services.entrypoints.api.routes import (
    campaigns,
    contact_points,
    definitions,
    directory,
    imports,
    notifications,
    org_records,
    pledges,
    reports,
    self_evaluations,
)
from services.entrypoints.api.schemas import Health
from services.entrypoints.api.security_headers import SecurityHeadersMiddleware
from services.entrypoints.scheduler import Enforcer
from services.entrypoints.throttle import FailureThrottle
from services.entrypoints.web import render as web_render
from services.entrypoints.web import roster_page
from services.entrypoints.web import routes as web_routes
from services.entrypoints.web.page_errors import PageErrors
from services.entrypoints.web.session import session_options

log = logging.getLogger("pledgeflow.api")
READY_WAIT_S = 2


def create_app(settings: Settings | None = None, clock: Callable[[], dt.datetime] = utc_now) -> FastAPI:
    container = build_container(settings or Settings(), clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        # the pool has a connection for every request in flight, so threads never wait for one (db.make_engine)
        anyio.to_thread.current_default_thread_limiter().total_tokens = container.settings.threads
        enforcer = Enforcer(container) if container.settings.scheduler else None
        if enforcer:
            enforcer.start()
        app.state.enforcer = enforcer
        yield {server.HEAD_TIMEOUT: container.settings.request_timeout_s}  # read by the server's protocol
        if enforcer:
            enforcer.stop()
        container.db.dispose()

    app = FastAPI(
        title="Pledgeflow 公开承诺工作流",
        version="1.0",
        description="教育工委年度创先争优活动：党组织和党员公开承诺、自查总结评估报告的流程服务。",
        openapi_tags=openapi.TAGS,
        generate_unique_id_function=openapi.operation_id,
        lifespan=lifespan,
        docs_url=None,  # docs.install serves /docs without a CDN
        redoc_url=None,
    )
    app.state.container = container
    app.state.throttle = FailureThrottle(container.settings.auth_failures_per_minute)
    s = container.settings
    access_log.install()
    app.state.templates = web_render.templates(container.settings.timezone)
    app.add_middleware(IdempotencyMiddleware, container=container)
    app.add_middleware(SessionMiddleware, **session_options(container.secret))  # the pages' cookie
    app.add_middleware(InFlightLimit, max_in_flight=s.max_in_flight, max_waiting=s.max_waiting)
    uploads = {imports.PATH: s.max_upload_bytes, roster_page.PATH: s.max_upload_bytes}
    app.add_middleware(BodyLimitMiddleware, max_bytes=s.max_body_bytes, timeout_s=s.request_timeout_s, uploads=uploads)
    app.add_middleware(PageErrors)  # a browser's navigation gets the error page, never problem+json
    app.add_middleware(SecurityHeadersMiddleware, https=s.https)
    # outermost: behind one of PLEDGEFLOW_TRUSTED_PROXIES, the client and the scheme are those it forwards
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=s.trusted_proxies)
    problems.install(app)
    openapi.install(app)
    _describe_events(app, container.catalog)
    docs.install(app)
    for module in (
        directory,
        campaigns,
        pledges,
        self_evaluations,
        notifications,
        contact_points,
        definitions,
        reports,
        imports,
    ):
        app.include_router(module.router, responses=problems.RESPONSES)
    for router in org_records.routers:
        app.include_router(router, responses=problems.RESPONSES)
    app.include_router(web_routes.router)  # the pages for people (Chinese), beside the API
    app.mount("/static", StaticFiles(directory=web_render.STATIC), name="static")

    @app.get("/healthz", response_model=Health, tags=["health"], name="check", summary="服务运行状态")
    async def healthz() -> Health:
        """The process answers: on the event loop, with no thread, connection or limit in the way."""
        return Health(status="ok")

    probe = anyio.CapacityLimiter(2)  # its own threads: not queued behind the requests

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["health"],
        name="ready",
        summary="服务就绪状态（数据库可用）",
        responses={503: problems.RESPONSES[503]},
    )
    async def readyz(request: Request) -> Health | JSONResponse:
        """Ready when the database answers `SELECT 1` within two seconds; 503 otherwise."""
        with anyio.move_on_after(READY_WAIT_S):
            try:
                await anyio.to_thread.run_sync(_select_one, container.db, limiter=probe, abandon_on_cancel=True)
                return Health(status="ok")
            except problems.UNAVAILABLE as exc:
                log.warning("not ready: %s", type(exc).__name__)
        return problems.unavailable(request, "数据库暂时不可用")

    return app


def _select_one(db: sa.Engine) -> None:
    with db.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _describe_events(app: FastAPI, catalog: Catalog) -> None:
    """Every lifecycle's event body typed in /openapi.json (worked out once, on the first request)."""
    document_of = app.openapi

    def openapi() -> dict[str, Any]:
        document = document_of()
        if not app.state.__dict__.get("events_described"):
            event_schemas.install(document, catalog)
            app.state.events_described = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]
