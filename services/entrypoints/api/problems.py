"""RFC 9457 problem+json answers: one handler per domain error, Chinese details."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from services.errors import ServiceError, problem_of
from services.usecases import fields
from workflow import WorkflowError

log = logging.getLogger("pledgeflow.api")
MEDIA_TYPE = "application/problem+json"
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, TimeoutError)
"""The database unreachable, read-only or out of connections, or no turn to write in time: worth a retry."""
RETRY_AFTER_S = 5
TITLES = {
    "not-found": "记录不存在",
    "precondition-failed": "版本已变化",
    "conflict": "冲突",
    "forbidden": "无权操作",
    "validation-error": "输入有误",
    "transition-not-allowed": "当前状态下不能进行此操作",
    "guard-failed": "条件未满足",
    "unauthorized": "未登录或令牌无效",
    "http-error": "请求错误",
    "payload-too-large": "请求体过大",
    "request-timeout": "请求超时",
    "service-unavailable": "服务暂时不可用",
    "too-many-requests": "请求过于频繁",
}


def problem(status: int, slug: str, detail: str, request: Request, **extra: Any) -> JSONResponse:
    body = {
        "type": f"/problems/{slug}",
        "title": TITLES.get(slug, slug),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def unavailable(request: Request, detail: str) -> JSONResponse:
    """503 with `Retry-After`: the database is gone or busy, try again shortly."""
    answer = problem(503, "service-unavailable", detail, request)
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 问题详情：`detail` 为中文说明；其余字段随 `type` 而定。",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "allowed_events": {"type": "array", "items": {"type": "string"}},
        "failed_guards": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "message"],
                "properties": {"name": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
ERROR_STATUSES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    422: "validation-error",
    503: "service-unavailable",
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": TITLES[slug],
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, slug in ERROR_STATUSES.items()
}
"""The error answers every API route may give, declared in the OpenAPI document (all problem+json)."""


def _body_model(request: Request) -> type[BaseModel] | None:
    """The model the route reads its JSON body as, for naming refused fields by their labels."""
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _param_title(request: Request, part: str, name: Any) -> str | None:
    """A query, path or header parameter's Chinese title, as the route declares it."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    params = getattr(dependant, f"{part}_params", []) if dependant is not None else []
    found = next((p for p in params if p.name == name or p.alias == name), None)
    return found.field_info.title if found is not None else None


def _located(err: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """Where FastAPI found the error: `body`, `query`, `path` or `header`, and the field within it."""
    loc = tuple(err["loc"])
    return (str(loc[0]), loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else ("body", loc)


def install(app: FastAPI) -> None:
    """The handlers below, and the `Problem` schema that `RESPONSES` refers to in /openapi.json."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = build_openapi()
        document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(ServiceError)
    @app.exception_handler(WorkflowError)
    async def refused(request: Request, exc: ServiceError | WorkflowError) -> JSONResponse:
        found = problem_of(exc)
        return problem(found.status, found.slug, found.detail, request, **found.extra)

    async def database_gone(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return unavailable(request, "数据库暂时不可用，请稍后重试")

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, database_gone)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        model, errors = _body_model(request), []
        for e in exc.errors():
            part, loc = _located(e)
            if e["type"] == "json_invalid":  # located by a character offset: name the body instead
                errors.append({"field": "body", "message": "请求体不是有效的 JSON"})
            elif part == "body":
                errors.append({"field": fields.dotted(loc), "message": fields.message_of(model, e, loc)})
            else:
                title = _param_title(request, part, loc[0]) if loc else None
                message = fields.message_of(None, e, loc)
                if title and message.startswith(f"{loc[0]}："):
                    message = title + message[len(str(loc[0])) :]
                errors.append({"field": fields.dotted(loc), "message": message})
        return problem(422, "validation-error", "；".join(e["message"] for e in errors), request, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body at all (e.g. bytes that are not UTF-8)
            errors = [{"field": "body", "message": "请求体不是有效的 JSON（须为 UTF-8 编码）"}]
            return problem(422, "validation-error", errors[0]["message"], request, errors=errors)
        slug = {401: "unauthorized", 404: "not-found", 405: "http-error", 429: "too-many-requests"}.get(
            exc.status_code, "http-error"
        )
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else "请求的资源不存在"
        if exc.status_code == 405:
            detail = "不支持此请求方法"
        answer = problem(exc.status_code, slug, detail, request)
        answer.headers.update(exc.headers or {})  # Retry-After of a 429
        return answer
