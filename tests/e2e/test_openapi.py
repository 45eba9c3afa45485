"""The OpenAPI document as client generators read it (issue 15): names, tags, named answers, identity."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import Served

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "openapi-python-client.yaml"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SNAKE = re.compile(r"^[a-z]+(_[a-z]+)*$")
FILES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/csv; charset=utf-8",
    "image/svg+xml",
    "text/plain",
}
"""The media types of the file downloads (xlsx, csv, the diagram as SVG or Mermaid text)."""


@pytest.fixture
def document(served: Served) -> dict[str, Any]:
    return dict(httpx.get(f"{served.url}/openapi.json", timeout=60).json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_operation_ids_are_tag_and_name_without_path_or_method(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    for method, path, op in operations(document):
        op_id, tag = op["operationId"], op["tags"][0]
        params = re.findall(r"{(\w+)}", path)
        assert SNAKE.match(op_id) and op_id.startswith(f"{tag}_"), op_id
        assert "api_v1" not in op_id and not op_id.endswith(f"_{method}"), op_id
        assert not any(p in op_id for p in params), op_id
    assert {"pledges_fire_event", "self_evaluations_put_scores", "health_check"} <= set(ids)
    for kind in ("appraisal_rounds", "demo_sites", "rectifications"):
        assert {f"{kind}_{name}" for name in ("create", "list", "read", "fire_event", "history")} <= set(ids)


def test_tags_are_codes_described_in_chinese(document: dict[str, Any]) -> None:
    described = {t["name"]: t["description"] for t in document["tags"]}
    used = {tag for _, _, op in operations(document) for tag in op["tags"]}
    assert used == set(described)
    assert all(SNAKE.match(name) and CHINESE.search(text) for name, text in described.items()), described


def test_every_success_answer_has_a_named_schema(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        assert CHINESE.search(op["summary"]), (method, path, op["summary"])
        for status, answer in op["responses"].items():
            if not status.startswith("2"):
                continue
            if status == "204":  # No Content: nothing to name
                assert "content" not in answer, (method, path)
                continue
            for media, body in answer["content"].items():
                schema = body["schema"]
                if media == "application/json":
                    named = schema.get("$ref") or schema.get("items", {}).get("$ref")
                    assert named, (method, path, schema)
                else:
                    assert media in FILES and schema["type"] == "string", (method, path, media)


def test_identity_for_generators_beside_a_chinese_title(document: dict[str, Any]) -> None:
    info = document["info"]
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert CHINESE.search(info["title"])
    assert info["x-package-name"] == config["package_name_override"] == "pledgeflow_client"
    assert config["project_name_override"] == "pledgeflow-client"
