"""Templates and what every page shows: who is signed in, their menu, the CSRF token, the last message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from definitions.vocabulary import Channel, Grade, Outcome
from services.access import Actor
from services.entrypoints.web.session import csrf_token

HERE = Path(__file__).parent
STATIC = HERE / "static"
MENU = (
    ("member", "/me", "我的承诺"),
    ("secretary", "/branch", "支部工作台"),
    ("supervisor", "/supervisor", "教育工委"),
    ("office", "/office", "创先争优办公室"),
    ("appraiser", "/ballot", "评议投票"),
)


def menu(actor: Actor) -> list[tuple[str, str]]:
    roles = {r for r, _ in actor.grants}
    if actor.secretary_orgs or actor.person_id is not None:
        roles.add("member")
    return [(href, label) for role, href, label in MENU if role in roles]


def countdown(due: dt.datetime, now: dt.datetime) -> Markup:
    """Days and hours left (or past), written server-side; static/app.js keeps it current."""
    seconds = int((due - now).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    text = f"{'还剩' if seconds >= 0 else '已逾期'} {days} 天 {rest // 3600} 小时"
    css = "countdown" if seconds >= 0 else "countdown late"
    return Markup('<span class="{}" data-due="{}">{}</span>').format(css, due.isoformat(), text)


def templates(timezone: str) -> Jinja2Templates:
    """The pages' templates, built once by `create_app`: times shown in the service's time zone,
    the vocabularies' Chinese labels for every select and cell."""
    zone = ZoneInfo(timezone)

    def local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else ""

    built = Jinja2Templates(directory=HERE / "templates")
    built.env.filters["local"] = local
    built.env.globals.update(
        CHANNELS=Channel.labels(), GRADES=Grade.labels(), OUTCOMES=Outcome.labels(), countdown=countdown
    )
    return built


def page(request: Request, name: str, actor: Actor | None, status: int = 200, **context: Any) -> Response:
    flash = request.session.pop("flash", None)
    base = {
        "actor": actor,
        "menu": menu(actor) if actor else [],
        "csrf": csrf_token(request),
        "flash": flash or {},
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    built: Jinja2Templates = request.app.state.templates
    return built.TemplateResponse(request, name, base | context, status_code=status)
