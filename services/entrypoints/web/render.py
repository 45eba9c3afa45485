"""Templates and what every page shows: who is signed in, their menu, the CSRF token, the last message."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from definitions.vocabulary import CalendarPolicy, Channel, Grade, Outcome
from services.access import Actor
from services.entrypoints.web import views
from services.entrypoints.web.session import csrf_token, take_flash
from services.persistence.uow import UnitOfWork
from services.usecases import inbox

HERE = Path(__file__).parent
STATIC = HERE / "static"
MENU = (
    ("member", "/me", "我的承诺"),
    ("secretary", "/branch", "支部工作台"),
    ("supervisor", "/supervisor", "教育工委"),
    ("office", "/office", "创先争优办公室"),
    ("appraiser", "/ballot", "评议投票"),
)


def menu(actor: Actor, voting: bool = False) -> list[tuple[str, str]]:
    """The pages the person may use: by role, and 评议投票 also for anyone with a round open to them."""
    roles = {r for r, _ in actor.grants}
    if actor.secretary_orgs or actor.person_id is not None:
        roles.add("member")
    if voting:
        roles.add("appraiser")
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
        CHANNELS=Channel.labels(),
        GRADES=Grade.labels(),
        OUTCOMES=Outcome.labels(),
        POLICIES=CalendarPolicy.labels(),
        countdown=countdown,
        once=lambda: secrets.token_urlsafe(16),  # a form's one-time token: posted twice, done once
    )
    return built


def top_bar(request: Request, actor: Actor | None) -> dict[str, Any]:
    """What the top bar of every page shows a signed-in person: their menu, their unread notices, and
    the campaign years to choose from."""
    if actor is None:
        return {"unread": 0, "years": [], "menu": []}
    c = request.app.state.container
    with UnitOfWork(c.db, write=False) as uow:
        unread = inbox.unread_count(uow.session, actor) if actor.user_id is not None else 0
        voter = actor.person_id is not None and not actor.has("appraiser")  # an appraiser always has the page
        voting = voter and views.rounds_open_to(uow.session, c, actor, c.clock()) > 0
        return {"unread": unread, "years": views.years(uow.session), "menu": menu(actor, voting)}


def page(
    request: Request,
    name: str,
    actor: Actor | None,
    status: int = 200,
    flash: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    """Page `name` in the site's layout; `flash` is a message for this very answer (else the one the
    last form left)."""
    base = {
        "actor": actor,
        "csrf": csrf_token(request),
        "flash": flash if flash is not None else take_flash(request),
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    built: Jinja2Templates = request.app.state.templates
    return built.TemplateResponse(request, name, base | top_bar(request, actor) | context, status_code=status)


STATUS_TITLES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持此操作",
    408: "请求超时",
    409: "记录已被修改",
    413: "提交的内容过大",
    422: "填写有误",
    429: "操作过于频繁",
    503: "服务暂时不可用",
}


def error_page(request: Request, status: int, message: str, actor: Actor | None = None) -> Response:
    """A refusal as a page in the site's layout, with its status and a way back (drawn without the
    page session when there is none: an answer from before the session was read)."""
    context: dict[str, Any] = {
        "actor": actor,
        "menu": menu(actor) if actor else [],
        "csrf": csrf_token(request) if actor else "",
        "flash": {},
        "path": request.url.path,
        "status_title": STATUS_TITLES.get(status, "出错了"),
        "message": message,
    }
    built: Jinja2Templates = request.app.state.templates
    return built.TemplateResponse(request, "error.html", context, status_code=status)
