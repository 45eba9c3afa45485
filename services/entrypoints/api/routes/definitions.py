"""Definition routes: the lifecycles as data, and as a Mermaid or SVG diagram."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from services.entrypoints.api.definition_schemas import LifecycleOut, LifecycleSummary
from services.entrypoints.deps import ContainerDep
from services.errors import Invalid, NotFound
from services.queries import diagrams

router = APIRouter(prefix="/api/v1/definitions", tags=["definitions"])


def _lifecycle(c: ContainerDep, name: str) -> Any:
    if name not in c.catalog.lifecycles:
        raise NotFound(f"没有名为 {name} 的流程定义")
    return c.catalog.lifecycles[name]


@router.get("", response_model=list[LifecycleSummary], name="list", summary="流程定义列表")
def list_definitions(c: ContainerDep) -> list[dict[str, Any]]:
    return [{"name": lc.name, "label_zh": lc.label_zh, "label_en": lc.label_en} for lc in c.catalog.lifecycles.values()]


@router.get("/{name}", response_model=LifecycleOut, name="read", summary="流程定义")
def get_definition(name: str, c: ContainerDep) -> dict[str, Any]:
    return dict(_lifecycle(c, name).model_dump())


@router.get(
    "/{name}/diagram",
    response_class=Response,
    name="diagram",
    summary="流程图",
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
            "description": "流程图（SVG，或 Mermaid 文本）",
        }
    },
)
def diagram(
    name: str,
    c: ContainerDep,
    format: Annotated[Literal["svg", "mermaid"], Query(title="图的格式")] = "svg",
    state: Annotated[str | None, Query(max_length=30, title="标出的环节")] = None,
) -> Response:
    lc = _lifecycle(c, name)
    if state is not None and state not in {st.code for st in lc.states}:
        raise Invalid("state", f"{name} 流程中没有状态 {state}")
    if format == "mermaid":
        return Response(diagrams.mermaid(lc, state), media_type="text/plain; charset=utf-8")
    return Response(diagrams.svg(lc, state), media_type="image/svg+xml")
