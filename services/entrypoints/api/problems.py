"""RFC 9457 problem+json answers: one handler per domain error, Chinese details."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from services.entrypoints.api.schemas import STATE_CODE
from services.errors import ServiceError
from services.usecases.pledges import PLAIN_TEXT
from workflow import GuardRejected, RoleForbidden, TransitionNotAllowed

MEDIA_TYPE = "application/problem+json"
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
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": TITLES[slug],
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, slug in ERROR_STATUSES.items()
}
"""The error answers every API route may give, declared in the OpenAPI document (all problem+json)."""

STATUS = {"not-found": 404, "precondition-failed": 412, "conflict": 409, "forbidden": 403, "validation-error": 422}

PYDANTIC_ZH = {
    "missing": "必填",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "too_long": "过多（最多 {max_length} 项）",
    "too_short": "过少（至少 {min_length} 项）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "literal_error": "应为以下之一：{expected}",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "string_type": "应为文本",
    "bool_parsing": "应为 true 或 false",
    "value_error": "{error}",
    "string_pattern_mismatch": "格式不正确",
    "url_too_long": "过长（最多 {max_length} 个字符）",
    "finite_number": "应为有限的数字",
}
PATTERN_ZH = {PLAIN_TEXT: "不能包含控制字符（如 \\x00）", STATE_CODE: "应为状态代码（小写字母和下划线）"}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") in PATTERN_ZH:
        return PATTERN_ZH[err["ctx"]["pattern"]]
    template = PYDANTIC_ZH.get(err["type"])
    if template is None:
        return str(err.get("msg", "无效"))
    try:
        return template.format(**err.get("ctx", {}))
    except (KeyError, IndexError):
        return template


def install(app: FastAPI) -> None:
    """The handlers below, and the `Problem` schema that `RESPONSES` refers to in /openapi.json."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = build_openapi()
        document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(STATUS.get(exc.slug, 400), exc.slug, exc.detail, request, **exc.extra)

    @app.exception_handler(TransitionNotAllowed)
    async def not_allowed(request: Request, exc: TransitionNotAllowed) -> JSONResponse:
        detail = (
            f"当前状态（{exc.state}）下不能执行“{exc.event}”；可执行的操作：{'、'.join(exc.allowed_events) or '无'}"
        )
        return problem(
            409,
            "transition-not-allowed",
            detail,
            request,
            event=exc.event,
            state=exc.state,
            allowed_events=exc.allowed_events,
        )

    @app.exception_handler(RoleForbidden)
    async def forbidden(request: Request, exc: RoleForbidden) -> JSONResponse:
        detail = exc.reason_zh or f"您的角色不能执行“{exc.event}”；需要：{'、'.join(exc.roles)}"
        return problem(403, "forbidden", detail, request, event=exc.event, required_roles=exc.roles)

    @app.exception_handler(GuardRejected)
    async def guard_failed(request: Request, exc: GuardRejected) -> JSONResponse:
        failed = [{"name": f.name, "message": f.message} for f in exc.failures]
        detail = "；".join(f.message for f in exc.failures)
        return problem(422, "guard-failed", detail, request, event=exc.event, failed_guards=failed)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            # a body that is not JSON at all is located by a character offset: name the body instead
            {"field": "body" if e["type"] == "json_invalid" else _field(tuple(e["loc"])), "message": _message(e)}
            for e in exc.errors()
        ]
        detail = "；".join(f"{e['field']}：{e['message']}" for e in errors)
        return problem(422, "validation-error", detail, request, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body at all (e.g. bytes that are not UTF-8)
            errors = [{"field": "body", "message": "不是有效的 JSON（须为 UTF-8 编码）"}]
            return problem(422, "validation-error", "body：不是有效的 JSON（须为 UTF-8 编码）", request, errors=errors)
        slug = {401: "unauthorized", 404: "not-found", 405: "http-error"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else "请求的资源不存在"
        if exc.status_code == 405:
            detail = "不支持此请求方法"
        return problem(exc.status_code, slug, detail, request)
