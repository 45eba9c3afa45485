"""Pages for the records that follow an org's own lifecycle (services/usecases/org_kinds.py): an appraisal
round with its results once closed, a demo site from nomination to 推荐至县, a rectification order with its
problems and due date. Each record's events are forms drawn from the event's payload model, so a page
asks for exactly what the API takes and both refuse the same input with the same message."""

from __future__ import annotations

import datetime as dt
import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import MaxLen
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel
from starlette.datastructures import FormData

from definitions.vocabulary import Coded
from services.entrypoints.deps import ContainerDep, Now
from services.entrypoints.web.forms import filled, text
from services.entrypoints.web.render import page
from services.entrypoints.web.route import WebRoute
from services.entrypoints.web.session import CheckedForm, WebActor, back_to, flash
from services.errors import Forbidden, NotFound
from services.lifecycle import store
from services.persistence.uow import UnitOfWork
from services.queries import diagrams
from services.usecases import appraisals, events
from services.usecases.commands import FireEvent
from services.usecases.event_data import EVENT_DATA
from services.usecases.fields import parse
from services.usecases.org_kinds import STARTS, own_labels

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
LONG_TEXT = 200
"""A text field allowed more characters than this is a text area."""


@dataclass(frozen=True)
class Widget:
    """One field of an event's payload as a form shows it."""

    name: str
    label: str
    kind: str
    """text | textarea | date | number | choice | choices"""
    choices: dict[str, str] = field(default_factory=dict)


def widgets(model: type[BaseModel]) -> list[Widget]:
    out = []
    for name, f in model.model_fields.items():
        vocabulary, many = _vocabulary(f.annotation), _is_list(f.annotation)
        if vocabulary is not None:
            kind, choices = ("choices" if many else "choice"), vocabulary.labels()
        else:
            kind, choices = _plain_kind(f.annotation, f.metadata), {}
        out.append(Widget(name, f.title or name, kind, choices))
    return out


def _args(annotation: Any) -> list[Any]:
    """The annotation and everything inside it (Optional, list, Annotated), depth first."""
    found = [annotation]
    if get_origin(annotation) in (Union, types.UnionType, list, Annotated):
        for arg in get_args(annotation):
            found += _args(arg)
    return found


def _vocabulary(annotation: Any) -> type[Coded] | None:
    for arg in _args(annotation):
        if get_origin(arg) is Annotated:
            for meta in arg.__metadata__:
                if isinstance(meta, type) and issubclass(meta, Coded):
                    return meta
    return None


def _is_list(annotation: Any) -> bool:
    return any(get_origin(arg) is list for arg in _args(annotation))


def _plain_kind(annotation: Any, metadata: list[Any]) -> str:
    found = _args(annotation)
    if dt.date in found:
        return "date"
    if int in found:
        return "number"
    longest = max((m.max_length for m in metadata if isinstance(m, MaxLen)), default=0)
    return "textarea" if longest > LONG_TEXT else "text"


def event_forms(lifecycle: Any, kind: str, allowed: list[str]) -> list[dict[str, Any]]:
    """Each event the caller may fire now: its label, its fields, whether it needs a reason, and the
    question asked before one that cannot be undone (it ends the record)."""
    out = []
    for name in allowed:
        event = lifecycle.event(name)
        final = lifecycle.state(event.dest).final
        question = f"「{event.label_zh}」后不能撤销。确定吗？" if final else None
        needs_reason = "reason_given" in event.guards
        form = {"name": name, "label": event.label_zh, "reason": needs_reason, "confirm": question}
        out.append(form | {"fields": widgets(EVENT_DATA[kind][name])})
    return out


def data_shown(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """What the record's events recorded (`data` keeps each event's payload under the event's name), by
    each field's Chinese label and, for codes, their labels."""
    shown = []
    for event, payload in data.items():
        model = EVENT_DATA[kind].get(event)
        if model is None or not isinstance(payload, dict):
            continue
        for w in widgets(model):
            value = payload.get(w.name)
            if value in (None, "", []):
                continue
            values = value if isinstance(value, list) else [value]
            shown.append((w.label, "、".join(w.choices.get(str(v), str(v)) for v in values)))
    return shown


def _kind(lifecycle: str) -> str:
    if lifecycle not in STARTS:
        raise NotFound("页面不存在")
    return lifecycle


@router.get("/records/{lifecycle}/{record_id}")
def record_page(
    request: Request, lifecycle: str, record_id: RecordId, c: ContainerDep, actor: WebActor, now: Now
) -> Response:
    kind, engine = _kind(lifecycle), c.engines[lifecycle]
    with UnitOfWork(c.db, write=False) as uow:
        s = uow.session
        loaded = store.load(s, c.lifecycles.kinds[kind], actor, record_id)
        view = events.views(s, c.lifecycles, [loaded], now)[0]
        history = events.record_history(s, c.lifecycles, actor, kind, record_id)
        results = None
        if kind == appraisals.LIFECYCLE and view["state"] == "closed":
            try:
                results = appraisals.results(
                    s, c.catalog.rating_scale, actor, record_id, c.settings.basic_counts_as_satisfied
                )
            except Forbidden:
                results = None
    return page(
        request,
        "record.html",
        actor,
        r=view,
        kind_label=c.lifecycles.kinds[kind].label_zh,
        lifecycle=kind,
        own=[(label, view.get(name)) for name, label in own_labels(kind).items()],
        data=data_shown(kind, view["data"]),
        forms=event_forms(engine.lifecycle, kind, view["allowed_events"]),
        history=history,
        results=results,
        ratings=c.catalog.rating_scale.ratings,
        labels={d.name: d.label_zh for d in engine.lifecycle.deadlines},
        diagram=Markup(diagrams.svg(engine.lifecycle, view["state"])),
        now=now,
    )


def event_body(form: FormData, kind: str) -> FireEvent:
    """The posted form as the API's event body: its payload model's fields under `data`."""
    event = text(form, "event")
    body: dict[str, Any] = filled(form, "event", "reason")
    model = EVENT_DATA[kind].get(event)
    data: dict[str, Any] = {}
    for w in widgets(model) if model else []:
        if w.kind == "choices":
            if picked := [str(v) for v in form.getlist(w.name) if str(v)]:
                data[w.name] = picked
        else:
            data |= filled(form, w.name)
    if data:
        body["data"] = data
    return parse(FireEvent, body)


@router.post("/records/{lifecycle}/{record_id}/events")
def fire(
    request: Request,
    lifecycle: str,
    record_id: RecordId,
    form: CheckedForm,
    c: ContainerDep,
    actor: WebActor,
    now: Now,
) -> Response:
    kind = _kind(lifecycle)
    cmd = event_body(form, kind)
    with UnitOfWork(c.db) as uow:
        events.fire_event(uow, c.lifecycles, actor, kind, record_id, cmd, None, now)
    label = c.engines[kind].lifecycle.event(cmd.event)
    flash(request, text(form, "form"), f"已{label.label_zh if label else '完成'}")
    return RedirectResponse(back_to(form), status_code=303)


@router.post("/records/{lifecycle}")
def start(request: Request, lifecycle: str, form: CheckedForm, c: ContainerDep, actor: WebActor, now: Now) -> Response:
    """A new record: a demo site nominated by its branch, a rectification order issued by the office."""
    kind = _kind(lifecycle)
    started = STARTS[kind]
    names = list(started.command.model_fields)
    cmd = parse(started.command, filled(form, *names))
    with UnitOfWork(c.db) as uow:
        record_id = started.start(uow, c.lifecycles, actor, cmd, now)
    flash(request, "record", f"已建立{c.lifecycles.kinds[kind].label_zh}")
    return RedirectResponse(f"/records/{kind}/{record_id}", status_code=303)
