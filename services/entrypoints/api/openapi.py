"""The OpenAPI document's identity for client generators: operation ids, tags, the package name."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

PACKAGE_NAME = "pledgeflow_client"
"""`info.x-package-name`: the ASCII name a generated client takes (`info.title` stays Chinese, for people)."""

TAGS: list[dict[str, Any]] = [
    {"name": "directory", "description": "党组织、人员、用户，以及当前登录者"},
    {"name": "imports", "description": "名册导入：模板下载、检查与导入（办公室）"},
    {"name": "campaigns", "description": "年度创先争优活动：时间安排和百分制考核标准"},
    {"name": "pledges", "description": "公开承诺：党组织和党员的承诺书、流程操作、践诺记录、领导点评"},
    {"name": "self_evaluations", "description": "自查总结评估报告：自评分、考核评分和流程操作"},
    {"name": "appraisal_rounds", "description": "党员群众评议：评议轮次、投票和结果"},
    {"name": "demo_sites", "description": "创先争优示范点：申报、评估、重点培养、推荐"},
    {"name": "rectifications", "description": "限期整改：下达、签收、报告、验收"},
    {"name": "notifications", "description": "消息：站内通知和 Webhook 推送"},
    {"name": "contact_points", "description": "联系点：教育工委领导联系的党组织"},
    {"name": "definitions", "description": "流程定义：各流程的状态、操作和流程图"},
    {"name": "reports", "description": "统计报表：各党组织的工作进展（JSON、Excel、CSV）"},
    {"name": "health", "description": "服务运行状态"},
]


def operation_id(route: APIRoute) -> str:
    """`{tag}_{route name}`, e.g. `pledges_fire_event`: no path, no method, stable while tag and name stay."""
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def install(app: FastAPI) -> None:
    """Adds `info.x-package-name` to the document /openapi.json serves."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = build_openapi()
        document["info"]["x-package-name"] = PACKAGE_NAME
        return document

    app.openapi = openapi  # type: ignore[method-assign]
