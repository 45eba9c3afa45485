"""A client other programs can generate (issue 15): openapi-python-client over the running app's
/openapi.json with the repository's config, then a member's pledge and a self-evaluation driven
through that client alone. Everything it needs is installed with the dev tools: nothing is
downloaded while the test runs."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Served
from tests.county import GOOD_ITEMS, PUBLISH, REPORT, TODAY, YEAR, County

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "openapi-python-client.yaml"


class Generated:
    """The generated package, imported from a temp dir; endpoints are called by operation id."""

    def __init__(self, package: str, url: str, tags: dict[str, str]) -> None:
        self.package, self.url, self.tags = package, url, tags
        self.models = importlib.import_module(f"{package}.models")

    def call(self, token: str, operation_id: str, expect: int, **kwargs: Any) -> Any:
        """One request through the generated endpoint function; its parsed answer, once the status is checked."""
        endpoint = importlib.import_module(f"{self.package}.api.{self.tags[operation_id]}.{operation_id}")
        client = importlib.import_module(self.package).AuthenticatedClient(base_url=self.url, token=token)
        with client as c:
            answer = endpoint.sync_detailed(client=c, **kwargs)
        assert answer.status_code == expect, answer.content.decode()
        return answer.parsed


def event_body(gen: Generated, lifecycle: str, event: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    """The body the generated client takes for `event` on a `lifecycle` record: the event's own model
    (e.g. `PledgePublishEvent`), whose `data` is typed by the event's payload model."""
    name = "".join(part.capitalize() for part in f"{lifecycle}_{event}".split("_")) + "Event"
    return getattr(gen.models, name).from_dict(
        {"event": event, **extra, **({"data": data} if data is not None else {})}
    )


def generate(url: str, into: Path) -> str:
    """Runs the generator as the README shows, in `into`; returns what it printed."""
    bin_dir = Path(sys.executable).parent  # the dev tools' venv: the generator and the ruff its hooks call
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [bin_dir / "openapi-python-client", "generate", "--url", f"{url}/openapi.json"]
    command += ["--config", CONFIG, "--meta", "none"]
    run = subprocess.run(command, cwd=into, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


@pytest.fixture
def gen(served: Served, tmp_path: Path) -> Iterator[Generated]:
    document = httpx.get(f"{served.url}/openapi.json", timeout=60).json()
    package = document["info"]["x-package-name"]
    printed = generate(served.url, tmp_path)
    # The package is named by the document, and the generator says nothing else: no warning, no skipped part.
    assert printed.splitlines() == [f"Generating {tmp_path / package}"], f"the generator warned:\n{printed}"
    tags = {op["operationId"]: op["tags"][0] for ops in document["paths"].values() for op in ops.values()}
    sys.path.insert(0, str(tmp_path))
    try:
        yield Generated(package, served.url, tags)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[name]


def test_a_member_pledge_from_create_to_appraise(county: County, gen: Generated) -> None:
    m1, sec = county.tokens["m1"], county.tokens["sec_a"]
    m = gen.models

    def fire(token: str, pledge: Any, event: str, expect: int = 200, **body: Any) -> Any:
        return gen.call(
            token, "pledges_fire_event", expect, pledge_id=pledge.id, body=event_body(gen, "pledge", event, **body)
        )

    items = [m.Item.from_dict(item) for item in GOOD_ITEMS]
    pledge = gen.call(
        m1, "pledges_create", 201, body=m.CreatePledge(year=YEAR, person_id=county.people["m1"], items=items)
    )
    assert isinstance(pledge, m.PledgeOut) and pledge.state == "proposing" and pledge.allowed_events == ["submit"]
    assert [i.due_date for i in pledge.items] == [None, dt.date(2030, 12, 20)]
    assert fire(m1, pledge, "submit").state == "reviewing"
    current = gen.call(sec, "pledges_read", 200, pledge_id=pledge.id)
    approved = gen.call(
        sec,
        "pledges_fire_event",
        200,
        pledge_id=pledge.id,
        body=event_body(gen, "pledge", "approve"),
        if_match=f'"{current.version}"',
    )
    assert approved.state == "publicizing" and approved.state_label == "公开承诺"

    refused = fire(sec, pledge, "publish", 422, data={"channel": "wechat"})
    assert isinstance(refused, m.Problem) and refused.type_.endswith("/guard-failed") and refused.status == 422
    assert {g.name for g in refused.failed_guards} == {"channel_valid", "published_on_given"}
    assert all(g.message for g in refused.failed_guards) and refused.detail
    assert gen.call(sec, "pledges_read", 200, pledge_id=pledge.id).state == "publicizing"

    assert fire(sec, pledge, "publish", data=PUBLISH).state == "practising"
    note = m.AddProgress(item=pledge.items[0].id, note="参加集体备课8次", happened_on=TODAY.date())
    progress = gen.call(m1, "pledges_add_progress", 201, pledge_id=pledge.id, body=note)
    assert progress.item_id == pledge.items[0].id and progress.happened_on == TODAY.date()
    assert fire(m1, pledge, "request_appraisal").state == "appraising"
    comment = m.AddComment(achievements="备课认真", problems="家访记录不全", direction="坚持家访")
    assert gen.call(sec, "pledges_add_comment", 201, pledge_id=pledge.id, body=comment).author_role == "secretary"
    outcomes = [{"item": pledge.items[0].id, "outcome": "done"}, {"item": pledge.items[1].id, "outcome": "partial"}]
    closed = fire(sec, pledge, "appraise", data={"grade": "good", "outcomes": outcomes})
    assert closed.state == "closed" and closed.allowed_events == []
    assert [i.outcome for i in closed.items] == ["done", "partial"]

    history = gen.call(m1, "pledges_history", 200, pledge_id=pledge.id)
    assert [h.event for h in history] == ["create", "submit", "approve", "publish", "request_appraisal", "appraise"]
    assert [c.direction for c in gen.call(m1, "pledges_list_comments", 200, pledge_id=pledge.id)] == ["坚持家访"]


def test_a_self_evaluation_from_start_to_assess(county: County, gen: Generated) -> None:
    sec, office, sup = county.tokens["sec_a"], county.tokens["office"], county.tokens["supervisor"]
    m = gen.models

    def fire(token: str, evaluation: Any, event: str, **body: Any) -> Any:
        body_in = event_body(gen, "self_evaluation", event, **body)
        return gen.call(token, "self_evaluations_fire_event", 200, evaluation_id=evaluation.id, body=body_in)

    def scores(token: str, evaluation: Any, kind: str, items: list[dict[str, Any]]) -> Any:
        body = m.PutScores.from_dict({"kind": kind, "items": items})
        return gen.call(token, "self_evaluations_put_scores", 200, evaluation_id=evaluation.id, body=body)

    body = m.CreateSelfEvaluation(year=YEAR, org_id=county.orgs["a"])
    evaluation = gen.call(sec, "self_evaluations_create", 201, body=body)
    assert isinstance(evaluation, m.SelfEvaluationOut) and evaluation.state == "not_started"
    assert fire(sec, evaluation, "start").state == "self_checking"
    sheet = gen.call(sec, "campaigns_read_scorecard", 200, year=YEAR)
    assert isinstance(sheet, m.ScorecardOut) and sheet.total == 100
    codes = [(item.code, item.max_points) for area in sheet.areas for item in area.items]

    own = scores(sec, evaluation, "self", [{"code": c, "points": top} for c, top in codes])
    assert own.self_score == 100 and own.self_band.label_zh == "优秀"
    data = {"report": REPORT, "meeting_held_on": "2030-11-05", "questionnaires": 40}
    assert fire(sec, evaluation, "submit", data=data).state == "submitted"
    assert fire(office, evaluation, "accept").state == "under_assessment"
    assessed = [
        {"code": c, "points": top - 2 if n < 6 else top, "method": "documents"} for n, (c, top) in enumerate(codes)
    ]
    assert scores(sup, evaluation, "assessed", assessed).assessed_score == 88
    done = fire(sup, evaluation, "assess")
    assert done.state == "assessed" and done.band.code == "good" and done.band.label_zh == "良好"
    history = gen.call(office, "self_evaluations_history", 200, evaluation_id=evaluation.id)
    assert [(h.event, h.actor.role) for h in history] == [
        ("create", "secretary"),
        ("start", "secretary"),
        ("submit", "secretary"),
        ("accept", "office"),
        ("assess", "supervisor"),
    ]
